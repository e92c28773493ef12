"""lockcheck (a stale lock found without an interpreter) agrees with uv's own `uv lock --check`."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from airgap_installer.lock import local_paths
from airgap_installer.lockcheck import stale_reasons
from airgap_installer.uvbin import builder_uv
from tests.index import LocalIndex

BASE = """\
[project]
name = "app"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["alpha>=1", "beta<2", "member"]
[project.optional-dependencies]
extra = ["gamma"]
[dependency-groups]
dev = ["devtool"]
lint = [{ include-group = "dev" }]
[tool.uv]
constraint-dependencies = ["beta!=1.5"]
[tool.uv.sources]
member = { workspace = true }
[tool.uv.workspace]
members = ["member"]
[[tool.uv.index]]
name = "local"
url = "URL"
default = true
[build-system]
requires = ["uv_build>=0.13,<0.14"]
build-backend = "uv_build"
"""

MEMBER = """\
[project]
name = "member"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["gamma"]
[build-system]
requires = ["uv_build>=0.13,<0.14"]
build-backend = "uv_build"
"""


def uv_says_stale(root: Path) -> bool:
    proc = subprocess.run([builder_uv(), "lock", "--check", "--offline", "--project", str(root)], capture_output=True,
                          text=True, env={**os.environ, "UV_CACHE_DIR": str(root.parent / "uv-cache")})
    return proc.returncode != 0


def ours(root: Path) -> list[str]:
    text = (root / "uv.lock").read_text()
    return stale_reasons(text, {p: (root / p / "pyproject.toml").read_text() for p in local_paths(text)})


MUTATIONS: dict[str, Callable[[str, str], tuple[str, str]]] = {
    "a dependency added": lambda a, m: (a.replace('"member"]', '"member", "gamma"]'), m),
    "a specifier changed": lambda a, m: (a.replace('"beta<2"', '"beta<1.9"'), m),
    "a dependency removed": lambda a, m: (a.replace('"alpha>=1", ', ""), m),
    "an extra's dependency": lambda a, m: (a.replace('extra = ["gamma"]', 'extra = ["gamma", "beta"]'), m),
    "a group changed": lambda a, m: (a.replace('dev = ["devtool"]', 'dev = ["devtool", "gamma"]'), m),
    "a constraint changed": lambda a, m: (a.replace('"beta!=1.5"', '"beta!=1.6"'), m),
    "requires-python changed": lambda a, m: (a.replace('">=3.9"', '">=3.10"'), m.replace('">=3.9"', '">=3.10"')),
    "a member's dependency": lambda a, m: (a, m.replace('["gamma"]', '["gamma", "alpha"]')),
}


@pytest.fixture
def project(tmp_path: Path, local_index: LocalIndex) -> Path:
    root = tmp_path / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "member" / "src" / "member").mkdir(parents=True)
    (root / "member" / "src" / "member" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(BASE.replace("URL", local_index.url))
    (root / "member" / "pyproject.toml").write_text(textwrap.dedent(MEMBER))
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(root)], check=True,
                   env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
    return root


def test_a_current_lock_is_current_for_both(project: Path) -> None:
    assert not uv_says_stale(project)
    assert ours(project) == []


@pytest.mark.parametrize("change", sorted(MUTATIONS))
def test_a_stale_lock_is_stale_for_both(project: Path, change: str) -> None:
    app, member = (project / "pyproject.toml").read_text(), (project / "member" / "pyproject.toml").read_text()
    new_app, new_member = MUTATIONS[change](app, member)
    (project / "pyproject.toml").write_text(new_app)
    (project / "member" / "pyproject.toml").write_text(new_member)
    assert uv_says_stale(project), f"uv itself must call the lock stale after: {change}"
    assert ours(project), f"lockcheck missed: {change}"
