"""A CycloneDX 1.5 SBOM of exactly what one installer carries for its target: every wheel in its
wheelhouse (from the index, or built here from an sdist, git or the project's own sources), the uv
binary and the bundled CPython. Deterministic: the serial number is derived from the wheels and the
timestamp is the build date (SOURCE_DATE_EPOCH), so a rebuild is byte-identical. Written as JSON by
hand (the schema is small); the tests validate it with cyclonedx-python-lib's JSON schema."""

from __future__ import annotations

import json
import uuid
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airgap_installer import __version__
from airgap_installer.lock import Artifact, Package


def _license(wheel: Path) -> list[dict[str, Any]]:
    """What the wheel's METADATA says of its license: License-Expression (PEP 639), else License."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            meta = HeaderParser().parsestr(zf.read(name).decode("utf-8", "replace"))
    except (OSError, zipfile.BadZipFile, StopIteration):
        return []
    expression = meta.get("License-Expression")
    if expression:
        return [{"expression": expression.strip()}]
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) < 100:
        return [{"license": {"name": text}}]
    return []


def _purl(name: str, version: str) -> str:
    return f"pkg:pypi/{quote(name)}@{quote(version)}"


def make_sbom(*, name: str, version: str, installs: list[tuple[Package, Artifact, str]], wheel_path: Any,
              uv: Artifact | list[Artifact], uv_version: str,
              python: tuple[str, Artifact] | list[tuple[str, Artifact]] | None, build_date: str | None) -> str:
    """`installs`: (package, the shipped wheel, how it got it: "index", "built-sdist", "built-git",
    "direct-url", "built-local"); `wheel_path(artifact)`: the wheel file in the cache."""
    components = []
    for package, wheel, origin in sorted(installs, key=lambda i: (i[0].name, i[1].filename)):
        pkg_version = package.version or ""
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": f"{package.name}@{pkg_version}:{wheel.filename}",
            "name": package.name,
            "version": pkg_version,
            "purl": _purl(package.name, pkg_version),
            "hashes": [{"alg": "SHA-256", "content": wheel.sha256}],
            "properties": [{"name": "airgap-installer:file", "value": wheel.filename},
                           {"name": "airgap-installer:origin", "value": origin}],
        }
        licenses = _license(wheel_path(wheel))
        if licenses:
            component["licenses"] = licenses
        source = (package.sdist or package.archive or wheel).url if origin != "built-local" else ""
        if package.vcs is not None:
            source = f"git+{package.vcs.url}@{package.vcs.commit}"
        if source.startswith(("https://", "http://", "git+")):
            component["externalReferences"] = [{"type": "distribution", "url": source}]
        components.append(component)
    uvs = uv if isinstance(uv, list) else [uv]  # a fat file carries one uv per platform
    for one in uvs:
        components.append({
            "type": "application", "bom-ref": f"uv@{uv_version}" + (f":{one.filename}" if len(uvs) > 1 else ""),
            "name": "uv", "version": uv_version,
            "purl": _purl("uv", uv_version), "hashes": [{"alg": "SHA-256", "content": one.sha256}],
            "properties": [{"name": "airgap-installer:file", "value": one.filename},
                           {"name": "airgap-installer:origin", "value": "index"}],
        })
    pythons = python if isinstance(python, list) else [python] if python else []  # a fat file: one per archive
    for key, archive in pythons:
        components.append({
            "type": "application", "bom-ref": key, "name": "cpython", "version": key.split("-")[1],
            "hashes": [{"alg": "SHA-256", "content": archive.sha256}],
            "properties": [{"name": "airgap-installer:file", "value": archive.filename}],
        })
    digest = "".join(sorted(c["hashes"][0]["content"] for c in components))
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'airgap-installer:{name}:{version}:{digest}')}",
        "version": 1,
        "metadata": {
            **({"timestamp": build_date} if build_date else {}),
            "tools": {"components": [{"type": "application", "name": "airgap-installer", "version": __version__}]},
            "component": {"type": "application", "bom-ref": f"{name}@{version}", "name": name, "version": version},
        },
        "components": components,
        "dependencies": [{"ref": f"{name}@{version}", "dependsOn": sorted(c["bom-ref"] for c in components)}],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
