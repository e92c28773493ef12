"""What an install of one file would do to a prefix, read without writing anything.

The same answer serves a real install (which then does it), `--dry-run` (which only reports it) and
the header's no-op check (an install of the active release writes nothing, not even scratch space).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .layout import COMPLETE, project_path
from .manifest import Manifest


def active_release(prefix: Path) -> str | None:
    """The release `current` points at ("<version>-<sha12>"), or None."""
    current = prefix / "current"
    if not current.is_symlink():
        return None
    parts = os.readlink(current).split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "releases" else None


def is_complete(prefix: Path, release_id: str, manifest: Manifest) -> bool:
    rel = project_path(manifest)
    release = prefix / "releases" / release_id
    return ((release / rel if rel else release) / ".airgap" / COMPLETE).is_file()


@dataclass(frozen=True)
class Plan:
    action: str  # installed | upgraded | activated | unchanged
    release: str
    previous: str | None

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


def plan(prefix: Path, manifest: Manifest, payload_sha256: str) -> Plan:
    release_id = f"{manifest.version}-{payload_sha256[:12]}"
    active = active_release(prefix)
    if is_complete(prefix, release_id, manifest):
        return Plan("unchanged" if active == release_id else "activated", release_id, active)
    return Plan("upgraded" if active else "installed", release_id, active)


def message(plan: Plan, manifest: Manifest, prefix: Path, dry_run: bool) -> str:
    """The line a person reads for a successful (or would-be) run."""
    what = f"{manifest.name} {plan.release}"
    if plan.action == "unchanged":
        return f"{what} is already installed and active in {prefix}; nothing changed"
    if dry_run:
        verb = {"installed": "install", "upgraded": "install", "activated": "make active again"}[plan.action]
        was = f" (replacing {plan.previous})" if plan.previous else ""
        return f"would {verb} {what} in {prefix}{was}; nothing written (--dry-run)"
    if plan.action == "activated":
        return f"{what} was already installed; it is active again (it was {plan.previous})"
    was = f" (was {plan.previous})" if plan.previous else ""
    return f"installed {what} into {prefix}{was}"
