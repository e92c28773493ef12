"""Build on this x86_64 host for other platforms and Pythons; refuse the wrong host cleanly (issue 3)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging import tags
from packaging.markers import default_environment

from airgap_installer.cli import main
from airgap_installer.plan import WheelRanker
from airgap_installer.target import make_target
from airgap_installer.uvbin import builder_uv
from tests.conftest import ProjectFactory, copy_example, target_python
from tests.helpers import build, install, uv_in
from tests.index import LocalIndex, make_wheel
from tests.jail import Jail

ELF_MACHINE = {"x86_64": 0x3E, "aarch64": 0xB7}
MACHO_ARM64 = 0x0100000C
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(autouse=True)
def builder_with_only_its_own_python(small_world: Path) -> Path:
    """Every cross-build here runs in a builder's world as small as a user's (conftest.small_world)."""
    return small_world


def pyenv_python(version: str) -> str:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(root.glob(f"versions/{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no CPython {version} under {root} (pyenv) on this machine")
    return str(found[-1])


def uv_binary_head(run_file: Path) -> bytes:
    with zipfile.ZipFile(run_file) as zf, zf.open("bin/uv") as f:
        return f.read(64)


@pytest.mark.pypi
def test_one_command_several_platforms(tmp_path: Path, builder_cache: Path) -> None:
    project = copy_example(tmp_path / "hello")
    out = tmp_path / "dist"
    build(project, out, "--python", "3.12", "--python-platform", "aarch64-manylinux_2_28",
          "--python-platform", "aarch64-apple-darwin", "--python-platform", "x86_64-unknown-linux-musl")
    files = sorted(p.name for p in out.iterdir())
    # Each file is named after what its wheels need (uv's own wheels: macOS 11.0, manylinux_2_28 for
    # aarch64 and musllinux_1_1), not after the level asked for.
    assert files == ["install-hello-cp312-aarch64-macos_11_0.run", "install-hello-cp312-aarch64-manylinux_2_28.run",
                     "install-hello-cp312-x86_64-musllinux_1_1.run"]
    for name in files:
        run_file = out / name
        manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
        platform = manifest["target"].split("-", 1)[1]
        target = make_target("3.12", platform)
        head = uv_binary_head(run_file)
        if "darwin" in platform:
            assert head[:4] == b"\xcf\xfa\xed\xfe" and struct.unpack("<I", head[4:8])[0] == MACHO_ARM64
            assert manifest["uv_wheel"].endswith("macosx_11_0_arm64.whl")
        else:
            assert head[:4] == b"\x7fELF"
            assert struct.unpack("<H", head[18:20])[0] == ELF_MACHINE[platform.split("-")[0]]
        if "musl" in platform:
            assert "musllinux" in manifest["uv_wheel"]
        ranker = WheelRanker(target.tags())
        wheels = [n for n in zipfile.ZipFile(run_file).namelist() if n.startswith("wheelhouse/")]
        assert wheels and all(ranker.rank(n.split("/", 1)[1]) is not None for n in wheels), wheels


@pytest.mark.pypi
def test_fork_branch_follows_each_python(tmp_path: Path, builder_cache: Path) -> None:
    # The example's lock forks: anyio 4.12.1 for Python < 3.10, 4.16.0 from 3.10 on.
    project = copy_example(tmp_path / "hello")
    out = tmp_path / "dist"
    versions = ["3.9", "3.10", "3.11", "3.12", "3.13"]
    build(project, out, *(a for v in versions for a in ("--python", v)))
    for v in versions:
        [run_file] = out.glob(f"install-hello-cp{v.replace('.', '')}-x86_64-manylinux_*.run")
        names = zipfile.ZipFile(run_file).namelist()
        anyio = [n for n in names if n.startswith("wheelhouse/anyio-")]
        assert anyio == [f"wheelhouse/anyio-{'4.12.1' if v == '3.9' else '4.16.0'}-py3-none-any.whl"], v
        assert any(n.startswith("wheelhouse/exceptiongroup-") for n in names) == (v in ("3.9", "3.10"))


@pytest.mark.parametrize("version", ["3.9", "3.12", "3.13"])
def test_other_python_installs_and_runs_offline(version: str, tiny_project: ProjectFactory, tmp_path: Path,
                                                jail: Jail, builder_cache: Path) -> None:
    python = pyenv_python(version)
    run_file = build(tiny_project(), tmp_path / f"install-{version}.run", "--python", version)
    jail.path = f"{Path(python).parent}:{jail.path}"  # the installer finds python3.X on PATH
    prefix = tmp_path / "opt"
    proc = install(jail, run_file, prefix)
    assert f"python{version}" in proc.stdout
    assert uv_in(jail, prefix, "run", "python", "-c", "import sys; print(sys.version_info[:2])").stdout.strip() \
        == f"({version.replace('.', ', ')})"
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout
    uv_in(jail, prefix, "sync", "--locked")


def test_wrong_architecture_is_refused_and_nothing_written(tiny_project: ProjectFactory, tmp_path: Path,
                                                          jail: Jail, builder_cache: Path) -> None:
    run_file = build(tiny_project(), tmp_path / "arm.run", "--python", PY,
                     "--python-platform", "aarch64-manylinux_2_28")
    prefix = tmp_path / "never"
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4
    assert "built for cp" in proc.stderr and "aarch64" in proc.stderr and "this host is linux x86_64" in proc.stderr
    assert not prefix.exists()


def test_glibc_older_than_the_wheels_need_is_refused(tiny_project: ProjectFactory, local_index: LocalIndex,
                                                    tmp_path: Path, jail: Jail, builder_cache: Path) -> None:
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if not libc.startswith("glibc "):
        pytest.skip("this host is not glibc-based")
    major, minor = (int(x) for x in libc.split()[1].split(".")[:2])
    newer = f"{major}_{minor + 1}"
    make_wheel(local_index.files, "needsnew", "1.0", tag=f"py3-none-manylinux_{newer}_x86_64")
    local_index.publish()
    project = tiny_project(deps=("alpha", "needsnew"))
    run_file = build(project, tmp_path / "new.run", "--python", PY, "--python-platform", f"x86_64-manylinux_{newer}")
    prefix = tmp_path / "never"
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4
    assert f"needs glibc >= {major}.{minor + 1}" in proc.stderr
    assert f"this host has glibc {major}.{minor}" in proc.stderr
    assert not prefix.exists()


def test_complete_platform_of_this_host(tiny_project: ProjectFactory, tmp_path: Path, jail: Jail,
                                        builder_cache: Path) -> None:
    # What `pex3 interpreter inspect --markers --tags` prints, computed for the running interpreter.
    doc = {"marker_environment": default_environment(), "compatible_tags": [str(t) for t in tags.sys_tags()]}
    path = tmp_path / "here.json"
    path.write_text(json.dumps(doc))
    run_file = build(tiny_project(), tmp_path / "cp.run", "--complete-platform", str(path))
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    assert "tiny ok" in uv_in(jail, prefix, "run", "tiny").stdout
    assert shutil.which("sh")


def test_cross_build_needs_no_python_of_the_target(tmp_path: Path, local_index: LocalIndex, jail: Jail,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # requires-python excludes the builder's own Python, the backend is hatchling, the target is another
    # CPU and another Python: nothing here may need, look for or download a CPython 3.12.
    python312 = pyenv_python("3.12")
    project = tmp_path / "new"
    (project / "src" / "new").mkdir(parents=True)
    (project / "src" / "new" / "__init__.py").write_text(
        "import gamma\ndef main():\n    print('new ok', gamma.VERSION)\n")
    (project / "pyproject.toml").write_text(f"""\
[project]
name = "new"
version = "3.0"
requires-python = ">=3.12"
dependencies = ["gamma"]
[project.scripts]
new = "new:main"
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
[tool.uv.sources]
gamma = {{ index = "local" }}
[[tool.uv.index]]
name = "local"
url = "{local_index.url}"
explicit = true
""")
    subprocess.run([builder_uv(), "lock", "--quiet", "--python", python312, "--project", str(project)], check=True,
                   env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
    assert not shutil.which("python3.12"), "the builder must see no CPython 3.12"
    out = tmp_path / "dist"
    build(project, out, "--python", "3.12", "--python-platform", "aarch64-manylinux_2_28",
          "--python-platform", "x86_64-manylinux_2_28")
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and all("cp312" in n for n in names)
    # The x86_64 one installs on a host with CPython 3.12 and runs with plain `uv run`.
    [x86] = [out / n for n in names if "x86_64" in n]
    jail.path = f"{Path(python312).parent}:{jail.path}"
    prefix = tmp_path / "opt"
    install(jail, x86, prefix)
    assert "new ok" in uv_in(jail, prefix, "run", "new").stdout
    # A stale lock is still refused, with no interpreter for uv to check it with.
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        '["gamma"]', '["gamma", "six"]'))
    assert main(["build", str(project), "-o", str(tmp_path / "stale.run"), "--python", "3.12"]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "dependencies of new changed" in err and "uv lock" in err


def test_macos_follows_the_deployment_target(tiny_project: ProjectFactory, local_index: LocalIndex, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # A package published only for macOS 14 on arm64 (as many are now): uv's default, macOS 13.0, has
    # no wheel for it; MACOSX_DEPLOYMENT_TARGET=14.0 does, as it does for uv's --python-platform.
    make_wheel(local_index.files, "sonoma", "1.0", tag="py3-none-macosx_14_0_arm64")
    local_index.publish()
    project = tiny_project(deps=("alpha", "sonoma; sys_platform == 'darwin'"))
    out = tmp_path / "dist"
    assert main(["build", str(project), "-o", str(out), "--python", PY, "--python-platform", "aarch64-apple-darwin",
                 "--python-platform", "linux"]) == 1
    err = capsys.readouterr().err
    assert "sonoma 1.0: no wheel for cp" in err and "MACOSX_DEPLOYMENT_TARGET" in err
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "14.0")
    out.mkdir()  # an existing directory: the file is named after its target
    build(project, out, "--python", PY, "--python-platform", "aarch64-apple-darwin")
    [run_file] = out.iterdir()
    assert run_file.name == f"install-tiny-cp{PY.replace('.', '')}-aarch64-macos_14_0.run"
    manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
    assert manifest["macos_min"] == "14.0"
    assert "needs macOS >= 14.0" in subprocess.run(["sh", str(run_file), "--info"], capture_output=True,
                                                   text=True).stdout
