"""The runtime writes uv_cache.json exactly as uv computes it: compared here with uv's own record of a
project it built and installed itself (uv 0.13.9 builds uv_build projects natively: no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airgap_installer.project import load_project
from airgap_installer.runtime.uvrecords import DEFAULT_KEYS, cache_info, find_dist_info, site_packages
from airgap_installer.uvbin import builder_uv

PYPROJECT = """\
[project]
name = "rec"
version = "1.0"
requires-python = ">=3.9"
[build-system]
requires = ["uv_build>=0.13,<0.14"]
build-backend = "uv_build"
"""


def uv_record(root: Path) -> dict[str, object]:
    """The uv_cache.json uv writes when it installs the project itself."""
    env = {**os.environ, "UV_CACHE_DIR": str(root.parent / "uv-cache"), "AIRGAP_TEST_KEY": "on"}
    subprocess.run([builder_uv(), "sync", "--quiet", "--python", sys.executable, "--project", str(root)],
                   check=True, env=env, capture_output=True)
    dist_info = find_dist_info(site_packages(root / ".venv"), "rec")
    return json.loads((dist_info / "uv_cache.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("layout", ["src", "flat"])
def test_default_cache_keys_match_uvs_record(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "rec"
    package = root / ("src/rec" if layout == "src" else "rec")
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    text = PYPROJECT if layout == "src" else PYPROJECT + '[tool.uv.build-backend]\nmodule-root = ""\n'
    (root / "pyproject.toml").write_text(text)
    (root / "setup.cfg").write_text("[metadata]\n")  # a second cache-key file: the newest ctime wins
    assert cache_info(root, DEFAULT_KEYS) == uv_record(root)


def test_configured_cache_keys_match_uvs_record(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    (root / "src" / "rec").mkdir(parents=True)
    (root / "src" / "rec" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(PYPROJECT + '[tool.uv]\ncache-keys = [{ file = "pyproject.toml" }, '
                                         '{ file = "src/**/*.py" }, { dir = "src" }, { git = { commit = true } }, '
                                         '{ env = "AIRGAP_TEST_KEY" }]\n')
    keys = load_project(root).cache_keys
    assert keys == {"files": ["pyproject.toml", "src/**/*.py"], "dirs": ["src"], "git": True,
                    "env": ["AIRGAP_TEST_KEY"]}
    assert cache_info(root, keys, env={"AIRGAP_TEST_KEY": "on"}) == uv_record(root)


def test_on_windows_the_timestamp_is_the_modification_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv's Timestamp is the ctime on Unix and the modification time elsewhere (uv-cache-info); Python's
    st_ctime on Windows is the creation time. Wine reports both alike, so this is pinned here."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    os.utime(tmp_path / "pyproject.toml", ns=(1_000_000_000_123_456_700, 1_000_000_000_123_456_700))
    unix = cache_info(tmp_path, DEFAULT_KEYS)["timestamp"]
    monkeypatch.setattr(sys, "platform", "win32")
    windows = cache_info(tmp_path, DEFAULT_KEYS)["timestamp"]
    assert windows == {"secs_since_epoch": 1_000_000_000, "nanos_since_epoch": 123_456_700}
    assert unix != windows  # the ctime is now, not the time set
