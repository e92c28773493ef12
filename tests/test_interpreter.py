"""Choosing the python-build-standalone archive the bundled uv would install, against uv's own list.

tests/data/uv-0.13.9-python-list.json is the CPython 3.11/3.12 part of
`uv python list --all-platforms --all-arches --only-downloads --show-urls --output-format json` (uv 0.13.9).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap_installer.errors import TargetError
from airgap_installer.interpreter import assign_archives, check_fits, mirror_url, parse_archive_name, select_download
from airgap_installer.lock import Artifact
from airgap_installer.target import make_target

LISTING = json.loads((Path(__file__).parent / "data" / "uv-0.13.9-python-list.json").read_text())


@pytest.mark.parametrize(("platform", "key_suffix", "triple"), [
    ("x86_64-manylinux_2_28", "linux-x86_64-gnu", "x86_64-unknown-linux-gnu"),
    ("x86_64-unknown-linux-musl", "linux-x86_64-musl", "x86_64-unknown-linux-musl"),
    ("aarch64-manylinux_2_28", "linux-aarch64-gnu", "aarch64-unknown-linux-gnu"),
    ("aarch64-apple-darwin", "macos-aarch64-none", "aarch64-apple-darwin"),
])
def test_selects_the_targets_archive(platform: str, key_suffix: str, triple: str) -> None:
    entry = select_download(LISTING, make_target("3.12", platform))
    assert entry["key"].startswith("cpython-3.12.") and entry["key"].endswith(key_suffix)
    assert f"-{triple}-install_only" in entry["url"]
    assert "_v3" not in entry["key"] and "freethreaded" not in entry["url"]
    parsed = parse_archive_name(entry["url"].rsplit("/", 1)[-1], Artifact(entry["url"], "0" * 64, None, "x"))
    assert parsed.key == entry["key"]


def test_unknown_version_points_to_python_archive() -> None:
    with pytest.raises(TargetError) as info:
        select_download(LISTING, make_target("3.9", "linux"))
    assert "--python-archive" in info.value.hint


def test_mirror_rewrite() -> None:
    entry = select_download(LISTING, make_target("3.12", "linux"))
    rewritten = mirror_url(entry["url"], "https://mirror.example/pbs/")
    assert rewritten.startswith("https://mirror.example/pbs/20")
    assert rewritten.endswith(entry["url"].rsplit("/", 2)[-2] + "/" + entry["url"].rsplit("/", 1)[-1])
    assert mirror_url(entry["url"], None) == entry["url"]


def test_archive_must_fit_the_target() -> None:
    art = Artifact("file:///x", "0" * 64, None, "x")
    archive = parse_archive_name("cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz", art)
    check_fits(archive, make_target("3.12", "x86_64-manylinux_2_28"))
    with pytest.raises(TargetError, match="the target needs CPython 3.11"):
        check_fits(archive, make_target("3.11", "x86_64-manylinux_2_28"))
    with pytest.raises(TargetError, match="musl"):
        check_fits(archive, make_target("3.12", "x86_64-unknown-linux-musl"))
    with pytest.raises(TargetError, match="not named like"):
        parse_archive_name("python.tar.gz", art)


def test_download_list_entry_has_the_archive_url_in_the_middle() -> None:
    art = Artifact("file:///x", "0" * 64, None, "x")
    archive = parse_archive_name("cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz", art)
    head, tail = archive.download_json()
    doc = json.loads(head + "file:///tmp/a.tar.gz" + tail)
    entry = doc["cpython-3.12.1-linux-x86_64-gnu"]
    assert entry["url"] == "file:///tmp/a.tar.gz" and entry["patch"] == 1 and entry["build"] == "20240107"


X86 = "cpython-3.12.1+20240107-x86_64-unknown-linux-gnu-install_only.tar.gz"
ARM = "cpython-3.12.1+20240107-aarch64-unknown-linux-gnu-install_only.tar.gz"


def test_each_archive_goes_to_the_targets_it_fits() -> None:
    targets = [make_target("3.12", "aarch64-manylinux_2_28"), make_target("3.12", "x86_64-manylinux_2_17"),
               make_target("3.12", "x86_64-manylinux_2_28"), make_target("3.12", "x86_64-unknown-linux-musl")]
    assert assign_archives(targets, [X86, ARM]) == [1, 0, 0, None]  # musl: no archive, the host's Python
    assert assign_archives(targets, [ARM, X86]) == [0, 1, 1, None]
    assert assign_archives(targets, []) == [None] * 4
    with pytest.raises(TargetError, match="which no target of this build runs"):
        assign_archives(targets[:1], [X86])
    with pytest.raises(TargetError, match="2 Python archives fit cp312-x86_64-manylinux_2_28"):
        assign_archives(targets[2:3], [X86, X86.replace("+20240107", "+20240108")])
    windows = make_target("3.12", "x86_64-pc-windows-msvc")
    assert assign_archives([targets[2], windows], [X86, "python-3.12.1-embed-amd64.zip"]) == [0, 1]
    with pytest.raises(TargetError, match="not named like"):
        assign_archives(targets[2:3], ["python-3.12.1-embed-amd64.zip"])
