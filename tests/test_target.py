"""Target tags and markers come from the description, never from the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap_installer.errors import TargetError
from airgap_installer.target import load_complete_platform, make_target, parse_platform, parse_python


def test_manylinux_2_28_supports_older_levels_and_legacy_aliases() -> None:
    plats = parse_platform("x86_64-manylinux_2_28").platform_tags()
    assert plats[0] == "manylinux_2_28_x86_64"
    assert "manylinux2014_x86_64" in plats and "manylinux1_x86_64" in plats
    assert "manylinux_2_29_x86_64" not in plats
    assert not any("musllinux" in p for p in plats)


@pytest.mark.parametrize(("name", "expected"), [
    ("linux", "x86_64-manylinux_2_28"),
    ("x86_64-unknown-linux-gnu", "x86_64-manylinux_2_28"),
    ("aarch64-unknown-linux-gnu", "aarch64-manylinux_2_28"),
    ("x86_64-unknown-linux-musl", "x86_64-musllinux_1_2"),
    ("aarch64-manylinux2014", "aarch64-manylinux_2_17"),
    ("macos", "aarch64-apple-darwin"),
])
def test_uv_platform_names(name: str, expected: str) -> None:
    assert parse_platform(name).name == expected


def test_unknown_platform_names_the_known_ones() -> None:
    with pytest.raises(TargetError, match="unknown --python-platform") as info:
        parse_platform("sparc-sun-solaris")
    assert "x86_64-manylinux_2_28" in info.value.hint


def test_macos_arm64_tags_and_markers() -> None:
    target = make_target("3.12", "aarch64-apple-darwin")
    tags = [str(t) for t in target.tags()]
    assert tags[0] == "cp312-cp312-macosx_13_0_arm64"
    assert "cp312-abi3-macosx_11_0_arm64" in tags and tags[-1] == "py30-none-any"
    env = target.marker_environment()
    assert env["sys_platform"] == "darwin" and env["platform_machine"] == "arm64"


def test_python_version_drives_tags_not_the_host() -> None:
    tags = {str(t) for t in make_target("3.9", "x86_64-manylinux_2_17").tags()}
    assert "cp39-cp39-manylinux_2_17_x86_64" in tags
    assert not any(t.startswith("cp311-cp311") for t in tags)
    assert make_target("3.9", "linux").marker_environment()["python_full_version"] == "3.9.0"


@pytest.mark.parametrize("text", ["3.12", "cp312", "3.12.4", "cpython-3.12"])
def test_python_spellings(text: str) -> None:
    assert parse_python(text)[0] == (3, 12)


def test_bad_python_version() -> None:
    with pytest.raises(TargetError):
        parse_python("pypy")


def test_complete_platform_file(tmp_path: Path) -> None:
    doc = {
        "marker_environment": {"python_full_version": "3.11.7", "python_version": "3.11", "sys_platform": "linux",
                               "platform_machine": "aarch64", "platform_system": "Linux", "os_name": "posix",
                               "implementation_name": "cpython"},
        "compatible_tags": ["cp311-cp311-manylinux_2_31_aarch64", "cp311-cp311-manylinux_2_17_aarch64",
                            "py3-none-any"],
    }
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(doc))
    target = load_complete_platform(path)
    assert target.python == (3, 11) and target.platform.name == "aarch64-manylinux_2_31"
    assert [str(t) for t in target.tags()] == doc["compatible_tags"]
    assert target.marker_environment()["python_full_version"] == "3.11.7"


def test_broken_complete_platform_file(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    path.write_text("{}")
    with pytest.raises(TargetError, match="not a complete-platform file"):
        load_complete_platform(path)


@pytest.mark.parametrize(("name", "expected", "platform_tag", "machine"), [
    ("windows", "x86_64-pc-windows-msvc", "win_amd64", "AMD64"),
    ("x86_64-pc-windows-msvc", "x86_64-pc-windows-msvc", "win_amd64", "AMD64"),
    ("aarch64-pc-windows-msvc", "aarch64-pc-windows-msvc", "win_arm64", "ARM64"),
])
def test_windows_targets_tags_and_markers(name: str, expected: str, platform_tag: str, machine: str) -> None:
    target = make_target("3.13", name)
    assert target.platform.name == expected and target.slug == f"cp313-{expected}"
    tags = [str(t) for t in target.tags()]
    assert tags[0] == f"cp313-cp313-{platform_tag}"
    assert f"cp313-abi3-{platform_tag}" in tags and f"py3-none-{platform_tag}" in tags and tags[-1] == "py30-none-any"
    assert not any("linux" in t or "macosx" in t for t in tags)
    assert not any(t.endswith("win32") for t in tags)  # 32-bit wheels never run in a 64-bit CPython
    env = target.marker_environment()
    assert (env["sys_platform"], env["platform_system"], env["os_name"]) == ("win32", "Windows", "nt")
    assert env["platform_machine"] == machine


def test_windows_complete_platform_file(tmp_path: Path) -> None:
    doc = {"marker_environment": {"python_full_version": "3.13.2", "platform_system": "Windows",
                                  "platform_machine": "AMD64", "sys_platform": "win32", "os_name": "nt"},
           "compatible_tags": ["cp313-cp313-win_amd64", "py3-none-any"]}
    (tmp_path / "win.json").write_text(json.dumps(doc))
    target = load_complete_platform(tmp_path / "win.json")
    assert target.platform.os == "windows" and target.platform.name == "x86_64-pc-windows-msvc"
