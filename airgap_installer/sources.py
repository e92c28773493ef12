"""The project tree that travels to the target, and the uv.toml that keeps uv offline there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomlkit

from airgap_installer.errors import ProjectError
from airgap_installer.tomlread import TOMLError

# Never shipped: environments, caches, VCS metadata, build output.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".nox", ".tox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "dist", "build", "node_modules", ".airgap", ".idea", ".vscode"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".run")
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
# Shipped even when git ignores or does not track them: uv needs them on the target.
ALWAYS = frozenset({"pyproject.toml", "uv.lock"})

WHEELHOUSE = ".airgap/wheelhouse"

# [tool.uv] keys that are project metadata, not settings: a uv.toml does not shadow them. Every other
# [tool.uv] key is a setting that a uv.toml would shadow.
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
    base = top.resolve()  # the names as git lists them under it: a symlink stays a symlink's path
    return {base / name for name in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if name}


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
        if allowed is not None:
            # In git, git decides: a tracked `src/pkg/build/` travels; ignored `.venv/` does not.
            candidates = sorted(path for path in allowed if path.is_relative_to(top.resolve()))
        else:
            candidates = []
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
                candidates += [Path(dirpath) / name for name in filenames]
        for path in candidates:
            rel = path.relative_to(root.resolve() if allowed is not None else root).as_posix()
            if path.name.endswith(EXCLUDED_SUFFIXES) or path == exclude or rel in skipped or not path.is_file():
                continue
            if any(part in VCS_DIRS for part in Path(rel).parts):
                continue
            out[rel] = (rel, path, 0o755 if os.access(path, os.X_OK) else 0o644)
    for name in ALWAYS:  # uv needs them on the target, whatever git says
        for top in dirs or [root]:
            path = top / name
            if path.is_file() and (rel := path.relative_to(root).as_posix()) not in out and rel not in skipped:
                out[rel] = (rel, path, 0o644)
    return sorted(out.values())


OFFLINE = {"offline": True, "find-links": [WHEELHOUSE], "python-downloads": "never"}
HEADER = ("Written by airgap-installer: keeps uv offline on this host, using the bundled",
          "wheelhouse (find-links is relative to this file).")


def offline_config(root: Path) -> tuple[str, str, str | None]:
    """Where the target's offline settings go, the file's text, and a note when a file of the project
    changes. uv reads one project configuration: a uv.toml shadows every setting in `[tool.uv]` (and
    warns about it on every command), so the settings join the project's own uv.toml if it has one,
    else its `[tool.uv]` if that holds settings, else a new uv.toml (pyproject.toml untouched). None of
    them changes what `uv lock --check` decides."""
    try:
        if (root / "uv.toml").is_file():
            doc = tomlkit.parse((root / "uv.toml").read_text(encoding="utf-8"))
            _apply(doc)
            return "uv.toml", tomlkit.dumps(doc), "uv.toml (offline = true, find-links = the bundled wheelhouse, " \
                                                  "python-downloads = \"never\")"
        if not (root / "pyproject.toml").is_file():  # a script
            pyproject = tomlkit.document()
        else:
            pyproject = tomlkit.parse((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (TOMLError, tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read the project's uv settings in {root}: {exc}") from exc
    tool_uv = pyproject.get("tool", {}).get("uv", {})
    if any(key not in PROJECT_ONLY_KEYS for key in tool_uv):
        _apply(tool_uv)
        return "pyproject.toml", tomlkit.dumps(pyproject), (
            "pyproject.toml ([tool.uv] offline = true, find-links = the bundled wheelhouse, "
            "python-downloads = \"never\": a uv.toml would shadow the project's [tool.uv] settings)")
    doc = tomlkit.document()
    for line in HEADER:
        doc.add(tomlkit.comment(line))
    _apply(doc)
    return "uv.toml", tomlkit.dumps(doc), None


def _apply(settings: Any) -> None:
    """Our settings on top; indexes and find-links of the build machine mean nothing on the target, and
    `no-index` would make uv take the lock for stale."""
    for key in ("find-links", "no-index", "offline", "python-downloads"):
        settings.pop(key, None)
    for key, value in OFFLINE.items():
        settings[key] = value
