"""Downloads are checked against the lock's sha256 and never leave a partial or wrong file in the cache."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from airgap_installer.cache import Cache
from airgap_installer.download import download_all
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


def test_a_missing_file_fails_at_once_with_its_status(local_index: LocalIndex, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("airgap_installer.download.time.sleep", sleeps.append)
    gone = Artifact(local_index.url.rsplit("/simple", 1)[0] + "/files/nope-1.0-py3-none-any.whl", "a" * 64, None,
                    "nope-1.0-py3-none-any.whl")
    with pytest.raises(FetchError, match=r"failed after 1 attempt\(s\): HTTP 404"):
        fetch([gone], Cache(tmp_path / "c"), base=tmp_path, offline=False)
    assert sleeps == []  # a 404 does not get better by asking again


def test_a_server_error_is_retried_with_backoff(local_index: LocalIndex, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("airgap_installer.download.time.sleep", sleeps.append)
    served = local_index.files / "alpha-1.0-py3-none-any.whl"
    failures = iter([503])

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status = next(failures, 200)
            data = served.read_bytes() if status == 200 else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alpha-1.0-py3-none-any.whl"
        wanted = Artifact(url, hashlib.sha256(served.read_bytes()).hexdigest(), None, served.name)
        cache = Cache(tmp_path / "c")
        fetch([wanted], cache, base=tmp_path, offline=False)
        assert cache.has(wanted.sha256) and sleeps == [1.0]
    finally:
        server.shutdown()
        server.server_close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_progress_line(local_index: LocalIndex, tmp_path: Path) -> None:
    names = ("alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl", "beta-2.0-py3-none-any.whl")
    wanted = [artifact(local_index, n) for n in names]
    sized = [replace(a, size=(local_index.files / a.filename).stat().st_size) for a in wanted]
    terminal = Terminal()
    assert download_all(sized, Cache(tmp_path / "c"), base=tmp_path, jobs=2, progress=terminal) == []
    text = terminal.getvalue()
    total = sum(a.size or 0 for a in sized) / 1e6
    # Redrawn in place (carriage return, erase to end of line), ending at the full count, then a newline.
    assert text.startswith("\rdownloading ") and text.endswith("\n")
    assert text.rstrip("\n").rsplit("\r", 1)[-1] == f"downloading 3/3 files, {total:.1f}/{total:.1f} MB\x1b[K"


def test_no_progress_line_when_stderr_is_not_a_terminal(local_index: LocalIndex, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fetch([artifact(local_index, "alpha-1.0-py3-none-any.whl")], Cache(tmp_path / "c"), base=tmp_path, offline=False)
    assert capsys.readouterr().err == ""
