"""Artifacts -> cache: parallel, sha256-checked against the lock, streaming; `offline` uses the cache only."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from airgap_installer import __version__
from airgap_installer.cache import CHUNK, Cache, HashMismatch
from airgap_installer.errors import FetchError
from airgap_installer.lock import Artifact

log = logging.getLogger(__name__)

ATTEMPTS = 3
TIMEOUT = 60


def _download(artifact: Artifact, cache: Cache, base: Path) -> None:
    url = artifact.url
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("", "file"):
        local = Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme else base / url
        try:
            cache.put_file(local, artifact.sha256)
        except HashMismatch as exc:
            raise FetchError(f"{artifact.filename}: {exc} (from {local})") from exc
        except OSError as exc:
            raise FetchError(f"{artifact.filename}: cannot read {local}: {exc}") from exc
        return
    request = urllib.request.Request(url, headers={"User-Agent": f"airgap-installer/{__version__}"})
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response, cache.writer(
                artifact.sha256
            ) as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
            return
        except HashMismatch as exc:
            raise FetchError(f"{artifact.filename}: {exc} (from {url})", hint="the index served another file "
                             "than the one locked; re-lock or check the index") from exc
        except (urllib.error.URLError, OSError) as exc:
            if attempt == ATTEMPTS:
                raise FetchError(f"{artifact.filename}: download failed after {ATTEMPTS} attempts: {exc}") from exc
            log.info("retrying %s after %s", url, exc)
            time.sleep(0.5 * 2**attempt)


def fetch(artifacts: Iterable[Artifact], cache: Cache, *, base: Path, offline: bool, jobs: int = 8) -> None:
    """Make sure every artifact is in the cache. Raises one FetchError naming every failure."""
    missing = {a.sha256: a for a in artifacts if not cache.has(a.sha256)}
    if not missing:
        return
    if offline:
        names = ", ".join(sorted(a.filename for a in missing.values()))
        raise FetchError(
            f"--offline: {len(missing)} artifact(s) not in the cache {cache.root}: {names}",
            hint="run the build once with network to fill the cache",
        )
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_download, a, cache, base) for a in missing.values()]
        for future in futures:
            try:
                future.result()
            except FetchError as exc:
                errors.append(str(exc))
    if errors:
        raise FetchError("; ".join(errors))
