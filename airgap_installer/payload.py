"""A deterministic zip written in one streaming pass, at an absolute offset after the shell header.

Why our own writer (about 150 lines) and not zipfile: we need (1) a member copied as the raw deflate
stream of the uv wheel (no recompression: 1.8 s saved per build), (2) 4096-aligned data for members
the shell carves with dd, (3) one pass per file that computes its CRC-32 while copying (CRC is written
after the data in a data descriptor), and (4) the whole payload's sha256 as it is written (the carved
members also get their own, for the header's carve table), (5) small text members (the lock, the
manifest, the runtime, the SBOM) deflated while wheels, already compressed, are stored.
Readers (`unzip`, `python -m zipfile`, zipimport) all read it: offsets are absolute, like `zip -A`.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from airgap_installer.cache import CHUNK

STORED, DEFLATED = 0, 8
_U32 = 0xFFFFFFFF
_UTF8 = 0x800
_DESCRIPTOR = 0x8
_ALIGN_EXTRA_ID = 0xD935  # the id zipalign uses for padding
# Members up to this size may be deflated; the runtime refuses a member over 16 MiB that unpacks to more
# than 200x its stored size (a zip bomb), so nothing the builder deflates can look like one.
DEFLATE_LIMIT = 16 << 20


@dataclass(frozen=True)
class Member:
    name: str
    offset: int  # absolute offset of the member's data in the file
    compress_size: int
    file_size: int
    crc: int
    method: int
    mode: int
    sha256: str  # of the data as stored, for members the shell carves ("" for the others)


def dos_datetime(epoch: int | None) -> tuple[int, int]:
    """Zip (date, time) for SOURCE_DATE_EPOCH; 1980-01-01 00:00 (the zip epoch) when unset."""
    if epoch is None:
        return (1 << 5) | 1, 0
    t = time.gmtime(max(epoch, 315532800))
    return ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday, (t.tm_hour << 11) | (t.tm_min << 5) | (
        t.tm_sec // 2
    )


class _Out:
    """The output file: absolute position and a running sha256 of everything written."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.pos = f.tell()
        self.start = self.pos
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.hash.update(data)
        self.pos += len(data)


class ZipWriter:
    def __init__(self, f: BinaryIO, epoch: int | None = None) -> None:
        self._out = _Out(f)
        self._date, self._time = dos_datetime(epoch)
        self._central: list[bytes] = []
        self.members: list[Member] = []
        self._names: set[str] = set()

    @property
    def sha256(self) -> str:
        return self._out.hash.hexdigest()

    def running_hash(self) -> hashlib._Hash:
        """A copy of the sha256 of everything written so far, to continue with more bytes."""
        return self._out.hash.copy()

    @property
    def size(self) -> int:
        return self._out.pos - self._out.start

    def _local_header(
        self, name: bytes, flags: int, method: int, crc: int, csize: int, usize: int, align: int
    ) -> None:
        zip64 = usize >= _U32 or csize >= _U32
        extra = struct.pack("<HHQQ", 1, 16, usize, csize) if zip64 else b""
        if zip64:
            csize = usize = _U32
        fixed = 30 + len(name) + len(extra)
        if align:
            pad = (-(self._out.pos + fixed + 4)) % align
            extra += struct.pack("<HH", _ALIGN_EXTRA_ID, pad) + b"\0" * pad
        self._out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, flags, method, self._time, self._date,
                crc, csize, usize, len(name), len(extra),
            )
            + name
            + extra
        )

    def _central_entry(self, name: bytes, flags: int, m: Member, header_offset: int) -> None:
        fields = []
        usize, csize, offset = m.file_size, m.compress_size, header_offset
        if usize >= _U32:
            fields.append(usize)
            usize = _U32
        if csize >= _U32:
            fields.append(csize)
            csize = _U32
        if offset >= _U32:
            fields.append(offset)
            offset = _U32
        extra = struct.pack("<HH", 1, 8 * len(fields)) + struct.pack(f"<{len(fields)}Q", *fields) if fields else b""
        version = 45 if fields else 20
        self._central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, flags, m.method, self._time,
                self._date, m.crc, csize, usize, len(name), len(extra), 0, 0, 0, (0o100000 | m.mode) << 16,
                offset,
            )
            + name
            + extra
        )

    def _claim(self, name: str) -> bytes:
        if name in self._names:
            raise ValueError(f"duplicate zip member {name}")
        self._names.add(name)
        return name.encode("utf-8")

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644, *, deflate: bool = True) -> Member:
        """A small member from memory: deflated when that makes it smaller (text: the lock, the manifest,
        the runtime, the SBOM), else stored. Deterministic: one zlib level, no timestamps in the stream."""
        raw = self._claim(name)
        header_offset = self._out.pos
        crc = zlib.crc32(data)
        stored, method = data, STORED
        if deflate and len(data) <= DEFLATE_LIMIT:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = packer.compress(data) + packer.flush()
            if len(packed) < len(data):
                stored, method = packed, DEFLATED
        self._local_header(raw, _UTF8, method, crc, len(stored), len(data), 0)
        m = Member(name, self._out.pos, len(stored), len(data), crc, method, mode, hashlib.sha256(stored).hexdigest())
        self._out.write(stored)
        self._central_entry(raw, _UTF8, m, header_offset)
        self.members.append(m)
        return m

    def add_file(self, name: str, path: Path, mode: int = 0o644, align: int = 0, *, carved: bool = False,
                 deflate: bool = False) -> Member:
        """Copy a file in stored form, its CRC computed in the same pass (data descriptor). A member the
        header carves gets its own sha256 for the carve table; the payload's sha256 covers the rest.
        `deflate`: a project file up to DEFLATE_LIMIT is read whole and deflated when that helps (wheels,
        already compressed, are always stored and streamed)."""
        size = path.stat().st_size
        if deflate and size <= DEFLATE_LIMIT and not align:
            data = path.read_bytes()
            if len(data) != size:
                raise OSError(f"{path} changed size while it was copied")
            return self.add_bytes(name, data, mode)
        raw = self._claim(name)
        header_offset = self._out.pos
        flags = _UTF8 | _DESCRIPTOR
        self._local_header(raw, flags, STORED, 0, size, size, align)
        offset = self._out.pos
        crc, digest, copied = 0, hashlib.sha256() if carved else None, 0
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
                if digest:
                    digest.update(chunk)
                copied += len(chunk)
                self._out.write(chunk)
        if copied != size:
            raise OSError(f"{path} changed size while it was copied")
        big = size >= _U32
        self._out.write(struct.pack("<IIQQ" if big else "<IIII", 0x08074B50, crc, size, size))
        m = Member(name, offset, size, size, crc, STORED, mode, digest.hexdigest() if digest else "")
        self._central_entry(raw, flags, m, header_offset)
        self.members.append(m)
        return m

    def add_raw(
        self, name: str, src: BinaryIO, *, method: int, crc: int, compress_size: int, file_size: int,
        mode: int, align: int,
    ) -> Member:
        """Copy an already-compressed stream (e.g. uv's deflated binary from its wheel) as is."""
        raw = self._claim(name)
        header_offset = self._out.pos
        self._local_header(raw, _UTF8, method, crc, compress_size, file_size, align)
        offset = self._out.pos
        digest, left = hashlib.sha256(), compress_size
        while left:
            chunk = src.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"{name}: source ended {left} bytes early")
            digest.update(chunk)
            left -= len(chunk)
            self._out.write(chunk)
        m = Member(name, offset, compress_size, file_size, crc, method, mode, digest.hexdigest())
        self._central_entry(raw, _UTF8, m, header_offset)
        self.members.append(m)
        return m

    def close(self) -> None:
        cd_offset = self._out.pos
        for entry in self._central:
            self._out.write(entry)
        cd_size = self._out.pos - cd_offset
        count = len(self._central)
        if cd_offset >= _U32 or count >= 0xFFFF:
            eocd64 = self._out.pos
            self._out.write(
                struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count, cd_size, cd_offset)
            )
            self._out.write(struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1))
            self._out.write(
                struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _U32, _U32, 0)
            )
        else:
            self._out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_offset, 0))
