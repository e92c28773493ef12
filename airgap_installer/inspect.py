"""Read and check a .run file (or a Windows .cmd file, winfile.py) without running it: what `--info` and
`--check` show, from Python."""

from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from airgap_installer.cache import CHUNK
from airgap_installer.errors import InstallerFileError
from airgap_installer.runtime.manifest import Manifest, ManifestError

_MARK = b"made by airgap-installer"
_MEMBER = re.compile(rb"^ *(\d+) +(\d+) +([0-9a-f]{64}) +\d+ +\d+ +\d+ +(\S+)$", re.M)
SHA_LINE = 3  # the header's 4th line holds the file's sha256 (templates/header.sh checks the same line)
_FILE_SHA = re.compile(rb"# sha256 of this whole file with these 64 digits as zeros: ([0-9a-f]{64})")
_CMD_FILE_SHA = re.compile(rb"zeros: ([0-9a-f]{64})\r\n")  # line 2 of templates/install.cmd
_CMD_PAYLOAD = re.compile(rb"\r\nrem payload: offset +(\d+) +size +(\d+) +sha256 ([0-9a-f]{64})\r\n")
_FIELD = re.compile(rb"^(PAYLOAD_OFFSET|PAYLOAD_SIZE)=\$\(\( *(\d+) *\)\)$|^(PAYLOAD_SHA256)=([0-9a-f]{64})$", re.M)


def read_header(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            head = f.read(256 * 1024)
    except OSError as exc:
        raise InstallerFileError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(b"@echo off\r\n") and _MARK in head[:512]:
        found = _CMD_PAYLOAD.search(head)
        if found is None:
            raise InstallerFileError(f"{path}: the bootstrap is damaged (payload fields missing)")
        return {"payload_offset": int(found.group(1)), "payload_size": int(found.group(2)),
                "payload_sha256": found.group(3).decode(), "members": []}
    if not head.startswith(b"#!/bin/sh\n") or _MARK not in head[:1024]:  # line 5 (line 3 grew: --json)
        raise InstallerFileError(f"{path} is not an airgap-installer file")
    fields: dict[str, Any] = {}
    for m in _FIELD.finditer(head):  # the first assignment of each, as the shell reads them (a license
        if m.group(1):                # text below that looks like one changes nothing)
            fields.setdefault(m.group(1).decode().lower(), int(m.group(2)))
        else:
            fields.setdefault("payload_sha256", m.group(4).decode())
    if set(fields) != {"payload_offset", "payload_size", "payload_sha256"}:
        raise InstallerFileError(f"{path}: the header is damaged (payload fields missing)")
    block = head[head.find(b"\nMEMBERS='\n"):head.find(b"\n'\n", head.find(b"\nMEMBERS='\n") + 1)]
    fields["members"] = [(int(m.group(1)), int(m.group(2)), m.group(3).decode(), m.group(4).decode())
                         for m in _MEMBER.finditer(block)]
    return fields


def inspect_file(path: Path, *, verify: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            bundle = f.read(4) == b"PK\x03\x04"  # a plain zip: a Windows bundle (.run and .cmd start with text)
    except OSError:
        bundle = False  # read_header says why
    if bundle:
        return _inspect_bundle(path, verify=verify)
    fields = read_header(path)
    size = path.stat().st_size
    expected = fields["payload_offset"] + fields["payload_size"]
    if size != expected:
        what = "truncated" if size < expected else "longer than it should be"
        raise InstallerFileError(f"{path} is {what}: {size} bytes, expected {expected}")
    if verify:
        # What the shell checks: every byte, the payload first, then the header with its own sha256 zeroed.
        digest = hashlib.sha256()
        with path.open("rb") as f:
            header = f.read(fields["payload_offset"])
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        lines = header.split(b"\n")
        found = _FILE_SHA.fullmatch(lines[SHA_LINE]) if len(lines) > SHA_LINE else None
        if header.startswith(b"@echo off\r\n"):  # a Windows bootstrap: line 2 holds it
            found = _CMD_FILE_SHA.search(header)
            lines = [header[:found.start(1)] + b"0" * 64 + header[found.end(1):]] if found else lines
        elif found is not None:
            lines[SHA_LINE] = lines[SHA_LINE][:-64] + b"0" * 64
        if found is None:
            raise InstallerFileError(f"{path}: the header is damaged (its sha256 line is missing)")
        digest.update(b"\n".join(lines))
        if digest.hexdigest() != found.group(1).decode():
            raise InstallerFileError(
                f"{path} is corrupt: sha256 {digest.hexdigest()}, expected {found.group(1).decode()}")
        for offset, length, sha256, name in fields["members"]:  # the carve table, as the shell checks it
            member = hashlib.sha256()
            with path.open("rb") as f:
                f.seek(offset)
                while length > 0 and (chunk := f.read(min(CHUNK, length))):
                    member.update(chunk)
                    length -= len(chunk)
            got = member.hexdigest()
            if got != sha256:
                raise InstallerFileError(f"{path} is corrupt: member {name} has sha256 {got}, expected {sha256}")
    try:
        with zipfile.ZipFile(path) as zf:
            # A fat file holds one manifest per target: each is read, the first one describes the file.
            names = sorted(n for n in zf.namelist() if n.startswith("targets/") and n.endswith("/manifest.json")
                           and n.count("/") == 2) or ["manifest.json"]
            manifests = [Manifest.from_json(zf.read(n)) for n in names]  # the runtime's own reader
            manifest = manifests[0]
            if verify and (bad := zf.testzip()) is not None:
                raise InstallerFileError(f"{path}: member {bad} fails its CRC check")
    except ManifestError as exc:
        raise InstallerFileError(f"{path}: {exc}") from exc
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InstallerFileError(f"{path}: the payload is not a readable zip ({exc})") from exc
    targets = [{"target": m.target, "python": m.python, "libc": m.libc, "libc_min": m.libc_min,
                "macos_min": m.macos_min, "bundled_python": m.bundled_python,
                "delta_of": m.base.describe() if m.base else None}
               for m in manifests] if len(manifests) > 1 else []
    return {**manifest.to_dict(), **fields, **({"targets": targets} if targets else {})}


def _inspect_bundle(path: Path, *, verify: bool) -> dict[str, Any]:
    """A Windows bundle (.zip: install.cmd, the .cmd installer, python/): the installer inside is what counts."""
    try:
        with zipfile.ZipFile(path) as zf:
            inner = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".cmd")
                     and not n.endswith("/install.cmd")]
            if len(inner) != 1:
                raise InstallerFileError(f"{path} is a zip, but not an airgap-installer bundle")
            with tempfile.TemporaryDirectory(prefix="airgap-inspect-") as tmp:
                extracted = Path(tmp) / Path(inner[0]).name
                extracted.write_bytes(zf.read(inner[0]))
                return {**inspect_file(extracted, verify=verify), "bundle_member": inner[0]}
    except zipfile.BadZipFile as exc:
        raise InstallerFileError(f"{path}: not a readable zip ({exc})") from exc


def read_sbom(path: Path) -> str:
    """The CycloneDX SBOM inside the file."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read("sbom.cdx.json").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise InstallerFileError(f"{path}: no readable SBOM inside ({exc})") from exc
