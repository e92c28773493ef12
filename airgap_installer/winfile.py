"""The Windows installer file: a cmd.exe bootstrap (templates/install.cmd, CRLF) followed by a zip that
Python runs (`python -I FILE.cmd`): the same stdlib-only runtime as the .run file, started by
`runtime/winmain.py` instead of the sh header, with uv.exe, the wheels and the project.

    [0, H)    the bootstrap: finds a CPython (--python, `py -X.Y`, `python`) and runs the zip with it
    [H, EOF)  zip, absolute offsets: bin/uv.exe (the deflate stream of uv's win_amd64 wheel, copied),
              __main__.py -> airgap_runtime/winmain.py, airgap_runtime/, manifest.json, sbom.cdx.json,
              project/, wheelhouse/

Integrity as for the .run file: line 2 holds the sha256 of the payload followed by the bootstrap with
those 64 digits read as zeros; the runtime checks it (and the size) before it writes anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from airgap_installer.cache import Cache
from airgap_installer.errors import TargetError, UsageError
from airgap_installer.header import NUMBER_WIDTH, ZERO_SHA256, HeaderFields, number, render_strict, template_text
from airgap_installer.interpreter import PythonArchive
from airgap_installer.lock import Artifact
from airgap_installer.payload import Member, ZipWriter
from airgap_installer.request import BuildRequest
from airgap_installer.runfile import SBOM, add_project_file, add_uv, project_files, runtime_files, write_payload_file
from airgap_installer.runtime.manifest import Manifest
from airgap_installer.runtime.winmain import info
from airgap_installer.sources import Tree
from airgap_installer.target import Target

LICENSE = "license.txt"
WINDOWS_MAIN = b"from airgap_runtime.winmain import main\nraise SystemExit(main())\n"
_WORD = re.compile(r"[A-Za-z0-9._+-]+")  # what a `rem` line and an echo may hold unescaped


def check_windows_request(request: BuildRequest, config: dict[str, object], targets: list[Target]) -> None:
    """What a Windows installer does not do yet, refused before anything is fetched or built."""
    if not any(t.platform.os == "windows" for t in targets):
        return
    unsupported = [flag for flag, asked in (
        ("--bundle-python without --python-archive (no Windows CPython download is fetched yet)",
         request.bundle_python and not request.python_archives),
        ("--split-size", request.split_size is not None),
        ("--sign with --python-archive (the .zip's installer would need its .sig inside the zip)",
         request.sign is not None and bool(request.python_archives)),
        ("pre-install/post-install hooks (sh commands)", "pre-install" in config or "post-install" in config),
    ) if asked]
    if unsupported:
        raise UsageError(f"a Windows installer cannot do this yet: {', '.join(unsupported)}",
                         hint="leave it out for the Windows target (the host's CPython runs the install), or "
                              "bundle one with --python-archive python-3.X.Y-embed-amd64.zip (python.org's "
                              "embeddable zip) or a python-build-standalone Windows install_only archive")


def echo_lines(text: str) -> str:
    """Text as cmd.exe `echo.` lines, its special characters escaped (`echo(` prints its paren under Wine)."""
    out = []
    for line in text.splitlines():
        for char, escaped in (("^", "^^"), ("%", "%%"), ("&", "^&"), ("|", "^|"), ("<", "^<"), (">", "^>")):
            line = line.replace(char, escaped)
        out.append(f"echo.{line}")
    return "\n".join(out)


def render_bootstrap(fields: HeaderFields, *, payload_offset: int, payload_size: int, payload_sha256: str,
                     file_sha256: str = ZERO_SHA256, manifest: Manifest | None = None) -> bytes:
    """templates/install.cmd with every placeholder filled, CRLF line endings (cmd.exe's labels need them)."""
    values = {
        "FILE_SHA256": file_sha256,
        "NAME": fields.name,
        "VERSION": fields.version,
        "TARGET": fields.target,
        "TOOL_VERSION": fields.tool_version,
        "PYTHON": fields.python,
        "TOTAL_SIZE": f'{payload_offset + payload_size}"'.ljust(NUMBER_WIDTH + 1),  # a quoted `set`, padded
        "PAYLOAD_OFFSET": number(payload_offset),
        "PAYLOAD_SIZE": number(payload_size),
        "PAYLOAD_SHA256": payload_sha256,
        "INFO": echo_lines(info(manifest, payload_sha256)) if manifest is not None else "echo.",
    }
    for key in ("NAME", "VERSION", "TARGET", "TOOL_VERSION", "PYTHON"):
        if not _WORD.fullmatch(values[key]):
            raise ValueError(f"{key.lower()} {values[key]!r} has characters a cmd.exe line cannot hold as is")
    if not values["INFO"].isascii():
        raise ValueError("--info's text must be ASCII for the cmd.exe bootstrap")
    for key in ("FILE_SHA256", "PAYLOAD_SHA256"):
        if not re.fullmatch(r"[0-9a-f]{64}", values[key]):
            raise ValueError("a sha256 must be 64 hex digits")
    text = render_strict(template_text("install.cmd"), values)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def write_cmd_file(output: Path, fields: HeaderFields, manifest: Manifest, tree: Tree, cache: Cache,
                   uv_wheel: Artifact, wheelhouse: list[Artifact], epoch: int | None, sbom: bytes) -> tuple[int, str]:
    """Write FILE.cmd (to a temporary name, renamed at the end); returns its size and the payload sha256."""

    def header(offset: int, size: int, sha256: str, _members: list[Member], file_sha256: str) -> bytes:
        return render_bootstrap(fields, payload_offset=offset, payload_size=size, payload_sha256=sha256,
                                file_sha256=file_sha256, manifest=manifest)

    def fill(zw: ZipWriter) -> list[Member]:
        add_uv(zw, "bin/uv.exe", cache, uv_wheel, align=0)  # Python reads it out of the zip: no carving
        zw.add_bytes(SBOM, sbom)
        if fields.license_text:  # shown and accepted before anything is written (winmain.accept_license)
            zw.add_bytes(LICENSE, fields.license_text.encode("utf-8"))
        for name, data in runtime_files():
            zw.add_bytes(name, WINDOWS_MAIN if name == "__main__.py" else data)
        zw.add_bytes("manifest.json", manifest.to_json().encode())
        for rel, source in sorted(project_files(tree).items()):
            add_project_file(zw, f"project/{rel}", source)
        for artifact in wheelhouse:
            zw.add_file(f"wheelhouse/{artifact.filename}", cache.path(artifact.sha256))
        return []

    return write_payload_file(output, header, [], epoch, fill, mode=0o644)


_EMBED = re.compile(r"python-(?P<version>3\.\d+\.\d+)-embed-(?P<arch>amd64|arm64)\.zip")
_PBS = re.compile(r"cpython-(?P<version>3\.\d+\.\d+)\+(?P<build>\d+)-(?P<arch>x86_64|aarch64)-pc-windows-msvc"
                  r"-install_only(?:_stripped)?\.tar\.gz")


def windows_python(target: Target, archive_file: Path | None) -> PythonArchive:
    """A Windows CPython to bundle, from a local archive: python.org's embeddable zip
    (python-3.13.2-embed-amd64.zip) or a python-build-standalone install_only archive."""
    if archive_file is None or not archive_file.is_file():
        raise TargetError(f"--python-archive {archive_file}: no such file",
                          hint="python.org's embeddable zip, e.g. python-3.13.2-embed-amd64.zip")
    digest = hashlib.sha256()
    with archive_file.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    artifact = Artifact(archive_file.resolve().as_uri(), digest.hexdigest(), archive_file.stat().st_size,
                        archive_file.name)
    embed, pbs = _EMBED.fullmatch(archive_file.name), _PBS.fullmatch(archive_file.name)
    if embed:
        arch = "aarch64" if embed.group("arch") == "arm64" else "x86_64"
        archive = PythonArchive(artifact, embed.group("version"), "embed", "windows", arch, "none")
    elif pbs:
        archive = PythonArchive(artifact, pbs.group("version"), pbs.group("build"), "windows", pbs.group("arch"),
                                "none")
    else:
        raise TargetError(f"{archive_file.name} is not named like a Windows CPython archive",
                          hint="python-3.13.2-embed-amd64.zip (python.org's embeddable zip) or "
                               "cpython-3.13.2+20250212-x86_64-pc-windows-msvc-install_only.tar.gz")
    if (archive.minor, archive.arch) != (target.python_version, target.platform.arch):
        raise TargetError(f"{archive_file.name} is CPython {archive.minor} for {archive.arch}; the target is "
                          f"{target.slug}", hint="give an archive of the target's Python and CPU")
    return archive


def python_files(archive: Path) -> Iterator[tuple[str, bytes]]:
    """The interpreter's files, relative to its directory (python.exe at the top)."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if not info.is_dir():
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.startswith("python/"):
                data = tar.extractfile(member)
                assert data is not None
                yield member.name[len("python/"):], data.read()


BUNDLE_CMD = """@echo off\r
rem {name} {version} installer with a bundled CPython {python}, made by airgap-installer {tool}.\r
rem Extract this folder (Explorer: Extract All; or tar -xf), then run install.cmd from cmd.exe; it runs\r
rem {inner} (which checks every byte of itself) with the CPython in python\\.\r
"%~dp0{inner}" --python "%~dp0python\\python.exe" --bundled-python %*\r
"""


def write_bundle(output: Path, inner: Path, inner_name: str, fields: HeaderFields, python: PythonArchive,
                 archive: Path, epoch: int | None) -> int:
    """`output` (.zip): one folder holding install.cmd, the self-checking installer `inner` and the
    interpreter in python\\. A zip, because cmd.exe alone cannot cut an interpreter out of a file: Explorer
    or tar.exe extracts it first. Deterministic: sorted members, one timestamp."""
    top = output.stem
    stamp = time_tuple(epoch)
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            def add(name: str, data: bytes, compress: bool = True) -> None:
                info = zipfile.ZipInfo(f"{top}/{name}", stamp)
                info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)

            add("install.cmd", BUNDLE_CMD.format(name=fields.name, version=fields.version, python=python.version,
                                                 tool=fields.tool_version, inner=inner_name).encode("ascii"))
            add(inner_name, inner.read_bytes(), compress=False)  # mostly wheels and uv.exe: compressed already
            for rel, data in python_files(archive):
                add(f"python/{rel}", data)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return output.stat().st_size


def time_tuple(epoch: int | None) -> tuple[int, int, int, int, int, int]:
    import time

    t = time.gmtime(max(epoch or 315532800, 315532800))  # a zip cannot hold a time before 1980
    return t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec
