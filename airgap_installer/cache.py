"""A sha256-addressed file store under the platformdirs user cache dir; atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def default_cache_dir() -> Path:
    env = os.environ.get("AIRGAP_INSTALLER_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # only here: it costs ~20 ms of start-up on every build

    return Path(platformdirs.user_cache_dir("airgap-installer"))


class HashMismatch(Exception):
    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"sha256 {actual} does not match the expected {expected}")
        self.expected = expected
        self.actual = actual


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    @contextmanager
    def writer(self, sha256: str) -> Iterator[BinaryIO]:
        """Yield a file to write into; on success its content must hash to `sha256`, then it is
        renamed into place, so a reader never sees a partial file."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as raw:
                hashing = _HashingWriter(raw)
                yield hashing  # type: ignore[misc]
            actual = hashing.digest()
            if actual != sha256:
                raise HashMismatch(sha256, actual)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put_file(self, source: Path, sha256: str) -> Path:
        with source.open("rb") as src, self.writer(sha256) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
        return self.path(sha256)


class _HashingWriter:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        return self._raw.write(data)

    def digest(self) -> str:
        return self._hash.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
