"""The .run file: the sh header (rendered twice: to learn its length, then with the payload's offset,
size and sha256), then the zip payload streamed after it, written to a temporary name and renamed over
the output, so the file appears whole or not at all."""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path

from airgap_installer.cache import Cache
from airgap_installer.header import HeaderFields, render
from airgap_installer.interpreter import PythonArchive
from airgap_installer.lock import Artifact
from airgap_installer.payload import DEFLATED, Member, ZipWriter
from airgap_installer.runtime.manifest import (
    Manifest,
)
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
                   python: PythonArchive | None, sbom: bytes) -> tuple[int, str]:
    uv_binary = locate_uv_binary(cache.path(uv_wheel.sha256))
    placeholder = [Member("bin/uv", 0, 0, 0, 0, DEFLATED, 0o755, "0" * 64),
                   Member(SBOM, 0, 0, 0, 0, 0, 0o644, "0" * 64)]
    if python:
        placeholder.append(Member(fields.python_archive, 0, 0, 0, 0, 0, 0o644, "0" * 64))
    header_len = len(render(fields, payload_offset=0, payload_size=0, payload_sha256="0" * 64,
                            members=placeholder))
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            f.write(b"\0" * header_len)
            zw = ZipWriter(f, epoch)
            with uv_binary.wheel.open("rb") as src:
                src.seek(uv_binary.data_offset)
                uv_member = zw.add_raw("bin/uv", src, method=uv_binary.method, crc=uv_binary.crc,
                                       compress_size=uv_binary.compress_size, file_size=uv_binary.file_size,
                                       mode=0o755, align=ALIGN)
            carved = [uv_member, zw.add_bytes(SBOM, sbom)]  # stored: `sh FILE.run --sbom` carves it
            if python:
                # Stored and aligned: the shell carves it with dd, uv unpacks it (no tar needed on the host).
                carved.append(zw.add_file(fields.python_archive, cache.path(python.artifact.sha256), align=ALIGN,
                                            carved=True))
            for name, data in runtime_files():
                zw.add_bytes(name, data)
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
            values = {"payload_offset": header_len, "payload_size": zw.size, "payload_sha256": zw.sha256,
                      "members": carved}
            # One sha256 over every byte: the payload, then the header with that sha256 read as zeros.
            whole = zw.running_hash()
            whole.update(render(fields, **values))  # type: ignore[arg-type]
            header = render(fields, **values, file_sha256=whole.hexdigest())  # type: ignore[arg-type]
            if len(header) != header_len:
                raise AssertionError("the header changed length when its fields were filled in")
            f.seek(0)
            f.write(header)
            size = header_len + zw.size
        os.chmod(tmp, 0o755)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size, zw.sha256
