"""The project tree that travels to the target, and the uv.toml that keeps uv offline there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tomlkit

from airgap_installer.errors import ProjectError

# Never shipped: environments, caches, VCS metadata, build output.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".nox", ".tox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "dist", "build", "node_modules", ".airgap", ".idea", ".vscode"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".run")

WHEELHOUSE = ".airgap/wheelhouse"

# [tool.uv] keys that are project metadata, not settings: uv.toml refuses them and they stay in
# pyproject.toml. Every other [tool.uv] key is a setting that a uv.toml shadows, so we copy it over.
PROJECT_ONLY_KEYS = frozenset(
    {"sources", "workspace", "managed", "package", "default-groups", "dependency-groups", "dev-dependencies",
     "conflicts", "environments", "required-environments", "build-backend"}
)


def project_files(root: Path, exclude: Path | None = None) -> list[tuple[str, Path, int]]:
    """(relative posix name, path, mode) for every file to ship, sorted; skips EXCLUDED_* and `exclude`."""
    out: list[tuple[str, Path, int]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info")
        )
        for name in filenames:
            path = Path(dirpath) / name
            if name.endswith(EXCLUDED_SUFFIXES) or (exclude is not None and path == exclude):
                continue
            if name == "uv.toml" and Path(dirpath) == root:
                continue  # replaced by the merged uv.toml
            if not path.is_file():
                continue  # sockets, broken links
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            out.append((path.relative_to(root).as_posix(), path, mode))
    return sorted(out)


def target_uv_toml(root: Path) -> str:
    """The project's uv.toml for the target: its own settings (uv.toml, else [tool.uv]) + ours on top."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by airgap-installer: keeps uv offline on this host, using the bundled"))
    doc.add(tomlkit.comment("wheelhouse. pyproject.toml and uv.lock are the project's own, byte for byte."))
    existing = root / "uv.toml"
    settings: dict[str, Any] = {}
    try:
        if existing.is_file():
            settings = tomlkit.parse(existing.read_text(encoding="utf-8")).unwrap()
        else:
            pyproject = tomlkit.parse((root / "pyproject.toml").read_text(encoding="utf-8")).unwrap()
            tool_uv = pyproject.get("tool", {}).get("uv", {})
            settings = {k: v for k, v in tool_uv.items() if k not in PROJECT_ONLY_KEYS}
    except tomlkit.exceptions.TOMLKitError as exc:
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
