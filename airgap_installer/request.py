"""What the user asked for, resolved before anything is fetched: the request (command-line flags over
`[tool.airgap-installer]`), the selection in uv's own flags, the project to build (a workspace member's
directory means its workspace), the targets, the output path, and the configuration checks."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from airgap_installer.errors import LockError, TargetError, UsageError
from airgap_installer.lock import local_paths
from airgap_installer.project import Project, load_project, workspace_of
from airgap_installer.target import Target, make_target, parse_python


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

    @property
    def excludes_defaults(self) -> bool:
        """Leaves out a default group: the project ships re-locked for it (relock.py)."""
        return self.no_dev or self.no_default_groups or bool(self.only_groups)

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
    bundle_python: bool = False  # every target brings CPython: a given archive, else uv's download
    # Local PBS archives, each bundled for the targets it fits (interpreter.assign_archives); a target
    # none fits takes uv's download with bundle_python, else the host's Python.
    python_archives: tuple[Path, ...] = ()
    python_mirror: str | None = None
    sign: Path | None = None  # an OpenSSH private key: each file gets FILE.run.sig
    sbom: bool = False  # also write the SBOM beside each file (FILE.run.cdx.json); it is always inside
    split_size: int | None = None  # cut each file into parts of at most this many bytes (FAT32: 4G)
    # An earlier installer, its manifest.json or the directory `--extract` wrote (several: the manifests
    # of a fat file's targets): carry only what it lacks (delta.py).
    delta_from: tuple[Path, ...] = ()
    fat: bool = False  # one file for every target: the header picks the host's at run time


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


def output_path(request: BuildRequest, project: Project, slug: str, several: bool, suffix: str = ".run") -> Path:
    """-o FILE for one target; with several targets -o is a directory and each file is named after its target
    as its wheels need it (cp312-x86_64-manylinux_2_17). `suffix`: .run, or .cmd for a Windows target."""
    name = f"install-{project.name}-{slug}{suffix}"
    if request.output is None:
        return (Path("dist") / name).resolve()
    if several or request.output.is_dir():
        return (request.output / name).resolve()
    return request.output.resolve()


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
        request = replace(request, output=inside_project(project, str(config["output"]), "output"))
    if config.get("bundle-python"):
        request = replace(request, bundle_python=True)
    return request


def check_config(request: BuildRequest, project: Project, *, several: bool, targets: int = 1) -> None:
    """What a user configured must hold before anything is downloaded or built: the license file, the
    signing key, and an output path that can be written."""
    license_text(project)
    if request.split_size is not None and request.split_size <= 1 << 16:
        raise UsageError(f"--split-size {request.split_size}: a part must hold more than 64 KiB",
                         hint="e.g. --split-size 4G (FAT32) or 700M")
    if request.fat and targets < 2:
        raise UsageError("--fat puts several targets into one file, and this build has one",
                         hint="name them: --fat --python-platform x86_64-manylinux_2_28 --python-platform "
                              "aarch64-manylinux_2_28 (and several --python)")
    if request.delta_from and several:
        raise UsageError("--delta-from builds one file: one target's, or with --fat one for all of them",
                         hint="add --fat, or build the delta with one --python and one --python-platform")
    for old in request.delta_from:
        if not old.exists():
            raise UsageError(f"--delta-from {old}: no such file",
                             hint="pass the earlier .run file, or the manifest.json from `sh OLD.run --extract DIR`")
    if request.sign is not None and not request.sign.is_file():
        raise UsageError(f"--sign {request.sign}: no such key file", hint="ssh-keygen -t ed25519 -f release-key")
    out = request.output
    if out is None:
        return
    blocker = next((p for p in [out, *out.parents] if p.exists()), None)
    if blocker is not None and blocker != out and not blocker.is_dir():
        raise UsageError(f"-o {out}: {blocker} is a file, not a directory", hint="choose another -o")
    if several and out.exists() and not out.is_dir():
        raise UsageError(f"-o {out} is a file; with several targets -o is the directory for their files",
                         hint="name a directory")


def inside_project(project: Project, name: str, key: str) -> Path:
    """A path from `[tool.airgap-installer]`: it names a file of the project, never one elsewhere on the
    build host (`license = "/etc/shadow"` would put that file into the installer)."""
    path = (project.root / name).resolve()
    if not path.is_relative_to(project.root.resolve()):
        raise UsageError(f"[tool.airgap-installer] {key} = {name!r} is outside the project",
                         hint="name a file inside the project directory")
    return path


def license_text(project: Project) -> str:
    """The license the installer asks the user to accept (`[tool.airgap-installer] license = "FILE"`)."""
    name = project.config.get("license")
    if not name:
        return ""
    path = inside_project(project, str(name), "license")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"[tool.airgap-installer] license: cannot read {path}: {exc.strerror}") from exc
