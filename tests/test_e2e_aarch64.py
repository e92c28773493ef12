"""An aarch64 installer installed and run for real (issue 12): built on this x86_64 machine for
`aarch64-manylinux_2_28`, installed into an arm64 Debian root under qemu-user with no network and no
Python (the fat file brings one), and run with plain `uv run`. Runs in its own session (`nox -s
aarch64`; CI runs it too): it needs root, Debian's qemu-user-static, binfmt-support and debootstrap, and
builds the arm64 root once (about 2 minutes), kept in $AIRGAP_ARM64_ROOT (default
/var/cache/airgap-installer-tests/arm64-root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from airgap_installer.uvbin import builder_uv
from tests.helpers import build
from tests.jail import Jail
from tests.pbs import debian_pbs_archive

pytestmark = [pytest.mark.aarch64, pytest.mark.pypi]
ROOT = Path(os.environ.get("AIRGAP_ARM64_ROOT", "/var/cache/airgap-installer-tests/arm64-root"))
MIRROR = os.environ.get("AIRGAP_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the aarch64 test must run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def arm64_root() -> Path:
    """A minimal arm64 Debian with python3 (CPython 3.11), run through binfmt_misc and qemu-user."""
    if os.geteuid() != 0:
        _unavailable("needs root (binfmt_misc, debootstrap, chroot)")
    for tool in ("qemu-aarch64-static", "debootstrap", "update-binfmts", "chroot"):
        if not shutil.which(tool):
            _unavailable(f"{tool} is not installed (apt-get install qemu-user-static binfmt-support debootstrap)")
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt)], check=True)
    if not (binfmt / "qemu-aarch64").exists():
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=True)
    done = ROOT / ".airgap-test-root-complete"
    if not done.exists():
        fresh = ROOT.with_name(f".{ROOT.name}.{os.getpid()}")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["debootstrap", "--arch=arm64", "--variant=minbase", "--include=python3", "bookworm",
                        str(fresh), MIRROR], check=True, capture_output=True)
        (fresh / done.name).write_text("debootstrap bookworm arm64 minbase + python3\n")
        shutil.rmtree(ROOT, ignore_errors=True)
        fresh.rename(ROOT)
    probe = ["chroot", str(ROOT), "/usr/bin/python3", "-c", "import platform; print(platform.machine())"]
    machine = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    assert machine == "aarch64"
    return ROOT


def test_aarch64_install_runs_offline_under_qemu(arm64_root: Path, tmp_path: Path, builder_cache: Path) -> None:
    project = tmp_path / "armdemo"
    (project / "src" / "armdemo").mkdir(parents=True)
    (project / "src" / "armdemo" / "__init__.py").write_text(textwrap.dedent("""\
        import platform
        import markupsafe, rich
        def main():
            from markupsafe import _speedups  # the compiled aarch64 extension, not the fallback
            print("armdemo ok", platform.machine(), markupsafe.escape("<b>"), _speedups.__file__.endswith(".so"))
        """))
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "armdemo"
        version = "1.0"
        requires-python = ">=3.9"
        dependencies = ["markupsafe", "rich"]
        [project.scripts]
        armdemo = "armdemo:main"
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """))
    subprocess.run([builder_uv(), "lock", "--quiet", "--python", sys.executable, "--project", str(project)],
                   check=True)
    # One fat file for x86_64 and aarch64 (issue 16): the header picks aarch64 in the arm64 root, which has
    # no Python here (its python3 is hidden): the aarch64 target brings the root's own CPython, packed as
    # python-build-standalone packs one (tests/pbs.py); the x86_64 target would use its host's.
    archive = debian_pbs_archive(arm64_root, tmp_path, "aarch64-unknown-linux-gnu")
    run_file = build(project, tmp_path / "arm.run", "--python", "3.11", "--fat",
                     "--python-platform", "x86_64-manylinux_2_28", "--python-platform", "aarch64-manylinux_2_28",
                     "--python-archive", str(archive))
    inside = Path("/tmp") / f"airgap-{uuid.uuid4().hex[:8]}"
    (arm64_root / inside.relative_to("/")).mkdir(parents=True)
    shutil.copy(run_file, arm64_root / inside.relative_to("/") / "arm.run")
    root = str(arm64_root)
    python = next(arm64_root.glob("usr/bin/python3.[0-9]*"))
    jail = Jail(home=tmp_path / "home", setup=[f"mount -t proc proc {root}/proc", f"mount --bind /dev {root}/dev",
                                               f"mount --bind /dev/null {python}"])
    prefix = inside / "opt"

    def in_root(script: str) -> subprocess.CompletedProcess[str]:
        return jail.run(["chroot", root, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8",
                         "/bin/sh", "-c", script], timeout=900)

    try:
        assert in_root("command -v python3 || echo none").stdout.strip() == "none"
        proc = in_root(f"sh {inside}/arm.run --prefix {prefix} -y")
        assert "installed armdemo 1.0" in proc.stdout and "Installing the bundled CPython 3.11" in proc.stdout
        base = in_root(f"cd {prefix}/current && {prefix}/bin/uv run python -c 'import sys; print(sys.base_prefix)'")
        assert base.stdout.strip().startswith(f"{prefix}/python/cpython-3.11"), base.stdout
        out = in_root(f"cd {prefix}/current && {prefix}/bin/uv run armdemo").stdout
        assert "armdemo ok aarch64 &lt;b&gt; True" in out
        assert "armdemo ok aarch64" in in_root(f"{prefix}/bin/armdemo").stdout
        assert '"target": "cp311-aarch64-manylinux_2_28"' in (
            arm64_root / prefix.relative_to("/") / "current" / ".airgap" / "manifest.json").read_text()
        dry = in_root(f"cd {prefix}/current && {prefix}/bin/uv sync --locked --dry-run 2>&1")
        assert "Would make no changes" in dry.stdout
    finally:
        shutil.rmtree(arm64_root / inside.relative_to("/"), ignore_errors=True)
