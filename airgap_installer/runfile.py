"""The .run file: the sh header (rendered twice: to learn its length, then with the payload's offset,
size and sha256), then the zip payload streamed after it, written to a temporary name and renamed over
the output, so the file appears whole or not at all."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from airgap_installer.cache import CHUNK, Cache
from airgap_installer.header import (
    ZERO_SHA256,
    HeaderFields,
    TargetLine,
    render,
    render_strict,
    shell_quote,
    template_text,
)
from airgap_installer.interpreter import PythonArchive
from airgap_installer.lock import Artifact
from airgap_installer.payload import DEFLATED, Member, ZipWriter
from airgap_installer.runtime.manifest import Manifest
from airgap_installer.runtime.store import wheels_of
from airgap_installer.sources import Tree
from airgap_installer.uvbin import locate_uv_binary

ALIGN = 4096
SBOM = "sbom.cdx.json"


def runtime_files() -> list[tuple[str, bytes]]:
    """The stdlib-only runtime, as `airgap_runtime/` plus a zipapp `__main__.py`."""
    package = resources.files("airgap_installer.runtime")
    files = [
        (f"airgap_runtime/{entry.name}", entry.read_bytes())
        for entry in sorted(package.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".py")
    ]
    main = b"from airgap_runtime.main import main\nraise SystemExit(main())\n"
    return [("__main__.py", main), *files]


def write_run_file(output: Path, fields: HeaderFields, manifest: Manifest, tree: Tree, cache: Cache,
                   uv_wheel: Artifact, wheelhouse: list[Artifact], epoch: int | None,
                   python: PythonArchive | None, sbom: bytes, carry_uv: bool = True) -> tuple[int, str]:
    """`carry_uv=False`: a delta file whose base has this uv (the header takes the prefix's copy)."""
    carved_names = (["bin/uv"] if carry_uv else []) + [SBOM] + ([fields.python_archive] if python else [])

    def fill(zw: ZipWriter) -> list[Member]:
        carved = [add_uv(zw, "bin/uv", cache, uv_wheel)] if carry_uv else []
        carved.append(zw.add_bytes(SBOM, sbom))  # deflated: `sh FILE.run --sbom` carves it through gzip
        if python:
            # Stored and aligned: the shell carves it with dd, uv unpacks it (no tar needed on the host).
            carved.append(zw.add_file(fields.python_archive, cache.path(python.artifact.sha256), align=ALIGN,
                                      carved=True))
        for name, data in runtime_files():
            zw.add_bytes(name, data)
        zw.add_bytes("manifest.json", manifest.to_json().encode())
        for rel, source in sorted(project_files(tree).items()):
            add_project_file(zw, f"project/{rel}", source)
        for artifact in wheelhouse:
            zw.add_file(f"wheelhouse/{artifact.filename}", cache.path(artifact.sha256))
        return carved

    return _write(output, fields, carved_names, epoch, fill)


Source = tuple[Path, int] | bytes  # a file of the tree (path, mode), or a generated file's bytes


def project_files(tree: Tree) -> dict[str, Source]:
    generated = dict(tree.generated)
    files: dict[str, Source] = {rel: (path, mode) for rel, path, mode in tree.files if rel not in generated}
    files.update(generated)
    return files


def add_project_file(zw: ZipWriter, name: str, source: Source) -> None:
    if isinstance(source, bytes):
        zw.add_bytes(name, source)
    else:
        zw.add_file(name, source[0], source[1], deflate=True)


def add_uv(zw: ZipWriter, name: str, cache: Cache, uv_wheel: Artifact, align: int = ALIGN) -> Member:
    """The uv binary, its deflate stream copied from the uv wheel as is (the shell inflates it with gzip)."""
    uv_binary = locate_uv_binary(cache.path(uv_wheel.sha256))
    with uv_binary.wheel.open("rb") as src:
        src.seek(uv_binary.data_offset)
        return zw.add_raw(name, src, method=uv_binary.method, crc=uv_binary.crc,
                          compress_size=uv_binary.compress_size, file_size=uv_binary.file_size, mode=0o755,
                          align=align)


def uv_member_name(uv_wheel: Artifact) -> str:
    """A fat file's member for one platform's uv: bin/uv.<the wheel's platform tag>."""
    return "bin/uv." + uv_wheel.filename.removesuffix(".whl").split("-", 4)[-1]


@dataclass(frozen=True)
class FatTarget:
    """One target of a fat file, everything decided (assemble.prepare_one)."""

    fields: HeaderFields  # what this target's own file would have in its header
    manifest: Manifest
    tree: Tree
    uv_wheel: Artifact
    wheelhouse: list[Artifact]  # what the file carries for it (a delta: what its base lacks)
    python: PythonArchive | None = None  # its bundled CPython, or None: the host's
    carry_uv: bool = True  # False: a delta whose base has this uv (the header takes the prefix's copy)


def target_line(one: FatTarget) -> TargetLine:
    f = one.fields
    return TargetLine(one.manifest.target, f.target_os, f.target_machine,
                      "" if f.target_os == "macos" else f.target_libc, f.libc_min, f.python,
                      uv_member_name(one.uv_wheel), f.uv_sha256,
                      (one.manifest.base.release or one.manifest.base.version) if one.manifest.base else "",
                      f.python_archive, f.python_key, f.python_full, f.python_json_head, f.python_json_tail)


def write_fat_file(output: Path, targets: list[FatTarget], cache: Cache, epoch: int | None,
                   sbom: bytes) -> tuple[int, str]:
    """One file for several targets (issue 16): each distinct artifact once (wheels, uv binaries, Python
    archives, project files), each target's manifest under `targets/<slug>/`, and the files that differ
    between targets beside it (`targets/<slug>/project/`); the header's TARGETS table lets it pick the
    host's target. Targets that use the host's Python come first in that table, so a host that has the
    CPython uses it and only a host without one installs a bundled one."""
    slugs = [one.manifest.target for one in targets]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"two targets of a fat file have one name: {slugs}")
    uvs = {one.uv_wheel.filename: one.uv_wheel for one in targets if one.carry_uv}
    pythons: dict[str, PythonArchive] = {}
    wheels: dict[str, Artifact] = {}
    for one in targets:
        if one.python and pythons.setdefault(one.fields.python_archive, one.python).artifact != one.python.artifact:
            raise ValueError(f"two targets bundle different files named {one.fields.python_archive}")
        for artifact in one.wheelhouse:
            if wheels.setdefault(artifact.filename, artifact).sha256 != artifact.sha256:
                raise ValueError(f"two targets ship different files named {artifact.filename}")
    per_target = [project_files(one.tree) for one in targets]
    common = {rel: src for rel, src in per_target[0].items() if all(t.get(rel) == src for t in per_target[1:])}
    ordered = sorted(targets, key=lambda one: one.python is not None)  # stable: the given order otherwise
    lines = tuple(target_line(one) for one in ordered)
    first = targets[0].fields
    bases = list(dict.fromkeys(one.fields.delta_of for one in targets if one.fields.delta_of))
    reused = sum(len(one.manifest.base.reused) for one in targets if one.manifest.base)
    installed = sum(len(wheels_of(one.manifest)) for one in targets)
    kept_uvs = sum(1 for one in targets if not one.carry_uv)
    fields = replace(first, target=" + ".join(slugs), python="/".join(dict.fromkeys(f.python for f in
                                                                                    (o.fields for o in targets))),
                     uv_member=lines[0].uv_member, targets=lines, libc_min="", target_libc="", uv_sha256="",
                     python_archive="", python_key="", python_full="", python_json_head="", python_json_tail="",
                     delta_of=" / ".join(bases),
                     delta_note=f"its targets reuse {reused} of the {installed} wheels they install"
                     + (f" and {kept_uvs} of their {len(targets)} uv binaries" if kept_uvs else "") if bases else "")
    carved_names = [uv_member_name(uv) for uv in uvs.values()] + [SBOM] + sorted(pythons)

    def fill(zw: ZipWriter) -> list[Member]:
        carved = [add_uv(zw, uv_member_name(uv), cache, uv) for _, uv in sorted(uvs.items())]
        carved.append(zw.add_bytes(SBOM, sbom))
        for name, python in sorted(pythons.items()):
            # Stored and aligned: the shell carves it with dd, uv unpacks it (no tar needed on the host).
            carved.append(zw.add_file(name, cache.path(python.artifact.sha256), align=ALIGN, carved=True))
        for name, data in runtime_files():
            zw.add_bytes(name, data)
        for one, files in zip(targets, per_target, strict=True):
            slug = one.manifest.target
            zw.add_bytes(f"targets/{slug}/manifest.json", one.manifest.to_json().encode())
            for rel, source in sorted(files.items()):
                if rel not in common:
                    add_project_file(zw, f"targets/{slug}/project/{rel}", source)
        for rel, source in sorted(common.items()):
            add_project_file(zw, f"project/{rel}", source)
        for _, artifact in sorted(wheels.items()):
            zw.add_file(f"wheelhouse/{artifact.filename}", cache.path(artifact.sha256))
        return carved

    return _write(output, fields, carved_names, epoch, fill)


Header = Callable[[int, int, str, list[Member], str], bytes]
"""(payload offset, payload size, payload sha256, carved members, file sha256) -> the header's bytes."""


def write_payload_file(output: Path, header: Header, placeholder: list[Member], epoch: int | None,
                       fill: Callable[[ZipWriter], list[Member]], mode: int = 0o755) -> tuple[int, str]:
    """The header (rendered once with `placeholder` carve entries to learn its length), the payload streamed
    after it by `fill`, then the header again with the payload's offset, size and sha256 and the sha256
    of every byte (the payload, then the header with that sha256 read as zeros); written to a temporary
    name and renamed over `output`. The .run, fat and Windows files are all written here."""
    header_len = len(header(0, 0, ZERO_SHA256, placeholder, ZERO_SHA256))
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            f.write(b"\0" * header_len)
            zw = ZipWriter(f, epoch)
            carved = fill(zw)
            zw.close()
            whole = zw.running_hash()
            whole.update(header(header_len, zw.size, zw.sha256, carved, ZERO_SHA256))
            final = header(header_len, zw.size, zw.sha256, carved, whole.hexdigest())
            if len(final) != header_len:
                raise AssertionError("the header changed length when its fields were filled in")
            f.seek(0)
            f.write(final)
            size = header_len + zw.size
        os.chmod(tmp, mode)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size, zw.sha256


def _write(output: Path, fields: HeaderFields, carved_names: list[str], epoch: int | None,
           fill: Callable[[ZipWriter], list[Member]]) -> tuple[int, str]:
    """A file with the sh header (templates/header.sh)."""

    def header(offset: int, size: int, sha256: str, members: list[Member], file_sha256: str) -> bytes:
        return render(fields, payload_offset=offset, payload_size=size, payload_sha256=sha256, members=members,
                      file_sha256=file_sha256)

    placeholder = [Member(name, 0, 0, 0, 0, DEFLATED, 0o644, ZERO_SHA256) for name in carved_names]
    return write_payload_file(output, header, placeholder, epoch, fill)


def parse_size(text: str) -> int:
    """`4G`, `700M`, `512K` or bytes; powers of 1024, as split(1) and FAT32's 4 GiB limit count."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G, 700M)")
    return int(m.group(1)) * int(1024 ** " KMGT".index(m.group(2).upper() or " "))


def split_into_parts(output: Path, part_size: int, name: str, version: str, tool_version: str) -> list[Path]:
    """Cut the finished installer into `output.001`, `.002`, ... each of at most `part_size` bytes, and
    put a small sh stub at `output` that checks every part and the whole, joins them and runs the result
    (templates/parts.sh). One streaming pass; the unsplit file is gone at the end."""
    SPLIT_HEADROOM = 1 << 16  # the stub itself must fit too
    if part_size <= SPLIT_HEADROOM:
        raise ValueError(f"--split-size must be more than {SPLIT_HEADROOM} bytes")
    whole = hashlib.sha256()
    parts: list[tuple[str, int, str]] = []
    total = output.stat().st_size
    joined = f"{output.name}.joined"
    with output.open("rb") as src:
        index = 0
        while True:
            index += 1
            part = output.with_name(f"{output.name}.{index:03d}")
            digest, written = hashlib.sha256(), 0
            with part.open("wb") as out:
                while written < part_size and (chunk := src.read(min(CHUNK, part_size - written))):
                    out.write(chunk)
                    digest.update(chunk)
                    whole.update(chunk)
                    written += len(chunk)
            if written == 0:
                part.unlink()
                break
            parts.append((part.name, written, digest.hexdigest()))
    if any(c.isspace() or c in "'\"\\$`" for n, _, _ in parts for c in n):
        raise ValueError("part names may not hold spaces or quotes")
    stub = render_strict(template_text("parts.sh"), {
        "NAME": re.sub(r"[^A-Za-z0-9._+!-]", "_", name), "VERSION": re.sub(r"[^A-Za-z0-9._+!-]", "_", version),
        "TOOL_VERSION": tool_version, "NAME_Q": shell_quote(name), "COUNT": str(len(parts)),
        "TOTAL": str(total), "WHOLE_SHA256": whole.hexdigest(), "JOINED": joined,
        "PARTS": "\n".join(f"{n} {size} {sha}" for n, size, sha in parts),
    })
    tmp = output.with_name(f".{output.name}.stub")
    tmp.write_text(stub)
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    return [output.with_name(n) for n, _, _ in parts]
