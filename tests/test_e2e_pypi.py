"""Real PyPI packages, native wheels included: build on this machine, install with no network."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airgap_installer.uvbin import builder_uv
from tests.conftest import copy_example, target_python
from tests.helpers import build, install, uv_in
from tests.jail import Jail

pytestmark = pytest.mark.pypi
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_example_project(tmp_path: Path, jail: Jail, builder_cache: Path) -> None:
    project = copy_example(tmp_path / "hello")
    run_file = build(project, tmp_path / "dist" / "install-hello.run", "--python", PY)
    prefix = tmp_path / "opt" / "hello"
    install(jail, run_file, prefix, "--python", target_python())
    out = uv_in(jail, prefix, "run", "hello").stdout
    assert "hello, offline" in out and "rich" in out and "would GET https://example.invalid/" in out
    uv_in(jail, prefix, "sync", "--locked")
    uv_in(jail, prefix, "lock", "--check")
    uv_in(jail, prefix, "run", "--locked", "python", "-c", "import httpx, rich, pytest")


def test_native_wheels_numpy_and_pydantic(tmp_path: Path, jail: Jail, builder_cache: Path) -> None:
    project = tmp_path / "science"
    (project / "src" / "science").mkdir(parents=True)
    (project / "src" / "science" / "__init__.py").write_text(textwrap.dedent("""\
        def main() -> None:
            import numpy, pydantic, pydantic_core
            class Point(pydantic.BaseModel):
                x: float
            print("sum", numpy.arange(5).sum(), Point(x=numpy.float64(1.5)).x, pydantic_core.__version__)
        """))
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "science"
        version = "1.0"
        requires-python = ">=3.10"
        dependencies = ["numpy>=2", "pydantic>=2"]
        [project.scripts]
        science = "science:main"
        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"
        """))
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True)
    run_file = build(project, tmp_path / "install-science.run", "--python", PY)
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    assert "sum 10 1.5" in jail.run([str(prefix / "bin" / "science")]).stdout
    uv_in(jail, prefix, "sync", "--locked")
    assert "sum 10" in uv_in(jail, prefix, "run", "science").stdout


def test_hatchling_project_is_built_here_and_uv_sees_its_editable_install(tmp_path: Path, jail: Jail,
                                                                         builder_cache: Path) -> None:
    # The project's wheel is built on the build side; the target gets no build backend at all, and uv
    # there takes the installed wheel for the editable install of the shipped sources that the lock asks.
    project = tmp_path / "hat"
    (project / "src" / "hat").mkdir(parents=True)
    (project / "src" / "hat" / "__init__.py").write_text("def main():\n    import six\n    print('hat ok')\n")
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "hat"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["six"]
        [project.scripts]
        hat = "hat:main"
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """))
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True)
    run_file = build(project, tmp_path / "hat.run", "--python", PY)
    import zipfile

    names = zipfile.ZipFile(run_file).namelist()
    assert "wheelhouse/hat-0.1.0-py3-none-any.whl" in names
    assert not any(n.startswith(("wheelhouse/hatchling-", "wheelhouse/editables-")) for n in names)
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    assert "hat ok" in jail.run([str(prefix / "bin" / "hat")]).stdout
    assert "Would make no changes" in uv_in(jail, prefix, "sync", "--locked", "--dry-run").stderr
    assert "hat ok" in uv_in(jail, prefix, "run", "hat").stdout
    record = json.loads(next((prefix / "current" / ".venv").glob("lib/*/site-packages/hat-*.dist-info/direct_url.json"))
                        .read_text())
    assert record == {"url": (prefix / "current").resolve().as_uri(), "dir_info": {"editable": True}}
