"""Delta installers (issue 16, item 2): `build --delta-from OLD` carries only what OLD lacks (and no uv
when OLD's is the same); on the target it needs OLD's release in the prefix, checks every reused wheel's
sha256, and refuses before anything is written when the base is missing or different."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install, uv_in
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
VERSION = "import importlib.metadata as m; print(m.version('tiny'))"


def wheels_in(run_file: Path) -> list[str]:
    with zipfile.ZipFile(run_file) as zf:
        return sorted(n.split("/", 1)[1] for n in zf.namelist() if n.startswith("wheelhouse/"))


def test_a_delta_carries_what_changed_and_needs_its_base(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                         builder_cache: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    v1 = build(tiny_project(version="1.0.0", directory="v1"), tmp_path / "tiny-1.run", "--python", PY)
    v2_project = tiny_project(version="2.0.0", deps=("alpha", "beta<2", "gamma"), directory="v2")
    full = build(v2_project, tmp_path / "tiny-2.run", "--python", PY)
    delta = build(v2_project, tmp_path / "tiny-2-delta.run", "--python", PY, "--delta-from", str(v1))
    # Only the changed wheels travel (gamma and the project), and no uv: the base has the same one.
    assert wheels_in(delta) == [w for w in wheels_in(full) if w.startswith(("gamma-", "tiny-"))]
    with zipfile.ZipFile(delta) as zf:
        assert "bin/uv" not in zf.namelist()
    assert delta.stat().st_size < full.stat().st_size / 3
    info = jail.run(["sh", str(delta), "--info"]).stdout
    assert "delta of:        tiny 1.0.0-" in info and "reuses 3 of its 5 wheels and its uv" in info
    assert jail.run(["sh", str(delta), "--check"]).returncode == 0
    assert main(["inspect", str(delta)]) == 0
    assert "delta of:        tiny 1.0.0-" in capsys.readouterr().out

    # No base: refused with the base it needs, nothing written.
    empty = tmp_path / "empty"
    proc = install(jail, delta, empty, "--python", target_python(), check=False)
    assert proc.returncode == 4 and "upgrades tiny 1.0.0-" in proc.stderr and not empty.exists()

    # The base installed: the delta installs the full new release beside it; rollback works as usual.
    prefix = tmp_path / "opt"
    install(jail, v1, prefix, "--python", target_python())
    install(jail, delta, prefix, "--python", target_python())
    assert uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip() == "2.0.0"
    uv_in(jail, prefix, "run", "python", "-c", "import gamma")
    assert "tiny ok" in jail.run([str(prefix / "bin" / "tiny")]).stdout
    jail.run([str(prefix / "bin" / "tiny-rollback")])
    assert uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip() == "1.0.0"

    # The delta gives the same release as the full file: the same packages in the venv.
    same = tmp_path / "full"
    install(jail, full, same, "--python", target_python())
    full_site = next((same / "current" / ".venv").glob("lib/python3*/site-packages"))
    delta_site = next((prefix / "releases").glob("2.0.0-*/.venv/lib/python3*/site-packages"))
    assert sorted(p.name for p in delta_site.iterdir()) == sorted(p.name for p in full_site.iterdir())


def test_a_different_base_is_refused_before_anything_is_written(tiny_project: ProjectFactory, jail: Jail,
                                                                tmp_path: Path, builder_cache: Path) -> None:
    v1 = build(tiny_project(version="1.0.0", directory="v1"), tmp_path / "tiny-1.run", "--python", PY)
    prefix = tmp_path / "opt"
    install(jail, v1, prefix, "--python", target_python())
    # Built from the base's manifest alone (the old file need not be kept): named by version.
    manifest = prefix / "current" / ".airgap" / "manifest.json"
    v2 = tiny_project(version="2.0.0", deps=("alpha", "beta<2", "gamma"), directory="v2")
    delta = build(v2, tmp_path / "tiny-2-delta.run", "--python", PY, "--delta-from", str(manifest))
    assert "delta of:        tiny 1.0.0 (" in jail.run(["sh", str(delta), "--info"]).stdout
    # The prefix's copy of a reused wheel is not the one the pins name: refused, naming it.
    alpha = next((prefix / ".airgap-installer" / "wheels").glob("alpha-*.whl"))
    with alpha.open("r+b") as f:  # in place: the release's hard link sees it too
        f.seek(100)
        f.write(b"X")
    before = sorted(p.name for p in (prefix / "releases").iterdir())
    proc = install(jail, delta, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4 and f"does not hold its {alpha.name}" in proc.stderr, proc.stderr
    assert sorted(p.name for p in (prefix / "releases").iterdir()) == before
    assert json.loads(manifest.read_text())["version"] == "1.0.0"


HERE = "x86_64-manylinux_2_28"
ARM = "aarch64-manylinux_2_28"
FAT = ("--fat", "--python-platform", HERE, "--python-platform", ARM)


def slug(platform: str) -> str:
    return f"cp{PY.replace('.', '')}-{platform}"


def uvs_in(run_file: Path) -> list[str]:
    with zipfile.ZipFile(run_file) as zf:
        return sorted(n for n in zf.namelist() if n.startswith("bin/uv"))


def test_a_fat_delta_upgrades_the_release_each_hosts_target_installed(tiny_project: ProjectFactory, jail: Jail,
                                                                      tmp_path: Path, builder_cache: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A fat delta: each target is split against the base's manifest of the same target; the file carries
    the wheels no base has and a target's uv only when its base's differs; a host upgrades the release its
    own target installed from the fat base."""
    v1 = build(tiny_project(version="1.0.0", directory="v1"), tmp_path / "tiny-1.run", "--python", PY, *FAT)
    v2_project = tiny_project(version="2.0.0", deps=("alpha", "beta<2", "gamma"), directory="v2")
    full = build(v2_project, tmp_path / "tiny-2.run", "--python", PY, *FAT)
    delta = build(v2_project, tmp_path / "tiny-2-delta.run", "--python", PY, *FAT, "--delta-from", str(v1))
    assert wheels_in(delta) == [w for w in wheels_in(full) if w.startswith(("gamma-", "tiny-"))]
    assert uvs_in(delta) == []  # both targets' bases have the same uv
    info = jail.run(["sh", str(delta), "--info"]).stdout
    assert "delta of:        tiny 1.0.0-" in info and "and 2 of their 2 uv binaries" in info, info
    assert info.count(", upgrades tiny 1.0.0-") == 2
    assert jail.run(["sh", str(delta), "--check"]).returncode == 0
    capsys.readouterr()
    assert main(["inspect", str(delta)]) == 0 and main(["verify", str(delta)]) == 0
    assert capsys.readouterr().out.count(", upgrades tiny 1.0.0-") == 2

    empty = tmp_path / "empty"
    proc = install(jail, delta, empty, "--python", target_python(), "--json", check=False)
    assert proc.returncode == 4 and "upgrades tiny 1.0.0-" in proc.stderr and not empty.exists()
    assert json.loads(proc.stdout.splitlines()[-1])["action"] == "refused"

    prefix = tmp_path / "opt"
    install(jail, v1, prefix, "--python", target_python())
    dry = install(jail, delta, prefix, "--python", target_python(), "--dry-run", "--json")
    assert json.loads(dry.stdout.splitlines()[-1])["action"] == "upgraded"
    install(jail, delta, prefix, "--python", target_python())
    assert uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip() == "2.0.0"
    uv_in(jail, prefix, "run", "python", "-c", "import gamma")
    assert f'"target": "{slug(HERE)}"' in (prefix / "current" / ".airgap" / "manifest.json").read_text()
    jail.run([str(prefix / "bin" / "tiny-rollback")])
    assert uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip() == "1.0.0"

    # From the base's manifests alone (`--extract`), one of which names another uv: that target's uv travels.
    extracted = tmp_path / "v1-extracted"
    jail.run(["sh", str(v1), "--extract", str(extracted)])
    arm_manifest = extracted / "targets" / slug(ARM) / "manifest.json"
    table = json.loads(arm_manifest.read_text())
    table["uv_wheel"] = "uv-0.13.8-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"  # an older base
    arm_manifest.write_text(json.dumps(table))
    newer_uv = build(v2_project, tmp_path / "tiny-2-delta-b.run", "--python", PY, *FAT,
                     "--delta-from", str(extracted))
    assert [n.split(".", 1)[1] for n in uvs_in(newer_uv)] == ["manylinux_2_28_aarch64"]
    other = tmp_path / "other"
    install(jail, v1, other, "--python", target_python())
    install(jail, newer_uv, other, "--python", target_python())  # this host's uv: the base's copy
    assert uv_in(jail, other, "run", "python", "-c", VERSION).stdout.strip() == "2.0.0"


def test_the_targets_of_a_delta_and_its_base_line_up(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                     builder_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fat delta needs a base for each of its targets: one fat file, or one file (or manifest) per target.
    A single-target delta may take its base from a fat file: that target's part of it."""
    v1_project = tiny_project(version="1.0.0", directory="v1")
    v2_project = tiny_project(version="2.0.0", deps=("alpha", "beta<2", "gamma"), directory="v2")
    v1_here = build(v1_project, tmp_path / "tiny-1-here.run", "--python", PY, "--python-platform", HERE)
    out = tmp_path / "delta.run"
    assert main(["build", str(v2_project), "-o", str(out), "--python", PY, *FAT, "--delta-from", str(v1_here)]) == 2
    err = capsys.readouterr().err
    assert f"the base has no target {slug(ARM)} (it has: {slug(HERE)})" in err and not out.exists()

    # One earlier file per target: each target of the fat delta upgrades its own.
    v1_arm = build(v1_project, tmp_path / "tiny-1-arm.run", "--python", PY, "--python-platform", ARM)
    delta = build(v2_project, out, "--python", PY, *FAT, "--delta-from", str(v1_here), "--delta-from", str(v1_arm))
    info = jail.run(["sh", str(delta), "--info"]).stdout
    here_id = json.loads(jail.run(["sh", str(v1_here), "--prefix", str(tmp_path / "p1"), "-y", "--json",
                                   "--python", target_python()]).stdout.splitlines()[-1])["release"]
    assert f"{slug(HERE)} (CPython {PY} from the host, linux x86_64, needs glibc >= 2.17, upgrades tiny {here_id})" \
        in info, info
    install(jail, delta, tmp_path / "p1", "--python", target_python())
    assert uv_in(jail, tmp_path / "p1", "run", "python", "-c", VERSION).stdout.strip() == "2.0.0"

    # A fat base for a single-target delta: the base's manifest of that target; a target it lacks is refused.
    v1_fat = build(v1_project, tmp_path / "tiny-1.run", "--python", PY, *FAT)
    single = build(v2_project, tmp_path / "tiny-2-here.run", "--python", PY, "--python-platform", HERE,
                   "--delta-from", str(v1_fat))
    prefix = tmp_path / "p2"
    install(jail, v1_fat, prefix, "--python", target_python())
    install(jail, single, prefix, "--python", target_python())
    assert uv_in(jail, prefix, "run", "python", "-c", VERSION).stdout.strip() == "2.0.0"
    musl = tmp_path / "musl.run"
    assert main(["build", str(v2_project), "-o", str(musl), "--python", PY, "--python-platform",
                 "x86_64-unknown-linux-musl", "--delta-from", str(v1_fat)]) == 2
    assert f"the base has no target cp{PY.replace('.', '')}-x86_64-musllinux_1_2" in capsys.readouterr().err
    assert not musl.exists()


@pytest.mark.fault("a fat delta file on a host whose prefix lacks its target's base release",
                   "exit 4 before anything is written, naming the base it needs")
def test_a_fat_delta_refuses_a_prefix_without_its_base(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                       builder_cache: Path) -> None:
    v1 = build(tiny_project(version="1.0.0", directory="v1"), tmp_path / "tiny-1.run", "--python", PY, *FAT)
    v2 = tiny_project(version="2.0.0", deps=("alpha", "beta<2", "gamma"), directory="v2")
    delta = build(v2, tmp_path / "tiny-2-delta.run", "--python", PY, *FAT, "--delta-from", str(v1))
    # Another release of the project is installed, without the base's beta: refused, nothing written.
    other = build(tiny_project(version="0.5.0", deps=("alpha",), directory="v0"), tmp_path / "tiny-0.run",
                  "--python", PY, *FAT)
    prefix = tmp_path / "opt"
    install(jail, other, prefix, "--python", target_python())
    before = sorted(p.name for p in (prefix / "releases").iterdir())
    proc = install(jail, delta, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4, proc.stderr
    assert "this delta installer upgrades tiny 1.0.0-" in proc.stderr and "does not hold its beta-" in proc.stderr
    assert sorted(p.name for p in (prefix / "releases").iterdir()) == before


@pytest.mark.fault("--delta-from names a file that is no installer (random bytes, text, a directory, missing)",
                   "build exit 2 with one line naming the file and a tip; no output written")
@pytest.mark.parametrize("kind", ["random", "text", "directory", "missing", "zip without manifest"])
def test_a_base_that_is_no_installer_is_refused_in_one_line(kind: str, tiny_project: ProjectFactory, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "old.run"
    if kind == "random":
        base.write_bytes(bytes(range(256)) * 40)
    elif kind == "text":
        base.write_text("root:x:0:0:root:/root:/bin/sh\n")
    elif kind == "directory":
        base.mkdir()
    elif kind == "zip without manifest":
        with zipfile.ZipFile(base, "w") as zf:
            zf.writestr("hello.txt", "hi")
    out = tmp_path / "new.run"
    assert main(["build", str(tiny_project()), "-o", str(out), "--python", PY, "--delta-from", str(base)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"ERROR --delta-from {base}") and err[1].startswith("TIP ")
    assert "Traceback" not in "\n".join(err) and not out.exists()
