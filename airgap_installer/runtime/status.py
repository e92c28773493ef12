"""What an install of one file would do to a prefix, read without writing anything.

The same answer serves a real install (which then does it), `--dry-run` (which only reports it) and
the header's no-op check (an install of the active release writes nothing, not even scratch space).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import winlayout
from .layout import COMPLETE, project_path
from .manifest import Manifest

WINDOWS = sys.platform == "win32"  # there `current` is the active release itself (winlayout.py)


def active_release(prefix: Path) -> str | None:
    """The release `current` points at ("<version>-<sha12>"), or None."""
    if WINDOWS:
        return winlayout.active_id(prefix)
    current = prefix / "current"
    if not current.is_symlink():
        return None
    parts = os.readlink(current).split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "releases" else None


def is_complete(prefix: Path, release_id: str, manifest: Manifest) -> bool:
    rel = project_path(manifest)
    release = prefix / "releases" / release_id
    if WINDOWS and active_release(prefix) == release_id:
        release = prefix / "current"
    return ((release / rel if rel else release) / ".airgap" / COMPLETE).is_file()


@dataclass(frozen=True)
class Plan:
    action: str  # installed | upgraded | activated | unchanged
    release: str
    previous: str | None

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


def launchers_in_place(prefix: Path, manifest: Manifest, link_bin: Path | None) -> bool:
    """PREFIX/bin holds uv and the launchers activation writes, and --link-bin's links point at them."""
    if WINDOWS:
        return winlayout.launchers_in_place(prefix, manifest, link_bin)
    bin_dir = prefix / "bin"
    names = ["uv", *manifest.scripts, f"{manifest.name}-rollback", f"{manifest.name}-uninstall"]
    if not all((bin_dir / name).exists() for name in names):
        return False
    return link_bin is None or all(
        (link_bin / script).is_symlink() and os.readlink(link_bin / script) == str(bin_dir / script)
        for script in manifest.scripts)


def plan(prefix: Path, manifest: Manifest, payload_sha256: str, link_bin: Path | None = None) -> Plan:
    """unchanged: the release is the active one and its launchers (and --link-bin links) are in place;
    activated: complete but not active, or its launchers need writing again."""
    release_id = f"{manifest.version}-{payload_sha256[:12]}"
    active = active_release(prefix)
    if is_complete(prefix, release_id, manifest):
        same = active == release_id and launchers_in_place(prefix, manifest, link_bin)
        return Plan("unchanged" if same else "activated", release_id, active)
    return Plan("upgraded" if active else "installed", release_id, active)


def message(plan: Plan, manifest: Manifest, prefix: Path, dry_run: bool) -> str:
    """The line a person reads for a successful (or would-be) run."""
    what = f"{manifest.name} {plan.release}"
    if plan.action == "unchanged":
        return f"{what} is already installed and active in {prefix}; nothing changed"
    if dry_run and plan.action == "activated" and plan.previous == plan.release:
        return f"would write the launchers of {what} again; nothing written (--dry-run)"
    if dry_run:
        verb = {"installed": "install", "upgraded": "install", "activated": "make active again"}[plan.action]
        was = f" (replacing {plan.previous})" if plan.previous else ""
        return f"would {verb} {what} in {prefix}{was}; nothing written (--dry-run)"
    if plan.action == "activated" and plan.previous == plan.release:
        return f"{what} was already installed and active; its launchers were written again"
    if plan.action == "activated":
        return f"{what} was already installed; it is active again (it was {plan.previous})"
    was = f" (was {plan.previous})" if plan.previous else ""
    return f"installed {what} into {prefix}{was}"
