"""Wheels built on the build side, so that nothing is built on the target (no compiler, no build backend,
no git there):

- git packages, sdist-only registry packages and direct URL sdists (`build_wheel`);
- local packages: the project, workspace members and path dependencies (`build_local`). They are
  built with the project's own uv settings (build constraints, extra build dependencies, config
  settings, indexes), from the repository itself, so a version taken from git is right; the target
  installs the wheel and records it as uv's (editable) install of the shipped directory
  (runtime/uvrecords.py).

Every build goes through the builder's uv (`uv build --wheel`) and is tried once: with the builder's own
Python, which gives the same wheel for pure-Python code whatever the target's version; a wheel with
compiled code is built again with a CPython of the target's version when this machine can run one for
the target's platform, and is refused otherwise. Built wheels are cached under a key of their inputs,
so a warm rebuild builds nothing and stays byte-identical. SOURCE_DATE_EPOCH (fixed when unset) makes
the common backends write reproducible wheels.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from airgap_installer.auth import Credentials
from airgap_installer.cache import Cache, sha256_file
from airgap_installer.errors import AirgapError, FetchError, PlanError, UvError
from airgap_installer.fetch import fetch
from airgap_installer.lock import Artifact, Package, workspace_members
from airgap_installer.plan import Plan, WheelRanker
from airgap_installer.project import Project
from airgap_installer.sources import Tree
from airgap_installer.target import Target, host_platform_name, parse_platform
from airgap_installer.uvbin import run_uv
from airgap_installer.uvwheels import UV_VERSION

REPRODUCIBLE_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip can hold


def host_can_build_for(target: Target) -> bool:
    """Compiled code built here runs on the target: same OS, CPU and C library family."""
    host = parse_platform(host_platform_name())
    plat = target.platform
    return (host.os, host.arch, host.libc) == (plat.os, plat.arch, plat.libc)


def target_interpreter(target: Target) -> str | None:
    """A CPython of the target's minor version on this machine, found without downloading (only needed
    for compiled code)."""
    if tuple(sys.version_info[:2]) == target.python:
        return sys.executable
    try:
        found = run_uv(["python", "find", "--no-python-downloads", "--no-project", target.python_version])
    except UvError:
        return None
    return found.strip() or None


def fits(filename: str, target: Target) -> bool:
    """The wheel runs on the target: one of its tags is the target's; or it was compiled on this machine
    (`linux_<arch>`, as a local build tags it) for the target's Python, OS, CPU and C library."""
    if WheelRanker(target.tags()).rank(filename) is not None:
        return True
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    local = f"linux_{target.platform.arch}"

    def runs(interpreter: str, abi: str) -> bool:
        if interpreter == f"cp{target.python[0]}{target.python[1]}":
            return True
        return abi == "abi3" and interpreter.startswith("cp3") and int(interpreter[3:] or 99) <= target.python[1]

    return host_can_build_for(target) and any(t.platform == local and runs(t.interpreter, t.abi) for t in tags)


def _uv_build(source: list[str], out: Path, python: str, *, cwd: Path | None, own_config: bool,
              offline: bool) -> Path:
    """`uv build --wheel` once; uv's own output on failure. `own_config`: a local package is built with
    the project's uv settings; a registry sdist or a git checkout with none of ours (`--no-config`)."""
    args = ["build", "--wheel", "--quiet", "--python", python, "--no-python-downloads", "--out-dir", str(out)]
    if not own_config:
        args.append("--no-config")
    if offline:
        args.append("--offline")
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)}
    run_uv([*args, *source], cwd=cwd, env=env)
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise PlanError(f"building {' '.join(source) or cwd} gave {len(wheels)} wheels, expected 1")
    return wheels[0]


_COMPILING_BACKENDS = {"scikit_build_core": "scikit-build-core", "mesonpy": "meson-python", "maturin": "maturin",
                       "pdm.backend": "", "setuptools": ""}


def compiled_reason(project: Project) -> str:
    """Why a local package probably has compiled code (for `--dry-run`; the build decides): its backend
    compiles (scikit-build-core, meson-python, maturin), or its setup.py declares extensions."""
    backend = (project.build_backend or "").split(".")[0] if project.build_backend != "pdm.backend" else "pdm"
    if _COMPILING_BACKENDS.get(backend):
        return f"compiled here ({_COMPILING_BACKENDS[backend]})"
    setup = project.root / "setup.py"
    text = setup.read_text(encoding="utf-8", errors="replace") if setup.is_file() else ""
    for marker in ("cffi_modules", "ext_modules", "Extension(", "Pybind11Extension", "cythonize"):
        if marker in text:
            return f"compiled here (setup.py: {marker.rstrip('(')})"
    return f"pure Python ({project.build_backend or 'setuptools, by default'})"


class ForeignBuild(PlanError):
    """Compiled code that cannot be built here for the target."""


def build_for_target(name: str, source: list[str], work: Path, target: Target, *, cwd: Path | None = None,
                     own_config: bool = False, offline: bool = False) -> Path:
    """Build with the builder's Python; a compiled wheel that does not fit is built again with the
    target's Python when this machine can, else refused (ForeignBuild)."""
    built = _uv_build(source, work / "out", sys.executable, cwd=cwd, own_config=own_config, offline=offline)
    if fits(built.name, target):
        return built
    why = f"{name} has compiled code (built {built.name} here)"
    if not host_can_build_for(target):
        raise ForeignBuild(f"{why}, which cannot be compiled here for {target.platform.name}")
    python = target_interpreter(target)
    if python is None:
        raise ForeignBuild(f"{why}, and this machine has no CPython {target.python_version} to build it for "
                           f"the target")
    built = _uv_build(source, work / "out-target", python, cwd=cwd, own_config=own_config, offline=offline)
    if not fits(built.name, target):
        raise ForeignBuild(f"{why}; with {python} it gave {built.name}, which does not run on {target.slug}")
    return built


def _checkout(package: Package, dest: Path) -> Path:
    assert package.vcs is not None
    vcs = package.vcs
    try:
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", vcs.url, str(dest)], check=True,
                       capture_output=True, text=True)
        subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", vcs.commit], check=True,
                       capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise FetchError("git is needed on the build machine for git dependencies", hint="install git") from exc
    except subprocess.CalledProcessError as exc:
        raise FetchError(f"{package.name}: cannot check out {vcs.url} at {vcs.commit}: {exc.stderr.strip()}",
                         hint="the build machine must reach the git remote the lock names "
                              "(credentials as git uses them: a credential helper, ssh keys)") from exc
    return dest / vcs.subdirectory if vcs.subdirectory else dest


def build_key(package: Package, target: Target) -> str:
    sdist = package.sdist or package.archive
    source = package.vcs.commit if package.vcs else (sdist.sha256 if sdist else "")
    return hashlib.sha256(json.dumps([package.name, package.version, source, target.slug]).encode()).hexdigest()


def _cached_or_build(cache: Cache, done: Path, build: Callable[[Path], Path]) -> Artifact:
    existing = sorted(done.glob("*.whl")) if done.is_dir() else []
    if existing:
        wheel = existing[0]
    else:
        with tempfile.TemporaryDirectory(prefix="airgap-build-") as tmp:
            built = build(Path(tmp))
            done.mkdir(parents=True, exist_ok=True)
            wheel = done / built.name
            shutil.copyfile(built, wheel)
    sha256 = sha256_file(wheel)
    if not cache.has(sha256):  # into the sha256 store too: the payload is written from there, --offline too
        cache.put_file(wheel, sha256)
    return Artifact(url=wheel.as_uri(), sha256=sha256, size=wheel.stat().st_size, filename=wheel.name)


def build_wheel(package: Package, target: Target, cache: Cache, *, offline: bool = False) -> Artifact:
    """The wheel for a git package, an sdist-only registry package or a direct URL sdist, built once and
    cached."""

    def build(work: Path) -> Path:
        if package.vcs is not None:
            source = _checkout(package, work / "src")
        else:
            sdist = package.sdist or package.archive  # a registry sdist or a direct URL one
            assert sdist is not None
            source = work / sdist.filename
            shutil.copyfile(cache.path(sdist.sha256), source)
        return build_for_target(package.name, [str(source)], work, target, offline=offline)

    return _cached_or_build(cache, cache.root / "built" / build_key(package, target), build)


@dataclass(frozen=True)
class LocalSource:
    """A local package to build: its directory, how uv names it, and what its wheel depends on."""

    name: str
    directory: Path  # absolute, in the repository
    member: bool  # a workspace member (built with `--package`), else a path
    files: tuple[Path, ...]  # the files that travel for it: their contents key the cache
    vcs_version: bool  # its version comes from git: the repository's state keys the cache too


def _git_state(directory: Path) -> str:
    proc = subprocess.run(["git", "-C", str(directory), "describe", "--tags", "--long", "--dirty", "--always"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def local_key(source: LocalSource, workspace: Path, target: Target, settings: Iterable[Path]) -> str:
    digest = hashlib.sha256(json.dumps([UV_VERSION, source.name, os.path.relpath(source.directory, workspace),
                                        target.slug, sys.version]).encode())
    for path in [*sorted(source.files), *settings]:
        digest.update(str(path).encode() + b"\0")
        digest.update(sha256_file(path).encode() if path.is_file() else b"<none>")
    if source.vcs_version:
        digest.update(_git_state(source.directory).encode())
    return digest.hexdigest()


def build_local(source: LocalSource, workspace: Path, target: Target, cache: Cache, *, offline: bool,
                settings: Iterable[Path]) -> Artifact:
    """The wheel of a local package, built from the repository with the project's uv settings (run in the
    workspace, so that uv applies them as `uv sync` would), cached by its files and the target."""

    def build(work: Path) -> Path:
        if source.directory == workspace:
            args: list[str] = []
        elif source.member:
            args = ["--package", source.name]
        else:
            args = [str(source.directory)]
        return build_for_target(source.name, args, work, target, cwd=workspace, own_config=True, offline=offline)

    key = local_key(source, workspace, target, settings)
    return _cached_or_build(cache, cache.root / "built-local" / key, build)


def build_wheels(plan: Plan, cache: Cache, *, base: Path, offline: bool, jobs: int,
                 credentials: Credentials) -> tuple[list[tuple[Package, Artifact]], list[AirgapError]]:
    """Git packages and sdist-only packages -> wheels. Failures are returned, to be raised once with
    those of the local packages."""
    fetch([s.artifact for s in plan.builds if s.artifact is not None], cache, base=base, offline=offline, jobs=jobs,
          credentials=credentials)
    built: list[tuple[Package, Artifact]] = []
    problems: list[AirgapError] = []
    for step in plan.builds:
        try:
            built.append((step.package, build_wheel(step.package, plan.target, cache, offline=offline)))
        except AirgapError as exc:
            problems.append(exc)
    return built, problems


def local_sources(plan: Plan, project: Project, tree: Tree,
                  locals_: list[Project]) -> list[tuple[Package, LocalSource]]:
    """The local packages the plan installs, with what keys their builds."""
    members = set(workspace_members(project.lock_path.read_text(encoding="utf-8")))
    by_dir = {p.root: p for p in locals_}
    out = []
    for step in plan.locals:
        assert step.package.directory is not None
        directory = (project.root / step.package.directory).resolve()
        local = by_dir.get(directory)
        files = tuple(path for _, path, _ in tree.files if path.resolve().is_relative_to(directory))
        out.append((step.package, LocalSource(step.package.name, directory, step.package.name in members, files,
                                              bool(local and "version" in local.dynamic))))
    return out


# Dynamic fields uv must run the build backend for when it checks uv.lock (a dynamic version it does not).
NEEDS_BACKEND = ("dependencies", "optional-dependencies")


def check_static_metadata(plan: Plan, project: Project, tree: Tree, locals_: list[Project]) -> None:
    """uv checks uv.lock against each local package's metadata (`uv sync --locked` here, plain `uv run` on
    the target). Dependencies that are dynamic (from a file, a hook, git) make it run the build backend,
    which an offline target cannot fetch: refused before anything is fetched, not after it is installed."""
    by_dir = {p.root: p for p in locals_}
    dynamic = []
    for package, source in local_sources(plan, project, tree, locals_):
        local = by_dir.get(source.directory)
        fields = [f for f in NEEDS_BACKEND if local is not None and f in local.dynamic]
        if fields:
            dynamic.append(f"{package.name} ({' and '.join(fields)})")
    if dynamic:
        raise PlanError(f"{'; '.join(dynamic)}: dynamic in pyproject.toml, so uv on the target would have to run "
                        "the build backend to check uv.lock, and it cannot get one offline",
                        hint="list them in [project] itself (e.g. `dependencies = [...]` instead of a file or a "
                             "metadata hook); a dynamic `version` is fine")


def build_locals(plan: Plan, project: Project, tree: Tree, locals_: list[Project], cache: Cache, *,
                 offline: bool) -> tuple[list[tuple[Package, Artifact]], list[AirgapError]]:
    """The local packages' wheels, built here from the repository; failures returned as for build_wheels."""
    settings = [project.root / "pyproject.toml", project.root / "uv.toml"]
    built: list[tuple[Package, Artifact]] = []
    problems: list[AirgapError] = []
    for package, source in local_sources(plan, project, tree, locals_):
        try:
            wheel = build_local(source, project.root, plan.target, cache, offline=offline, settings=settings)
        except AirgapError as exc:
            problems.append(exc)
            continue
        # A version taken from git (or computed by the backend) is the one the wheel got.
        built.append((replace(package, version=str(parse_wheel_filename(wheel.filename)[1])), wheel))
    return built, problems


def raise_build_problems(problems: list[AirgapError], target: Target) -> None:
    """Every build that failed, in one message."""
    if not problems:
        return
    if len(problems) == 1 and not isinstance(problems[0], ForeignBuild):
        raise problems[0]  # one failure keeps its own type and hint (e.g. a uv build error)
    foreign = any(isinstance(p, ForeignBuild) for p in problems)
    raise PlanError(f"{len(problems)} package(s) could not be built for {target.slug}: "
                    + "; ".join(map(str, problems)),
                    hint="pick versions with wheels for the target, build on a machine that matches the target"
                         + (" (same OS, CPU and C library, with its CPython)" if foreign else "")
                         + ", or give --complete-platform of the target")
