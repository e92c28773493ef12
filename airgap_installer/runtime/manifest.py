"""The manifest: the one contract between the builder and the target (`manifest.json` in the payload).

The builder makes a `Manifest` and writes `to_json()`; the runtime, `inspect` and `verify` read it with
`Manifest.from_json()`, which checks every key and value and names the one that is wrong
(`manifest.json: pin_variants[0].pins[2] must be a string`). Values the runtime turns into paths, file
names or shell words (the version, directories, script names) are checked against what they may be,
even though the builder made them: a file is data from outside. A manifest of a newer format than
this runtime reads is refused with a line that says so. Stdlib only, Python 3.9+: it runs on the target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

FORMAT = 2  # raise it when a reader of the previous format would misread the new one
MAX_BYTES = 16 * 1024 * 1024  # a manifest is kilobytes; refuse to parse a bomb

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")  # PEP 508 names, console scripts
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")  # a release directory is named after it
_PY_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
T = TypeVar("T")


class ManifestError(Exception):
    """The manifest is not one this runtime can trust: which key, and why."""


def _get(table: dict[str, Any], key: str, where: str, kind: type, optional: bool = False) -> Any:
    if key not in table:
        raise ManifestError(f"manifest.json: {where}{key} is missing")
    value = table[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"manifest.json: {where}{key} must be {'null or ' if optional else ''}a {kind.__name__}")
    return value


def _strings(table: dict[str, Any], key: str, where: str, optional: bool = False) -> tuple[str, ...] | None:
    values = _get(table, key, where, list, optional)
    if values is None:
        return None
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ManifestError(f"manifest.json: {where}{key}[{i}] must be a string")
    return tuple(values)


def _items(table: dict[str, Any], key: str, where: str, read: Callable[[dict[str, Any], str], T]) -> tuple[T, ...]:
    out = []
    for i, item in enumerate(_get(table, key, where, list)):
        if not isinstance(item, dict):
            raise ManifestError(f"manifest.json: {where}{key}[{i}] must be a table")
        out.append(read(item, f"{where}{key}[{i}]."))
    return tuple(out)


def _known(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise ManifestError(f"manifest.json: unknown key {where}{unknown[0]}")


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ManifestError(f"manifest.json: {what} {value!r} is not allowed")
    return value


def _relative(path: str, what: str) -> str:
    """A path inside the release: relative, `/`-separated, no `..` above the release, no newline."""
    parts = path.split("/")
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            break
    if path.startswith("/") or "\\" in path or "\n" in path or "\0" in path or depth < 0:
        raise ManifestError(f"manifest.json: {what} {path!r} leaves the release")
    return path


@dataclass(frozen=True)
class PinVariant:
    """The pins (`name==version --hash=sha256:...`) for a range of the target Python's patch versions."""

    first: str
    last: str | None  # None: and every later patch version
    pins: tuple[str, ...]

    @classmethod
    def read(cls, t: dict[str, Any], where: str) -> PinVariant:
        _known(t, ("first", "last", "pins"), where)
        first = _match(_PY_VERSION, _get(t, "first", where, str), f"{where}first")
        last = _get(t, "last", where, str, optional=True)
        if last is not None:
            _match(_PY_VERSION, last, f"{where}last")
        return cls(first, last, _strings(t, "pins", where) or ())


@dataclass(frozen=True)
class DirectRecord:
    """A git or direct URL package: the direct_url.json uv writes for that source."""

    name: str
    version: str
    direct_url: dict[str, Any]

    @classmethod
    def read(cls, t: dict[str, Any], where: str) -> DirectRecord:
        _known(t, ("name", "version", "direct_url"), where)
        return cls(_match(_NAME, _get(t, "name", where, str), f"{where}name"), _get(t, "version", where, str),
                   _get(t, "direct_url", where, dict))


@dataclass(frozen=True)
class LocalPackage:
    """A local package (the project, a member, a path dependency) whose wheel was built on the build side."""

    name: str
    version: str
    path: str  # its directory, relative to the project's
    editable: bool
    wheel: str
    cache_keys: dict[str, Any] | None  # `[tool.uv] cache-keys` as uvrecords.py reads them; None: uv's

    @classmethod
    def read(cls, t: dict[str, Any], where: str) -> LocalPackage:
        _known(t, ("name", "version", "path", "editable", "wheel", "cache_keys"), where)
        return cls(_match(_NAME, _get(t, "name", where, str), f"{where}name"), _get(t, "version", where, str),
                   _get(t, "path", where, str), _get(t, "editable", where, bool),
                   _get(t, "wheel", where, str), _get(t, "cache_keys", where, dict, optional=True))


@dataclass(frozen=True)
class PackageEntry:
    """What happened to one locked package, and why (for --info and inspect)."""

    name: str
    version: str | None
    action: str
    reason: str
    file: str | None

    @classmethod
    def read(cls, t: dict[str, Any], where: str) -> PackageEntry:
        _known(t, ("name", "version", "action", "reason", "file"), where)
        return cls(_get(t, "name", where, str), _get(t, "version", where, str, optional=True),
                   _get(t, "action", where, str), _get(t, "reason", where, str),
                   _get(t, "file", where, str, optional=True))


_WHEEL = re.compile(r"[A-Za-z0-9._+!-]+\.whl")


@dataclass(frozen=True)
class Base:
    """A delta installer's base: the release it upgrades, whose wheels it does not carry (issue 16)."""

    name: str
    version: str
    release: str | None  # the base release's id (<version>-<sha12>) when built from its .run file
    uv_wheel: str  # the base's uv: a delta carries none when it is the same
    reused: tuple[str, ...]  # the wheel files the prefix must hold (sha256 in the pins)

    @classmethod
    def read(cls, t: dict[str, Any], where: str) -> Base:
        _known(t, ("name", "version", "release", "uv_wheel", "reused"), where)
        reused = _strings(t, "reused", where) or ()
        for name in reused:
            _match(_WHEEL, name, f"{where}reused entry")
        release = _get(t, "release", where, str, optional=True)
        if release is not None:
            _match(_VERSION, release, f"{where}release")
        return cls(_match(_NAME, _get(t, "name", where, str), f"{where}name"),
                   _match(_VERSION, _get(t, "version", where, str), f"{where}version"), release,
                   _get(t, "uv_wheel", where, str), reused)

    def describe(self) -> str:
        return f"{self.name} {self.release or self.version}"


@dataclass(frozen=True)
class Manifest:
    format: int
    name: str
    version: str
    target: str  # cp312-x86_64-manylinux_2_28
    python: str  # X.Y
    libc: str | None  # glibc, musl; None on macOS
    libc_min: str | None  # the oldest glibc/musl the shipped wheels accept
    macos_min: str | None
    requires_python: str
    uv_version: str
    uv_wheel: str
    bundled_python: str | None  # uv's key of a bundled interpreter
    tool_version: str
    build_date: str | None  # None: a reproducible build
    scripts: tuple[str, ...]  # console scripts that get a PREFIX/bin launcher
    project_dir: str  # the project's directory inside the release ("." unless path deps sit beside it)
    script: str | None  # a PEP 723 script's file name, for a script installer
    modified_files: tuple[str, ...]  # which shipped files differ from the repository's, and why
    default_groups: tuple[str, ...] | None
    sync_args: tuple[str, ...]  # uv's selection flags (`--extra x`, `--package m`)
    pin_variants: tuple[PinVariant, ...]
    direct_urls: tuple[DirectRecord, ...]
    packages: tuple[PackageEntry, ...]
    local_packages: tuple[LocalPackage, ...]
    hooks: dict[str, str]  # pre-install / post-install sh commands
    base: Base | None = None  # a delta installer's base release; None: the file carries every wheel

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        if len(data) > MAX_BYTES:
            raise ManifestError(f"manifest.json is {len(data)} bytes, more than a manifest can be")
        try:
            table = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ManifestError(f"manifest.json is not valid JSON ({str(exc)[:100]})") from exc
        if not isinstance(table, dict):
            raise ManifestError("manifest.json must be a JSON object")
        return cls.from_dict(table)

    @classmethod
    def from_dict(cls, t: dict[str, Any]) -> Manifest:
        version = _get(t, "format", "", int)
        if version > FORMAT:
            raise ManifestError(f"this installer was made by a newer airgap-installer (manifest format {version}); "
                                f"this runtime reads format {FORMAT} and older")
        _known(t, tuple(f for f in cls.__dataclass_fields__), "")
        scripts = _strings(t, "scripts", "") or ()
        for script in scripts:
            _match(_NAME, script, "scripts entry")
        script = _get(t, "script", "", str, optional=True)
        if script is not None and ("/" in script or not _NAME.fullmatch(script.replace(".py", "") or "-")):
            raise ManifestError(f"manifest.json: script {script!r} is not allowed")
        hooks = _get(t, "hooks", "", dict)
        for key, value in hooks.items():
            if key not in ("pre-install", "post-install") or not isinstance(value, str):
                raise ManifestError(f"manifest.json: hooks.{key} is not a known hook command")
        project_dir = _relative(_get(t, "project_dir", "", str), "project_dir")
        local_packages = _items(t, "local_packages", "", LocalPackage.read)
        for i, local in enumerate(local_packages):  # relative to the project, which may sit below the release
            _relative(f"{project_dir}/{local.path}", f"local_packages[{i}].path")
        return cls(
            format=version,
            name=_match(_NAME, _get(t, "name", "", str), "name"),
            version=_match(_VERSION, _get(t, "version", "", str), "version"),
            target=_get(t, "target", "", str),
            python=_get(t, "python", "", str),
            libc=_get(t, "libc", "", str, optional=True),
            libc_min=_get(t, "libc_min", "", str, optional=True),
            macos_min=_get(t, "macos_min", "", str, optional=True),
            requires_python=_get(t, "requires_python", "", str),
            uv_version=_get(t, "uv_version", "", str),
            uv_wheel=_get(t, "uv_wheel", "", str),
            bundled_python=_get(t, "bundled_python", "", str, optional=True),
            tool_version=_get(t, "tool_version", "", str),
            build_date=_get(t, "build_date", "", str, optional=True),
            scripts=scripts,
            project_dir=project_dir,
            script=script,
            modified_files=_strings(t, "modified_files", "") or (),
            default_groups=_strings(t, "default_groups", "", optional=True),
            sync_args=_strings(t, "sync_args", "") or (),
            pin_variants=_items(t, "pin_variants", "", PinVariant.read),
            direct_urls=_items(t, "direct_urls", "", DirectRecord.read),
            packages=_items(t, "packages", "", PackageEntry.read),
            local_packages=local_packages,
            hooks=dict(hooks),
            base=Base.read(base, "base.") if (base := _get(t, "base", "", dict, optional=True)) else None,
        )

    def pins_for(self, version: tuple[int, ...]) -> list[str] | None:
        """The pins for an interpreter's exact version (a lock may fork inside one minor version)."""
        for variant in self.pin_variants:
            first = tuple(int(x) for x in variant.first.split("."))
            last = tuple(int(x) for x in variant.last.split(".")) if variant.last else None
            if first <= version and (last is None or version <= last):
                return list(variant.pins)
        return None


_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def member_for(target: str | None) -> str:
    """The payload member holding the manifest: `manifest.json`, or in a file for several targets (a fat
    file) `targets/<slug>/manifest.json` for the target the header picked on this host."""
    if target is None:
        return "manifest.json"
    if not _SLUG.fullmatch(target):
        raise ManifestError(f"target {target!r} is not a target name")
    return f"targets/{target}/manifest.json"
