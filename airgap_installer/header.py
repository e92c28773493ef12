"""Render templates/header.sh strictly: every placeholder must be given, none may be left over."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from airgap_installer.payload import Member

_PLACEHOLDER = re.compile(r"@@([A-Z0-9_]+)@@")
NUMBER_WIDTH = 20  # fixed width, padded with spaces (zero padding would read as octal)


def template_text(name: str = "header.sh") -> str:
    """A template: shipped in the wheel as airgap_installer/templates, top-level in a checkout."""
    packaged = resources.files("airgap_installer").joinpath(f"templates/{name}")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "templates" / name).read_text(encoding="utf-8")


def render_strict(template: str, values: dict[str, str]) -> str:
    """Every placeholder given, none unused, none left over."""
    found = set(_PLACEHOLDER.findall(template))
    if found != set(values):
        raise ValueError(f"template mismatch: unknown {sorted(found - set(values))}, unused "
                         f"{sorted(set(values) - found)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def shell_quote(value: str) -> str:
    if "\n" in value or "\0" in value:
        raise ValueError(f"header value must be one line: {value!r}")
    return "'" + value.replace("'", "'\\''") + "'"


def number(value: int) -> str:
    text = str(value)
    if len(text) > NUMBER_WIDTH:
        raise ValueError(f"{value} does not fit the header's {NUMBER_WIDTH}-digit field")
    return text.ljust(NUMBER_WIDTH)


LICENSE_END = "AIRGAP_INSTALLER_LICENSE_END"


def license_block(text: str) -> str:
    """The license as the body of a quoted here-document (no expansion inside)."""
    if LICENSE_END in text or "\r" in text:
        raise ValueError("the license text may not contain the here-document marker or CR characters")
    return text.rstrip("\n")


def member_line(m: Member) -> str:
    """One fixed-width row of the carve table: offset length sha256 method size crc32 name."""
    if any(c.isspace() for c in m.name):
        raise ValueError(f"carved member names may not contain spaces: {m.name!r}")
    return " ".join([number(m.offset), number(m.compress_size), m.sha256, str(m.method).ljust(2),
                     number(m.file_size), number(m.crc), m.name])


@dataclass(frozen=True)
class TargetLine:
    """One target of a fat file, as the header's TARGETS table holds it: one line of words, "-" for none."""

    slug: str
    os: str
    machine: str
    libc: str  # glibc, musl, or "" (macOS)
    libc_min: str  # "" for none
    python: str
    uv_member: str
    uv_sha256: str = ""  # the target's uv binary: the prefix's copy is used when it has one (upgrades, deltas)
    delta_of: str = ""  # a delta target's base release (<version>-<sha12>, or its version)
    python_archive: str = ""  # a bundled CPython's payload member; "" for the host's
    python_key: str = ""
    python_full: str = ""
    python_json_head: str = ""  # uv's download list around the archive's url, compact JSON (no spaces)
    python_json_tail: str = ""

    def line(self) -> str:
        fields = [self.slug, self.os, self.machine, self.libc or "-", self.libc_min or "-", self.python,
                  self.uv_member, self.uv_sha256 or "-", self.delta_of or "-", self.python_archive or "-",
                  self.python_key or "-", self.python_full or "-"]
        for value in fields:
            if not re.fullmatch(r"[A-Za-z0-9._/+-]+", value):
                raise ValueError(f"a target field may not hold {value!r}")
        for value in (self.python_json_head, self.python_json_tail):  # inside TARGETS='...': no ' or space
            if not re.fullmatch(r"[!-~]*", value) or "'" in value or "\\" in value:
                raise ValueError(f"a target's download list may not hold {value!r}")
        return " ".join([*fields, self.python_json_head or "-", self.python_json_tail or "-"])


@dataclass(frozen=True)
class HeaderFields:
    name: str
    version: str
    tool_version: str
    target: str
    target_os: str
    target_machine: str
    target_libc: str  # "glibc", "musl" or "" (macOS)
    libc_min: str  # the oldest glibc/musl (or macOS) version every shipped binary accepts, e.g. "2.28"; ""
    python: str
    requires_python: str
    uv_version: str
    build_date: str
    scripts: str
    modified: str  # which shipped files differ from the repository's, and why
    python_archive: str = ""  # the payload member of a bundled PBS archive, "" for a host Python
    python_key: str = ""  # uv's name for it: cpython-3.12.1-linux-x86_64-gnu
    python_full: str = ""
    python_json_head: str = ""
    python_json_tail: str = ""
    license_text: str = ""  # shown and accepted before installing; "" when the project sets none
    hooks: str = ""  # the pre-/post-install commands, one line, shown by --info before anyone runs them
    delta_of: str = ""  # a delta file's base ("tiny 1.0.0-<sha12>"); "" for a full file
    delta_note: str = ""  # what a delta file reuses, for --info
    uv_sha256: str = ""  # the uv binary's sha256: the prefix's copy is used when it has one
    uv_member: str = "bin/uv"  # the carved member holding this target's uv
    targets: tuple[TargetLine, ...] = ()  # a fat file's targets, in the order the header tries them


ZERO_SHA256 = "0" * 64


def render(fields: HeaderFields, *, payload_offset: int, payload_size: int, payload_sha256: str,
           members: list[Member], file_sha256: str = ZERO_SHA256) -> bytes:
    """The header. `file_sha256`: the sha256 of the payload followed by this header rendered with zeros
    in its place (`file_digest`); the shell and `verify` check every byte against it."""
    values = {
        "TOTAL_SIZE": number(payload_offset + payload_size),
        "FILE_SHA256": file_sha256,
        "NAME": fields.name,
        "VERSION": fields.version,
        "TOOL_VERSION": fields.tool_version,
        "NAME_Q": shell_quote(fields.name),
        "VERSION_Q": shell_quote(fields.version),
        "TARGET_Q": shell_quote(fields.target),
        "TARGET_OS_Q": shell_quote(fields.target_os),
        "TARGET_MACHINE_Q": shell_quote(fields.target_machine),
        "TARGET_LIBC_Q": shell_quote(fields.target_libc),
        "LIBC_MIN_Q": shell_quote(fields.libc_min),
        "PYTHON_Q": shell_quote(fields.python),
        "REQUIRES_PYTHON_Q": shell_quote(fields.requires_python),
        "UV_VERSION_Q": shell_quote(fields.uv_version),
        "BUILD_DATE_Q": shell_quote(fields.build_date),
        "SCRIPTS_Q": shell_quote(fields.scripts),
        "MODIFIED_Q": shell_quote(fields.modified),
        "HOOKS_Q": shell_quote(fields.hooks),
        "DELTA_OF_Q": shell_quote(fields.delta_of),
        "DELTA_NOTE_Q": shell_quote(fields.delta_note),
        "UV_SHA256_Q": shell_quote(fields.uv_sha256),
        "UV_MEMBER_Q": shell_quote(fields.uv_member),
        "TARGETS": "\n".join(t.line() for t in fields.targets),
        "PYTHON_ARCHIVE_Q": shell_quote(fields.python_archive),
        "PYTHON_KEY_Q": shell_quote(fields.python_key),
        "PYTHON_FULL_Q": shell_quote(fields.python_full),
        "PYTHON_JSON_HEAD_Q": shell_quote(fields.python_json_head),
        "PYTHON_JSON_TAIL_Q": shell_quote(fields.python_json_tail),
        "HAS_LICENSE": "1" if fields.license_text else "0",
        "LICENSE_TEXT": license_block(fields.license_text),
        "PAYLOAD_OFFSET": number(payload_offset),
        "PAYLOAD_SIZE": number(payload_size),
        "PAYLOAD_SHA256": payload_sha256,
        "MEMBERS": "\n".join(member_line(m) for m in members),
        "UV_SIZE": number(max([m.file_size for m in members if m.name.startswith("bin/uv")] or [0])),
        # A fat file may carry several archives; a host installs one.
        "PYTHON_SIZE": number(max([m.file_size for m in members if m.name.startswith("python/")] or [0])),
    }
    for key in ("NAME", "VERSION", "TOOL_VERSION"):
        if not re.fullmatch(r"[A-Za-z0-9._+!-]+", values[key]):
            raise ValueError(f"{key.lower()} {values[key]!r} has characters a shell comment cannot hold")
    if not re.fullmatch(r"[0-9a-f]{64}", payload_sha256) or not re.fullmatch(r"[0-9a-f]{64}", file_sha256):
        raise ValueError("a sha256 must be 64 hex digits")
    template = template_text()
    missing = sorted(set(_PLACEHOLDER.findall(template)) - set(values))
    unused = sorted(set(values) - set(_PLACEHOLDER.findall(template)))
    if missing or unused:
        raise ValueError(f"header template mismatch: unknown {missing}, unused {unused}")
    leftover = [k for k in _PLACEHOLDER.findall("".join(v for k, v in values.items() if k != "LICENSE_TEXT"))]
    if leftover:
        raise ValueError(f"a header value contains a placeholder: {leftover}")
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if "\r" in text:
        raise ValueError("the header must use LF line endings only")
    return text.encode("utf-8")
