"""Target = Python version + platform -> ordered wheel tags and a marker environment. Pure.

Tags and markers come from the target description only, never from the host interpreter.
Platform names are uv's `--python-platform` names, so a user who knows uv knows ours.
"""

from __future__ import annotations

import json
import os
import platform as host_platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging import tags
from packaging.tags import Tag

from airgap_installer.errors import TargetError

# uv's defaults for its generic names (`uv help pip compile`, uv 0.13.9).
_GLIBC_DEFAULT = (2, 28)
_MUSL_DEFAULT = (1, 2)
_MACOS_DEFAULT = (13, 0)
_ALIASES = {"linux": "x86_64-unknown-linux-gnu", "macos": "aarch64-apple-darwin", "windows": "x86_64-pc-windows-msvc"}
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


@dataclass(frozen=True)
class Platform:
    os: str  # "linux", "macos" or "windows"
    arch: str  # uv's spelling: x86_64, aarch64
    libc: str | None  # "glibc", "musl" (linux only)
    libc_version: tuple[int, int] | None  # glibc 2.28, musl 1.2
    macos_version: tuple[int, int] | None

    @property
    def name(self) -> str:
        """The name `--python-platform` takes for exactly this platform."""
        if self.os == "macos":
            return f"{self.arch}-apple-darwin"
        if self.os == "windows":
            return f"{self.arch}-pc-windows-msvc"
        assert self.libc_version is not None
        major, minor = self.libc_version
        family = "musllinux" if self.libc == "musl" else "manylinux"
        return f"{self.arch}-{family}_{major}_{minor}"

    def named_for(self, floor: tuple[int, int] | None) -> str:
        """This platform as the shipped wheels need it, for file names and --info: the glibc, musl or
        macOS floor of what is inside (x86_64-manylinux_2_17), not the level asked for."""
        if floor is None or self.os == "windows":
            return self.name
        family = {"macos": "macos", "musl": "musllinux"}.get(self.os if self.os == "macos" else self.libc or "",
                                                               "manylinux")
        return f"{self.arch}-{family}_{floor[0]}_{floor[1]}"

    @property
    def machine(self) -> str:
        """`platform.machine()` on the target, as markers and `uname -m` see it (Windows: AMD64, ARM64)."""
        if self.os == "windows":
            return "ARM64" if self.arch == "aarch64" else "AMD64"
        return "arm64" if (self.os == "macos" and self.arch == "aarch64") else self.arch

    def platform_tags(self) -> list[str]:
        if self.os == "windows":
            return ["win_arm64" if self.arch == "aarch64" else "win_amd64"]
        if self.os == "macos":
            assert self.macos_version is not None
            return list(tags.mac_platforms(self.macos_version, "arm64" if self.arch == "aarch64" else "x86_64"))
        assert self.libc_version is not None
        major, top = self.libc_version
        out = []
        if self.libc == "musl":
            for minor in range(top, -1, -1):
                out.append(f"musllinux_{major}_{minor}_{self.arch}")
            return out
        for minor in range(top, 4, -1):
            out.append(f"manylinux_{major}_{minor}_{self.arch}")
            legacy = _LEGACY_MANYLINUX.get((major, minor))
            if legacy and (legacy == "manylinux2014" or self.arch in ("x86_64", "i686")):
                out.append(f"{legacy}_{self.arch}")
        return out


def parse_platform(name: str) -> Platform:
    """Parse uv's `--python-platform` names: x86_64-manylinux_2_28, aarch64-apple-darwin, linux..."""
    name = _ALIASES.get(name, name)
    m = re.fullmatch(r"(x86_64|aarch64)-(manylinux|musllinux)_(\d+)_(\d+)", name)
    if m:
        arch, family, major, minor = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        libc = "musl" if family == "musllinux" else "glibc"
        return Platform("linux", arch, libc, (major, minor), None)
    m = re.fullmatch(r"(x86_64|aarch64)-manylinux2014", name)
    if m:
        return Platform("linux", m.group(1), "glibc", (2, 17), None)
    m = re.fullmatch(r"(x86_64|aarch64)-unknown-linux-(gnu|musl)", name)
    if m:
        musl = m.group(2) == "musl"
        return Platform(
            "linux", m.group(1), "musl" if musl else "glibc", _MUSL_DEFAULT if musl else _GLIBC_DEFAULT, None
        )
    m = re.fullmatch(r"(x86_64|aarch64)-apple-darwin", name)
    if m:
        return Platform("macos", m.group(1), None, None, macos_deployment_target())
    m = re.fullmatch(r"(x86_64|aarch64)-pc-windows-msvc", name)
    if m:
        return Platform("windows", m.group(1), None, None, None)
    raise TargetError(
        f"unknown --python-platform {name!r}",
        hint="use e.g. x86_64-manylinux_2_28, aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl, "
        "aarch64-apple-darwin, x86_64-pc-windows-msvc, linux, macos or windows",
    )


def macos_deployment_target() -> tuple[int, int]:
    """The macOS version the wheels may require: MACOSX_DEPLOYMENT_TARGET, as uv reads it for
    `--python-platform`, else uv's default (13.0)."""
    value = os.environ.get("MACOSX_DEPLOYMENT_TARGET", "").strip()
    if not value:
        return _MACOS_DEFAULT
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)?", value)
    if not m:
        raise TargetError(f"MACOSX_DEPLOYMENT_TARGET={value!r} is not a macOS version", hint="e.g. 14.0")
    return int(m.group(1)), int(m.group(2) or 0)


def host_platform_name() -> str:
    """This machine as a platform name (the default target)."""
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(host_platform.machine().lower(), host_platform.machine())
    if sys.platform == "darwin":
        return f"{arch}-apple-darwin"
    libc, version = host_platform.libc_ver()
    if libc == "glibc" and version:
        major, minor = version.split(".")[:2]
        return f"{arch}-manylinux_{major}_{minor}"
    return f"{arch}-unknown-linux-musl"


@dataclass(frozen=True)
class Target:
    """What the installer is built for: one CPython version on one platform."""

    python: tuple[int, int]
    platform: Platform
    python_full: str | None = None  # e.g. "3.12.4" when known; markers otherwise see X.Y.0
    # From a pex complete-platform file: tags and markers exactly as a real interpreter reported them.
    exact_tags: tuple[Tag, ...] | None = None
    exact_markers: tuple[tuple[str, str], ...] | None = None

    @property
    def python_version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def slug(self) -> str:
        """A file-name friendly name: cp312-x86_64-manylinux_2_28."""
        return f"cp{self.python[0]}{self.python[1]}-{self.platform.name}"

    def tags(self) -> list[Tag]:
        """Supported tags, most preferred first (packaging.tags over the target, not the host)."""
        if self.exact_tags is not None:
            return list(self.exact_tags)
        platforms = self.platform.platform_tags()
        return list(tags.cpython_tags(self.python, platforms=platforms)) + list(
            tags.compatible_tags(self.python, f"cp{self.python[0]}{self.python[1]}", platforms)
        )

    def marker_environment(self) -> dict[str, str]:
        if self.exact_markers is not None:
            return dict(self.exact_markers)
        full = self.python_full or f"{self.python_version}.0"
        system, sys_platform = {"linux": ("Linux", "linux"), "macos": ("Darwin", "darwin"),
                                "windows": ("Windows", "win32")}[self.platform.os]
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": "nt" if self.platform.os == "windows" else "posix",
            "platform_machine": self.platform.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": full,
            "python_version": self.python_version,
            "sys_platform": sys_platform,
        }


def parse_python(text: str) -> tuple[tuple[int, int], str | None]:
    m = re.fullmatch(r"(?:cpython[-@]?|cp)?(3)\.?(\d+)(?:\.(\d+))?", text.strip())
    if not m:
        raise TargetError(f"--python {text!r} is not a CPython version", hint="use X.Y, e.g. --python 3.12")
    full = f"3.{m.group(2)}.{m.group(3)}" if m.group(3) else None
    return (3, int(m.group(2))), full


def make_target(python: str, platform_name: str | None) -> Target:
    """`python` X.Y; a patch version (`3.11.7`, as pyenv pins it) is taken as its X.Y: the host's
    interpreter may be any 3.11, and the installer carries every branch a lock may have per patch
    version. Only a bundled interpreter fixes the patch version."""
    version, _ = parse_python(python)
    return Target(version, parse_platform(platform_name or host_platform_name()))


def load_complete_platform(path: Path) -> Target:
    """A pex complete-platform JSON (`pex3 interpreter inspect --markers --tags` on the target)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        markers = doc["marker_environment"]
        tag_list = [t for text in doc["compatible_tags"] for t in tags.parse_tag(text)]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TargetError(
            f"{path}: not a complete-platform file ({exc})",
            hint="make one on the target with `pex3 interpreter inspect --markers --tags --indent 2`",
        ) from exc
    version, full = parse_python(markers.get("python_full_version", markers.get("python_version", "")))
    system = markers.get("platform_system", "Linux")
    machine = markers.get("platform_machine", "x86_64")
    arch = "aarch64" if machine in ("arm64", "aarch64") else machine
    if system == "Darwin":
        plat = Platform("macos", arch, None, None, _MACOS_DEFAULT)
    elif system == "Windows":
        plat = Platform("windows", "aarch64" if machine.upper() == "ARM64" else "x86_64", None, None, None)
    else:
        libc, libc_version = _libc_from_tags(tag_list)
        plat = Platform("linux", arch, libc, libc_version, None)
    return Target(version, plat, full, tuple(tag_list), tuple(sorted(markers.items())))


def _libc_from_tags(tag_list: list[Tag]) -> tuple[str, tuple[int, int]]:
    best: tuple[str, tuple[int, int]] | None = None
    for tag in tag_list:
        m = re.match(r"(manylinux|musllinux)_(\d+)_(\d+)_", tag.platform)
        if m:
            found = ("musl" if m.group(1) == "musllinux" else "glibc", (int(m.group(2)), int(m.group(3))))
            if best is None or found[1] > best[1]:
                best = found
    return best or ("glibc", (2, 17))
