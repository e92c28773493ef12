"""A corrupt, truncated or extended installer is refused before anything is written (makeself's tests)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def run_file(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> Path:
    return build(tiny_project(), tmp_path / "install-tiny.run", "--python", PY)


def flip_near_end(data: bytearray) -> None:
    data[-100] ^= 0xFF


def flip_in_uv(data: bytearray) -> None:
    data[len(data) // 3] ^= 0x01


def truncate_half(data: bytearray) -> None:
    del data[len(data) // 2:]


def append_garbage(data: bytearray) -> None:
    data.extend(b"garbage\n")


def shift_carve_offset(data: bytearray) -> None:
    """The carve table (in the header, outside the payload's sha256): bin/uv's offset moved by a block."""
    line_start = data.index(b"bin/uv\n")
    line_start = data.rindex(b"\n", 0, line_start) + 1
    offset_end = data.index(b" ", line_start)
    offset = int(data[line_start:offset_end])
    data[line_start:offset_end] = str(offset + 4096).rjust(offset_end - line_start).encode()


DAMAGE: dict[str, tuple[Callable[[bytearray], None], str]] = {
    "flip-near-end": (flip_near_end, "is corrupt"),
    "flip-in-uv": (flip_in_uv, "is corrupt"),
    "truncate-half": (truncate_half, "is truncated"),
    "append": (append_garbage, "bytes appended"),
    "carve-offset": (shift_carve_offset, "is corrupt"),  # the header is covered by the file's sha256 too
}


@pytest.mark.fault("corrupt (a flipped byte in the payload or in uv), truncated, bytes appended, a moved carve offset",
                   "exit 3 with one line, before anything is written")
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_installer_is_refused_and_writes_nothing(damage: str, run_file: Path, jail: Jail,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mutate, message = DAMAGE[damage]
    data = bytearray(run_file.read_bytes())
    mutate(data)
    bad = tmp_path / "bad.run"
    bad.write_bytes(bytes(data))

    check = jail.run(["sh", str(bad), "--check"], check=False)
    assert check.returncode == 3
    assert message in check.stderr
    assert len(check.stderr.strip().splitlines()) == 2  # one error line and one tip

    prefix = tmp_path / "prefix"
    proc = install(jail, bad, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 3 and message in proc.stderr
    assert not prefix.exists()

    # The builder's `verify` says the same without running the file.
    assert main(["verify", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR ") and "TIP " in err


@pytest.mark.fault("an upgrade that fails midway",
                   "exit 1; the previous release stays active and runs")
def test_failed_upgrade_keeps_the_previous_release(run_file: Path, jail: Jail, tmp_path: Path,
                                                   tiny_project: ProjectFactory) -> None:
    prefix = tmp_path / "prefix"
    install(jail, run_file, prefix, "--python", target_python())
    before = (prefix / "current").readlink()
    # Version 2 fails on the target after the venv, the wheels and the sync are done: its post-install
    # check fails.
    v2 = tiny_project(version="2.0.0", directory="tiny-v2", extra_toml=(
        '[tool.airgap-installer]\npost-install = "echo checking the new release; exit 7"\n'))
    broken = build(v2, tmp_path / "v2.run", "--python", PY)
    proc = install(jail, broken, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 1
    assert "post-install hook failed (exit 7)" in proc.stderr and "failed-2.0.0-" in proc.stderr
    assert "checking the new release" in next((prefix / ".airgap-installer").glob("failed-*.log")).read_text()
    assert (prefix / "current").readlink() == before
    assert sorted(p.name for p in (prefix / "releases").iterdir()) == [before.name]
    assert not list((prefix / ".airgap-installer").glob("run.*")), "scratch space must be cleaned"
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout


@pytest.mark.fault("a foreign file (not an installer) given to `verify`",
                   "one line, exit 1")
def test_verify_rejects_a_foreign_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    foreign = tmp_path / "foreign.run"
    foreign.write_bytes(b"#!/bin/sh\necho hi\n")
    assert main(["verify", str(foreign)]) == 1
    assert "not an airgap-installer file" in capsys.readouterr().err
