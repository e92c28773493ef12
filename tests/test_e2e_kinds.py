"""Every kind of dependency installs offline, and uv sees the result in sync with the lock (issue 4).

The fixture workspace has: an sdist-only registry package (docopt 0.6.2), a git dependency built with
hatchling and served from a local repository through file://, a direct URL wheel and a direct URL
sdist served over HTTP on 127.0.0.1, a wheel file vendored in the project (a path source), a
sibling path dependency built with setuptools, a workspace
member built with uv_build, an optional extra and a dev group. The install runs with no network and
with the git repository, the sources and the build caches out of reach.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airgap_installer.uvbin import builder_uv
from tests.conftest import target_python
from tests.helpers import build, dry_run_row, git, install, uv_in, write
from tests.index import LocalIndex, make_wheel
from tests.jail import Jail

pytestmark = pytest.mark.pypi
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
IMPORT_ALL = "import docopt, gitdep, pathdep, member, six, urlwheel, urlsdist, vendored; print('all imported')"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex) -> Path:
    root = tmp_path_factory.mktemp("kinds")
    served = local_index.root / "direct"  # http://127.0.0.1:PORT/direct/..., outside the index pages
    served.mkdir(exist_ok=True)
    make_wheel(served, "urlwheel", "1.0")
    write(root / "urlsdist" / "pyproject.toml", """\
        [project]
        name = "urlsdist"
        version = "2.0"
        requires-python = ">=3.9"
        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"
        """)
    write(root / "urlsdist" / "src" / "urlsdist" / "__init__.py", 'VALUE = "from a URL sdist"\n')
    subprocess.run([builder_uv(), "build", "--sdist", "--quiet", "--out-dir", str(served), str(root / "urlsdist")],
                   check=True)
    base = f"http://127.0.0.1:{local_index.port}/direct"
    repo = root / "gitrepo"
    write(repo / "pyproject.toml", """\
        [project]
        name = "gitdep"
        version = "0.3.0"
        requires-python = ">=3.9"
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """)
    write(repo / "src" / "gitdep" / "__init__.py", 'VALUE = "from git"\n')
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "init", cwd=repo)
    git("tag", "v0.3.0", cwd=repo)
    write(root / "pathdep" / "pyproject.toml", """\
        [project]
        name = "pathdep"
        version = "1.0"
        requires-python = ">=3.9"
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        """)
    write(root / "pathdep" / "pathdep" / "__init__.py", 'VALUE = "from path"\n')
    demo = root / "demo"
    (demo / "vendor").mkdir(parents=True)
    make_wheel(demo / "vendor", "vendored", "1.0")
    write(demo / "packages" / "member" / "pyproject.toml", """\
        [project]
        name = "member"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["six"]
        [project.scripts]
        member-cli = "member:main"
        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"
        """)
    write(demo / "packages" / "member" / "src" / "member" / "__init__.py", """\
        VALUE = "member"
        def main():
            import six
            print("member cli ok", six.__version__)
        """)
    write(demo / "pyproject.toml", f"""\
        [project]
        name = "demo"
        version = "1.0.0"
        requires-python = ">=3.9"
        dependencies = ["docopt==0.6.2", "gitdep", "pathdep", "member", "six",
                        "urlwheel @ {base}/urlwheel-1.0-py3-none-any.whl", "urlsdist @ {base}/urlsdist-2.0.tar.gz",
                        "vendored"]
        [project.optional-dependencies]
        yaml = ["pyyaml"]
        [project.scripts]
        demo = "demo:main"
        [dependency-groups]
        dev = ["iniconfig"]
        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"
        [tool.uv.workspace]
        members = ["packages/*"]
        [tool.uv.sources]
        gitdep = {{ git = "{repo.as_uri()}", tag = "v0.3.0" }}
        pathdep = {{ path = "../pathdep", editable = true }}
        member = {{ workspace = true }}
        vendored = {{ path = "vendor/vendored-1.0-py3-none-any.whl" }}
        """)
    write(demo / "src" / "demo" / "__init__.py", """\
        def main():
            import docopt, gitdep, pathdep, member, six
            print("demo ok", gitdep.VALUE, pathdep.VALUE, member.VALUE, docopt.__version__)
        """)
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(demo)], check=True)
    return demo


@pytest.fixture
def airgap(jail: Jail, workspace: Path) -> Jail:
    jail.hidden.append(str(workspace.parent))  # the git repository, the sources and the path dependency
    return jail


def check_in_sync(jail: Jail, prefix: Path) -> None:
    uv_in(jail, prefix, "sync", "--locked")
    uv_in(jail, prefix, "lock", "--check")
    dry = uv_in(jail, prefix, "sync", "--locked", "--dry-run")
    assert "Would make no changes" in dry.stdout + dry.stderr


def test_default_selection(workspace: Path, airgap: Jail, tmp_path: Path, builder_cache: Path) -> None:
    run_file = build(workspace, tmp_path / "demo.run", "--python", PY)
    prefix = tmp_path / "opt"
    install(airgap, run_file, prefix, "--python", target_python())
    assert "demo ok from git from path member 0.6.2" in uv_in(airgap, prefix, "run", "demo").stdout
    uv_in(airgap, prefix, "run", "python", "-c", IMPORT_ALL + "; import iniconfig")
    check_in_sync(airgap, prefix)
    # The git package is recorded as uv records a git install, so uv never runs git for it.
    direct_url = next((prefix / "current" / ".venv").glob("lib/python3*/site-packages/gitdep-0.3.0.dist-info"))
    assert '"vcs":"git"' in (direct_url / "direct_url.json").read_text()
    # So are the direct URL packages: uv does not try to download them (the jail has no network).
    site = next((prefix / "current" / ".venv").glob("lib/python3*/site-packages"))
    for dist, filename in (("urlwheel-1.0", "urlwheel-1.0-py3-none-any.whl"), ("urlsdist-2.0", "urlsdist-2.0.tar.gz")):
        record = json.loads((site / f"{dist}.dist-info" / "direct_url.json").read_text())
        assert record["url"].endswith(f"/direct/{filename}") and record["archive_info"] == {}
    # The vendored wheel travelled in the tree; uv installed it from there.
    assert (prefix / "current" / "vendor" / "vendored-1.0-py3-none-any.whl").is_file()
    # The path dependency sits beside the project, as in the repository.
    assert (prefix / "current" / ".." / "pathdep" / "pyproject.toml").is_file()
    # pyproject.toml and uv.lock are the repository's own.
    for name in ("pyproject.toml", "uv.lock"):
        assert (prefix / "current" / name).read_bytes() == (workspace / name).read_bytes()


def test_extra_and_switching_it_back_on(workspace: Path, airgap: Jail, tmp_path: Path, builder_cache: Path) -> None:
    run_file = build(workspace, tmp_path / "demo.run", "--python", PY, "--extra", "yaml")
    prefix = tmp_path / "opt"
    install(airgap, run_file, prefix, "--python", target_python())
    uv_in(airgap, prefix, "run", "python", "-c", IMPORT_ALL + "; import yaml")
    # Plain `uv sync` is exact: it removes the extra. uv's own `uv sync --extra yaml` would then fetch it
    # from the lock's URL; PREFIX/bin/airgap-sync puts the bundled wheels back first.
    uv_in(airgap, prefix, "sync")
    assert uv_in(airgap, prefix, "run", "python", "-c", "import yaml", check=False).returncode != 0
    airgap.run([str(prefix / "bin" / "airgap-sync"), "--extra", "yaml"])
    uv_in(airgap, prefix, "run", "--extra", "yaml", "python", "-c", "import yaml")
    uv_in(airgap, prefix, "sync", "--locked", "--extra", "yaml")


def test_airgap_sync_puts_git_and_url_packages_back_as_uv_records_them(workspace: Path, airgap: Jail,
                                                                         tmp_path: Path, builder_cache: Path) -> None:
    run_file = build(workspace, tmp_path / "demo.run", "--python", PY)
    prefix = tmp_path / "opt"
    install(airgap, run_file, prefix, "--python", target_python())
    uv_in(airgap, prefix, "pip", "uninstall", "urlwheel", "urlsdist", "gitdep")
    # Put back from the wheelhouse only, they would look like registry installs and uv would fetch the
    # lock's URLs; airgap-sync records them as uv does, so the sync after it needs no network.
    airgap.run([str(prefix / "bin" / "airgap-sync")])
    uv_in(airgap, prefix, "run", "python", "-c", IMPORT_ALL)
    check_in_sync(airgap, prefix)
    record = next((prefix / "current" / ".venv").glob("lib/python3*/site-packages/gitdep-0.3.0.dist-info/RECORD"))
    assert record.read_text().count("direct_url.json") == 1


def test_no_dev_keeps_plain_uv_run_working(workspace: Path, airgap: Jail, tmp_path: Path,
                                           builder_cache: Path) -> None:
    run_file = build(workspace, tmp_path / "demo.run", "--python", PY, "--no-dev")
    info = airgap.run(["sh", str(run_file), "--info"]).stdout
    assert "default-groups = []" in info
    prefix = tmp_path / "opt"
    install(airgap, run_file, prefix, "--python", target_python())
    assert "demo ok" in uv_in(airgap, prefix, "run", "demo").stdout
    assert uv_in(airgap, prefix, "run", "python", "-c", "import iniconfig", check=False).returncode != 0
    check_in_sync(airgap, prefix)
    # The shipped uv.lock differs from the repository's only by the default-groups line.
    shipped = (prefix / "current" / "uv.lock").read_text().splitlines()
    original = (workspace / "uv.lock").read_text().splitlines()
    assert [line for line in shipped if line not in original] == ["default-groups = []"]


def test_dry_run_lists_every_package_and_why(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from airgap_installer.cli import main

    assert main(["build", str(workspace), "--python", PY, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "sdist only" in (dry_run_row(out, "build", "docopt") or "")
    assert "git" in (dry_run_row(out, "build", "gitdep") or "")
    assert "../pathdep" in (dry_run_row(out, "local", "pathdep") or "")
    assert "pure Python (setuptools" in (dry_run_row(out, "local", "pathdep") or "")
    assert "six-" in (dry_run_row(out, "ship", "six") or "")
    assert "total: " in out and "uv 0.13.9 for" in out


def test_one_workspace_member(workspace: Path, airgap: Jail, tmp_path: Path, builder_cache: Path) -> None:
    run_file = build(workspace, tmp_path / "member.run", "--python", PY, "--package", "member")
    prefix = tmp_path / "opt"
    install(airgap, run_file, prefix, "--python", target_python())
    # The member's console scripts get the launchers.
    assert "member cli ok" in airgap.run([str(prefix / "bin" / "member-cli")]).stdout
    assert not (prefix / "bin" / "demo").exists()
    # uv works for that member offline; the root project (not installed) would need the network.
    assert "member cli ok" in uv_in(airgap, prefix, "run", "--package", "member", "member-cli").stdout
    uv_in(airgap, prefix, "sync", "--locked", "--package", "member")
    # Sources of every local package travel (uv reads all their metadata), even the unselected ones.
    assert (prefix / "current" / ".." / "pathdep" / "pyproject.toml").is_file()


def test_builds_from_cold_caches_are_byte_identical(workspace: Path, tmp_path: Path) -> None:
    # Wheels built here from git and sdists are part of the file: they must be reproducible too.
    outputs = []
    for name in ("a", "b"):
        outputs.append(build(workspace, tmp_path / f"{name}.run", "--python", PY,
                             "--cache-dir", str(tmp_path / f"cache-{name}")))
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
