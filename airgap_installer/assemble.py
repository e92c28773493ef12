"""The pipeline: project -> lock -> plan -> fetch -> payload -> header -> one .run file."""

from __future__ import annotations

import logging
import os
import platform as host_platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from airgap_installer import __version__
from airgap_installer.auth import Credentials, index_credentials
from airgap_installer.build import (
    ForeignBuild,
    LocalSource,
    build_local,
    build_wheel,
    compiled_reason,
    host_can_build_for,
)
from airgap_installer.cache import Cache, default_cache_dir
from airgap_installer.errors import AirgapError, LockError, PlanError, TargetError, UsageError
from airgap_installer.export import export_lock
from airgap_installer.fetch import fetch
from airgap_installer.header import HeaderFields, render
from airgap_installer.interpreter import PythonArchive, bundled_python
from airgap_installer.lock import Artifact, Lock, Package, local_archives, local_paths, workspace_members
from airgap_installer.payload import DEFLATED, Member, ZipWriter
from airgap_installer.plan import Plan, Variant, direct_url, merge, os_floor, patch_variants, pin_lines
from airgap_installer.project import Project, load_project, workspace_of
from airgap_installer.relock import GroupChoice, relock_for_groups
from airgap_installer.report import Extra
from airgap_installer.report import render as render_report
from airgap_installer.runtime.manifest import (
    FORMAT,
    DirectRecord,
    LocalPackage,
    Manifest,
    PackageEntry,
    PinVariant,
)
from airgap_installer.sources import offline_config, project_files, ship_tree
from airgap_installer.target import Target, make_target, parse_python
from airgap_installer.uvbin import locate_uv_binary, target_uv_wheel
from airgap_installer.uvwheels import UV_VERSION

log = logging.getLogger(__name__)

ALIGN = 4096


@dataclass(frozen=True)
class Selection:
    """Which extras and groups to install, in uv's own flags (passed to `uv export` and `uv sync`)."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False
    no_dev: bool = False
    no_default_groups: bool = False
    only_groups: tuple[str, ...] = ()
    package: str | None = None
    all_packages: bool = False

    def groups_choice(self) -> GroupChoice:
        return GroupChoice(self.no_dev, self.no_default_groups, self.only_groups, self.groups)

    def uv_args(self) -> list[str]:
        args: list[str] = []
        for e in self.extras:
            args += ["--extra", e]
        if self.all_extras:
            args.append("--all-extras")
        for g in self.groups:
            args += ["--group", g]
        for g in self.only_groups:
            args += ["--only-group", g]
        if self.all_groups:
            args.append("--all-groups")
        if self.no_dev:
            args.append("--no-dev")
        if self.no_default_groups:
            args.append("--no-default-groups")
        if self.package:
            args += ["--package", self.package]
        if self.all_packages:
            args.append("--all-packages")
        return args


@dataclass(frozen=True)
class BuildRequest:
    project_dir: Path
    output: Path | None = None
    pythons: tuple[str, ...] = ()  # several give one installer per (python, platform)
    platforms: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()  # e.g. from --complete-platform; added to the above
    selection: Selection = field(default_factory=Selection)
    offline: bool = False
    cache_dir: Path | None = None
    jobs: int = 8
    bundle_python: bool = False
    python_archive: Path | None = None  # a local PBS archive; implies bundle_python
    python_mirror: str | None = None


@dataclass(frozen=True)
class BuildResult:
    path: Path
    name: str
    size: int
    payload_sha256: str
    plan: Plan
    local_wheels: tuple[Artifact, ...]


def default_python(project: Project) -> str:
    """The project's .python-version (its X.Y: pyenv writes an exact patch version, and the target host
    has whichever patch it has), else the builder's own Python if requires-python allows it."""
    pinned = project.root / ".python-version"
    if pinned.is_file():
        lines = [line.strip() for line in pinned.read_text(encoding="utf-8").splitlines()]
        requests = [line for line in lines if line and not line.startswith("#")]
        if requests:
            try:
                version, _ = parse_python(requests[0])
            except TargetError as exc:
                raise UsageError(f"{pinned} asks for {requests[0]!r}, which is not a CPython version this tool "
                                 "builds for", hint="pass --python X.Y (e.g. --python 3.12)") from exc
            return f"{version[0]}.{version[1]}"
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if project.requires_python.contains(f"{here}.0", prereleases=True) or not str(project.requires_python):
        return here
    raise UsageError(
        f"pass --python: this builder runs Python {here}, outside requires-python {project.requires_python}",
        hint="e.g. --python 3.12 (the Python version the target host has)",
    )


def _runtime_files() -> list[tuple[str, bytes]]:
    """The stdlib-only runtime, as `airgap_runtime/` plus a zipapp `__main__.py`."""
    package = resources.files("airgap_installer.runtime")
    files = [
        (f"airgap_runtime/{entry.name}", entry.read_bytes())
        for entry in sorted(package.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".py")
    ]
    main = b"from airgap_runtime.main import main\nraise SystemExit(main())\n"
    return [("__main__.py", main), *files]


def resolve_targets(request: BuildRequest, project: Project) -> list[Target]:
    explicit = bool(request.pythons or request.platforms) or not request.targets
    pythons = request.pythons or (str(project.config.get("python") or default_python(project)),)
    platforms: tuple[str | None, ...] = request.platforms or (project.config.get("python-platform"),)
    targets = [make_target(py, plat) for py in pythons for plat in platforms] if explicit else []
    targets += request.targets
    for target in targets:
        if not (project.requires_python.contains(f"{target.python_version}.0", prereleases=True)
                or project.requires_python.contains(f"{target.python_version}.99", prereleases=True)):
            raise UsageError(f"Python {target.python_version} is outside requires-python {project.requires_python}",
                             hint="choose a --python that the project supports")
    if len({t.slug for t in targets}) != len(targets):
        raise UsageError("the same target is named twice")
    return targets


def output_path(request: BuildRequest, project: Project, slug: str, several: bool) -> Path:
    """-o FILE for one target; with several targets -o is a directory and each file is named after its target
    as its wheels need it (cp312-x86_64-manylinux_2_17)."""
    name = f"install-{project.name}-{slug}.run"
    if request.output is None:
        return (Path("dist") / name).resolve()
    if several or request.output.is_dir():
        return (request.output / name).resolve()
    return request.output.resolve()


@dataclass(frozen=True)
class Tree:
    """The source tree that travels: the project and every local package, at their relative layout."""

    root: Path
    project_rel: str  # the project's directory inside the tree ("." when it is the root)
    files: list[tuple[str, Path, int]]
    modified: tuple[str, ...] = ()  # files that differ from the repository's, and why
    default_groups: tuple[str, ...] | None = None
    generated: tuple[tuple[str, bytes], ...] = ()  # files written for the target, replacing the tree's own

    @property
    def project_dir(self) -> Path:
        return (self.root / self.project_rel).resolve()

    def member(self, name: str) -> str:
        return in_project(self.project_rel, name)


def for_target(tree: Tree, target: Target) -> Tree:
    """The files the target needs to differ from the repository's: uv's offline settings (sources.py)
    and a `.python-version` that names an exact patch version (pyenv writes
    `3.11.7`): uv on the target would demand exactly that interpreter, so it says the target's X.Y."""
    name, text, note = offline_config(tree.project_dir)
    generated = [(tree.member(name), text.encode())]
    modified = [*tree.modified, *([note] if note else [])]
    names = {rel for rel, _, _ in tree.files}
    parts = [] if tree.project_rel == "." else tree.project_rel.split("/")
    for depth in range(len(parts), -1, -1):  # uv reads the nearest .python-version up to the workspace root
        rel = "/".join([*parts[:depth], ".python-version"])
        if rel in names:
            pinned = (tree.root / rel).read_text(encoding="utf-8").strip()
            if pinned != target.python_version:
                generated.append((rel, f"{target.python_version}\n".encode()))
                modified.append(f"{rel} ({pinned!r} -> {target.python_version!r}: any CPython "
                                f"{target.python_version} on the host)")
            break
    return replace(tree, generated=tuple(generated), modified=tuple(modified))


def in_project(project_rel: str, name: str) -> str:
    """A file of the project as a name inside the shipped tree."""
    return name if project_rel == "." else f"{project_rel}/{name}"


def source_tree(project: Project) -> Tree:
    if project.script:  # a script travels alone: its directory may hold anything
        path = project.root / project.script
        return Tree(project.root, ".", [(project.script, path, 0o644)], modified=(
            f"{project.lock_path.name} is not shipped: with it uv would fetch the lock's URLs; the wheelhouse holds "
            "exactly the locked files (sha256-checked here), so uv resolves offline to the same versions",))
    lock_text = project.lock_path.read_text(encoding="utf-8")
    local, archives = local_paths(lock_text), local_archives(lock_text)
    root, rel = ship_tree(project.root, [*local, *archives])
    dirs = [project.root, *((project.root / d).resolve() for d in local)]
    wheels = [(project.root / a).resolve() for a in archives]
    return Tree(root, rel, project_files(root, dirs, skip=[in_project(rel, "uv.toml")], also=wheels))


def stage(tree: Tree, dest: Path) -> Tree:
    """A copy of the tree to change files in (e.g. a re-lock). Its `.git` is a link to the repository's,
    so that uv can still ask a backend for a version taken from git."""
    for rel, path, mode in tree.files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(mode)
    top = subprocess.run(["git", "-C", str(tree.root), "rev-parse", "--show-toplevel"], capture_output=True,
                         text=True, check=False).stdout.strip()
    if top and (Path(top) / ".git").exists() and tree.root.resolve().is_relative_to(Path(top).resolve()):
        (dest / ".git").symlink_to(Path(top) / ".git")
    return Tree(dest, tree.project_rel, [(rel, dest / rel, mode) for rel, _, mode in tree.files])


def locate(directory: Path) -> tuple[Path, str | None]:
    """The project to build, and the member chosen by its directory: `build MEMBER_DIR` means
    `build WORKSPACE --package MEMBER`, as uv finds the workspace's lock from a member's directory."""
    if (directory / "uv.lock").is_file() or not (directory / "pyproject.toml").is_file():
        return directory, None
    root = workspace_of(directory)
    if root is None:
        return directory, None
    return root, load_project(directory).name


def as_installed(project: Project, selection: Selection) -> Project:
    """A virtual workspace root (no [project]) installs its members: the installer is named after the
    chosen member (its name, version, Python range), or carries every member's console scripts."""
    if not project.virtual:
        return project
    if not project.lock_path.is_file():
        raise LockError(f"no uv.lock in {project.root}")
    members = [load_project((project.root / path).resolve())
               for path in local_paths(project.lock_path.read_text(encoding="utf-8"))]
    if selection.package:
        chosen = next((m for m in members if m.name == canonicalize_name(selection.package)), None)
        if chosen is None:
            raise UsageError(f"--package {selection.package}: not a member of the workspace at {project.root}",
                             hint=f"members: {', '.join(sorted(m.name for m in members)) or 'none'}")
        return replace(project, name=chosen.name, version=chosen.version, requires_python=chosen.requires_python,
                       scripts=chosen.scripts, dynamic=chosen.dynamic)
    return replace(project, scripts=tuple(sorted({s for m in members for s in m.scripts})))


def _prepare(request: BuildRequest) -> tuple[BuildRequest, Project, list[Target], Lock, Cache]:
    root, member = locate(request.project_dir)
    project = load_project(root)
    request = with_config(replace(request, project_dir=root), project)
    if member is not None:
        chosen = request.selection.package
        if chosen and canonicalize_name(chosen) != member:
            raise UsageError(f"{request.project_dir} is the workspace member {member}, not --package {chosen}",
                             hint="build the workspace root with --package, or the member's directory alone")
        request = replace(request, selection=replace(request.selection, package=member))
    project = as_installed(project, request.selection)
    targets = resolve_targets(request, project)
    cache = Cache(request.cache_dir or default_cache_dir())
    lock = export_lock(project, request.selection.uv_args(), cache, offline=request.offline)
    return request, project, targets, lock, cache


def check_config(request: BuildRequest, project: Project, *, several: bool) -> None:
    """What a user configured must hold before anything is downloaded or built: the license file, and
    an output path that can be written."""
    license_text(project)
    out = request.output
    if out is None:
        return
    blocker = next((p for p in [out, *out.parents] if p.exists()), None)
    if blocker is not None and blocker != out and not blocker.is_dir():
        raise UsageError(f"-o {out}: {blocker} is a file, not a directory", hint="choose another -o")
    if several and out.exists() and not out.is_dir():
        raise UsageError(f"-o {out} is a file; with several targets -o is the directory for their files",
                         hint="name a directory")


def plan_only(request: BuildRequest) -> tuple[list[str], int]:
    """`--dry-run`: what `build` would put into each target's file, and why, and how many problems the
    build would meet (planning raises most of them at once). Nothing is downloaded, built or written."""
    request, project, targets, lock, _ = _prepare(request)
    check_config(request, project, several=len(targets) > 1)
    tree = source_tree(project)
    locals_ = local_projects(tree)
    notes = {p.name: compiled_reason(p) for p in locals_}
    runtime = sum(len(data) for _, data in _runtime_files())
    sources = sum(path.stat().st_size for _, path, _ in tree.files)
    lines: list[str] = []
    problems = 0
    for target in targets:
        variants = patch_variants(lock, target, can_compile=host_can_build_for(target))
        uv_wheel = target_uv_wheel(target)
        extras = [Extra(f"uv {UV_VERSION} for {target.platform.name}", uv_wheel.size or 0),
                  Extra("the installer's runtime", runtime),
                  Extra(f"the project's {len(tree.files)} files", sources)]
        lines += render_report(variants, extras, notes)
        if not host_can_build_for(target):
            for step in merge(variants).locals:
                if notes.get(step.package.name, "").startswith("compiled"):
                    problems += 1
                    lines.append(f"  PROBLEM {step.package.name} has compiled code, which cannot be compiled here "
                                 f"for {target.platform.name}: build on a machine that matches the target")
    return lines, problems


def with_config(request: BuildRequest, project: Project) -> BuildRequest:
    """`[tool.airgap-installer]` gives defaults; any selection flag on the command line replaces them all."""
    config = project.config
    if request.selection == Selection():
        request = replace(request, selection=Selection(
            extras=tuple(config.get("extras", ())), all_extras=bool(config.get("all-extras")),
            groups=tuple(config.get("groups", ())), no_dev=bool(config.get("no-dev")),
            package=config.get("package"),
        ))
    if request.output is None and config.get("output"):
        request = replace(request, output=project.root / str(config["output"]))
    if config.get("bundle-python"):
        request = replace(request, bundle_python=True)
    return request


def build(request: BuildRequest) -> list[BuildResult]:
    """Check the lock once, then build one installer per target; every plan is made before any download."""
    request, project, targets, lock, cache = _prepare(request)
    check_config(request, project, several=len(targets) > 1)
    tree = repo_tree = source_tree(project)
    repo = project
    with tempfile.TemporaryDirectory(prefix="airgap-stage-") as tmp:
        if request.selection.groups_choice().excludes_defaults:
            tree = stage(tree, Path(tmp))
            kept = relock_for_groups(tree.project_dir, request.selection.groups_choice())
            tree = replace(tree, default_groups=tuple(kept), modified=(
                f"pyproject.toml ([tool.uv] default-groups = {kept})",
                "uv.lock (re-locked for those default groups; same versions)"))
            project = load_project(tree.project_dir)
            # A staged copy lives in a new temporary directory each time: nothing to memoize.
            lock = export_lock(project, request.selection.uv_args(), None, offline=request.offline)
        archives: list[PythonArchive | None] = [None] * len(targets)
        if request.bundle_python or request.python_archive:
            archives = [bundled_python(t, cache, archive_file=request.python_archive, offline=request.offline,
                                       mirror=request.python_mirror or os.environ.get("UV_PYTHON_INSTALL_MIRROR"))
                        for t in targets]
            # Markers see the bundled interpreter's exact version.
            targets = [replace(t, python_full=a.version) if a else t for t, a in zip(targets, archives, strict=True)]
        variants = [patch_variants(lock, target, can_compile=host_can_build_for(target)) for target in targets]
        return [build_one(request, project, tree, v, cache, archive, repo=repo, repo_tree=repo_tree,
                          several=len(variants) > 1)
                for v, archive in zip(variants, archives, strict=True)]


def local_projects(tree: Tree) -> list[Project]:
    """Every local package of the lock (selected or not: uv reads the metadata of all of them)."""
    if not (tree.project_dir / "uv.lock").is_file():  # a script: no local packages
        return []
    lock_text = (tree.project_dir / "uv.lock").read_text(encoding="utf-8")
    return [load_project((tree.project_dir / path).resolve()) for path in local_paths(lock_text)]


def launcher_scripts(project: Project, locals_: list[Project], selection: Selection) -> tuple[str, ...]:
    """The console scripts that get a PREFIX/bin launcher: the project's, or the selected members'."""
    if not (selection.package or selection.all_packages):
        return project.scripts
    chosen = [p for p in locals_ if selection.all_packages or p.name == selection.package]
    return tuple(sorted({script for p in chosen for script in p.scripts}))


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


def local_records(built: list[tuple[Package, Artifact]], locals_: list[Project],
                  project: Project) -> tuple[LocalPackage, ...]:
    """What the runtime needs to record each local package as uv's own install (runtime/uvrecords.py)."""
    by_dir = {p.root: p for p in locals_}
    records = []
    for package, wheel in sorted(built, key=lambda b: b[0].name):
        assert package.directory is not None and package.version is not None
        local = by_dir.get((project.root / package.directory).resolve())
        records.append(LocalPackage(package.name, package.version, package.directory, package.editable,
                                    wheel.filename, local.cache_keys if local else None))
    return tuple(records)


def license_text(project: Project) -> str:
    """The license the installer asks the user to accept (`[tool.airgap-installer] license = "FILE"`)."""
    name = project.config.get("license")
    if not name:
        return ""
    path = project.root / str(name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"[tool.airgap-installer] license: cannot read {path}: {exc.strerror}") from exc


def build_one(request: BuildRequest, project: Project, tree: Tree, variants: list[Variant], cache: Cache,
              python: PythonArchive | None = None, *, repo: Project, repo_tree: Tree, several: bool) -> BuildResult:
    """`project`/`tree`: what travels (a staged copy when default groups are left out); `repo`/`repo_tree`:
    the repository the local packages are built from."""
    started = time.monotonic()
    plan = merge(variants)
    target = plan.target
    tree = for_target(tree, target)
    credentials = index_credentials(project.indexes)
    built, problems = build_wheels(plan, cache, base=project.root, offline=request.offline, jobs=request.jobs,
                                   credentials=credentials)
    # Local packages are built from the repository (a version from git needs its .git), not a staged copy.
    repo_locals = local_projects(repo_tree)
    local_built, local_problems = build_locals(plan, repo, repo_tree, repo_locals, cache, offline=request.offline)
    raise_build_problems(problems + local_problems, target)
    built_by = {(p.name, p.version): a for p, a in built}
    local_by: dict[str, tuple[Package, Artifact]] = {p.name: (p, a) for p, a in local_built}

    def installs_of(plan: Plan) -> list[tuple[Package, Artifact]]:
        return [(s.package, s.artifact) for s in plan.wheels if s.artifact is not None] + [
            (s.package, built_by[(s.package.name, s.package.version)]) for s in plan.builds] + [
            local_by[s.package.name] for s in plan.locals]

    scripts = launcher_scripts(project, local_projects(tree), request.selection)
    uv_wheel = target_uv_wheel(target)
    installs = installs_of(plan)
    fetch([uv_wheel, *(a for _, a in installs)], cache, base=project.root,
          offline=request.offline, jobs=request.jobs, credentials=credentials)
    log.info("fetched and built %d artifacts in %.1fs", len(installs) + 1, time.monotonic() - started)
    version = (local_by[project.name][0].version if project.name in local_by else None) or project.version

    epoch = int(os.environ["SOURCE_DATE_EPOCH"]) if os.environ.get("SOURCE_DATE_EPOCH") else None
    build_date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch is not None else None
    wheelhouse = sorted({a.filename: a for _, a in installs}.values(), key=lambda a: a.filename)
    floor = os_floor([uv_wheel.filename, *(a.filename for a in wheelhouse)], target)
    if any(f"linux_{target.platform.arch}" in a.filename for a in wheelhouse) and target.platform.libc == "glibc":
        # Compiled here (a local build is tagged linux_<arch>): it may need this machine's glibc.
        here = tuple(int(x) for x in host_platform.libc_ver()[1].split(".")[:2])
        if len(here) == 2 and (floor is None or here > floor):
            floor = (here[0], here[1])
    os_min = f"{floor[0]}.{floor[1]}" if floor else ""
    output = output_path(request, project, f"cp{target.python[0]}{target.python[1]}-{target.platform.named_for(floor)}",
                         several)
    output.parent.mkdir(parents=True, exist_ok=True)
    shipped = {(p.name, p.version): a for p, a in installs}  # a forked lock ships two versions of a name
    manifest = Manifest(
        format=FORMAT,
        name=project.name,
        version=version,
        target=target.slug,
        python=target.python_version,
        libc=target.platform.libc,
        libc_min=os_min if target.platform.os == "linux" and os_min else None,
        macos_min=os_min if target.platform.os == "macos" and os_min else None,
        requires_python=str(project.requires_python),
        uv_version=UV_VERSION,
        uv_wheel=uv_wheel.filename,
        bundled_python=python.key if python else None,
        tool_version=__version__,
        build_date=build_date,
        scripts=scripts,
        project_dir=tree.project_rel,
        script=project.script,
        modified_files=tree.modified,
        default_groups=tree.default_groups,
        sync_args=tuple(request.selection.uv_args()),
        pin_variants=tuple(
            PinVariant(".".join(map(str, v.first)), ".".join(map(str, v.last)) if v.last else None,
                       tuple(pin_lines(installs_of(v.plan))))
            for v in variants),
        direct_urls=tuple(
            DirectRecord(p.name, p.version or "", record)
            for p, _ in sorted(installs, key=lambda i: i[0].name) if (record := direct_url(p)) is not None),
        packages=tuple(
            PackageEntry(s.package.name, s.package.version, s.action, s.reason,
                         a.filename if (a := shipped.get((s.package.name, s.package.version))) else None)
            for s in plan.steps),
        local_packages=local_records(local_built, repo_locals, repo),
        hooks={k: project.config[k] for k in ("pre-install", "post-install") if k in project.config},
    )
    Manifest.from_dict(manifest.to_dict())  # what the runtime will read: fail here, not on the target
    # The header shows what the manifest says (one source), plus what only the shell needs.
    fields = HeaderFields(
        name=manifest.name, version=manifest.version, tool_version=manifest.tool_version, target=manifest.target,
        target_os=target.platform.os, target_machine=target.platform.machine,
        target_libc=manifest.libc or ("macOS" if target.platform.os == "macos" else ""),
        libc_min=manifest.libc_min or manifest.macos_min or "", python=manifest.python,
        requires_python=manifest.requires_python or "any", uv_version=manifest.uv_version,
        build_date=manifest.build_date or "unset (reproducible build)", scripts=" ".join(manifest.scripts),
        modified="; ".join(manifest.modified_files) or "none (pyproject.toml and uv.lock are the repository's)",
        python_archive=f"python/{python.artifact.filename}" if python else "",
        python_key=python.key if python else "", python_full=python.version if python else "",
        python_json_head=python.download_json()[0] if python else "",
        python_json_tail=python.download_json()[1] if python else "",
        license_text=license_text(project),
    )
    size, sha = _write(output, fields, manifest, tree, cache, uv_wheel, wheelhouse, epoch, python)
    log.info("wrote %s (%d bytes) in %.1fs", output, size, time.monotonic() - started)
    return BuildResult(output, project.name, size, sha, plan, tuple(a for _, a in local_built))


def _write(output: Path, fields: HeaderFields, manifest: Manifest, tree: Tree, cache: Cache,
           uv_wheel: Artifact, wheelhouse: list[Artifact], epoch: int | None,
           python: PythonArchive | None) -> tuple[int, str]:
    uv_binary = locate_uv_binary(cache.path(uv_wheel.sha256))
    placeholder = [Member("bin/uv", 0, 0, 0, 0, DEFLATED, 0o755, "0" * 64)]
    if python:
        placeholder.append(Member(fields.python_archive, 0, 0, 0, 0, 0, 0o644, "0" * 64))
    header_len = len(render(fields, payload_offset=0, payload_size=0, payload_sha256="0" * 64,
                            members=placeholder))
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            f.write(b"\0" * header_len)
            zw = ZipWriter(f, epoch)
            with uv_binary.wheel.open("rb") as src:
                src.seek(uv_binary.data_offset)
                uv_member = zw.add_raw("bin/uv", src, method=uv_binary.method, crc=uv_binary.crc,
                                       compress_size=uv_binary.compress_size, file_size=uv_binary.file_size,
                                       mode=0o755, align=ALIGN)
            carved = [uv_member]
            if python:
                # Stored and aligned: the shell carves it with dd, uv unpacks it (no tar needed on the host).
                carved.append(zw.add_file(fields.python_archive, cache.path(python.artifact.sha256), align=ALIGN,
                                            carved=True))
            for name, data in _runtime_files():
                zw.add_bytes(name, data)
            zw.add_bytes("manifest.json", manifest.to_json().encode())
            generated = dict(tree.generated)
            for rel, path, mode in tree.files:
                if rel not in generated:
                    zw.add_file(f"project/{rel}", path, mode)
            for rel, data in sorted(generated.items()):
                zw.add_bytes(f"project/{rel}", data)
            for artifact in wheelhouse:
                zw.add_file(f"wheelhouse/{artifact.filename}", cache.path(artifact.sha256))
            zw.close()
            header = render(fields, payload_offset=header_len, payload_size=zw.size, payload_sha256=zw.sha256,
                            members=carved)
            if len(header) != header_len:
                raise AssertionError("the header changed length when its fields were filled in")
            f.seek(0)
            f.write(header)
            size = header_len + zw.size
        os.chmod(tmp, 0o755)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size, zw.sha256
