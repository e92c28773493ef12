"""Downloads are checked against the lock's sha256 and never leave a partial or wrong file in the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from airgap_installer.cache import Cache
from airgap_installer.errors import FetchError
from airgap_installer.fetch import fetch
from airgap_installer.lock import Artifact
from tests.index import LocalIndex


def artifact(index: LocalIndex, name: str, sha256: str | None = None) -> Artifact:
    path = index.files / name
    url = index.url.rsplit("/simple", 1)[0] + f"/files/{name}"
    return Artifact(url, sha256 or hashlib.sha256(path.read_bytes()).hexdigest(), None, name)


def test_parallel_download_into_the_cache(local_index: LocalIndex, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    wanted = [artifact(local_index, n) for n in ("alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl",
                                                 "beta-2.0-py3-none-any.whl")]
    fetch(wanted, cache, base=tmp_path, offline=False, jobs=3)
    for a in wanted:
        assert hashlib.sha256(cache.path(a.sha256).read_bytes()).hexdigest() == a.sha256


def test_a_file_that_does_not_match_the_lock_is_refused(local_index: LocalIndex, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    wrong = artifact(local_index, "gamma-1.0-py3-none-any.whl", sha256="f" * 64)
    with pytest.raises(FetchError, match="does not match the expected"):
        fetch([wrong], cache, base=tmp_path, offline=False)
    assert not cache.has("f" * 64)
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()], "no partial file is left behind"


def test_missing_file_fails_after_retries(local_index: LocalIndex, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airgap_installer.download.time.sleep", lambda _: None)
    gone = Artifact(local_index.url.rsplit("/simple", 1)[0] + "/files/nope-1.0-py3-none-any.whl", "a" * 64, None,
                    "nope-1.0-py3-none-any.whl")
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch([gone], Cache(tmp_path / "c"), base=tmp_path, offline=False)
