"""The zip writer: readable by zipfile and unzip at an offset, aligned, deterministic, zip64-ready."""

from __future__ import annotations

import io
import subprocess
import zipfile
import zlib
from pathlib import Path

from airgap_installer.payload import DEFLATED, ZipWriter, dos_datetime


def write_payload(path: Path, src: Path, epoch: int | None = None) -> ZipWriter:
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = b"uv binary " * 1000
    stream = raw.compress(data) + raw.flush()
    with path.open("wb") as f:
        f.write(b"#!/bin/sh\nexit 0\n" + b"#" * 100)
        zw = ZipWriter(f, epoch)
        zw.add_raw("bin/uv", io.BytesIO(stream), method=DEFLATED, crc=zlib.crc32(data),
                   compress_size=len(stream), file_size=len(data), mode=0o755, align=4096)
        zw.add_bytes("manifest.json", b"{}\n")
        zw.add_file("wheelhouse/a.whl", src)
        zw.close()
    return zw


def test_readable_at_an_offset_with_modes_and_content(tmp_path: Path) -> None:
    src = tmp_path / "a.whl"
    src.write_bytes(b"x" * 5000)
    out = tmp_path / "p.run"
    zw = write_payload(out, src)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.read("bin/uv") == b"uv binary " * 1000
        assert zf.read("wheelhouse/a.whl") == b"x" * 5000
        assert (zf.getinfo("bin/uv").external_attr >> 16) & 0o777 == 0o755
        assert zf.getinfo("wheelhouse/a.whl").compress_type == zipfile.ZIP_STORED
    assert zw.members[0].offset % 4096 == 0
    assert subprocess.run(["unzip", "-tq", str(out)], capture_output=True).returncode == 0


def test_payload_hash_covers_what_was_written(tmp_path: Path) -> None:
    import hashlib

    src = tmp_path / "a.whl"
    src.write_bytes(b"y" * 100)
    out = tmp_path / "p.run"
    zw = write_payload(out, src)
    data = out.read_bytes()
    start = len(data) - zw.size
    assert hashlib.sha256(data[start:]).hexdigest() == zw.sha256


def test_same_inputs_same_bytes_and_epoch_sets_times(tmp_path: Path) -> None:
    src = tmp_path / "a.whl"
    src.write_bytes(b"z" * 10)
    write_payload(tmp_path / "1.run", src)
    write_payload(tmp_path / "2.run", src)
    assert (tmp_path / "1.run").read_bytes() == (tmp_path / "2.run").read_bytes()
    write_payload(tmp_path / "3.run", src, epoch=1700000000)
    with zipfile.ZipFile(tmp_path / "3.run") as zf:
        assert zf.getinfo("manifest.json").date_time[:3] == (2023, 11, 14)
    assert dos_datetime(None) == ((1 << 5) | 1, 0)


def test_zip64_offsets_are_readable(tmp_path: Path) -> None:
    # A sparse 4.1 GB prefix puts the members past the 32-bit limit, as a large CUDA stack would.
    src = tmp_path / "a.whl"
    src.write_bytes(b"w" * 10)
    out = tmp_path / "big.run"
    with out.open("wb") as f:
        f.seek(0x100000000 + 10)
        zw = ZipWriter(f)
        zw.add_file("wheelhouse/a.whl", src)
        zw.add_bytes("manifest.json", b"{}")
        zw.close()
    with zipfile.ZipFile(out) as zf:
        assert zf.read("wheelhouse/a.whl") == b"w" * 10
        assert zf.getinfo("manifest.json").header_offset > 0xFFFFFFFF


def test_text_members_are_deflated_wheels_and_big_files_stored(tmp_path: Path) -> None:
    """Small text (the lock, the manifest, the runtime) is deflated; a wheel, an incompressible file and a
    file over DEFLATE_LIMIT (which could look like a zip bomb to the runtime) are stored."""
    from airgap_installer.payload import DEFLATE_LIMIT

    lock = tmp_path / "uv.lock"
    lock.write_text('[[package]]\nname = "x"\nversion = "1"\n' * 2000)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(__import__("os").urandom(5000))
    big = tmp_path / "big.csv"
    big.write_bytes(b"0," * (DEFLATE_LIMIT // 2 + 1))
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"w" * 5000)
    out = tmp_path / "p.run"
    with out.open("wb") as f:
        zw = ZipWriter(f)
        zw.add_file("project/uv.lock", lock, deflate=True)
        zw.add_file("project/noise.bin", noise, deflate=True)
        zw.add_file("project/big.csv", big, deflate=True)
        zw.add_file("wheelhouse/a.whl", wheel)
        zw.add_bytes("manifest.json", b'{"packages": []}\n' * 100)
        zw.close()
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        methods = {i.filename: i.compress_type for i in zf.infolist()}
        assert methods == {"project/uv.lock": zipfile.ZIP_DEFLATED, "project/noise.bin": zipfile.ZIP_STORED,
                           "project/big.csv": zipfile.ZIP_STORED, "wheelhouse/a.whl": zipfile.ZIP_STORED,
                           "manifest.json": zipfile.ZIP_DEFLATED}
        assert zf.read("project/uv.lock") == lock.read_bytes()
        assert zf.getinfo("project/uv.lock").compress_size < lock.stat().st_size // 10
    assert subprocess.run(["unzip", "-tq", str(out)], capture_output=True).returncode == 0
