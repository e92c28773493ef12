"""The pipeline, as a sequence of steps: request -> project and lock -> plans -> builds and downloads ->
manifest -> one .run file per target. Each step lives in the module of its concept (docs/design.md)."""

from __future__ import annotations

import glob
import logging
import os
import platform as host_platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from airgap_installer import __version__
from airgap_installer.auth import index_credentials
from airgap_installer.build import (
    build_locals,
    build_wheels,
    check_static_metadata,
    compiled_reason,
    host_can_build_for,
    raise_build_problems,
)
from airgap_installer.cache import Cache, default_cache_dir
from airgap_installer.delta import base_for, read_bases, split_wheelhouse
from airgap_installer.errors import PlanError, ProjectError, UsageError
from airgap_installer.export import export_lock
from airgap_installer.fetch import fetch
from airgap_installer.header import HeaderFields
from airgap_installer.interpreter import PythonArchive, assign_archives, bundled_python
from airgap_installer.lock import Artifact, Lock, Package
from airgap_installer.plan import Plan, Variant, direct_url, merge, os_floor, patch_variants, pin_lines
from airgap_installer.project import Project, load_project
from airgap_installer.relock import relock_for_groups
from airgap_installer.report import Extra
from airgap_installer.report import render as render_report
from airgap_installer.request import (
    BuildRequest,
    as_installed,
    check_config,
    license_text,
    locate,
    output_path,
    resolve_targets,
    with_config,
)
from airgap_installer.runfile import FatTarget, runtime_files, split_into_parts, write_fat_file, write_run_file
from airgap_installer.runtime.manifest import (
    FORMAT,
    DirectRecord,
    LocalPackage,
    Manifest,
    ManifestError,
    PackageEntry,
    PinVariant,
)
from airgap_installer.sbom import make_sbom
from airgap_installer.signing import sign
from airgap_installer.sources import Tree, for_target, launcher_scripts, local_projects, source_tree, stage
from airgap_installer.target import Target
from airgap_installer.uvbin import target_uv_wheel, uv_binary_sha256
from airgap_installer.uvwheels import UV_VERSION
from airgap_installer.winfile import check_windows_request, windows_python, write_bundle, write_cmd_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    path: Path
    name: str
    size: int
    payload_sha256: str
    plan: Plan
    local_wheels: tuple[Artifact, ...]


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


def plan_only(request: BuildRequest) -> tuple[list[str], int]:
    """`--dry-run`: what `build` would put into each target's file, and why, and how many problems the
    build would meet (planning raises most of them at once). Nothing is downloaded, built or written."""
    request, project, targets, lock, _ = _prepare(request)
    check_config(request, project, several=len(targets) > 1 and not request.fat, targets=len(targets))
    check_windows_request(request, project.config, targets)
    archive_paths, _ = _decide(request, targets)
    tree = source_tree(project)
    locals_ = local_projects(tree)
    notes = {p.name: compiled_reason(p) for p in locals_}
    runtime = sum(len(data) for _, data in runtime_files())
    sources = sum(path.stat().st_size for _, path, _ in tree.files)
    lines: list[str] = []
    problems = 0
    for target, archive in zip(targets, archive_paths, strict=True):
        variants = patch_variants(lock, target, can_compile=host_can_build_for(target))
        uv_wheel = target_uv_wheel(target)
        extras = [Extra(f"uv {UV_VERSION} for {target.platform.name}", uv_wheel.size or 0),
                  *([Extra(f"the bundled Python {archive.name}", archive.stat().st_size)] if archive else []),
                  Extra("the installer's runtime", runtime),
                  Extra(f"the project's {len(tree.files)} files", sources)]
        lines += render_report(variants, extras, notes)
        try:
            check_static_metadata(merge(variants), project, tree, locals_)
        except PlanError as exc:
            problems += 1
            lines.append(f"  PROBLEM {exc}")
        if not host_can_build_for(target):
            for step in merge(variants).locals:
                if notes.get(step.package.name, "").startswith("compiled"):
                    problems += 1
                    lines.append(f"  PROBLEM {step.package.name} has compiled code, which cannot be compiled here "
                                 f"for {target.platform.name}: build on a machine that matches the target")
    return lines, problems


def build(request: BuildRequest) -> list[BuildResult]:
    """Check the lock once, then build one installer per target; every plan is made before any download."""
    request, project, targets, lock, cache = _prepare(request)
    check_config(request, project, several=len(targets) > 1 and not request.fat, targets=len(targets))
    check_windows_request(request, project.config, targets)
    if request.fat and any(t.platform.os == "windows" for t in targets):
        raise UsageError("--fat holds POSIX targets: a Windows host gets a file of its own (.cmd)",
                         hint="build the Windows target in a second build, without --fat")
    archive_paths, bases = _decide(request, targets)
    tree = repo_tree = source_tree(project)
    repo = project
    with tempfile.TemporaryDirectory(prefix="airgap-stage-") as tmp:
        if request.selection.excludes_defaults:
            tree = stage(tree, Path(tmp))
            kept = relock_for_groups(tree.project_dir, request.selection)
            tree = replace(tree, default_groups=tuple(kept), modified=(
                f"pyproject.toml ([tool.uv] default-groups = {kept})",
                "uv.lock (re-locked for those default groups; same versions)"))
            project = load_project(tree.project_dir)
            # A staged copy lives in a new temporary directory each time: nothing to memoize.
            lock = export_lock(project, request.selection.uv_args(), None, offline=request.offline)
        mirror = request.python_mirror or os.environ.get("UV_PYTHON_INSTALL_MIRROR")
        archives = [windows_python(t, path) if t.platform.os == "windows" and path else
                    bundled_python(t, cache, archive_file=path, offline=request.offline, mirror=mirror)
                    if path or request.bundle_python else None
                    for t, path in zip(targets, archive_paths, strict=True)]
        # Markers see the bundled interpreter's exact version.
        targets = [replace(t, python_full=a.version) if a else t for t, a in zip(targets, archives, strict=True)]
        variants = [patch_variants(lock, target, can_compile=host_can_build_for(target)) for target in targets]
        if request.fat:
            return build_fat(request, project, [
                prepare_one(request, project, tree, v, cache, archive, repo=repo, repo_tree=repo_tree, several=False,
                            base=base)
                for v, archive, base in zip(variants, archives, bases, strict=True)], cache)
        return [build_one(request, project, tree, v, cache, archive, repo=repo, repo_tree=repo_tree,
                          several=len(variants) > 1, base=base, archive_path=path)
                for v, archive, base, path in zip(variants, archives, bases, archive_paths, strict=True)]


def _decide(request: BuildRequest, targets: list[Target]) -> tuple[list[Path | None],
                                                                   list[tuple[Manifest, str | None] | None]]:
    """Before anything is fetched: the `--python-archive` each target bundles, and each target's delta base."""
    archive_paths = [request.python_archives[i] if i is not None else None
                     for i in assign_archives(targets, [p.name for p in request.python_archives])]
    bases: list[tuple[Manifest, str | None] | None] = [None] * len(targets)
    if request.delta_from:
        found = read_bases(request.delta_from)
        bases = [base_for(found, t.slug, one_target=len(targets) == 1) for t in targets]
    return archive_paths, bases


def origins(plan: Plan, installs: list[tuple[Package, Artifact]]) -> list[tuple[Package, Artifact, str]]:
    """How each shipped wheel was had, for the SBOM."""
    how = {s.package.name: ("built-local" if s.action == "local" else "direct-url" if s.package.kind == "archive"
                            else "index" if s.action == "ship" else f"built-{'git' if s.package.vcs else 'sdist'}")
           for s in plan.steps}
    return [(p, a, how.get(p.name, "index")) for p, a in installs]


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


def prepare_one(request: BuildRequest, project: Project, tree: Tree, variants: list[Variant], cache: Cache,
                python: PythonArchive | None = None, *, repo: Project, repo_tree: Tree, several: bool,
                base: tuple[Manifest, str | None] | None = None) -> Prepared:
    """`project`/`tree`: what travels (a staged copy when default groups are left out); `repo`/`repo_tree`:
    the repository the local packages are built from; `base`: a delta's base manifest for this target and
    its release id (delta.base_for)."""
    started = time.monotonic()
    plan = merge(variants)
    target = plan.target
    tree = for_target(tree, target)
    credentials = index_credentials(project.indexes)
    # Local packages are built from the repository (a version from git needs its .git), not a staged copy.
    repo_locals = local_projects(repo_tree)
    check_static_metadata(plan, repo, repo_tree, repo_locals)
    built, problems = build_wheels(plan, cache, base=project.root, offline=request.offline, jobs=request.jobs,
                                   credentials=credentials)
    local_built, local_problems = build_locals(plan, repo, repo_tree, repo_locals, cache, offline=request.offline)
    raise_build_problems(problems + local_problems, target)
    built_by = {(p.name, p.version): a for p, a in built}
    local_by: dict[str, tuple[Package, Artifact]] = {p.name: (p, a) for p, a in local_built}

    def installs_of(plan: Plan) -> list[tuple[Package, Artifact]]:
        return [(s.package, s.artifact) for s in plan.wheels if s.artifact is not None] + [
            (s.package, built_by[(s.package.name, s.package.version)]) for s in plan.builds] + [
            local_by[s.package.name] for s in plan.locals]

    # A staged copy (a re-lock) has its own tree; otherwise its local packages are the repository's.
    scripts = launcher_scripts(project, repo_locals if tree.root == repo_tree.root else local_projects(tree),
                               request.selection)
    uv_wheel = target_uv_wheel(target)
    installs = installs_of(plan)
    fetch([uv_wheel, *(a for _, a in installs)], cache, base=project.root,
          offline=request.offline, jobs=request.jobs, credentials=credentials)
    log.info("fetched and built %d artifacts in %.1fs", len(installs) + 1, time.monotonic() - started)
    version = (local_by[project.name][0].version if project.name in local_by else None) or project.version

    epoch = _epoch()
    build_date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch is not None else None
    wheelhouse = sorted({a.filename: a for _, a in installs}.values(), key=lambda a: a.filename)
    delta, carried, carry_uv = None, wheelhouse, True
    if base is not None:
        delta, carried, carry_uv = split_wheelhouse(base[0], base[1], project.name, uv_wheel.filename, wheelhouse)
    floor = os_floor([uv_wheel.filename, *(a.filename for a in wheelhouse)], target)
    if any(f"linux_{target.platform.arch}" in a.filename for a in wheelhouse) and target.platform.libc == "glibc":
        # Compiled here (a local build is tagged linux_<arch>): it may need this machine's glibc.
        here = tuple(int(x) for x in host_platform.libc_ver()[1].split(".")[:2])
        if len(here) == 2 and (floor is None or here > floor):
            floor = (here[0], here[1])
    os_min = f"{floor[0]}.{floor[1]}" if floor else ""
    windows = target.platform.os == "windows"
    output = output_path(request, project, f"cp{target.python[0]}{target.python[1]}-{target.platform.named_for(floor)}",
                         several, (".zip" if python else ".cmd") if windows else ".run")
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
        base=delta,
    )
    try:  # what the runtime will read: fail here, not on the target
        Manifest.from_dict(manifest.to_dict())
    except ManifestError as exc:
        raise ProjectError(f"the target would refuse this installer: {exc}",
                           hint="rename what it names (console scripts and package names: letters, digits, "
                                "'.', '_', '-')") from exc
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
        delta_of=delta.describe() if delta else "",
        delta_note=f"reuses {len(delta.reused)} of its {len(wheelhouse)} wheels" + ("" if carry_uv else " and its uv")
        if delta else "",
        # The uv binary's sha256: an upgrade takes the prefix's copy of it, a delta without uv needs it.
        uv_sha256="" if target.platform.os == "windows" else uv_binary_sha256(cache.path(uv_wheel.sha256),
                                                                            cache.root / "uv-binary"),
        hooks="; ".join(f"{k}: {v}" for k, v in sorted(manifest.hooks.items())).replace("\n", "\\n"),
    )
    sbom_installs = origins(plan, installs)
    sbom = make_sbom(name=manifest.name, version=manifest.version, installs=sbom_installs,
                     wheel_path=lambda a: cache.path(a.sha256), uv=uv_wheel, uv_version=UV_VERSION,
                     python=(python.key, python.artifact) if python else None, build_date=build_date)
    return Prepared(output, fields, manifest, tree, uv_wheel, carried, python, sbom, carry_uv, plan,
                    tuple(a for _, a in local_built), sbom_installs, build_date)


@dataclass(frozen=True)
class Prepared:
    """One target's installer with everything decided and every artifact in the cache; nothing written."""

    output: Path
    fields: HeaderFields
    manifest: Manifest
    tree: Tree
    uv_wheel: Artifact
    wheelhouse: list[Artifact]  # what the file carries (a delta file: only what its base lacks)
    python: PythonArchive | None
    sbom: str
    carry_uv: bool
    plan: Plan
    local_wheels: tuple[Artifact, ...]
    sbom_installs: list[tuple[Package, Artifact, str]]
    build_date: str | None


def build_one(request: BuildRequest, project: Project, tree: Tree, variants: list[Variant], cache: Cache,
              python: PythonArchive | None = None, *, repo: Project, repo_tree: Tree, several: bool,
              base: tuple[Manifest, str | None] | None = None, archive_path: Path | None = None) -> BuildResult:
    started = time.monotonic()
    one = prepare_one(request, project, tree, variants, cache, python, repo=repo, repo_tree=repo_tree,
                      several=several, base=base)
    windows = one.plan.target.platform.os == "windows"
    epoch = _epoch()

    def write() -> tuple[int, str]:
        if windows and one.python and archive_path:  # the installer and the interpreter in one zip
            inner = one.output.with_name(f".{one.output.stem}.cmd.tmp")
            try:
                _, sha = write_cmd_file(inner, one.fields, one.manifest, one.tree, cache, one.uv_wheel,
                                        one.wheelhouse, epoch, one.sbom.encode())
                return write_bundle(one.output, inner, f"{one.output.stem}.cmd", one.fields, one.python,
                                    archive_path, epoch), sha
            finally:
                inner.unlink(missing_ok=True)
        if windows:
            return write_cmd_file(one.output, one.fields, one.manifest, one.tree, cache, one.uv_wheel,
                                  one.wheelhouse, epoch, one.sbom.encode())
        return write_run_file(one.output, one.fields, one.manifest, one.tree, cache, one.uv_wheel, one.wheelhouse,
                              epoch, one.python, one.sbom.encode(), carry_uv=one.carry_uv)

    size, sha = finish(request, one.output, one.manifest, one.sbom, write)
    log.info("wrote %s (%d bytes) in %.1fs", one.output, size, time.monotonic() - started)
    return BuildResult(one.output, project.name, size, sha, one.plan, one.local_wheels)


def build_fat(request: BuildRequest, project: Project, prepared: list[Prepared], cache: Cache) -> list[BuildResult]:
    """One file for several targets (`--fat`): every artifact once, each target's uv, the header picks."""
    output = output_path(request, project, "fat", several=False)
    first = prepared[0].manifest
    installs = sorted({(p.name, a.filename): (p, a, how) for one in prepared
                       for p, a, how in one.sbom_installs}.values(), key=lambda i: (i[0].name, i[1].filename))
    uvs = sorted({one.uv_wheel.filename: one.uv_wheel for one in prepared}.values(), key=lambda a: a.filename)
    pythons = sorted({one.python.key: (one.python.key, one.python.artifact) for one in prepared if one.python}.values())
    sbom = make_sbom(name=first.name, version=first.version, installs=installs,
                     wheel_path=lambda a: cache.path(a.sha256), uv=uvs, uv_version=UV_VERSION, python=pythons,
                     build_date=prepared[0].build_date)
    targets = [FatTarget(one.fields, one.manifest, one.tree, one.uv_wheel, one.wheelhouse, one.python, one.carry_uv)
               for one in prepared]
    size, sha = finish(request, output, first, sbom, lambda: write_fat_file(output, targets, cache, _epoch(),
                                                                            sbom.encode()))
    return [BuildResult(output, project.name, size, sha, one.plan, one.local_wheels) for one in prepared]


def _epoch() -> int | None:
    return int(os.environ["SOURCE_DATE_EPOCH"]) if os.environ.get("SOURCE_DATE_EPOCH") else None


def finish(request: BuildRequest, output: Path, manifest: Manifest, sbom: str,
           write: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """Write the file, then what goes beside it: the SBOM, the signature, the parts."""
    output.with_name(output.name + ".sig").unlink(missing_ok=True)  # a signature of an earlier file would lie
    size, sha = write()
    if request.sbom:
        output.with_name(output.name + ".cdx.json").write_text(sbom, encoding="utf-8")
    if request.sign is not None:
        sign(output, request.sign)  # the whole file: parts are checked against it when joined
    for stale in output.parent.glob(f"{glob.escape(output.name)}.[0-9][0-9][0-9]"):
        stale.unlink()  # parts of an earlier build
    if request.split_size:
        split_into_parts(output, request.split_size, manifest.name, manifest.version, __version__)
    return size, sha


