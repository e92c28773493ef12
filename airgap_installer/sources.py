"""The project tree that travels to the target, and the uv.toml that keeps uv offline there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomlkit

from airgap_installer.errors import ProjectError
from airgap_installer.tomlread import TOMLError, parse_toml

# Never shipped: environments, caches, VCS metadata, build output.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".nox", ".tox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "dist", "build", "node_modules", ".airgap", ".idea", ".vscode"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".run")
# Shipped even when git ignores or does not track them: uv needs them on the target.
ALWAYS = frozenset({"pyproject.toml", "uv.lock"})

WHEELHOUSE = ".airgap/wheelhouse"

# [tool.uv] keys that are project metadata, not settings: uv.toml refuses them and they stay in
# pyproject.toml. Every other [tool.uv] key is a setting that a uv.toml shadows, so we copy it over.
PROJECT_ONLY_KEYS = frozenset(
    {"sources", "workspace", "managed", "package", "default-groups", "dependency-groups", "dev-dependencies",
     "conflicts", "environments", "required-environments", "build-backend"}
)


def ship_tree(project_root: Path, local_dirs: Iterable[str]) -> tuple[Path, str]:
    """The smallest tree holding the project and every local package or wheel file (path dependencies
    may sit beside it, e.g. `../pathdep`), and the project's place in it. Shipping that tree keeps
    relative paths valid."""
    dirs = [project_root, *((project_root / d).resolve() for d in local_dirs)]
    root = Path(os.path.commonpath(dirs))
    return root, project_root.relative_to(root).as_posix()


def _git_files(top: Path) -> set[Path] | None:
    """The files git would commit under `top` (tracked, or untracked and not ignored); None outside git.
    Going by git keeps ignored files (`.env`, credentials, local data) out of the installer."""
    try:
        proc = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                               "--", "."], capture_output=True, check=False)
    except FileNotFoundError:
        return None
    if proc.returncode != 0:
        return None
    return {(top / name).resolve() for name in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if name}


def project_files(root: Path, dirs: Iterable[Path] | None = None, exclude: Path | None = None,
                  skip: Iterable[str] = (), also: Iterable[Path] = ()) -> list[tuple[str, Path, int]]:
    """(posix name relative to root, path, mode) for every file under `dirs` (default: root), sorted.
    Skips EXCLUDED_*, files git ignores (in a git work tree), the file `exclude` and the names in `skip`;
    the files in `also` (e.g. wheels the lock installs by path) are shipped whatever git says."""
    out: dict[str, tuple[str, Path, int]] = {}
    for path in also:
        if not path.is_file():
            raise ProjectError(f"{path} is missing", hint="uv.lock installs it from that path; restore the file or "
                               "re-lock")
        rel = path.relative_to(root).as_posix()
        out[rel] = (rel, path, 0o644)
    skipped = set(skip)
    for top in dirs or [root]:
        allowed = _git_files(top)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                if name.endswith(EXCLUDED_SUFFIXES) or path == exclude or rel in skipped or not path.is_file():
                    continue
                if allowed is not None and path.resolve() not in allowed and name not in ALWAYS:
                    continue
                out[rel] = (rel, path, 0o755 if os.access(path, os.X_OK) else 0o644)
    return sorted(out.values())


def target_uv_toml(root: Path) -> str:
    """The project's uv.toml for the target: its own settings (uv.toml, else [tool.uv]) + ours on top."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by airgap-installer: keeps uv offline on this host, using the bundled"))
    doc.add(tomlkit.comment("wheelhouse. pyproject.toml and uv.lock are the project's own, byte for byte."))
    existing = root / "uv.toml"
    settings: dict[str, Any] = {}
    try:
        if existing.is_file():
            settings = parse_toml(existing.read_text(encoding="utf-8"))
        else:
            pyproject = parse_toml((root / "pyproject.toml").read_text(encoding="utf-8"))
            tool_uv = pyproject.get("tool", {}).get("uv", {})
            settings = {k: v for k, v in tool_uv.items() if k not in PROJECT_ONLY_KEYS}
    except TOMLError as exc:
        raise ProjectError(f"cannot read the project's uv settings: {exc}") from exc
    # Indexes and find-links of the build machine mean nothing on the target.
    for key in ("find-links", "no-index", "offline", "python-downloads"):
        settings.pop(key, None)
    for key, value in settings.items():
        doc[key] = value
    doc["offline"] = True
    doc["find-links"] = [WHEELHOUSE]  # relative to this file's directory
    doc["python-downloads"] = "never"
    return tomlkit.dumps(doc)
