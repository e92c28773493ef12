"""The build backends the target needs to build the project (and local packages) with `uv sync`.

uv builds `uv_build` projects natively; any other backend (hatchling, setuptools, ...) must be in the
wheelhouse with its whole closure, resolved for the TARGET on the build side. We resolve it with uv
itself: a throw-away project whose dependencies are the build requirements, locked and exported, then
planned like any other lock. The exported lock is cached, so a warm `--offline` build needs no network.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from airgap_installer.cache import Cache
from airgap_installer.errors import FetchError
from airgap_installer.lock import Lock, parse_pylock
from airgap_installer.target import Target
from airgap_installer.uvbin import run_uv


def backend_requirements(build_requires: tuple[str, ...], backend: str | None) -> list[str]:
    reqs = list(build_requires)
    if backend and backend.startswith("hatchling"):
        reqs.append("editables")  # hatchling asks for it when building editable (uv sync's default)
    return sorted(set(reqs))


def resolve_backends(requirements: list[str], target: Target, cache: Cache, *, offline: bool) -> Lock:
    key = hashlib.sha256(json.dumps([requirements, target.python_version]).encode()).hexdigest()
    cached = cache.root / "backends" / f"{key}.pylock.toml"
    if cached.is_file():
        return parse_pylock(cached.read_text(encoding="utf-8"))
    if offline:
        raise FetchError(
            f"--offline: the build backends {', '.join(requirements)} were never resolved with this cache",
            hint="run the build once with network to fill the cache",
        )
    with tempfile.TemporaryDirectory(prefix="airgap-backends-") as tmp:
        root = Path(tmp)
        deps = ", ".join(json.dumps(r) for r in requirements)
        (root / "pyproject.toml").write_text(
            "[project]\n"
            'name = "airgap-build-backends"\nversion = "0"\n'
            f'requires-python = "=={target.python_version}.*"\n'
            f"dependencies = [{deps}]\n"
            "[tool.uv]\npackage = false\n",
            encoding="utf-8",
        )
        run_uv(["lock", "--quiet", "--project", str(root)])
        text = run_uv(["export", "--frozen", "--format", "pylock.toml", "--quiet",
                       "--no-emit-project", "--project", str(root)])
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(text, encoding="utf-8")
    return parse_pylock(text)
