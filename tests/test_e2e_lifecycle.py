"""Upgrade, rollback, pruning, uninstall, kills, full disks and hostile prefixes (issue 6)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install, uv_in
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
VERSION = "import importlib.metadata as m; print(m.version('tiny'))"


@pytest.fixture
def releases(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> dict[str, Path]:
    """tiny 1.0.0, and 2.0.0 which adds a dependency (gamma), and 3.0.0."""
    out = {}
    for version, deps in (("1.0.0", ("alpha", "beta<2")), ("2.0.0", ("alpha", "beta<2", "gamma")),
                          ("3.0.0", ("alpha", "beta<2", "gamma"))):
        project = tiny_project(version=version, deps=deps, directory=f"tiny-{version}")
        out[version] = build(project, tmp_path / f"tiny-{version}.run", "--python", PY)
    return out


def active_version(jail: Jail, prefix: Path) -> str:
    return uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip()


def release_names(prefix: Path) -> list[str]:
    return sorted(p.name for p in (prefix / "releases").iterdir())


def test_upgrade_rollback_and_reactivation(releases: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    install(jail, releases["2.0.0"], prefix, "--python", target_python())
    assert active_version(jail, prefix) == "2.0.0"
    uv_in(jail, prefix, "run", "python", "-c", "import gamma")
    assert len(release_names(prefix)) == 2

    out = jail.run([str(prefix / "bin" / "tiny-rollback")]).stdout
    assert "is active again" in out
    assert active_version(jail, prefix) == "1.0.0"
    assert uv_in(jail, prefix, "run", "python", "-c", "import gamma", check=False).returncode != 0
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout

    # Running the newer installer again re-activates its release without reinstalling it.
    proc = install(jail, releases["2.0.0"], prefix, "--python", target_python())
    assert "already installed" in proc.stdout
    assert active_version(jail, prefix) == "2.0.0"


def site_file(prefix: Path, release: str, rel: str) -> Path:
    return next((prefix / "releases").glob(f"{release}-*/.venv/lib/python3*/site-packages/{rel}"))


def test_an_upgrade_reuses_what_the_prefix_holds_and_prune_drops_it(releases: dict[str, Path], jail: Jail,
                                                                     tmp_path: Path) -> None:
    """Issue 16, item 4: unchanged wheels are neither written nor unpacked again; the releases share
    their files (hard links through the prefix's uv cache); pruning a release drops what only it used."""
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    store = prefix / ".airgap-installer" / "wheels"
    alpha_wheel = next(store.glob("alpha-*.whl"))
    written_at = alpha_wheel.stat().st_mtime_ns
    out = install(jail, releases["2.0.0"], prefix, "--python", target_python()).stdout
    assert "reused 3 wheels the prefix already holds, wrote 2" in out  # alpha, beta, devtool; gamma, tiny
    assert alpha_wheel.stat().st_mtime_ns == written_at  # not written again
    one, two = site_file(prefix, "1.0.0", "alpha/__init__.py"), site_file(prefix, "2.0.0", "alpha/__init__.py")
    assert one.stat().st_ino == two.stat().st_ino  # one file on disk for both releases
    wheelhouse = next((prefix / "releases").glob("2.0.0-*/.airgap/wheelhouse"))
    assert (wheelhouse / alpha_wheel.name).stat().st_ino == alpha_wheel.stat().st_ino
    uvs = {p.stat().st_ino for p in (prefix / "releases").glob("*/.airgap/bin/uv")}
    assert len(uvs) == 1  # one uv binary on disk for both releases
    assert not list((prefix / ".airgap-installer").glob("run.*")), "scratch space must be cleaned"
    assert active_version(jail, prefix) == "2.0.0"
    cache = prefix / ".airgap-installer" / "uv-cache"
    assert list(cache.rglob("tiny-1.0.0.dist-info"))
    # The store's index remembers what it checked (sha256 with size, mtime and inode).
    index = json.loads((store / ".index.json").read_text())["wheels"]
    assert index[alpha_wheel.name][0] == hashlib.sha256(alpha_wheel.read_bytes()).hexdigest()
    # A stored wheel that changed on disk is not reused: the payload's copy replaces it. Replaced by
    # another file (beta), or written in place with its size kept (alpha: only its mtime tells).
    beta_wheel = next(store.glob("beta-*.whl"))
    beta_wheel.unlink()
    beta_wheel.write_bytes(b"not the wheel")
    good_alpha = alpha_wheel.read_bytes()
    with alpha_wheel.open("r+b") as f:
        f.seek(len(good_alpha) // 2)
        f.write(bytes([good_alpha[len(good_alpha) // 2] ^ 1]))
    out = install(jail, releases["3.0.0"], prefix, "--python", target_python(), "--keep", "2").stdout
    assert "reused 2 wheels the prefix already holds, wrote 3" in out  # gamma, devtool; alpha, beta, tiny
    assert alpha_wheel.read_bytes() == good_alpha
    assert active_version(jail, prefix) == "3.0.0"
    # 1.0.0 was pruned: its project wheel left the store, and its unpacked files left uv's cache.
    assert not list(store.glob("tiny-1.0.0-*.whl")) and list(store.glob("tiny-3.0.0-*.whl"))
    assert not list(cache.rglob("tiny-1.0.0.dist-info")) and list(cache.rglob("tiny-3.0.0.dist-info"))
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    jail.run([str(prefix / "bin" / "tiny-rollback")])
    assert active_version(jail, prefix) == "2.0.0"


def break_gzip(jail: Jail, tmp_path: Path) -> str:
    """Put a gzip that always fails first on the jail's PATH; returns the PATH to restore."""
    broken = tmp_path / "broken-gzip"
    broken.mkdir()
    (broken / "gzip").write_text("#!/bin/sh\necho 'gzip: broken on purpose' >&2\nexit 1\n")
    (broken / "gzip").chmod(0o755)
    system_path = jail.path
    jail.path = f"{broken}:{system_path}"
    return system_path


@pytest.mark.fault("the prefix's kept uv binary altered between installs",
                   "not used: the header inflates the file's own uv and the store replaces the altered copy")
def test_an_upgrade_takes_the_prefix_uv_only_when_its_sha256_matches(releases: dict[str, Path], jail: Jail,
                                                                    tmp_path: Path) -> None:
    """An upgrade with the same uv copies the prefix's binary (checked by sha256) instead of inflating the
    file's: shown by a host whose gzip is broken. An altered copy is neither used nor linked."""
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    system_path = break_gzip(jail, tmp_path)
    install(jail, releases["2.0.0"], prefix, "--python", target_python())
    assert active_version(jail, prefix) == "2.0.0"
    kept = next((prefix / ".airgap-installer").glob("uv.*"))
    good = kept.read_bytes()
    kept.write_bytes(good + b"altered")  # same inode as the releases' links: they see it too
    proc = install(jail, releases["3.0.0"], prefix, "--python", target_python(), check=False)
    assert proc.returncode == 1 and "or gzip failed?" in proc.stderr  # the altered copy was not taken
    assert active_version(jail, prefix) == "2.0.0"
    jail.path = system_path
    install(jail, releases["3.0.0"], prefix, "--python", target_python())
    assert active_version(jail, prefix) == "3.0.0"
    assert kept.read_bytes() == good  # the store's copy is the file's uv again
    assert next((prefix / "releases").glob("3.0.0-*/.airgap/bin/uv")).read_bytes() == good


@pytest.mark.fault("uv cannot be unpacked (gzip fails) while the runtime extracts the wheels",
                   "exit 1 with gzip's line, no release made, `current` untouched")
def test_a_uv_that_cannot_be_unpacked_fails_the_install_cleanly(releases: dict[str, Path], jail: Jail,
                                                                 tmp_path: Path) -> None:
    """The header inflates uv in the background while the runtime extracts the wheels; when that fails,
    the runtime stops with the header's line, and the prefix's active release is untouched."""
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    (prefix / ".airgap-installer" / next((prefix / ".airgap-installer").glob("uv.*")).name).unlink()
    system_path = break_gzip(jail, tmp_path)
    proc = install(jail, releases["2.0.0"], prefix, "--python", target_python(), check=False)
    jail.path = system_path
    assert proc.returncode == 1, proc.stderr
    assert "cannot unpack bin/uv" in proc.stderr and "or gzip failed?" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [n.split("-")[0] for n in release_names(prefix)] == ["1.0.0"]
    assert active_version(jail, prefix) == "1.0.0"
    assert not list((prefix / ".airgap-installer").glob("tmp.*")), "the header's work directory is removed"


def test_old_releases_are_pruned_beyond_keep(releases: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        install(jail, releases[version], prefix, "--python", target_python(), "--keep", "2")
    names = release_names(prefix)
    assert [n.split("-")[0] for n in names] == ["2.0.0", "3.0.0"]  # current and the one to roll back to
    jail.run([str(prefix / "bin" / "tiny-rollback")])
    assert active_version(jail, prefix) == "2.0.0"


@pytest.mark.fault("killed (SIGKILL) at four points of an upgrade",
                   "`current` is the old or the new release, complete; a rerun finishes")
@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8, 1.5])
def test_sigkill_during_upgrade_never_breaks_current(delay: float, releases: dict[str, Path], jail: Jail,
                                                    tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    argv = jail.command(["sh", str(releases["2.0.0"]), "--prefix", str(prefix), "-y", "--python", target_python()])
    proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Whatever moment the kill hit, `current` is a whole release that runs.
    assert active_version(jail, prefix) in ("1.0.0", "2.0.0")
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    # The next run finishes the upgrade and leaves no half-made release or scratch space behind.
    install(jail, releases["2.0.0"], prefix, "--python", target_python())
    assert active_version(jail, prefix) == "2.0.0"
    assert [n.split("-")[0] for n in release_names(prefix)] == ["1.0.0", "2.0.0"]
    leftovers = [p.name for p in (prefix / ".airgap-installer").iterdir() if p.name.startswith(("run.", "tmp."))]
    assert not leftovers


@pytest.mark.fault("two installs into one prefix at once",
                   "the second waits for the first (a lock); both complete")
def test_concurrent_installs_do_not_corrupt_the_prefix(releases: dict[str, Path], jail: Jail,
                                                       tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    procs = [subprocess.Popen(jail.command(["sh", str(releases[v]), "--prefix", str(prefix), "-y", "--python",
                                            target_python()]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for v in ("1.0.0", "2.0.0")]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert active_version(jail, prefix) in ("1.0.0", "2.0.0")
    for name in release_names(prefix):
        assert (prefix / "releases" / name / ".airgap" / "complete").is_file()


@pytest.mark.fault("a disk too small for the release",
                   "exit 1 up front, nothing written")
def test_full_disk_is_refused_up_front(releases: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "small"
    prefix.mkdir()
    jail.setup = [f"mount -t tmpfs -o size=40m airgap-small {prefix}"]
    proc = install(jail, releases["1.0.0"], prefix, "--python", target_python(), check=False)
    assert proc.returncode == 1
    assert "not enough space" in proc.stderr and "MB free" in proc.stderr
    listing = jail.run(["ls", "-A", str(prefix)]).stdout.split()
    assert "releases" not in listing and "current" not in listing


@pytest.mark.fault("read-only and noexec prefixes",
                   "one line each (exit 1, exit 4), nothing half-made")
def test_read_only_and_noexec_prefixes(releases: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    readonly, noexec = tmp_path / "ro", tmp_path / "noexec"
    readonly.mkdir()
    noexec.mkdir()
    jail.setup = [f"mount --bind {readonly} {readonly}", f"mount -o remount,ro,bind {readonly}",
                  f"mount -t tmpfs -o noexec,size=500m airgap-noexec {noexec}"]
    proc = install(jail, releases["1.0.0"], readonly / "opt", "--python", target_python(), check=False)
    assert proc.returncode == 1 and "cannot create" in proc.stderr
    proc = install(jail, releases["1.0.0"], noexec, "--python", target_python(), check=False)
    assert proc.returncode == 4 and "noexec" in proc.stderr
    # A noexec TMPDIR does not matter: the installer's scratch space lives in the prefix.
    jail.env = {"TMPDIR": str(noexec)}
    install(jail, releases["1.0.0"], tmp_path / "opt", "--python", target_python())
    assert active_version(jail, tmp_path / "opt") == "1.0.0"


def test_uninstall_removes_exactly_what_was_installed(releases: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    links = tmp_path / "usr-local-bin"
    install(jail, releases["1.0.0"], prefix, "--python", target_python(), "--link-bin", str(links))
    install(jail, releases["2.0.0"], prefix, "--python", target_python(), "--link-bin", str(links))
    assert "tiny ok" in jail.run([str(links / "tiny")]).stdout
    (links / "other-tool").write_text("#!/bin/sh\n")
    (prefix / "data").mkdir()
    (prefix / "data" / "user.db").write_text("keep me")
    jail.run([str(prefix / "bin" / "tiny-uninstall")])
    assert sorted(p.name for p in prefix.iterdir()) == ["data"]
    assert sorted(p.name for p in links.iterdir()) == ["other-tool"]


def test_license_prompt_and_hooks(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                  builder_cache: Path) -> None:
    extra = textwrap.dedent("""
        [tool.airgap-installer]
        license = "LICENSE.txt"
        pre-install = "echo pre >> \\"$AIRGAP_PREFIX/hooks.log\\""
        post-install = ".venv/bin/python -c 'import alpha' && echo post >> \\"$AIRGAP_PREFIX/hooks.log\\""
        """)
    project = tiny_project(extra_toml=extra)
    (project / "LICENSE.txt").write_text("TINY LICENSE: be nice.\n")
    run_file = build(project, tmp_path / "tiny.run", "--python", PY)
    assert "TINY LICENSE" in jail.run(["sh", str(run_file), "--license"]).stdout
    # What will run as the installing user is shown before anyone runs it.
    hooks = next(line for line in jail.run(["sh", str(run_file), "--info"]).stdout.splitlines()
                 if line.startswith("hooks:"))
    assert "post-install: .venv/bin/python -c 'import alpha'" in hooks and "pre-install: echo pre" in hooks
    prefix = tmp_path / "opt"
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 2 and "--accept" in proc.stderr and not prefix.exists()
    install(jail, run_file, prefix, "--python", target_python(), "--accept")
    assert (prefix / "hooks.log").read_text().split() == ["pre", "post"]


@pytest.mark.fault("a post-install hook that fails",
                   "exit 1; the previous release stays; the log is kept")
def test_failing_hook_keeps_the_previous_release(releases: dict[str, Path], tiny_project: ProjectFactory,
                                                 jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    install(jail, releases["1.0.0"], prefix, "--python", target_python())
    project = tiny_project(version="9.0.0", directory="tiny-9",
                           extra_toml='\n[tool.airgap-installer]\npost-install = "exit 7"\n')
    run_file = build(project, tmp_path / "tiny-9.run", "--python", PY)
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 1 and "post-install hook failed (exit 7)" in proc.stderr
    # The message names the log where it is now, not inside the removed release (issue 13, defect 4).
    assert "install.log" not in proc.stderr and ".airgap-installer/failed-9.0.0-" in proc.stderr
    assert active_version(jail, prefix) == "1.0.0"
    assert [n.split("-")[0] for n in release_names(prefix)] == ["1.0.0"]


@pytest.mark.fault("a disk that fills up mid-install",
                   "exit 1 with a space hint; the previous release stays")
def test_disk_filling_up_mid_install_keeps_the_previous_release(releases: dict[str, Path],
                                                                tiny_project: ProjectFactory, jail: Jail,
                                                                tmp_path: Path) -> None:
    prefix = tmp_path / "small"
    prefix.mkdir()
    jail.setup = [f"mount -t tmpfs -o size=300m airgap-small {prefix}"]
    # One jailed shell for the whole story: the tmpfs lives as long as its mount namespace.
    fill = 'dd if=/dev/zero of="$AIRGAP_PREFIX/filler" bs=1M 2>/dev/null || true'
    v2 = tiny_project(version="2.0.0", directory="tiny-fill",
                      extra_toml=f"\n[tool.airgap-installer]\npre-install = '{fill}'\n")
    filling = build(v2, tmp_path / "fill.run", "--python", PY)
    script = textwrap.dedent(f"""\
        sh {releases['1.0.0']} --prefix {prefix} -y -q --python {target_python()} || exit 10
        sh {filling} --prefix {prefix} -y -q --python {target_python()} 2> {tmp_path}/err && exit 11
        rm -f {prefix}/filler
        ls {prefix}/releases
        {prefix}/bin/tiny
        """)
    proc = jail.sh(script, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    err = (tmp_path / "err").read_text()
    assert "No space left on device" in err and "tip: free some space" in err
    assert f"{prefix}/.airgap-installer/failed-2.0.0-" in err  # the log survives the failed release
    assert proc.stdout.split()[0].startswith("1.0.0-") and "tiny ok" in proc.stdout
    assert len([line for line in proc.stdout.split() if line.startswith(("1.0.0-", "2.0.0-"))]) == 1
