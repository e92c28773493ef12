"""The wheelhouse leaves the file for other tools (`sh FILE.run --wheelhouse DIR`): the target's wheels,
a PEP 751 `pylock.toml` whose artifacts are those local files, and a `requirements.txt` with hashes,
so `uv pip install -r pylock.toml`, `pip install --no-index --find-links DIR -r requirements.txt`
(or pip's own pylock support) install them with no network. The pins are those for the Python that
runs this (the header's python3); a lock that forks inside the minor gets the matching branch."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from .install import InstallError, PayloadError, _extract_member, _safe_target, check_members
from .manifest import Manifest, member_for
from .uvrecords import normalize


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def export(zf: zipfile.ZipFile, dest: Path, target: str | None = None) -> None:
    check_members(zf)
    manifest = Manifest.from_json(zf.read(member_for(target)))
    if manifest.base is not None:
        raise InstallError(f"this delta installer carries only the wheels {manifest.base.describe()} lacks",
                           hint="write the wheelhouse from the full installer of this version")
    pins = manifest.pins_for(tuple(sys.version_info[:3])) or (
        list(manifest.pin_variants[-1].pins) if manifest.pin_variants else [])
    wheels = {info.filename.split("/", 1)[1]: info for info in zf.infolist()
              if info.filename.startswith("wheelhouse/") and info.filename.endswith(".whl")}
    by_pin = {}
    for pin in pins:
        requirement, _, hashed = pin.partition(" --hash=sha256:")
        name, _, version = requirement.partition("==")
        by_pin[(name, version)] = hashed
    dest.mkdir(parents=True, exist_ok=True)
    lock = ["lock-version = \"1.0\"", "created-by = \"airgap-installer\"",
            f"requires-python = {_toml_string(manifest.requires_python or '>=3')}", ""]
    requirements = [f"# {manifest.name} {manifest.version} for {manifest.target}, from its installer",
                    "# pip install --no-index --find-links . -r requirements.txt"]
    for (name, version), sha in sorted(by_pin.items()):
        wheel = next((f for f in wheels if normalize(f.split("-")[0]) == normalize(name)
                      and f.split("-")[1] == version), None)
        if wheel is None:
            raise PayloadError(f"the wheel for {name}=={version} is missing from the payload")
        _extract_member(zf, wheels[wheel], _safe_target(dest, wheel))
        lock += ["[[packages]]", f"name = {_toml_string(name)}", f"version = {_toml_string(version)}",
                 f"wheels = [{{ name = {_toml_string(wheel)}, path = {_toml_string('./' + wheel)}, "
                 f"hashes = {{ sha256 = {_toml_string(sha)} }} }}]", ""]
        requirements.append(f"{name}=={version} --hash=sha256:{sha}")
    (dest / "pylock.toml").write_text("\n".join(lock))
    (dest / "requirements.txt").write_text("\n".join(requirements) + "\n")
