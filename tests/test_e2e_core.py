"""Build real installers from a hermetic index and run them with no network (issue 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from airgap_installer.uvbin import builder_uv
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install, uv_in
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def run_file(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> Path:
    return build(tiny_project(), tmp_path / "out" / "install-tiny.run", "--python", PY)


def test_install_then_plain_uv_run_works_offline(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt" / "tiny"
    proc = install(jail, run_file, prefix, "--python", target_python())
    assert "installed tiny 1.0.0" in proc.stdout

    # The layout DESIGN.md fixes.
    assert (prefix / "bin" / "uv").is_file() and os.access(prefix / "bin" / "uv", os.X_OK)
    assert (prefix / "bin" / "tiny").is_file()
    current = prefix / "current"
    assert current.is_symlink() and os.readlink(current).startswith("releases/")
    for name in ("pyproject.toml", "uv.lock", ".venv", "src/tiny/cli.py"):
        assert (current / name).exists(), name

    # Plain uv in a clean environment with no network: run, sync --locked, lock --check, run --locked.
    assert "tiny ok alpha=1.0 beta=1.0" in uv_in(jail, prefix, "run", "tiny").stdout
    uv_in(jail, prefix, "sync", "--locked")
    uv_in(jail, prefix, "lock", "--check")
    out = uv_in(jail, prefix, "run", "--locked", "python", "-c", "import alpha, beta; print(beta.VERSION)")
    assert out.stdout.strip() == "1.0"
    # The dev group (a default group) was installed, so plain `uv run` has nothing to fetch.
    assert uv_in(jail, prefix, "run", "python", "-c", "import devtool; print('dev')").stdout.strip() == "dev"
    # The launcher works from anywhere.
    assert "args=['x']" in jail.run([str(prefix / "bin" / "tiny"), "x"]).stdout


def test_project_files_are_byte_identical(run_file: Path, jail: Jail, tmp_path: Path,
                                          tiny_project: ProjectFactory) -> None:
    prefix = tmp_path / "p"
    install(jail, run_file, prefix, "--python", target_python())
    source = run_file.parent.parent / "tiny"
    assert (prefix / "current" / "uv.lock").read_bytes() == (source / "uv.lock").read_bytes()
    # The project has [tool.uv] settings (its index): uv's offline settings join them, because a uv.toml
    # would shadow them (docs/uv-facts.md).
    shipped = (prefix / "current" / "pyproject.toml").read_text().splitlines()
    original = (source / "pyproject.toml").read_text().splitlines()
    assert [line for line in shipped if line not in original] == [
        "[tool.uv]", "offline = true", 'find-links = [".airgap/wheelhouse"]', 'python-downloads = "never"']
    assert [line for line in original if line not in shipped] == []
    assert not (prefix / "current" / "uv.toml").exists()


def test_marker_false_packages_are_not_shipped(run_file: Path) -> None:
    names = zipfile.ZipFile(run_file).namelist()
    assert any(n.startswith("wheelhouse/alpha-1.0") for n in names)
    assert not any(n.startswith("wheelhouse/winonly") for n in names)  # sys_platform == 'win32'
    assert not any(n.startswith("wheelhouse/beta-2.0") for n in names)  # the lock pins beta 1.0


@pytest.mark.fault("hostile environment (`UV_*`, `PIP_*`, `VIRTUAL_ENV`, a user uv.toml)",
                   "removed or hidden for every uv call; the install is offline as ever")
def test_installs_whatever_uv_and_pip_variables_the_host_has(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile"
    (hostile / "uv").mkdir(parents=True)
    (hostile / "uv" / "uv.toml").write_text('index-url = "https://example.invalid/simple"\nno-index = true\n')
    jail.env = {
        "UV_INDEX_URL": "https://example.invalid/simple", "UV_OFFLINE": "0", "UV_NO_INDEX": "1",
        "PIP_INDEX_URL": "https://example.invalid/simple", "VIRTUAL_ENV": "/nonexistent",
        "PYTHONPATH": "/nonexistent", "UV_PYTHON": "3.4", "XDG_CONFIG_HOME": str(hostile),
    }
    prefix = tmp_path / "with space" / "tiny"
    install(jail, run_file, prefix, "--python", target_python())
    jail.env = {}
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout


def test_finds_the_host_python_on_path(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    python = Path(target_python())
    jail.path = f"{python.parent}:{jail.path}"
    prefix = tmp_path / "p"
    proc = install(jail, run_file, prefix)
    assert f"Python: {python.parent}" in proc.stdout
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout


@pytest.mark.fault("a Python of the wrong version",
                   "exit 4 with one line, before anything is written")
def test_wrong_python_is_refused_before_anything_is_written(tiny_project: ProjectFactory, jail: Jail,
                                                           tmp_path: Path, builder_cache: Path) -> None:
    other = "3.13" if PY != "3.13" else "3.12"
    run_file = build(tiny_project(), tmp_path / "install.run", "--python", other)
    prefix = tmp_path / "never"
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4
    assert f"needs CPython {other}" in proc.stderr
    assert not prefix.exists()
    jail.path = "/bin"  # no python at all on PATH
    proc = install(jail, run_file, prefix, check=False)
    assert proc.returncode == 4 and f"no CPython {other} found" in proc.stderr
    assert not prefix.exists()


def test_rerun_is_safe_and_reactivates(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    install(jail, run_file, prefix, "--python", target_python())
    first = os.readlink(prefix / "current")
    proc = install(jail, run_file, prefix, "--python", target_python())
    assert "already installed" in proc.stdout
    assert os.readlink(prefix / "current") == first
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout


def test_help_info_check_list(run_file: Path, jail: Jail) -> None:
    help_text = jail.run(["sh", str(run_file), "--help"]).stdout
    for option in ("--prefix", "--yes", "--python", "--check", "--info", "--list", "--extract", "--quiet"):
        assert option in help_text
    info = jail.run(["sh", str(run_file), "--info"]).stdout
    assert "name:            tiny" in info and "uv:              0.13.9" in info
    assert "OK" in jail.run(["sh", str(run_file), "--check"]).stdout
    listing = jail.run(["sh", str(run_file), "--list"]).stdout
    assert "bin/uv" in listing and "wheelhouse/alpha-1.0-py3-none-any.whl" in listing


def test_extract_writes_the_payload_without_installing(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    dest = tmp_path / "x"
    jail.run(["sh", str(run_file), "--extract", str(dest)])
    assert (dest / "project" / "pyproject.toml").is_file()
    assert (dest / "wheelhouse").is_dir() and (dest / "manifest.json").is_file()
    assert os.access(dest / "bin" / "uv", os.X_OK)


def test_payload_is_a_zip_that_standard_tools_read(run_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "zipfile", "-t", str(run_file)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    unzip = subprocess.run(["unzip", "-tq", str(run_file)], capture_output=True, text=True)
    assert unzip.returncode == 0, unzip.stdout + unzip.stderr


def test_two_builds_are_byte_identical(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> None:
    project = tiny_project()
    a = build(project, tmp_path / "a" / "install.run", "--python", PY)
    b = build(project, tmp_path / "b" / "install.run", "--python", PY)
    assert a.read_bytes() == b.read_bytes()


def test_lock_forked_inside_the_minor_installs_the_hosts_branch(tiny_project: ProjectFactory, jail: Jail,
                                                                 tmp_path: Path, builder_cache: Path) -> None:
    major, minor, patch = sys.version_info[:3]
    if patch == 0:
        pytest.skip(f"the running Python is {major}.{minor}.0: no patch version below it to fork on")
    fork = f"{major}.{minor}.{patch}"
    project = tiny_project(deps=("alpha", f"beta<2; python_full_version < '{fork}'",
                                 f"beta>=2; python_full_version >= '{fork}'"))
    run_file = build(project, tmp_path / "fork.run", "--python", PY)  # the patch version is not known here
    names = zipfile.ZipFile(run_file).namelist()
    assert "wheelhouse/beta-1.0-py3-none-any.whl" in names and "wheelhouse/beta-2.0-py3-none-any.whl" in names
    # The manifest's package list keeps the two versions apart (issue 13, defect 5).
    packages = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))["packages"]
    files = {(p["name"], p["version"]): p["file"] for p in packages if p["name"] == "beta"}
    assert files == {("beta", "1.0"): "beta-1.0-py3-none-any.whl", ("beta", "2.0"): "beta-2.0-py3-none-any.whl"}
    prefix = tmp_path / "p"
    install(jail, run_file, prefix, "--python", target_python())
    assert "beta=2.0" in uv_in(jail, prefix, "run", "tiny").stdout
    uv_in(jail, prefix, "sync", "--locked")


@pytest.mark.parametrize("shell", [["dash"], ["bash", "--posix"], ["busybox", "sh"]], ids=lambda s: "-".join(s))
def test_installs_under_each_posix_shell(shell: list[str], run_file: Path, jail: Jail, tmp_path: Path) -> None:
    import shutil

    exe = shutil.which(shell[0])
    if exe is None:
        pytest.skip(f"{shell[0]} is not installed (.ci/run installs busybox)")
    prefix = tmp_path / "p"
    jail.run([exe, *shell[1:], str(run_file), "--prefix", str(prefix), "-y", "--python", target_python()])
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout
    assert jail.run([exe, *shell[1:], str(run_file), "--check"]).returncode == 0


def test_a_local_version_from_a_percent_encoding_index(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                       builder_cache: Path) -> None:
    project = tiny_project(deps=("alpha", "beta<2", "localver==1.0+cpu"))
    run_file = build(project, tmp_path / "lv.run", "--python", PY)
    assert "wheelhouse/localver-1.0+cpu-py3-none-any.whl" in zipfile.ZipFile(run_file).namelist()
    prefix = tmp_path / "p"
    install(jail, run_file, prefix, "--python", target_python())
    out = uv_in(jail, prefix, "run", "python", "-c", "import localver; print(localver.VERSION)")
    assert out.stdout.strip() == "1.0+cpu"


def test_a_project_with_no_dependencies_at_all(tmp_path: Path, jail: Jail, builder_cache: Path) -> None:
    # No build system, no dependencies: nothing in the wheelhouse (issue 13, defect 8).
    project = tmp_path / "bare"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "bare"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
                                            "dependencies = []\n")
    (project / "main.py").write_text("print('bare ok')\n")
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True)
    run_file = build(project, tmp_path / "bare.run", "--python", PY)
    assert not any(n.startswith("wheelhouse/") for n in zipfile.ZipFile(run_file).namelist())
    prefix = tmp_path / "p"
    install(jail, run_file, prefix, "--python", target_python())
    assert "bare ok" in uv_in(jail, prefix, "run", "python", "main.py").stdout


def test_the_wheelhouse_leaves_the_file_for_pip_and_uv(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    # Issue 16, item 5: the target's wheels with a pylock.toml (PEP 751) and a requirements.txt.
    out = tmp_path / "wh"
    jail.run(["sh", str(run_file), "--wheelhouse", str(out)])
    assert (out / "pylock.toml").is_file() and (out / "requirements.txt").is_file()
    assert sorted(p.name for p in out.glob("*.whl")) == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl",
                                                         "devtool-1.0-py3-none-any.whl",
                                                         "tiny-1.0.0-py3-none-any.whl"]
    python = target_python()
    jail.run([python, "-m", "venv", str(tmp_path / "pipenv")])
    jail.run([str(tmp_path / "pipenv" / "bin" / "pip"), "install", "-q", "--no-index", "--find-links", str(out),
              "-r", str(out / "requirements.txt")])
    assert "tiny ok" in jail.run([str(tmp_path / "pipenv" / "bin" / "tiny")]).stdout
    jail.run([builder_uv(), "venv", "-q", "--offline", "--python", python, str(tmp_path / "uvenv")])
    jail.run([builder_uv(), "pip", "install", "-q", "--offline", "--python", str(tmp_path / "uvenv" / "bin" / "python"),
              "-r", str(out / "pylock.toml")], cwd=out)
    assert "tiny ok" in jail.run([str(tmp_path / "uvenv" / "bin" / "tiny")]).stdout
