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

import os
import re
import tempfile
from pathlib import Path

from airgap_installer.cache import Cache
from airgap_installer.errors import UsageError
from airgap_installer.header import NUMBER_WIDTH, HeaderFields, number, render_strict, template_text
from airgap_installer.lock import Artifact
from airgap_installer.payload import ZipWriter
from airgap_installer.request import BuildRequest
from airgap_installer.runfile import SBOM, runtime_files
from airgap_installer.runtime.manifest import Manifest
from airgap_installer.sources import Tree
from airgap_installer.target import Target
from airgap_installer.uvbin import locate_uv_binary

ZERO_SHA256 = "0" * 64
WINDOWS_MAIN = b"from airgap_runtime.winmain import main\nraise SystemExit(main())\n"
_WORD = re.compile(r"[A-Za-z0-9._+-]+")  # what a `rem` line and an echo may hold unescaped


def check_windows_request(request: BuildRequest, config: dict[str, object], targets: list[Target]) -> None:
    """What a Windows installer does not do yet, refused before anything is fetched or built."""
    if not any(t.platform.os == "windows" for t in targets):
        return
    unsupported = [flag for flag, asked in (
        ("--bundle-python/--python-archive", request.bundle_python or request.python_archive is not None),
        ("--split-size", request.split_size is not None), ("--sign", request.sign is not None),
        ("pre-install/post-install hooks (sh commands)", "pre-install" in config or "post-install" in config),
    ) if asked]
    if unsupported:
        raise UsageError(f"a Windows installer cannot do this yet: {', '.join(unsupported)}",
                         hint="leave it out for the Windows target; the host's CPython runs the install")


def render_bootstrap(fields: HeaderFields, *, payload_offset: int, payload_size: int, payload_sha256: str,
                     file_sha256: str = ZERO_SHA256) -> bytes:
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
    }
    for key in ("NAME", "VERSION", "TARGET", "TOOL_VERSION", "PYTHON"):
        if not _WORD.fullmatch(values[key]):
            raise ValueError(f"{key.lower()} {values[key]!r} has characters a cmd.exe line cannot hold as is")
    for key in ("FILE_SHA256", "PAYLOAD_SHA256"):
        if not re.fullmatch(r"[0-9a-f]{64}", values[key]):
            raise ValueError("a sha256 must be 64 hex digits")
    text = render_strict(template_text("install.cmd"), values)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def write_cmd_file(output: Path, fields: HeaderFields, manifest: Manifest, tree: Tree, cache: Cache,
                   uv_wheel: Artifact, wheelhouse: list[Artifact], epoch: int | None, sbom: bytes) -> tuple[int, str]:
    """Write FILE.cmd (to a temporary name, renamed at the end); returns its size and the payload sha256."""
    uv_binary = locate_uv_binary(cache.path(uv_wheel.sha256))
    header_len = len(render_bootstrap(fields, payload_offset=0, payload_size=0, payload_sha256=ZERO_SHA256))
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            f.write(b"\0" * header_len)
            zw = ZipWriter(f, epoch)
            with uv_binary.wheel.open("rb") as src:
                src.seek(uv_binary.data_offset)
                zw.add_raw("bin/uv.exe", src, method=uv_binary.method, crc=uv_binary.crc,
                           compress_size=uv_binary.compress_size, file_size=uv_binary.file_size, mode=0o755,
                           align=0)
            zw.add_bytes(SBOM, sbom)
            for name, data in runtime_files():
                zw.add_bytes(name, WINDOWS_MAIN if name == "__main__.py" else data)
            zw.add_bytes("manifest.json", manifest.to_json().encode())
            generated = dict(tree.generated)
            for rel, path, mode in tree.files:
                if rel not in generated:
                    zw.add_file(f"project/{rel}", path, mode)
            for rel, data in sorted(generated.items()):
                zw.add_bytes(f"project/{rel}", data)
            for artifact in wheelhouse:
                zw.add_file(f"wheelhouse/{artifact.filename}", cache.path(artifact.sha256))
            zw.close()
            values = {"payload_offset": header_len, "payload_size": zw.size, "payload_sha256": zw.sha256}
            # One sha256 over every byte: the payload, then the bootstrap with that sha256 read as zeros.
            whole = zw.running_hash()
            whole.update(render_bootstrap(fields, **values))  # type: ignore[arg-type]
            header = render_bootstrap(fields, **values, file_sha256=whole.hexdigest())  # type: ignore[arg-type]
            if len(header) != header_len:
                raise AssertionError("the bootstrap changed length when its fields were filled in")
            f.seek(0)
            f.write(header)
            size = header_len + zw.size
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size, zw.sha256
