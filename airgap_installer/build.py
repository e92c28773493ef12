"""Sdists and git packages -> wheels on the build side, so the target needs no git and no compiler.

Every build goes through the builder's uv (`uv build --wheel`). A built wheel is kept in the cache
under a key of its inputs (source hash or git commit, target Python), so a warm rebuild builds nothing
and stays byte-identical. A built wheel that does not fit the target (a native sdist built on another
platform) is an error that names the package and the ways out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from airgap_installer.cache import Cache, sha256_file
from airgap_installer.errors import AirgapError, FetchError, PlanError
from airgap_installer.lock import Artifact, Package
from airgap_installer.plan import WheelRanker
from airgap_installer.target import Target
from airgap_installer.uvbin import run_uv


def _uv_build(source: Path, out: Path, target: Target) -> Path:
    """Build one wheel with the target's Python if this machine has it, else with the builder's own.
    SOURCE_DATE_EPOCH (fixed when unset) makes the common backends write reproducible wheels."""
    base = ["build", "--wheel", "--quiet", "--no-config", "--out-dir", str(out), str(source)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "315532800")}
    try:
        run_uv([*base[:1], "--python", target.python_version, "--no-python-downloads", *base[1:]], env=env)
    except AirgapError:
        run_uv([*base[:1], "--python", sys.executable, *base[1:]], env=env)
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise PlanError(f"building {source.name} gave {len(wheels)} wheels, expected 1")
    return wheels[0]


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
                         hint="the build machine must reach the git remote the lock names") from exc
    return dest / vcs.subdirectory if vcs.subdirectory else dest


def build_key(package: Package, target: Target) -> str:
    sdist = package.sdist or package.archive
    source = package.vcs.commit if package.vcs else (sdist.sha256 if sdist else "")
    return hashlib.sha256(json.dumps([package.name, package.version, source, target.slug]).encode()).hexdigest()


def build_wheel(package: Package, target: Target, cache: Cache) -> Artifact:
    """The wheel for a git package, an sdist-only registry package or a direct URL sdist, built once and
    cached."""
    done = cache.root / "built" / build_key(package, target)
    existing = sorted(done.glob("*.whl")) if done.is_dir() else []
    if existing:
        wheel = existing[0]
    else:
        with tempfile.TemporaryDirectory(prefix="airgap-build-") as tmp:
            work = Path(tmp)
            if package.vcs is not None:
                source = _checkout(package, work / "src")
            else:
                sdist = package.sdist or package.archive  # a registry sdist or a direct URL one
                assert sdist is not None
                source = work / sdist.filename
                shutil.copyfile(cache.path(sdist.sha256), source)
            built = _uv_build(source, work / "out", target)
            if WheelRanker(target.tags()).rank(built.name) is None:
                raise PlanError(
                    f"{package.name} {package.version}: built {built.name} on this machine, which does not run on "
                    f"{target.slug}",
                    hint="build on a machine that matches the target, or choose a version with wheels for it",
                )
            done.mkdir(parents=True, exist_ok=True)
            wheel = done / built.name
            shutil.copyfile(built, wheel)
    return Artifact(url=wheel.as_uri(), sha256=sha256_file(wheel), size=wheel.stat().st_size, filename=wheel.name)
