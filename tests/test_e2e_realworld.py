"""Real projects work as they are (issues 11 and 21): a corpus of projects shaped like popular public
uv projects, each built with the defaults a user would use, installed in the no-network jail with every
compiler and build tool hidden, and run with plain `uv run`.

Each fixture is modelled on a kind of public project:
- speedy: pallets/markupsafe. setuptools, src layout, `dynamic = ["version"]` from an attribute, an
  optional C speed-up with a pure-Python fallback in setup.py.
- ccore: ujson's and pyyaml's C cores. setuptools, flat layout, a C extension that must compile.
- cffipkg: argon2-cffi-bindings, bcrypt before Rust. setuptools + `cffi_modules`, cffi at run time.
- skbuild: scikit-build/scikit-build-sample-projects. scikit-build-core + CMake, a C module.
- vcsver: projects on hatch-vcs. `[tool.hatch.version] source = "vcs"`, the version from a git tag,
  no .git on the target; `--no-dev` too (a re-lock in a staged copy).
- monorepo: uv's documented workspace with a virtual root (no `[project]`), members under packages/,
  one of them with C code; built as `--package app` and from the member's directory.
- pinned: projects that commit pyenv's `.python-version` with an exact patch the host does not have.
- settings: `[tool.uv]` settings: `build-constraint-dependencies`, an explicit index pinned by
  `[tool.uv.sources]`, `cache-keys` with globs and git; uv must not warn about shadowed settings.
"""

from __future__ import annotations

import glob
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from airgap_installer.cli import main
from airgap_installer.uvbin import builder_uv
from tests.conftest import REPO, target_python
from tests.helpers import build, git, install, uv_in, write
from tests.index import LocalIndex
from tests.jail import Jail

pytestmark = pytest.mark.pypi
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"

# Everything that compiles or drives a compiler: the target must need none of it.
BUILD_TOOLS = sorted({*glob.glob("/usr/bin/*gcc*"), *glob.glob("/usr/bin/*g++*"), *glob.glob("/usr/bin/*-ld*"),
                      *(f"/usr/bin/{t}" for t in ("cc", "c++", "cpp", "ld", "as", "cmake", "ninja", "meson", "make"))})


def lock(project: Path) -> None:
    subprocess.run([builder_uv(), "lock", "--quiet", "--python", sys.executable, "--project", str(project)],
                   check=True)


@pytest.fixture
def bare_host(jail: Jail, tmp_path: Path) -> Jail:
    """A target with no compiler, no build tools and none of this machine's sources."""
    jail.masked += [t for t in BUILD_TOOLS if Path(t).exists()]
    jail.hidden += [str(Path.home() / ".cargo"), str(Path.home() / ".rustup")]
    return jail


def no_compiler_here(jail: Jail) -> None:
    assert jail.run(["cc", "--version"], check=False).returncode != 0, "the jail must hide the compiler"


def in_sync(jail: Jail, prefix: Path, *args: str) -> None:
    dry = uv_in(jail, prefix, "sync", "--locked", "--dry-run", *args)
    assert "Would make no changes" in dry.stdout + dry.stderr, dry.stdout + dry.stderr


# --- projects -------------------------------------------------------------------------------------------

def speedy(root: Path) -> Path:
    """markupsafe's shape: an optional C speed-up; without a compiler the build falls back to Python."""
    write(root / "pyproject.toml", """\
        [project]
        name = "speedy"
        dynamic = ["version"]
        requires-python = ">=3.9"
        [project.scripts]
        speedy = "speedy.cli:main"
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "setuptools.build_meta"
        [tool.setuptools.dynamic]
        version = {attr = "speedy.__version__"}
        """)
    write(root / "setup.py", """\
        from setuptools import Extension, setup
        from setuptools.command.build_ext import build_ext


        class optional_build_ext(build_ext):
            def run(self):
                try:
                    super().run()
                except Exception as exc:  # markupsafe: "speedups are not enabled"
                    print("WARNING: the C extension could not be compiled:", exc)

        setup(ext_modules=[Extension("speedy._speedups", ["src/speedy/_speedups.c"], optional=True)],
              cmdclass={"build_ext": optional_build_ext})
        """)
    write(root / "src" / "speedy" / "__init__.py", """\
        __version__ = "2.1.5"
        try:
            from ._speedups import double
            KIND = "C"
        except ImportError:
            def double(x):
                return 2 * x
            KIND = "Python"
        """)
    write(root / "src" / "speedy" / "cli.py", """\
        import speedy
        def main():
            print(f"speedy {speedy.__version__} {speedy.KIND} {speedy.double(21)}")
        """)
    write(root / "src" / "speedy" / "_speedups.c", """\
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>
        static PyObject *double_(PyObject *self, PyObject *arg) {
            return PyNumber_Multiply(arg, PyLong_FromLong(2));
        }
        static PyMethodDef methods[] = {{"double", double_, METH_O, NULL}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};
        PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
        """)
    lock(root)
    return root


def ccore(root: Path, name: str = "ccore") -> Path:
    """A package whose core is C (ujson's shape): setuptools, flat layout, the extension must compile."""
    write(root / "pyproject.toml", f"""\
        [project]
        name = "{name}"
        version = "5.10.0"
        requires-python = ">=3.9"
        [project.scripts]
        {name} = "{name}.cli:main"
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "setuptools.build_meta"
        [tool.setuptools]
        packages = ["{name}"]
        """)
    write(root / "setup.py", f"""\
        from setuptools import Extension, setup
        setup(ext_modules=[Extension("{name}._core", ["{name}/_core.c"])])
        """)
    write(root / name / "__init__.py", "from ._core import answer\n")
    write(root / name / "cli.py", f"""\
        import {name}
        def main():
            print("{name} answer", {name}.answer())
        """)
    write(root / name / "_core.c", """\
        #include <Python.h>
        static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
        static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};
        PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
        """)
    return root


# --- tests ----------------------------------------------------------------------------------------------

def test_optional_c_speedup_is_compiled_here_and_runs_on_a_host_without_a_compiler(
        tmp_path: Path, bare_host: Jail, builder_cache: Path) -> None:
    project = speedy(tmp_path / "speedy")
    run_file = build(project, tmp_path / "speedy.run", "--python", PY)
    manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
    assert manifest["version"] == "2.1.5"  # the dynamic version, as the wheel built here has it
    [local] = manifest["local_packages"]
    assert local["wheel"].startswith(f"speedy-2.1.5-cp{sys.version_info[0]}{sys.version_info[1]}-")
    bare_host.hidden.append(str(project))
    no_compiler_here(bare_host)
    prefix = tmp_path / "opt"
    install(bare_host, run_file, prefix, "--python", target_python())
    # The C speed-up, compiled on the build side, is what runs: no fallback to Python.
    assert "speedy 2.1.5 C 42" in uv_in(bare_host, prefix, "run", "speedy").stdout
    assert "speedy 2.1.5 C 42" in bare_host.run([str(prefix / "bin" / "speedy")]).stdout
    in_sync(bare_host, prefix)
    uv_in(bare_host, prefix, "sync", "--locked")
    uv_in(bare_host, prefix, "lock", "--check")


def test_c_extension_package_installs_with_no_compiler_on_the_host(tmp_path: Path, bare_host: Jail,
                                                                   builder_cache: Path) -> None:
    project = ccore(tmp_path / "ccore")
    lock(project)
    run_file = build(project, tmp_path / "ccore.run", "--python", PY)
    names = zipfile.ZipFile(run_file).namelist()
    assert not any(n.startswith("wheelhouse/setuptools-") for n in names), "no build backend travels"
    bare_host.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(bare_host, run_file, prefix, "--python", target_python())
    assert "ccore answer 42" in uv_in(bare_host, prefix, "run", "ccore").stdout
    in_sync(bare_host, prefix)


def test_a_compiled_project_for_a_foreign_platform_is_refused_up_front(tmp_path: Path, builder_cache: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    project = ccore(tmp_path / "ccore")
    lock(project)
    out = tmp_path / "arm.run"
    assert main(["build", str(project), "--dry-run", "--python", PY]) == 0
    assert "compiled here (setup.py: ext_modules)" in capsys.readouterr().out
    arm = ["--python", PY, "--python-platform", "aarch64-manylinux_2_28"]
    assert main(["build", str(project), "--dry-run", *arm]) == 1
    assert "PROBLEM ccore has compiled code" in capsys.readouterr().out
    rc = main(["build", str(project), "-o", str(out), "--python", PY, "--python-platform", "aarch64-manylinux_2_28"])
    err = capsys.readouterr().err
    assert rc == 1 and not out.exists()
    assert "ccore has compiled code" in err and "cannot be compiled here for aarch64-manylinux_2_28" in err
    assert "TIP " in err and "matches the target" in err


def test_cffi_module_is_built_here(tmp_path: Path, bare_host: Jail, builder_cache: Path) -> None:
    project = tmp_path / "cffipkg"
    write(project / "pyproject.toml", """\
        [project]
        name = "cffipkg"
        version = "21.2.0"
        requires-python = ">=3.9"
        dependencies = ["cffi>=1.0.1"]
        [project.scripts]
        cffipkg = "cffipkg:main"
        [build-system]
        requires = ["setuptools>=70", "cffi>=1.0.1"]
        build-backend = "setuptools.build_meta"
        [tool.setuptools.packages.find]
        where = ["src"]
        """)
    write(project / "setup.py", """\
        from setuptools import setup
        setup(cffi_modules=["src/cffipkg/_ffi_build.py:ffi"])
        """)
    write(project / "src" / "cffipkg" / "_ffi_build.py", """\
        from cffi import FFI
        ffi = FFI()
        ffi.set_source("cffipkg._ffi", "static int add(int a, int b) { return a + b; }")
        ffi.cdef("int add(int a, int b);")
        """)
    write(project / "src" / "cffipkg" / "__init__.py", """\
        def main():
            from cffipkg._ffi import lib
            print("cffi add", lib.add(40, 2))
        """)
    lock(project)
    run_file = build(project, tmp_path / "cffi.run", "--python", PY)
    bare_host.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(bare_host, run_file, prefix, "--python", target_python())
    assert "cffi add 42" in uv_in(bare_host, prefix, "run", "cffipkg").stdout
    in_sync(bare_host, prefix)


def test_scikit_build_core_module_is_built_here(tmp_path: Path, bare_host: Jail, builder_cache: Path) -> None:
    project = tmp_path / "skbuild"
    write(project / "pyproject.toml", """\
        [project]
        name = "skbuild-demo"
        version = "0.4.0"
        requires-python = ">=3.9"
        [project.scripts]
        skdemo = "skbuild_demo:main"
        [build-system]
        requires = ["scikit-build-core>=0.10"]
        build-backend = "scikit_build_core.build"
        [tool.scikit-build]
        wheel.packages = ["src/skbuild_demo"]
        """)
    write(project / "CMakeLists.txt", """\
        cmake_minimum_required(VERSION 3.15)
        project(${SKBUILD_PROJECT_NAME} LANGUAGES C)
        find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
        python_add_library(_native MODULE src/native.c WITH_SOABI)
        install(TARGETS _native DESTINATION skbuild_demo)
        """)
    write(project / "src" / "native.c", """\
        #include <Python.h>
        static PyObject *triple(PyObject *self, PyObject *arg) { return PyNumber_Multiply(arg, PyLong_FromLong(3)); }
        static PyMethodDef methods[] = {{"triple", triple, METH_O, NULL}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
        PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
        """)
    write(project / "src" / "skbuild_demo" / "__init__.py", """\
        def main():
            from skbuild_demo._native import triple
            print("cmake triple", triple(14))
        """)
    lock(project)
    run_file = build(project, tmp_path / "sk.run", "--python", PY)
    bare_host.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(bare_host, run_file, prefix, "--python", target_python())
    assert "cmake triple 42" in uv_in(bare_host, prefix, "run", "skdemo").stdout
    in_sync(bare_host, prefix)


def test_version_from_git_needs_no_git_on_the_target(tmp_path: Path, bare_host: Jail, builder_cache: Path) -> None:
    project = tmp_path / "vcsver"
    write(project / "pyproject.toml", """\
        [project]
        name = "vcsver"
        dynamic = ["version"]
        requires-python = ">=3.9"
        dependencies = ["six"]
        [project.scripts]
        vcsver = "vcsver:main"
        [dependency-groups]
        dev = ["iniconfig"]
        [build-system]
        requires = ["hatchling", "hatch-vcs"]
        build-backend = "hatchling.build"
        [tool.hatch.version]
        source = "vcs"
        """)
    write(project / "src" / "vcsver" / "__init__.py", """\
        from importlib.metadata import version
        def main():
            print("vcsver", version("vcsver"))
        """)
    write(project / ".gitignore", ".venv/\n")
    git("init", "-q", cwd=project)
    lock(project)
    git("add", "-A", cwd=project)
    git("commit", "-qm", "release", cwd=project)
    git("tag", "v1.4.2", cwd=project)
    for args in ((), ("--no-dev",)):
        run_file = build(project, tmp_path / f"vcs{len(args)}.run", "--python", PY, *args)
        manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
        assert manifest["version"] == "1.4.2"
        assert not any(n.startswith("project/.git/") for n in zipfile.ZipFile(run_file).namelist())
        prefix = tmp_path / f"opt{len(args)}"
        jail = bare_host
        jail.hidden.append(str(project))
        out = install(jail, run_file, prefix, "--python", target_python()).stdout
        assert "vcsver 1.4.2" in out or (prefix / "releases").glob("1.4.2-*")
        assert "vcsver 1.4.2" in uv_in(jail, prefix, "run", "vcsver").stdout
        in_sync(jail, prefix)


def test_virtual_workspace_root_member_by_flag_or_by_directory(tmp_path: Path, bare_host: Jail,
                                                               builder_cache: Path) -> None:
    root = tmp_path / "monorepo"
    write(root / "pyproject.toml", """\
        [tool.uv.workspace]
        members = ["packages/*"]
        [dependency-groups]
        dev = ["iniconfig"]
        """)
    write(root / "packages" / "app" / "pyproject.toml", """\
        [project]
        name = "app"
        version = "0.3.0"
        requires-python = ">=3.9"
        dependencies = ["fastcore", "six"]
        [project.scripts]
        app = "app:main"
        [tool.uv.sources]
        fastcore = { workspace = true }
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """)
    write(root / "packages" / "app" / "src" / "app" / "__init__.py", """\
        import fastcore
        def main():
            print("app with fastcore", fastcore.answer())
        """)
    ccore(root / "packages" / "fastcore", name="fastcore")
    lock(root)
    prefix = tmp_path / "opt"
    bare_host.hidden.append(str(root))
    for i, (where, args) in enumerate(((root, ("--package", "app")), (root / "packages" / "app", ()))):
        run_file = build(where, tmp_path / f"app{i}.run", "--python", PY, *args)
        out = install(bare_host, run_file, prefix, "--python", target_python()).stdout
        assert "app 0.3.0" in out or "app" in out
        assert "app with fastcore 42" in bare_host.run([str(prefix / "bin" / "app")]).stdout
        assert "app with fastcore 42" in uv_in(bare_host, prefix, "run", "--package", "app", "app").stdout
        in_sync(bare_host, prefix, "--package", "app")


def test_pyenv_python_version_with_a_patch_the_host_does_not_have(tmp_path: Path, tiny_project: object,
                                                                  jail: Jail, builder_cache: Path) -> None:
    project = tiny_project(name="pinned")  # type: ignore[operator]
    host = target_python()
    host_version = subprocess.run([host, "-c", "import platform; print(platform.python_version())"],
                                  capture_output=True, text=True, check=True).stdout.strip()
    major, minor, patch = host_version.split(".")[:3]
    other = f"{major}.{minor}.{int(patch) + 3}"  # the developer's exact version: not the host's
    (project / ".python-version").write_text(other + "\n")
    run_file = build(project, tmp_path / "pinned.run")  # no --python: the project's .python-version decides
    manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
    assert manifest["python"] == f"{major}.{minor}"
    assert any(".python-version" in m for m in manifest["modified_files"])
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", host)
    assert (prefix / "current" / ".python-version").read_text().strip() == f"{major}.{minor}"
    assert "tiny ok" in uv_in(jail, prefix, "run", "pinned").stdout
    in_sync(jail, prefix)


def test_tool_uv_settings_are_honoured_and_uv_says_nothing_about_shadowing(
        tmp_path: Path, jail: Jail, builder_cache: Path, local_index: LocalIndex) -> None:
    project = tmp_path / "settings"
    write(project / "pyproject.toml", f"""\
        [project]
        name = "settings"
        version = "1.0.0"
        requires-python = ">=3.9"
        dependencies = ["six", "gamma"]
        [project.scripts]
        settings = "settings:main"
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [tool.uv]
        build-constraint-dependencies = ["hatchling<1.26"]
        cache-keys = [{{ file = "pyproject.toml" }}, {{ file = "src/**/*.py" }}, {{ git = {{ commit = true }} }}]
        [tool.uv.sources]
        gamma = {{ index = "internal" }}
        [[tool.uv.index]]
        name = "internal"
        url = "{local_index.url}"
        explicit = true
        """)
    write(project / "src" / "settings" / "__init__.py", """\
        import gamma, six
        def main():
            print("settings ok", gamma.VERSION)
        """)
    lock(project)
    run_file = build(project, tmp_path / "settings.run", "--python", PY)
    zf = zipfile.ZipFile(run_file)
    manifest = json.loads(zf.read("manifest.json"))
    [local] = manifest["local_packages"]
    wheel = zipfile.ZipFile(__import__("io").BytesIO(zf.read(f"wheelhouse/{local['wheel']}")))
    generator = next(line for line in wheel.read("settings-1.0.0.dist-info/WHEEL").decode().splitlines()
                     if line.startswith("Generator:"))
    assert "hatchling 1.25" in generator  # build-constraint-dependencies applied to the build
    jail.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    run = uv_in(jail, prefix, "run", "settings")
    assert "settings ok 1.0" in run.stdout
    assert "Found both" not in run.stderr and "ignored in favor" not in run.stderr, run.stderr
    assert not (prefix / "current" / "uv.toml").exists()  # the settings went into [tool.uv]
    in_sync(jail, prefix)


def test_required_version_that_the_bundled_uv_does_not_meet_is_refused(
        tmp_path: Path, tiny_project: object, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(name="needsnew")  # type: ignore[operator]
    with (project / "pyproject.toml").open("a") as f:  # after locking: this uv would refuse to lock it
        f.write('[tool.uv]\nrequired-version = ">=0.99"\n')
    assert main(["build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY]) == 1
    err = capsys.readouterr().err
    assert "required-version" in err and "0.13.9" in err and "TIP " in err


def test_help_is_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "only module" not in out and "self-extracting" in out
    assert REPO.exists()


def test_pep723_script_with_its_lock(tmp_path: Path, jail: Jail, builder_cache: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The way many teams ship a tool: one file with inline metadata, locked by `uv lock --script`.
    tools = tmp_path / "tools"
    write(tools / "report.py", """\
        # /// script
        # requires-python = ">=3.9"
        # dependencies = ["six>=1.16", "iniconfig"]
        # ///
        import sys
        import iniconfig, six
        print("report ok", six.__version__, sys.argv[1:])
        """)
    (tools / "secrets.env").write_text("TOKEN=do-not-ship\n")  # beside the script: must stay home
    assert main(["build", str(tools / "report.py"), "-o", str(tmp_path / "r.run")]) == 1
    assert "uv lock --script report.py" in capsys.readouterr().err  # no lock: say how to make one
    subprocess.run([builder_uv(), "lock", "--quiet", "--script", str(tools / "report.py")], check=True)
    run_file = build(tools / "report.py", tmp_path / "report.run", "--python", PY)
    names = zipfile.ZipFile(run_file).namelist()
    assert "project/report.py" in names and not any("secrets" in n for n in names)
    jail.hidden.append(str(tools))
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    assert "report ok" in jail.run([str(prefix / "bin" / "report"), "a", "b"]).stdout
    assert "['x']" in uv_in(jail, prefix, "run", "report.py", "x").stdout
    # A stale lock is refused.
    text = (tools / "report.py").read_text().replace('"iniconfig"]', '"iniconfig", "packaging"]')
    (tools / "report.py").write_text(text)
    assert main(["build", str(tools / "report.py"), "-o", str(tmp_path / "stale.run"), "--python", PY]) == 1
    assert "report.py.lock is out of date" in capsys.readouterr().err


def test_extra_build_dependencies_reach_the_build_here(tmp_path: Path, jail: Jail, builder_cache: Path) -> None:
    # A setup.py that needs a package its build-system does not list: `[tool.uv] extra-build-dependencies`
    # gives it, as uv applies it when it builds the project itself.
    project = tmp_path / "extbuild"
    write(project / "pyproject.toml", """\
        [project]
        name = "extbuild"
        version = "1.0"
        requires-python = ">=3.9"
        [project.scripts]
        extbuild = "extbuild:main"
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "setuptools.build_meta"
        [tool.uv]
        extra-build-dependencies = { extbuild = ["six"] }
        """)
    write(project / "setup.py", """\
        import six  # only the extra build dependency provides it
        from setuptools import setup
        setup(package_dir={"": "src"}, packages=["extbuild"])
        """)
    write(project / "src" / "extbuild" / "__init__.py", "def main():\n    print('extbuild ok')\n")
    lock(project)
    run_file = build(project, tmp_path / "ext.run", "--python", PY)
    jail.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python())
    assert "extbuild ok" in uv_in(jail, prefix, "run", "extbuild").stdout
    in_sync(jail, prefix)


BACKENDS = {
    # backend: (build-system requires, build-backend, layout); modelled on tomli (flit_core), pdm's own
    # projects (pdm-backend), and poetry 2 projects with a [project] table (poetry-core).
    "flit": ('"flit_core>=3.9,<4"', "flit_core.buildapi", "flat"),
    "pdm": ('"pdm-backend"', "pdm.backend", "src"),
    "poetry": ('"poetry-core>=2.0"', "poetry.core.masonry.api", "src"),
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_other_build_backends(backend: str, tmp_path: Path, bare_host: Jail, builder_cache: Path) -> None:
    requires, build_backend, layout = BACKENDS[backend]
    name = f"with{backend}"
    project = tmp_path / name
    write(project / "pyproject.toml", f"""\
        [project]
        name = "{name}"
        version = "0.5.0"
        description = "a project built with {backend}"
        requires-python = ">=3.9"
        dependencies = ["six"]
        [project.scripts]
        {name} = "{name}:main"
        [build-system]
        requires = [{requires}]
        build-backend = "{build_backend}"
        """)
    package = project / ("src" if layout == "src" else "") / name
    write(package / "__init__.py", f'"""{name}."""\n__version__ = "0.5.0"\ndef main():\n    print("{name} ok")\n')
    lock(project)
    run_file = build(project, tmp_path / f"{name}.run", "--python", PY)
    bare_host.hidden.append(str(project))
    prefix = tmp_path / "opt"
    install(bare_host, run_file, prefix, "--python", target_python())
    assert f"{name} ok" in uv_in(bare_host, prefix, "run", name).stdout
    in_sync(bare_host, prefix)
