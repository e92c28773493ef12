"""HTTP downloads into the cache: keep-alive connections per thread and host, retries with backoff,
hash-while-copy. Imported only when something is missing from the cache: http.client, ssl and
urllib.request cost ~15 ms of start-up that a warm build does not need."""

from __future__ import annotations

import html.parser
import http.client
import logging
import os
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import packaging.utils

from airgap_installer import __version__
from airgap_installer.auth import Credentials
from airgap_installer.cache import CHUNK, Cache, HashMismatch
from airgap_installer.errors import FetchError
from airgap_installer.lock import Artifact

log = logging.getLogger(__name__)

ATTEMPTS = 3
TIMEOUT = 60
_REDIRECTS = (301, 302, 303, 307, 308)


class Meter:
    """One line on a terminal, redrawn at most 10 times a second from every download thread:
    `downloading 12/40 files, 35.2/120.4 MB`. The total counts the sizes the lock states."""

    def __init__(self, stream: TextIO, artifacts: list[Artifact]) -> None:
        self.stream = stream
        self.files = len(artifacts)
        self.total = sum(a.size or 0 for a in artifacts)
        self.done_files = 0
        self.done_bytes = 0
        self._drawn = 0.0
        self._lock = threading.Lock()

    def line(self) -> str:
        total = f"/{self.total / 1e6:.1f}" if self.total else ""
        return f"downloading {self.done_files}/{self.files} files, {self.done_bytes / 1e6:.1f}{total} MB"

    def advance(self, nbytes: int = 0, *, file_done: bool = False) -> None:
        with self._lock:
            self.done_bytes += nbytes
            self.done_files += file_done
            now = time.monotonic()
            if (file_done and self.done_files == self.files) or now - self._drawn >= 0.1:
                self._drawn = now
                self.stream.write(f"\r{self.line()}\x1b[K")
                self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Connections:
    """One keep-alive connection per download thread and host, all closed when the fetch ends."""

    def __init__(self) -> None:
        self._conns: dict[tuple[int, str, str], http.client.HTTPConnection] = {}
        self._lock = threading.Lock()

    def get(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        key = (threading.get_ident(), scheme, netloc)
        with self._lock:
            conn = self._conns.get(key)
            if conn is None:
                if scheme == "https":
                    conn = http.client.HTTPSConnection(netloc, timeout=TIMEOUT, context=ssl.create_default_context())
                else:
                    conn = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
                self._conns[key] = conn
            return conn

    def drop(self, scheme: str, netloc: str) -> None:
        with self._lock:
            conn = self._conns.pop((threading.get_ident(), scheme, netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()


class HTTPStatus(urllib.error.URLError):
    def __init__(self, status: int, reason: str, url: str) -> None:
        super().__init__(f"HTTP {status} {reason} for {url}")
        self.status = status

    def __str__(self) -> str:
        return str(self.reason)  # URLError's own str wraps it in "<urlopen error ...>"


PYPI_FILES = "files.pythonhosted.org"


def index_mirror() -> str | None:
    """The index the builder's network offers instead of PyPI, as uv reads it: UV_DEFAULT_INDEX, else
    UV_INDEX_URL. The lock keeps PyPI's file URLs; the same files are fetched through the mirror."""
    value = os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("UV_INDEX_URL")
    return value.rstrip("/") + "/" if value else None


class _Links(html.parser.HTMLParser):
    """The file links of a PEP 503 project page: {file name: absolute URL}."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            url = urllib.parse.urljoin(self.page, href)
            name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
            self.links[name] = url


def project_name(filename: str) -> str:
    """The project a wheel or sdist belongs to, normalized (as a simple index names its page)."""
    try:
        if filename.endswith(".whl"):
            return str(packaging.utils.parse_wheel_filename(filename)[0])
        return str(packaging.utils.parse_sdist_filename(filename)[0])
    except (packaging.utils.InvalidWheelFilename, packaging.utils.InvalidSdistFilename):
        return packaging.utils.canonicalize_name(filename.split("-")[0])


TLS_HINT = ("the server's certificate is not trusted here: point SSL_CERT_FILE at a CA bundle that holds your "
            "organisation's CA (a TLS-inspecting proxy), as for uv and pip")


def _untrusted(exc: BaseException) -> bool:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ssl.SSLCertVerificationError)


AUTH_HINT = ("the index needs credentials: export UV_INDEX_<NAME>_USERNAME and UV_INDEX_<NAME>_PASSWORD as for "
             "uv (NAME from [[tool.uv.index]]), or add the host to ~/.netrc")


@dataclass
class Session:
    """What every download thread shares: the cache, keep-alive connections, credentials, the meter."""

    cache: Cache
    base: Path  # relative artifact paths are relative to this (the project)
    conns: Connections
    credentials: Credentials | None = None
    meter: Meter | None = None
    mirror: str | None = None  # a simple index that serves PyPI's files (UV_DEFAULT_INDEX)
    _pages: dict[str, dict[str, str]] = field(default_factory=dict)
    _pages_lock: threading.Lock = field(default_factory=threading.Lock)

    def through_mirror(self, artifact: Artifact) -> str:
        """The URL of a PyPI file on the mirror: its project page lists it under the same name."""
        assert self.mirror is not None
        name = project_name(artifact.filename)
        with self._pages_lock:
            links = self._pages.get(name)
        if links is None:
            page = urllib.parse.urljoin(self.mirror, f"{name}/")
            with self.open(page) as response:
                parser = _Links(page)
                parser.feed(response.read().decode("utf-8", "replace"))
            links = parser.links
            with self._pages_lock:
                self._pages[name] = links
        if artifact.filename not in links:
            raise FetchError(f"{artifact.filename}: the index mirror {self.mirror} does not list it",
                             hint="the mirror must serve the files the lock names (same names, same sha256)")
        return links[artifact.filename]

    def open(self, url: str, redirects: int = 5) -> http.client.HTTPResponse:
        """GET over a reused connection; urllib (which honours proxy settings) when a proxy is configured.
        Credentials are computed per URL, so a redirect to another host gets none."""
        headers = {"User-Agent": f"airgap-installer/{__version__}"}
        authorization = self.credentials.header(url) if self.credentials else None
        if authorization:
            headers["Authorization"] = authorization
        if urllib.request.getproxies():
            try:
                response: http.client.HTTPResponse = urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=TIMEOUT)
            except urllib.error.HTTPError as exc:
                raise HTTPStatus(exc.code, str(exc.reason), url) from exc
            return response
        parts = urllib.parse.urlsplit(url)
        conn = self.conns.get(parts.scheme, parts.netloc)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conns.drop(parts.scheme, parts.netloc)
            raise
        if response.status in _REDIRECTS and redirects:
            response.read()
            return self.open(urllib.parse.urljoin(url, response.getheader("Location", "")), redirects - 1)
        if response.status != 200:
            response.read()
            raise HTTPStatus(response.status, response.reason, url)
        return response

    def download(self, artifact: Artifact) -> None:
        self._fetch(artifact)
        if self.meter:
            self.meter.advance(file_done=True)

    def _fetch(self, artifact: Artifact) -> None:
        url = artifact.url
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme in ("", "file"):
            local = Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme else self.base / url
            try:
                self.cache.put_file(local, artifact.sha256)
            except HashMismatch as exc:
                raise FetchError(f"{artifact.filename}: {exc} (from {local})") from exc
            except OSError as exc:
                raise FetchError(f"{artifact.filename}: cannot read {local}: {exc}") from exc
            return
        for attempt in range(1, ATTEMPTS + 1):
            written = 0
            try:
                if self.mirror and parsed.hostname == PYPI_FILES:
                    url = self.through_mirror(artifact)
                response = self.open(url)
                with response, self.cache.writer(artifact.sha256) as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
                        if self.meter:
                            self.meter.advance(len(chunk))
                return
            except HashMismatch as exc:
                raise FetchError(f"{artifact.filename}: {exc} (from {url})", hint="the index served another file "
                                 "than the one locked; re-lock or check the index") from exc
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                self.conns.drop(*urllib.parse.urlsplit(url)[:2])
                if self.meter:
                    self.meter.advance(-written)  # the next attempt starts from the first byte
                status = exc.status if isinstance(exc, HTTPStatus) else 0
                if _untrusted(exc):
                    raise FetchError(f"{artifact.filename}: {exc}", hint=TLS_HINT) from exc
                if status in (401, 403):
                    raise FetchError(f"{artifact.filename}: {exc}", hint=AUTH_HINT) from exc
                if attempt == ATTEMPTS or (400 <= status < 500 and status not in (408, 429)):
                    raise FetchError(f"{artifact.filename}: download failed after {attempt} attempt(s): {exc}") \
                        from exc
                log.info("retrying %s after %s", url, exc)
                time.sleep(0.5 * 2**attempt)


def download_all(artifacts: list[Artifact], cache: Cache, *, base: Path, jobs: int,
                 progress: TextIO | None = None, credentials: Credentials | None = None) -> list[FetchError]:
    """Download every artifact in parallel; the errors. `progress`: a terminal to draw a progress line on."""
    errors: list[FetchError] = []
    session = Session(cache, base, Connections(), credentials, Meter(progress, artifacts) if progress else None,
                      index_mirror())
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(session.download, a) for a in artifacts]
            for future in futures:
                try:
                    future.result()
                except FetchError as exc:
                    errors.append(exc)
    finally:
        session.conns.close()
        if session.meter:
            session.meter.close()
    return errors
