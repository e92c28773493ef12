"""uv.lock + a selection -> the locked packages, as `uv export --locked` states them; memoized.

One uv call both refuses a stale lock (`--locked`: an error telling to run `uv lock`, never a
re-resolve) and applies uv's own selection rules (extras, groups, --no-dev, --package, forks). Its
answer depends only on its inputs: uv's version, the arguments, uv.lock, the pyproject.toml of every
local package, and uv's configuration (files and UV_* variables). The result is kept in the cache
under a digest of all of them, so a rebuild whose inputs did not change skips the call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from airgap_installer.cache import Cache
from airgap_installer.errors import LockError, UvError
from airgap_installer.lock import Lock, local_paths, lock_requires_python, parse_pylock
from airgap_installer.lockcheck import script_stale_reasons, stale_reasons
from airgap_installer.project import Project
from airgap_installer.uvbin import run_uv
from airgap_installer.uvwheels import UV_VERSION

log = logging.getLogger(__name__)


def _config_files() -> list[Path]:
    """uv's user and system configuration files (they can change what `--locked` decides)."""
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    dirs = [Path(d) for d in os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":") if d]
    return [home / "uv" / "uv.toml", Path("/etc/uv/uv.toml"), *(d / "uv" / "uv.toml" for d in dirs)]


def inputs_digest(project: Project, args: list[str], lock_text: str) -> str:
    digest = hashlib.sha256()
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("UV_"))
    digest.update(json.dumps([UV_VERSION, str(project.root), args, env]).encode())
    files = [project.root / "uv.toml", project.root / ".python-version", *_config_files()]
    files += [project.root / path / "pyproject.toml" for path in local_paths(lock_text)]
    if project.script:
        files.append(project.root / project.script)
    for path in files:
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<none>")
        digest.update(b"\0")
    digest.update(lock_text.encode())
    return digest.hexdigest()


def export_lock(project: Project, args: list[str], cache: Cache | None, *, offline: bool = False) -> Lock:
    """`cache` None: no memo (e.g. a staged copy in a temporary directory)."""
    if not project.lock_path.is_file():
        if project.script:
            raise LockError(f"{project.script} has no lock ({project.lock_path.name})",
                            hint=f"run `uv lock --script {project.script}`: the builder installs what a lock "
                                 "says, it never resolves")
        raise LockError(f"no uv.lock in {project.root}")
    lock_text = project.lock_path.read_text(encoding="utf-8")
    memo = cache.root / "exports" / f"{inputs_digest(project, args, lock_text)}.pylock.toml" if cache else None
    if memo is not None and memo.is_file():
        return parse_pylock(memo.read_text(encoding="utf-8"))
    # `--locked` needs an interpreter inside requires-python (uv 0.13.9), only to compare files. Ours
    # when it fits (naming it spares uv's discovery); else `--frozen`, and lockcheck.py compares the
    # files: the builder never looks for, or downloads, another Python (lockcheck.py says why).
    here = ".".join(map(str, sys.version_info[:3]))
    try:
        fits = SpecifierSet(lock_requires_python(lock_text)).contains(here, prereleases=True)
    except InvalidSpecifier:
        fits = False
    if not fits and project.script:
        reasons = script_stale_reasons(lock_text, list(project.dependencies), str(project.requires_python))
    elif not fits:
        reasons = stale_reasons(lock_text, {path: (project.root / path / "pyproject.toml").read_text(encoding="utf-8")
                                            for path in local_paths(lock_text)
                                            if (project.root / path / "pyproject.toml").is_file()}
                                | ({".": (project.root / "pyproject.toml").read_text(encoding="utf-8")}
                                   if project.virtual else {}))
    if not fits:
        if reasons:
            raise LockError(f"{project.lock_path.name} is out of date in {project.root}: {'; '.join(reasons)}",
                            hint=f"run `uv lock{' --script ' + project.script if project.script else ''}` and "
                                 "build again")
        log.info("this Python %s is outside requires-python: uv.lock checked against pyproject.toml here", here)
    check = ["--locked", "--python", sys.executable] if fits else ["--frozen"]
    if project.script:
        check += ["--script", project.script]
    try:
        # In the project: uv writes `directory` paths relative to the working directory.
        # The lock is checked against the indexes it was made with: an index mirror (UV_DEFAULT_INDEX,
        # UV_INDEX_URL) would make uv re-resolve; the builder fetches PyPI's files through the mirror.
        env = {k: v for k, v in os.environ.items() if k not in ("UV_DEFAULT_INDEX", "UV_INDEX_URL")}
        text = run_uv(["export", *check, *(["--offline"] if offline else []), "--format",
                       "pylock.toml", "--quiet", *args], cwd=project.root, env=env)
    except UvError as exc:
        if "does not match the running version" in str(exc):
            raise LockError(f"{project.root} sets [tool.uv] required-version, which uv {UV_VERSION} (the uv this "
                            "airgap-installer bundles and builds with) does not meet",
                            hint="use an airgap-installer that bundles a uv in that range, or widen "
                                 "required-version") from exc
        if "needs to be updated" in str(exc):
            raise LockError(f"{project.lock_path.name} is out of date in {project.root}",
                            hint=f"run `uv lock{' --script ' + project.script if project.script else ''}` and "
                                 "build again") from exc
        if offline and "network" in str(exc):
            raise LockError(f"uv.lock in {project.root} needs packages uv has not cached, so it is probably "
                            f"out of date; --offline cannot check it") from exc
        raise
    lock = parse_pylock(text)
    if memo is None:
        return lock
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, memo)
    return lock
