"""The bundled interpreter: a python-build-standalone (PBS) archive, the one the bundled uv would install.

`--bundle-python` asks the builder's uv for its download list (`uv python list --all-platforms
--all-arches --only-downloads --show-urls --output-format json`), picks the entry for the target,
rewrites it to a mirror when `UV_PYTHON_INSTALL_MIRROR` (or `--python-mirror`) is set, checks the
archive against the release's SHA256SUMS and caches it. `--python-archive FILE` takes a local archive
named as PBS names them. On the target, uv installs it offline from a file:// download list.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airgap_installer.cache import Cache, sha256_file
from airgap_installer.errors import FetchError, TargetError
from airgap_installer.fetch import fetch
from airgap_installer.lock import Artifact
from airgap_installer.target import Target
from airgap_installer.uvbin import run_uv

_NAME = re.compile(
    r"cpython-(?P<version>3\.\d+\.\d+)\+(?P<build>\d+)-(?P<arch>x86_64|aarch64)-(?P<vendor>unknown-linux|apple-darwin)"
    r"(?:-(?P<libc>gnu|musl))?-install_only(?:_stripped)?\.tar\.gz"
)
_RELEASES = "/python-build-standalone/releases/download"


@dataclass(frozen=True)
class PythonArchive:
    artifact: Artifact
    version: str  # 3.12.1
    build: str  # 20240107
    os: str  # linux, macos
    arch: str
    libc: str  # gnu, musl, none

    @property
    def key(self) -> str:
        """uv's name for this installation: cpython-3.12.1-linux-x86_64-gnu."""
        return f"cpython-{self.version}-{self.os}-{self.arch}-{self.libc}"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def download_json(self) -> tuple[str, str]:
        """A uv download list (`--python-downloads-json-url`) with one entry for this archive, split
        around its url: the header writes head + file://<carved archive> + tail on the target."""
        major, minor, patch = (int(x) for x in self.version.split("."))
        entry = {"name": "cpython", "arch": {"family": self.arch, "variant": None}, "os": self.os,
                 "libc": self.libc, "major": major, "minor": minor, "patch": patch, "prerelease": "",
                 "url": "@URL@", "sha256": None, "variant": None, "build": self.build}
        # Compact: no spaces, so a fat file's TARGETS table can hold it as two words (header.TargetLine).
        head, tail = json.dumps({self.key: entry}, separators=(",", ":")).split("@URL@")
        return head, tail


def parse_archive_name(name: str, artifact: Artifact) -> PythonArchive:
    m = _NAME.fullmatch(urllib.parse.unquote(name))
    if not m:
        raise TargetError(
            f"{name} is not named like a python-build-standalone install_only archive",
            hint="expected e.g. cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz",
        )
    darwin = m.group("vendor") == "apple-darwin"
    return PythonArchive(artifact, m.group("version"), m.group("build"), "macos" if darwin else "linux",
                         m.group("arch"), "none" if darwin else (m.group("libc") or "gnu"))


def _wanted(target: Target) -> tuple[str, str, str, str]:
    libc = {"glibc": "gnu", "musl": "musl", None: "none"}[target.platform.libc]
    return target.python_version, target.platform.os, target.platform.arch, libc


def check_fits(archive: PythonArchive, target: Target) -> None:
    wanted = _wanted(target)
    if wanted != (archive.minor, archive.os, archive.arch, archive.libc):
        raise TargetError(f"the Python archive is {archive.key}, the target needs CPython {wanted[0]} for "
                          f"{wanted[1]} {wanted[2]} ({wanted[3]})", hint="pass the archive that matches the target")


def assign_archives(targets: list[Target], names: list[str]) -> list[int | None]:
    """Which `--python-archive` (an index into `names`) each target bundles, by the archive's name: its
    Python version, OS, CPU and C library, so the order they are given in does not matter. None: no
    archive fits that target (it uses `--bundle-python`'s download, or the host's Python). Every archive
    must fit some target, and no target may have two. A Windows target takes the one archive that is not
    named as a Linux or macOS one (winfile.windows_python checks it). Pure: names only, nothing is read."""
    posix = {i: parse_archive_name(n, Artifact("", "", None, n)) for i, n in enumerate(names)
             if _NAME.fullmatch(urllib.parse.unquote(n))}
    others = [i for i in range(len(names)) if i not in posix]
    windows = [t for t in targets if t.platform.os == "windows"]
    if others and not windows:
        parse_archive_name(names[others[0]], Artifact("", "", None, names[others[0]]))  # says how it is named
    if len(others) > 1:
        raise TargetError(f"{len(others)} Windows archives given ({', '.join(names[i] for i in others)}); "
                          "a build takes one", hint="build the Windows targets one at a time")
    chosen: list[int | None] = []
    for target in targets:
        if target.platform.os == "windows":
            chosen.append(others[0] if others else None)
            continue
        fit = [i for i, a in posix.items() if (a.minor, a.os, a.arch, a.libc) == _wanted(target)]
        if len(fit) > 1:
            raise TargetError(f"{len(fit)} Python archives fit {target.slug}: {', '.join(names[i] for i in fit)}",
                              hint="give one --python-archive per Python version, OS, CPU and C library")
        chosen.append(fit[0] if fit else None)
    for i, archive in posix.items():
        if i not in chosen:
            needs = "; ".join(f"{t.slug} needs CPython {w[0]} for {w[1]} {w[2]} ({w[3]})"
                              for t in targets if t.platform.os != "windows" for w in [_wanted(t)])
            raise TargetError(f"--python-archive {names[i]} is {archive.key}, which no target of this build "
                              f"runs ({needs})", hint="pass the archive that matches the target, or add its "
                                                      "target with --python / --python-platform")
    return chosen


def select_download(entries: list[dict[str, Any]], target: Target) -> dict[str, Any]:
    """The newest default-variant CPython download of the target's minor version for its platform."""
    libc = {"glibc": "gnu", "musl": "musl", None: "none"}[target.platform.libc]
    fits = [
        e for e in entries
        if e.get("implementation") == "cpython" and e.get("variant") == "default" and e.get("os") == target.platform.os
        and e.get("arch") == target.platform.arch and e.get("libc") == libc and e.get("url")
        and e["version"].startswith(f"{target.python_version}.")
        and re.fullmatch(r"\d+\.\d+\.\d+", e["version"])
    ]
    if not fits:
        raise TargetError(f"uv knows no CPython {target.python_version} download for {target.platform.name}",
                          hint="pass a local archive with --python-archive")
    return max(fits, key=lambda e: tuple(int(x) for x in e["version"].split(".")))


def mirror_url(url: str, mirror: str | None) -> str:
    """uv's UV_PYTHON_INSTALL_MIRROR: the mirror replaces everything up to `.../releases/download`."""
    if not mirror:
        return url
    head, sep, tail = url.partition(_RELEASES)
    if not sep:
        return url
    return mirror.rstrip("/") + tail


def _release_sha256(url: str) -> str:
    """Look the archive up in its release's SHA256SUMS (uv's list carries no hashes)."""
    base, _, filename = url.rpartition("/")
    sums_url = f"{base}/SHA256SUMS"
    import urllib.error  # with urllib.request: ~10 ms of start-up, paid only by --bundle-python
    import urllib.request

    try:
        with urllib.request.urlopen(sums_url, timeout=60) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"cannot read {sums_url} to verify the Python archive: {exc}",
                         hint="set UV_PYTHON_INSTALL_MIRROR to a reachable mirror, or pass --python-archive FILE",
                         ) from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == urllib.parse.unquote(filename):
            return str(parts[0]).lower()
    raise FetchError(f"{urllib.parse.unquote(filename)} is not listed in {sums_url}")


def bundled_python(target: Target, cache: Cache, *, archive_file: Path | None, mirror: str | None,
                   offline: bool) -> PythonArchive:
    if archive_file is not None:
        if not archive_file.is_file():
            raise TargetError(f"--python-archive {archive_file}: no such file")
        sha = sha256_file(archive_file)
        artifact = Artifact(archive_file.resolve().as_uri(), sha, archive_file.stat().st_size, archive_file.name)
        archive = parse_archive_name(archive_file.name, artifact)
    else:
        key_file = cache.root / "pythons" / f"{target.slug}.json"
        if key_file.is_file():
            entry = json.loads(key_file.read_text())
        elif offline:
            raise FetchError(f"--offline: no Python download for {target.slug} was ever cached")
        else:
            listing = json.loads(run_uv(["python", "list", "--all-platforms", "--all-arches", "--only-downloads",
                                         "--show-urls", "--output-format", "json"]))
            entry = dict(select_download(listing, target))
            entry["url"] = mirror_url(entry["url"], mirror)
            entry["sha256"] = _release_sha256(entry["url"])
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(json.dumps(entry, sort_keys=True))
        name = urllib.parse.unquote(entry["url"].rsplit("/", 1)[-1])
        artifact = Artifact(entry["url"], entry["sha256"], None, name)
        archive = parse_archive_name(name, artifact)
    check_fits(archive, target)
    fetch([archive.artifact], cache, base=Path.cwd(), offline=offline)
    return archive
