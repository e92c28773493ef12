"""Delta installers (issue 16): `build --delta-from OLD` writes a file that carries only the wheels OLD does
not have, and none of OLD's uv when it is the same. OLD is the earlier installer (`.run`) or only its
manifest (`sh OLD.run --extract DIR` gives DIR/manifest.json; an installed release keeps it as
`.airgap/manifest.json`), so the old file need not be kept.

On the target the runtime finds the reused wheels in the prefix (its wheel store, or an older release's
wheelhouse), checks each one's sha256 against the new manifest's pins, and refuses before anything is
written when one is missing or different, naming the base it needs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from airgap_installer.errors import InstallerFileError, UsageError
from airgap_installer.inspect import read_header
from airgap_installer.lock import Artifact
from airgap_installer.runtime.manifest import Base, Manifest, ManifestError
from airgap_installer.runtime.store import expected_hashes


def read_base(path: Path) -> tuple[Manifest, str | None]:
    """The base's manifest, and its release id when `path` is the base's .run file."""
    try:
        if zipfile.is_zipfile(path):
            header = read_header(path)
            with zipfile.ZipFile(path) as zf:
                table = json.loads(zf.read("manifest.json"))
            release_sha = header["payload_sha256"]
        else:
            table = json.loads(path.read_bytes())
            release_sha = None
        if isinstance(table, dict):
            table.setdefault("base", None)  # a manifest written before delta installers existed
        manifest = Manifest.from_dict(table) if isinstance(table, dict) else Manifest.from_json(b"[]")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InstallerFileError, ManifestError) as exc:
        raise UsageError(f"--delta-from {path}: not an installer or a manifest.json ({exc})",
                         hint="pass the earlier .run file, or the manifest.json from `sh OLD.run --extract DIR`") \
            from exc
    return manifest, f"{manifest.version}-{release_sha[:12]}" if release_sha else None


def split_wheelhouse(base: Manifest, release: str | None, name: str, uv_wheel: str,
                     wheelhouse: list[Artifact]) -> tuple[Base, list[Artifact], bool]:
    """What the delta reuses from the base (same file name and sha256), what it carries, and whether it
    carries uv."""
    if base.name != name:
        raise UsageError(f"--delta-from: that installer is {base.name}, not {name}",
                         hint="pass an earlier installer of the same project")
    have = expected_hashes(base)
    reused = [a for a in wheelhouse if have.get(a.filename) == a.sha256]
    carried = [a for a in wheelhouse if have.get(a.filename) != a.sha256]
    return (Base(base.name, base.version, release, base.uv_wheel, tuple(a.filename for a in reused)), carried,
            base.uv_wheel != uv_wheel)
