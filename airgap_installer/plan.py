"""Lock x Target -> Plan: for every locked package, the wheel to ship, or why it is skipped. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from airgap_installer.errors import PlanError
from airgap_installer.lock import Artifact, Lock, Package
from airgap_installer.target import Target


@dataclass(frozen=True)
class Step:
    """What happens to one locked package: `ship` its locked wheel; `build` a wheel on the build side (git
    dependencies, sdist-only registry packages, direct URL sdists); `local` (the project, a workspace
    member or a path dependency: its wheel is built on the build side from the repository and its
    sources travel); `source` (a wheel file by path: shipped in the tree, installed by `uv sync` on the
    target); or `skip` (its marker is false for the target)."""

    package: Package
    action: str
    artifact: Artifact | None
    reason: str


@dataclass(frozen=True)
class Plan:
    target: Target
    steps: tuple[Step, ...]

    @property
    def wheels(self) -> list[Step]:
        return [s for s in self.steps if s.action == "ship"]

    @property
    def builds(self) -> list[Step]:
        return [s for s in self.steps if s.action == "build"]

    @property
    def sources(self) -> list[Step]:
        return [s for s in self.steps if s.action == "source"]

    @property
    def locals(self) -> list[Step]:
        return [s for s in self.steps if s.action == "local"]


def direct_url(package: Package) -> dict[str, object] | None:
    """The `direct_url.json` uv writes when it installs a git or direct URL package itself. Written
    next to the same package installed from our wheelhouse, it makes `uv sync --locked` see the locked
    source (docs/uv-facts.md): uv neither runs git nor downloads the URL on the target."""
    if package.vcs is not None:
        vcs_info = {"vcs": "git", "commit_id": package.vcs.commit}
        if package.vcs.requested_revision:
            vcs_info["requested_revision"] = package.vcs.requested_revision
        record: dict[str, object] = {"url": package.vcs.url, "vcs_info": vcs_info}
        if package.vcs.subdirectory:
            record["subdirectory"] = package.vcs.subdirectory
        return record
    if package.archive is not None:
        return {"url": package.archive.url, "archive_info": {}}
    return None


def pin_lines(installs: Iterable[tuple[Package, Artifact]]) -> list[str]:
    """`name==version --hash=sha256:...` for `uv pip install --no-deps --require-hashes -r`. A wheel built
    from an sdist or git has its own hash, not the lock's: the pin carries the wheel's."""
    return [f"{p.name}=={p.version} --hash=sha256:{a.sha256}" for p, a in sorted(installs, key=lambda i: i[0].name)]


class WheelRanker:
    """Ranks wheel files by the target's tag priority (lower is better)."""

    def __init__(self, supported: Sequence[Tag]) -> None:
        self._rank: dict[Tag, int] = {}
        for i, tag in enumerate(supported):
            self._rank.setdefault(tag, i)

    def rank(self, filename: str) -> int | None:
        try:
            _, _, _, file_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        ranks = [self._rank[t] for t in file_tags if t in self._rank]
        return min(ranks) if ranks else None

    def best(self, artifacts: Iterable[Artifact]) -> Artifact | None:
        ranked = [(r, a.filename, a) for a in artifacts if (r := self.rank(a.filename)) is not None]
        return min(ranked, key=lambda t: (t[0], t[1]))[2] if ranked else None


def _describe_wheels(package: Package) -> str:
    platforms = sorted({tag.rsplit("-", 1)[-1] for a in package.wheels for tag in [a.filename[:-4]]})
    return ", ".join(platforms[:4]) + (" ..." if len(platforms) > 4 else "")


def is_pure(filename: str) -> bool:
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    return all(tag.abi == "none" and tag.platform == "any" for tag in tags)


def make_plan(lock: Lock, target: Target, ranker: WheelRanker | None = None, *, can_compile: bool = True) -> Plan:
    """Choose an artifact for every package; collect every failure, then raise once. `can_compile`: this
    machine can compile code for the target (same OS, CPU and C library); when it cannot, a package whose
    wheels are all compiled for other platforms is refused here, before anything is downloaded or built."""
    env = target.marker_environment()
    ranker = ranker or WheelRanker(target.tags())
    steps: list[Step] = []
    problems: list[str] = []  # nothing fits the target platform
    not_platform: list[str] = []  # another platform would not help
    for package in lock.packages:
        if package.marker is not None and not package.marker.evaluate(env):
            steps.append(Step(package, "skip", None, f"marker false for the target: {package.marker}"))
            continue
        if package.kind == "directory":
            how = "editable" if package.editable else "non-editable"
            steps.append(Step(package, "local", None, f"local package at {package.directory}: wheel built here, "
                              f"installed as uv's {how} install of the shipped sources"))
            continue
        if package.kind == "git":
            steps.append(Step(package, "build", None, f"git {package.vcs.url if package.vcs else ''}: "
                              "wheel built on the build side"))
            continue
        if package.kind == "archive" and package.archive is not None:
            archive = package.archive
            local = not archive.url.startswith(("https://", "http://"))
            if not archive.filename.endswith(".whl"):
                if local:
                    not_platform.append(f"{package.name}: the local sdist {archive.url} would be built on the "
                                        "target, with a build backend the installer does not carry")
                else:
                    steps.append(Step(package, "build", archive, f"direct URL sdist {archive.url}: wheel built on "
                                      "the build side"))
            elif ranker.rank(archive.filename) is None:
                problems.append(f"{package.name}: the {'local' if local else 'direct URL'} wheel {archive.filename} "
                                f"does not run on {target.slug}")
            elif local:
                steps.append(Step(package, "source", None, f"local wheel {archive.url}: shipped in the tree, "
                                  "installed by uv sync"))
            else:
                steps.append(Step(package, "ship", archive, f"direct URL wheel {archive.url}"))
            continue
        wheel = ranker.best(package.wheels)
        if wheel is None and package.sdist is not None and package.wheels and not can_compile \
                and not any(is_pure(a.filename) for a in package.wheels):
            problems.append(f"{package.name} {package.version}: wheels only for {_describe_wheels(package)}; its "
                            f"sdist has compiled code, which cannot be built on this machine for {target.slug}")
            continue
        if wheel is None and package.sdist is not None:
            why = "no wheel for the target" if package.wheels else "sdist only"
            steps.append(Step(package, "build", package.sdist, f"{why}: wheel built from the sdist"))
            continue
        if wheel is None:
            problems.append(f"{package.name} {package.version}: no wheel for {target.slug} "
                            f"(wheels exist for: {_describe_wheels(package)}) and no sdist")
            continue
        steps.append(Step(package, "ship", wheel, f"best wheel for {target.slug}"))
    if problems or not_platform:
        hints = ["pick versions with wheels for the target, choose another --python-platform or --python, a newer "
                 "manylinux level (e.g. x86_64-manylinux_2_28), or build on a machine that matches the target"
                 ] if problems else []
        if problems and target.platform.os == "macos":
            hints.append("for wheels that need a newer macOS, set MACOSX_DEPLOYMENT_TARGET (e.g. 14.0), as for uv")
        if not_platform:
            hints.append("depend on the sdist's source directory, or on a wheel")
        everything = [*problems, *not_platform]
        raise PlanError(f"{len(everything)} package(s) have nothing installable for {target.slug}: "
                        + "; ".join(everything), hint="; ".join(hints))
    return Plan(target, tuple(steps))


@dataclass(frozen=True)
class Variant:
    """The plan for a range of the target Python's patch versions (`last` None: and every later one)."""

    first: tuple[int, int, int]
    last: tuple[int, int, int] | None
    plan: Plan


def _signature(plan: Plan) -> tuple[tuple[str, str | None, str, str | None], ...]:
    return tuple((s.package.name, s.package.version, s.action, s.artifact.filename if s.artifact else None)
                 for s in plan.steps)


def patch_variants(lock: Lock, target: Target, max_patch: int = 49, *, can_compile: bool = True) -> list[Variant]:
    """Plans per patch version. A lock can fork on `python_full_version` inside one minor (seen:
    soupsieve 2.10 below 3.11.5, 4.1.3 from 3.11.5 on); when the target's patch version is not known
    (a host Python), the installer carries every branch and picks by the interpreter it finds."""
    if target.python_full is not None:
        version = tuple(int(x) for x in target.python_full.split(".")[:3])
        exact = (version[0], version[1], version[2])
        return [Variant(exact, exact, make_plan(lock, target, can_compile=can_compile))]
    ranker = WheelRanker(target.tags())  # tags do not depend on the patch version; markers may
    forking = list({str(p.marker): p.marker for p in lock.packages
                    if p.marker is not None and "full_version" in str(p.marker)}.values())
    if not forking:
        return [Variant((*target.python, 0), None, make_plan(lock, target, ranker, can_compile=can_compile))]
    variants: list[Variant] = []
    major, minor = target.python
    verdicts: tuple[bool, ...] | None = None
    for patch in range(max_patch + 1):
        at_patch = replace(target, python_full=f"{major}.{minor}.{patch}")
        env = at_patch.marker_environment()
        # Only the markers on python_full_version can change between patches: plan again when they do.
        now = tuple(m.evaluate(env) for m in forking)
        if now == verdicts:
            continue
        verdicts = now
        plan = make_plan(lock, at_patch, ranker, can_compile=can_compile)
        if variants and _signature(variants[-1].plan) == _signature(plan):
            continue
        if variants:
            variants[-1] = replace(variants[-1], last=(major, minor, patch - 1))
        variants.append(Variant((major, minor, patch), None, plan))
    return variants


def merge(variants: list[Variant]) -> Plan:
    """Every step of every variant, once: what the installer must carry."""
    seen: dict[tuple[str, str | None, str, str | None], Step] = {}
    for variant in variants:
        for step, key in zip(variant.plan.steps, _signature(variant.plan), strict=True):
            seen.setdefault(key, step)
    return Plan(variants[0].plan.target, tuple(seen.values()))


_LEGACY_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def os_floor(filenames: Iterable[str], target: Target) -> tuple[int, int] | None:
    """The oldest glibc/musl (Linux) or macOS version the target host may have so that every given
    wheel runs there.

    A wheel tagged `manylinux_2_27_x86_64.manylinux_2_28_x86_64` runs on glibc >= 2.27: per wheel the
    lowest level among its tags that the target supports; over the wheels, the highest of those.
    """
    supported = set(target.tags())
    floor: tuple[int, int] | None = None
    for filename in filenames:
        levels = []
        for tag in parse_wheel_filename(filename)[3]:
            if tag not in supported:
                continue
            m = re.match(r"(?:manylinux|musllinux|macosx)_(\d+)_(\d+)_", tag.platform)
            legacy = tag.platform.split("_", 1)[0]  # manylinux2014_x86_64 -> manylinux2014
            if m:
                levels.append((int(m.group(1)), int(m.group(2))))
            elif legacy in _LEGACY_GLIBC:
                levels.append(_LEGACY_GLIBC[legacy])
        if levels and (floor is None or min(levels) > floor):
            floor = min(levels)
    return floor
