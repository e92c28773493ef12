"""Delta installers (issue 16): `build --delta-from OLD` writes a file that carries only the wheels OLD does
not have, and none of OLD's uv when it is the same. OLD is the earlier installer (`.run`: one target's, or
a fat file) or only its manifest(s) (`sh OLD.run --extract DIR` gives DIR/manifest.json, or a fat file's
DIR/targets/<slug>/manifest.json; an installed release keeps its target's as `.airgap/manifest.json`), so
the old file need not be kept. A fat file's delta splits each target against the base's manifest of the
same target: each host upgrades the release its own target installed.

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


def read_bases(paths: tuple[Path, ...]) -> list[tuple[Manifest, str | None]]:
    """Every target manifest the bases hold, each with its release id when its .run file was given (a fat
    file's targets share the file's release id). A path is a .run file (one target's, or a fat file's),
    a manifest.json, or the directory `sh OLD.run --extract DIR` wrote."""
    found: list[tuple[Manifest, str | None]] = []
    for path in paths:
        try:
            if path.is_dir():
                tables = [json.loads(f.read_bytes()) for f in _manifests_in(path)]
                release_sha = None
            elif zipfile.is_zipfile(path):
                header = read_header(path)
                with zipfile.ZipFile(path) as zf:
                    names = sorted(n for n in zf.namelist() if _is_target_manifest(n)) or ["manifest.json"]
                    tables = [json.loads(zf.read(n)) for n in names]
                release_sha = header["payload_sha256"]
            else:
                tables = [json.loads(path.read_bytes())]
                release_sha = None
            for table in tables:
                if isinstance(table, dict):
                    table.setdefault("base", None)  # a manifest written before delta installers existed
                manifest = Manifest.from_dict(table) if isinstance(table, dict) else Manifest.from_json(b"[]")
                found.append((manifest, f"{manifest.version}-{release_sha[:12]}" if release_sha else None))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, InstallerFileError, ManifestError) as exc:
            raise UsageError(f"--delta-from {path}: not an installer or a manifest.json ({exc})",
                             hint="pass the earlier .run file, or the manifest.json from `sh OLD.run --extract DIR`") \
                from exc
    return found


def _is_target_manifest(name: str) -> bool:
    return name.startswith("targets/") and name.endswith("/manifest.json") and name.count("/") == 2


def _manifests_in(directory: Path) -> list[Path]:
    fat = sorted(directory.glob("targets/*/manifest.json"))
    if fat or (directory / "manifest.json").is_file():
        return fat or [directory / "manifest.json"]
    raise ValueError(f"no manifest.json in {directory}")


def base_for(bases: list[tuple[Manifest, str | None]], target: str, *, one_target: bool) -> tuple[Manifest, str | None]:
    """The base of one target of the new file: the base's manifest of the same target. A build of one
    target from a base of one target takes that base whatever its target was (an upgrade from
    manylinux_2_17 to manylinux_2_28 reuses the pure wheels); a fat file's targets must each find theirs,
    as each host upgrades the release its own target installed."""
    if one_target and len(bases) == 1:
        return bases[0]
    same = {(m.to_json(), release) for m, release in bases if m.target == target}
    if len(same) > 1:
        raise UsageError(f"--delta-from: two different bases for the target {target}",
                         hint="pass one earlier installer (or one manifest per target)")
    if not same:
        have = ", ".join(sorted({m.target for m, _ in bases})) or "none"
        raise UsageError(f"--delta-from: the base has no target {target} (it has: {have})",
                         hint="pass the earlier fat file (or each target's manifest.json), or build this target "
                              "without --delta-from")
    return next((m, release) for m, release in bases if m.target == target)


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
