"""Leaving out default groups (`--no-dev`, `--no-default-groups`, `--only-group`) without breaking `uv run`.

uv 0.13.9 offers no uv.toml key for it: with the dev group absent, plain `uv run` and `uv sync` try to
download it. What works is a consistent pair: pyproject.toml with `[tool.uv] default-groups` set to the
groups that were installed, and uv.lock regenerated for it (uv adds that line to the lock). We make the
pair in a staged copy of the project, check that no locked version changed, and ship it; `--info` and
the manifest say that these two files differ from the repository's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit

from airgap_installer.errors import LockError
from airgap_installer.request import Selection
from airgap_installer.tomlread import parse_toml
from airgap_installer.uvbin import run_uv


def default_groups(pyproject: dict[str, Any]) -> list[str]:
    configured = pyproject.get("tool", {}).get("uv", {}).get("default-groups")
    groups = pyproject.get("dependency-groups", {})
    if configured == "all":
        return sorted(groups)
    if isinstance(configured, list):
        return [str(g) for g in configured]
    return ["dev"] if "dev" in groups else []


def kept_groups(pyproject: dict[str, Any], choice: Selection) -> list[str]:
    """The default groups after the choice: what plain `uv sync` installs on the target."""
    if choice.only_groups:
        return sorted(set(choice.only_groups))
    kept = [] if choice.no_default_groups else default_groups(pyproject)
    if choice.no_dev:
        kept = [g for g in kept if g != "dev"]
    return sorted(set(kept) | set(choice.groups))


def _locked_versions(lock_path: Path) -> dict[tuple[str, str], str]:
    doc = parse_toml(lock_path.read_text(encoding="utf-8"))
    return {(p["name"], str(p.get("version", ""))): str(p.get("source", "")) for p in doc.get("package", [])}


def relock_for_groups(staged_project: Path, choice: Selection) -> list[str]:
    """Rewrite the staged pyproject.toml's default-groups and re-lock; return the new default groups."""
    pyproject_path = staged_project / "pyproject.toml"
    doc = tomlkit.parse(pyproject_path.read_text(encoding="utf-8"))
    kept = kept_groups(doc.unwrap(), choice)
    tool = doc.setdefault("tool", tomlkit.table())
    uv = tool.setdefault("uv", tomlkit.table())
    uv["default-groups"] = kept
    pyproject_path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    before = _locked_versions(staged_project / "uv.lock")
    run_uv(["lock", "--quiet", "--project", str(staged_project)])
    after = _locked_versions(staged_project / "uv.lock")
    if before != after:
        changed = sorted({n for n, _ in set(before) ^ set(after)})
        raise LockError(
            f"re-locking for default-groups = {kept} changed locked versions: {', '.join(changed)}",
            hint="run `uv lock` in the project first, so the lock is current, then build again",
        )
    return kept
