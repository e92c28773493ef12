"""The locked packages, as `uv export --format pylock.toml` states them -> frozen objects.

uv itself turns uv.lock plus a selection (extras, groups, --no-dev, --package) into a PEP 751
pylock.toml; we parse that, so selection follows uv's own rules. Every error names the key path
(`packages[12].wheels[3].hashes`), as packaging does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name

from airgap_installer.errors import LockError
from airgap_installer.tomlread import parse_toml


@dataclass(frozen=True)
class Artifact:
    """A file the lock pins: a wheel, an sdist or an archive, with its expected sha256."""

    url: str
    sha256: str
    size: int | None
    filename: str


@dataclass(frozen=True)
class Vcs:
    url: str
    commit: str
    requested_revision: str | None
    subdirectory: str | None


@dataclass(frozen=True)
class Package:
    name: NormalizedName
    version: str | None
    marker: Marker | None
    index: str | None
    wheels: tuple[Artifact, ...]
    sdist: Artifact | None
    directory: str | None  # a path (project, workspace member, path dependency), relative to the project
    editable: bool
    vcs: Vcs | None
    archive: Artifact | None

    @property
    def kind(self) -> str:
        if self.directory is not None:
            return "directory"
        if self.vcs is not None:
            return "git"
        if self.archive is not None:
            return "archive"
        return "registry"


@dataclass(frozen=True)
class Lock:
    requires_python: str | None
    packages: tuple[Package, ...]


def _typed(table: dict[str, Any], key: str, kind: type, where: str, required: bool = False) -> Any:
    if key not in table:
        if required:
            raise LockError(f"{where}.{key} is missing")
        return None
    value = table[key]
    if not isinstance(value, kind):
        raise LockError(f"{where}.{key} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _artifact(table: Any, where: str) -> Artifact:
    if not isinstance(table, dict):
        raise LockError(f"{where} must be a table")
    url = _typed(table, "url", str, where)
    path = _typed(table, "path", str, where)
    location = url or path
    if not location:
        raise LockError(f"{where} has neither url nor path")
    hashes = _typed(table, "hashes", dict, where, required=True)
    sha256 = hashes.get("sha256")
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise LockError(f"{where}.hashes has no sha256", hint="re-lock with a uv that records hashes")
    # Index URLs percent-encode file names (torch-2.5.1%2Bcpu-...whl); the wheelhouse needs the real name.
    filename = _typed(table, "name", str, where) or unquote(location.rsplit("/", 1)[-1].split("#", 1)[0].split("?")[0])
    return Artifact(url=location, sha256=sha256.lower(), size=_typed(table, "size", int, where), filename=filename)


def _package(table: Any, where: str) -> Package:
    if not isinstance(table, dict):
        raise LockError(f"{where} must be a table")
    name = _typed(table, "name", str, where, required=True)
    marker_text = _typed(table, "marker", str, where)
    try:
        marker = Marker(marker_text) if marker_text else None
    except InvalidMarker as exc:
        raise LockError(f"{where}.marker is not a valid marker: {exc}") from exc
    wheels = tuple(
        _artifact(w, f"{where}.wheels[{i}]") for i, w in enumerate(_typed(table, "wheels", list, where) or [])
    )
    sdist_table = _typed(table, "sdist", dict, where)
    archive_table = _typed(table, "archive", dict, where)
    directory = _typed(table, "directory", dict, where)
    vcs_table = _typed(table, "vcs", dict, where)
    vcs = None
    if vcs_table is not None:
        vwhere = f"{where}.vcs"
        vcs = Vcs(
            url=_typed(vcs_table, "url", str, vwhere, required=True),
            commit=_typed(vcs_table, "commit-id", str, vwhere, required=True),
            requested_revision=_typed(vcs_table, "requested-revision", str, vwhere),
            subdirectory=_typed(vcs_table, "subdirectory", str, vwhere),
        )
    return Package(
        name=canonicalize_name(name),
        version=_typed(table, "version", str, where),
        marker=marker,
        index=_typed(table, "index", str, where),
        wheels=wheels,
        sdist=_artifact(sdist_table, f"{where}.sdist") if sdist_table is not None else None,
        directory=_typed(directory, "path", str, f"{where}.directory", True) if directory else None,
        editable=bool(directory and directory.get("editable")),
        vcs=vcs,
        archive=_artifact(archive_table, f"{where}.archive") if archive_table is not None else None,
    )


def parse_pylock(text: str) -> Lock:
    """Parse the pylock.toml text that `uv export --format pylock.toml` printed."""
    try:
        doc = parse_toml(text)
    except Exception as exc:  # tomllib and tomlkit raise different types
        raise LockError(f"pylock.toml: not valid TOML ({exc})") from exc
    version = doc.get("lock-version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise LockError(f"pylock.toml: unsupported lock-version {version!r}", hint="use uv 0.13.9")
    packages = _typed(doc, "packages", list, "pylock.toml") or []
    return Lock(
        requires_python=_typed(doc, "requires-python", str, "pylock.toml"),
        packages=tuple(_package(p, f"packages[{i}]") for i, p in enumerate(packages)),
    )


_LOCAL_SOURCES = ("editable", "directory", "virtual")


@functools.lru_cache(maxsize=4)  # one build asks several times (export memo, source tree, local projects)
def _lock_doc(uv_lock_text: str) -> dict[str, Any]:
    """uv.lock parsed once per text; callers only read it."""
    try:
        return parse_toml(uv_lock_text)
    except Exception as exc:
        raise LockError(f"uv.lock: not valid TOML ({exc})") from exc


@functools.lru_cache(maxsize=4)
def _lock_sources(uv_lock_text: str) -> tuple[tuple[str, str], ...]:
    """(kind, location) of every package source in uv.lock: ("registry", url), ("path", "wheels/x.whl"), ..."""
    doc = _lock_doc(uv_lock_text)
    found = []
    for i, package in enumerate(doc.get("package", [])):
        source = package.get("source", {})
        if not isinstance(source, dict):
            raise LockError(f"uv.lock: package[{i}].source must be a table")
        found += [(key, value) for key, value in source.items() if isinstance(value, str)]
    return tuple(found)


def local_paths(uv_lock_text: str) -> tuple[str, ...]:
    """Every local package uv.lock knows (the project, workspace members, path dependencies), relative
    to the lock's directory, whatever the selection: `uv sync --locked` reads all of their metadata."""
    return tuple(sorted({value for key, value in _lock_sources(uv_lock_text) if key in _LOCAL_SOURCES}))


def local_archives(uv_lock_text: str) -> tuple[str, ...]:
    """Every archive file uv.lock installs from a path (`source = { path = "vendor/x.whl" }`), relative to
    the lock's directory: they travel in the tree, and uv installs them from there on the target."""
    return tuple(sorted({value for key, value in _lock_sources(uv_lock_text) if key == "path"}))


def workspace_members(uv_lock_text: str) -> tuple[str, ...]:
    """The workspace members uv.lock's `[manifest]` names (none for a single project)."""
    members = _lock_doc(uv_lock_text).get("manifest", {}).get("members", [])
    return tuple(canonicalize_name(m) for m in members if isinstance(m, str))


def lock_requires_python(uv_lock_text: str) -> str:
    """The Python range uv.lock was resolved for (the workspace's requires-python)."""
    value = _lock_doc(uv_lock_text).get("requires-python", "")
    return value if isinstance(value, str) else ""
