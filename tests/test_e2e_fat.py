"""Fat installers (issue 16, item 1): one file for several targets. Every artifact that serves several
targets is stored once, each target's uv is carved, and the header picks the host's target at run time
(CPU, OS, libc and its version, a CPython of the target's version); no match is exit 4 with the list.
The aarch64 session installs the same kind of file into an arm64 root (test_e2e_aarch64.py)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install, uv_in
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


def test_fat_refuses_what_it_cannot_hold(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    assert main(["build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY, "--fat"]) == 2
    assert "--fat puts several targets into one file" in capsys.readouterr().err
    assert main(["build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY, "--fat",
                 *platforms(HERE, *OTHERS), "--delta-from", str(tmp_path / "x.run")]) == 2
    assert "does not combine" in capsys.readouterr().err
