"""Artifacts -> cache: parallel, sha256-checked against the lock, streaming; `offline` uses the cache only."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from airgap_installer.auth import Credentials
from airgap_installer.cache import Cache
from airgap_installer.errors import FetchError
from airgap_installer.lock import Artifact


def fetch(artifacts: Iterable[Artifact], cache: Cache, *, base: Path, offline: bool, jobs: int = 8,
          credentials: Credentials | None = None) -> None:
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
    from airgap_installer.download import download_all  # the network stack, only when it is needed

    errors = download_all(list(missing.values()), cache, base=base, jobs=jobs,
                          progress=sys.stderr if sys.stderr.isatty() else None, credentials=credentials)
    if errors:
        hints = sorted({e.hint for e in errors if e.hint})
        raise FetchError("; ".join(str(e) for e in errors), hint="; ".join(hints) if hints else None)
