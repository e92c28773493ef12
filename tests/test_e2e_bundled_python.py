"""A host with no Python, no unzip and no tar: the installer brings CPython and needs only sh (issue 5).

Real python-build-standalone archives cannot be downloaded here, so the archive is made from a local
CPython (tests/pbs.py) and passed with --python-archive, exactly as a user behind a firewall would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory
from tests.helpers import bare_host, build, uv_in
from tests.jail import Jail


@pytest.fixture(scope="session")
def pbs_archive(pbs_archive_of: Callable[[str], Path]) -> Path:
    return pbs_archive_of("3.12")


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_installs_and_runs_with_only_sh(shell: str, tiny_project: ProjectFactory, pbs_archive: Path, jail: Jail,
                                        tmp_path: Path, builder_cache: Path) -> None:
    run_file = build(tiny_project(), tmp_path / "tiny.run", "--python", "3.12", "--python-archive", str(pbs_archive))
    jail.hidden.append(str(pbs_archive.parent))
    sh = bare_host(jail, tmp_path / "bin", shell)
    assert jail.sh("command -v python3 || command -v unzip || command -v tar", check=False).returncode != 0
    assert "bundled (cpython-3.12" in jail.run([*sh, str(run_file), "--info"]).stdout

    prefix = tmp_path / "opt" / "tiny"
    proc = jail.run([*sh, str(run_file), "--prefix", str(prefix), "-y"])
    assert "Installing the bundled CPython 3.12" in proc.stdout
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout
    uv_in(jail, prefix, "sync", "--locked")
    base = uv_in(jail, prefix, "run", "python", "-c", "import sys; print(sys.base_prefix)").stdout.strip()
    assert Path(base).resolve().is_relative_to(prefix.resolve())
    assert not (Path(jail.home) / ".local" / "bin").exists(), "uv must not drop python3.X into ~/.local/bin"
