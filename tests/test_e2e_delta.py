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
