"""Fat installers (issue 16, item 1): one file for several targets. Every artifact that serves several
targets is stored once, each target's uv is carved, and the header picks the host's target at run time
(CPU, OS, libc and its version, a CPython of the target's version, or one the target brings); no match is
exit 4 with the list.
The aarch64 session installs the same kind of file into an arm64 root (test_e2e_aarch64.py)."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import bare_host, build, install, uv_in
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
HERE = "x86_64-manylinux_2_28"
OTHERS = ("aarch64-manylinux_2_28", "aarch64-apple-darwin")


def platforms(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--python-platform", name)]


def site_files(prefix: Path) -> list[str]:
    site = next((prefix / "current" / ".venv").glob("lib/python3*/site-packages"))
    return sorted(str(p.relative_to(site)) for p in site.rglob("*") if "__pycache__" not in p.parts)


def test_one_file_for_three_platforms_installs_the_hosts_target(tiny_project: ProjectFactory, jail: Jail,
                                                               tmp_path: Path, builder_cache: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    fat = build(project, tmp_path / "tiny-fat.run", "--python", PY, "--fat", *platforms(HERE, *OTHERS))
    single = build(project, tmp_path / "tiny.run", "--python", PY, *platforms(HERE))
    with zipfile.ZipFile(fat) as zf, zipfile.ZipFile(single) as one:
        names = zf.namelist()
        wheels = [n for n in names if n.startswith("wheelhouse/")]
        # The pure wheels serve every target: stored once, as in the single-target file.
        assert sorted(wheels) == sorted(n for n in one.namelist() if n.startswith("wheelhouse/"))
        assert len([n for n in names if n.startswith("bin/uv.")]) == 3  # one uv per platform
        assert len([n for n in names if n.endswith("/manifest.json")]) == 3
    info = jail.run(["sh", str(fat), "--info"]).stdout
    assert all(f"for:           cp{PY.replace('.', '')}-{p}" in info for p in (HERE, *OTHERS)), info
    capsys.readouterr()
    assert main(["inspect", str(fat)]) == 0
    shown = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("target:"))
    assert all(f"cp{PY.replace('.', '')}-{p}" in shown for p in (HERE, *OTHERS)), shown
    assert main(["verify", str(fat)]) == 0

    prefix = tmp_path / "fat"
    install(jail, fat, prefix, "--python", target_python())
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    assert uv_in(jail, prefix, "run", "python", "-c", "import platform; print(platform.machine())").stdout.strip() \
        == "x86_64"
    # Only this target's wheels entered the prefix, and the release is the single-target file's.
    same = tmp_path / "single"
    install(jail, single, same, "--python", target_python())
    assert site_files(prefix) == site_files(same)
    assert sorted(p.name for p in (prefix / ".airgap-installer" / "wheels").iterdir()) == sorted(
        p.name for p in (same / ".airgap-installer" / "wheels").iterdir())
    # The wheelhouse leaves a fat file for this host's target.
    out = tmp_path / "wh"
    jail.run(["sh", str(fat), "--wheelhouse", str(out)], cwd=tmp_path)
    assert (out / "pylock.toml").is_file() and list(out.glob("alpha-*.whl"))


def test_the_libc_and_the_python_pick_the_target(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                 builder_cache: Path) -> None:
    """On a glibc host, of a musl and a glibc target the glibc one; a host that runs none: exit 4, listed."""
    project = tiny_project()
    mixed = build(project, tmp_path / "mixed.run", "--python", PY, "--fat",
                  *platforms("x86_64-musllinux_1_2", HERE))
    prefix = tmp_path / "mixed"
    proc = install(jail, mixed, prefix, "--python", target_python(), "--json")
    assert '"release": "1.0.0-' in proc.stdout
    manifest = (prefix / "current" / ".airgap" / "manifest.json").read_text()
    assert f'"target": "cp{PY.replace(".", "")}-{HERE}"' in manifest

    foreign = build(project, tmp_path / "foreign.run", "--python", PY, "--fat", *platforms(*OTHERS))
    nowhere = tmp_path / "nowhere"
    proc = install(jail, foreign, nowhere, "--python", target_python(), check=False)
    assert proc.returncode == 4, proc.stderr
    assert "matches none of this file's targets" in proc.stderr
    assert all(f"cp{PY.replace('.', '')}-{p}" in proc.stderr for p in OTHERS)
    assert not nowhere.exists()


def stand_in(archive: Path, triple: str, dest: Path) -> Path:
    """This x86_64 CPython's archive under another platform's name: carried and listed by a fat file, never
    run on this host, which picks its own target."""
    dest.mkdir(parents=True, exist_ok=True)
    version, rest = archive.name.removeprefix("cpython-").split("-", 1)
    named = dest / f"cpython-{version}-{triple}-install_only.tar.gz"
    shutil.copyfile(archive, named)
    assert rest.startswith("x86_64-unknown-linux-gnu")
    return named


def test_a_fat_file_brings_each_targets_python(tiny_project: ProjectFactory, pbs_archive_of: Callable[[str], Path],
                                              jail: Jail, tmp_path: Path, builder_cache: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A fleet of x86_64 and aarch64 glibc hosts without Python: each target carries its own CPython (each
    distinct archive once), and a host with no Python at all installs its target's, getting the release the
    single-target file gives."""
    x86 = pbs_archive_of(PY)
    arm = stand_in(x86, "aarch64-unknown-linux-gnu", tmp_path / "arm")
    full = x86.name.split("-")[1].split("+")[0]
    project = tiny_project()
    # The archives in any order: each goes to the targets it fits. manylinux_2_17 shares the x86_64 one.
    fat = build(project, tmp_path / "fat.run", "--python", PY, "--fat",
                *platforms(HERE, "aarch64-manylinux_2_28", "x86_64-manylinux_2_17"),
                "--python-archive", str(arm), "--python-archive", str(x86))
    with zipfile.ZipFile(fat) as zf:
        assert sorted(n for n in zf.namelist() if n.startswith("python/")) == sorted(
            f"python/{a.name}" for a in (x86, arm))
    again = build(project, tmp_path / "again" / "fat.run", "--python", PY, "--fat",
                  *platforms(HERE, "aarch64-manylinux_2_28", "x86_64-manylinux_2_17"),
                  "--python-archive", str(x86), "--python-archive", str(arm))
    assert again.read_bytes() == fat.read_bytes()  # deterministic, whatever order the archives come in
    info = jail.run(["sh", str(fat), "--info"]).stdout
    assert (f"for:           cp{PY.replace('.', '')}-{HERE} (CPython {full}, bundled (cpython-{full}-linux-x86_64-gnu)"
            in info), info
    assert f"(CPython {full}, bundled (cpython-{full}-linux-aarch64-gnu), linux aarch64" in info
    capsys.readouterr()
    assert main(["inspect", str(fat)]) == 0
    assert f"cpython-{full}-linux-aarch64-gnu, bundled" in capsys.readouterr().out
    assert main(["verify", str(fat)]) == 0
    single = build(project, tmp_path / "single.run", "--python", PY, *platforms(HERE), "--python-archive", str(x86))

    jail.hidden += [str(x86.parent), str(arm.parent)]
    sh = bare_host(jail, tmp_path / "bin", "dash")
    prefix = tmp_path / "opt"
    proc = jail.run([*sh, str(fat), "--prefix", str(prefix), "-y", "--json"])
    assert f"Installing the bundled CPython {full}" in proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["action"] == "installed"
    manifest = (prefix / "current" / ".airgap" / "manifest.json").read_text()
    assert f'"target": "cp{PY.replace(".", "")}-{HERE}"' in manifest
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    base = uv_in(jail, prefix, "run", "python", "-c", "import sys; print(sys.base_prefix)").stdout.strip()
    assert Path(base).resolve().is_relative_to((prefix / "python").resolve())
    # Again, as a dry run: the bundled CPython reads the file, and there is nothing to do.
    proc = jail.run([*sh, str(fat), "--prefix", str(prefix), "--dry-run", "--json"])
    assert json.loads(proc.stdout.splitlines()[-1])["action"] == "unchanged"
    same = tmp_path / "same"
    jail.run([*sh, str(single), "--prefix", str(same), "-y"])
    assert site_files(prefix) == site_files(same)


def test_a_host_with_the_python_uses_it_and_one_without_gets_the_bundled(
        tiny_project: ProjectFactory, pbs_archive_of: Callable[[str], Path], jail: Jail, tmp_path: Path,
        builder_cache: Path) -> None:
    """Mixed: an archive only for some targets. The others use the host's CPython, and the header tries
    them first: a host that has the CPython installs no other; a host without one gets the bundled
    target; a host that can run neither is refused with exit 4 and the list, writing nothing."""
    py312 = pbs_archive_of("3.12")
    jail.hidden.append(str(py312.parent))
    project = tiny_project()
    mixed = build(project, tmp_path / "mixed.run", "--python", "3.12", "--python", PY, "--fat", *platforms(HERE),
                  "--python-archive", str(py312))
    info = jail.run(["sh", str(mixed), "--info"]).stdout
    assert f"cp{PY.replace('.', '')}-{HERE} (CPython {PY} from the host" in info
    assert f"cp312-{HERE} (CPython 3.12." in info

    with_python = tmp_path / "with"
    install(jail, mixed, with_python)  # the host's python3 is found on PATH
    assert not (with_python / "python").exists()
    assert f'"target": "cp{PY.replace(".", "")}-{HERE}"' in (
        with_python / "current" / ".airgap" / "manifest.json").read_text()

    sh = bare_host(jail, tmp_path / "bin", "dash")
    without = tmp_path / "without"
    jail.run([*sh, str(mixed), "--prefix", str(without), "-y"])
    assert uv_in(jail, without, "run", "python", "-c", "import sys; print(sys.version_info[:2])").stdout.strip() \
        == "(3, 12)"
    assert "tiny ok" in jail.run([str(without / "bin" / "tiny")]).stdout

    # The bundled target is for another CPU: this host without Python matches none.
    arm = stand_in(pbs_archive_of(PY), "aarch64-unknown-linux-gnu", tmp_path / "arm")
    jail.hidden.append(str(arm.parent))
    other = build(project, tmp_path / "other.run", "--python", PY, "--fat", *platforms(HERE, "aarch64-manylinux_2_28"),
                  "--python-archive", str(arm))
    nowhere = tmp_path / "nowhere"
    proc = jail.run([*sh, str(other), "--prefix", str(nowhere), "-y"], check=False)
    assert proc.returncode == 4, proc.stderr
    assert "matches none of this file's targets" in proc.stderr
    assert f"cp{PY.replace('.', '')}-{HERE}" in proc.stderr
    assert f"cp{PY.replace('.', '')}-aarch64-manylinux_2_28 (brings CPython" in proc.stderr
    assert not nowhere.exists()


def test_fat_refuses_what_it_cannot_hold(tiny_project: ProjectFactory, pbs_archive_of: Callable[[str], Path],
                                         tmp_path: Path, builder_cache: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    out = tmp_path / "x.run"
    assert main(["build", str(project), "-o", str(out), "--python", PY, "--fat"]) == 2
    assert "--fat puts several targets into one file" in capsys.readouterr().err
    assert main(["build", str(project), "-o", str(out), "--python", PY, "--fat",
                 *platforms(HERE, "x86_64-pc-windows-msvc")]) == 2
    assert "--fat holds POSIX targets" in capsys.readouterr().err
    # An archive no target runs, and two archives for one target: refused before anything is fetched.
    x86 = pbs_archive_of(PY)
    arm = stand_in(x86, "aarch64-unknown-linux-gnu", tmp_path / "arm")
    for dry_run in ([], ["--dry-run"]):
        assert main(["build", str(project), "-o", str(out), "--python", PY, "--fat",
                     *platforms(HERE, "x86_64-manylinux_2_17"), "--python-archive", str(arm), *dry_run]) == 1
        err = capsys.readouterr().err
        assert f"--python-archive {arm.name} is cpython-" in err and "which no target of this build runs" in err
    assert main(["build", str(project), "-o", str(out), "--python", PY, "--fat",
                 *platforms(HERE, "aarch64-manylinux_2_28"), "--python-archive", str(x86), "--dry-run"]) == 0
    assert capsys.readouterr().out.count(f"the bundled Python {x86.name}") == 1  # the aarch64 target uses the host's
    twin = tmp_path / x86.name.replace("+20240107-", "+20240108-")  # a later build of the same CPython
    shutil.copyfile(x86, twin)
    assert main(["build", str(project), "-o", str(out), "--python", PY, "--fat",
                 *platforms(HERE, "aarch64-manylinux_2_28"), "--python-archive", str(x86),
                 "--python-archive", str(twin)]) == 1
    assert f"2 Python archives fit cp{PY.replace('.', '')}-{HERE}" in capsys.readouterr().err
    assert not out.exists()
