"""The result contract (issue 20): `--json` prints one JSON object as the only line of stdout, for every
way a run ends; an install of the active release writes nothing; `--dry-run` writes nothing. Real
installers, the real header and uv, in the no-network jail; one pair of installers for the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ProjectFactory, make_tiny, target_python
from tests.helpers import build
from tests.index import LocalIndex
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
KEYS = {"changed", "action", "release", "previous", "version", "prefix", "exit_code", "message", "hint", "dry_run"}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex, builder_cache: Path) -> dict[str, Path]:
    """tiny 1.0.0 and 2.0.0 (which adds gamma), built once for the module."""
    root = tmp_path_factory.mktemp("result-builds")
    out = {}
    for version, deps in (("1.0.0", ("alpha", "beta<2")), ("2.0.0", ("alpha", "beta<2", "gamma"))):
        project = make_tiny(root, local_index, version=version, deps=deps, directory=f"tiny-{version}")
        out[version] = build(project, root / f"tiny-{version}.run", "--python", PY)
    return out


def result_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The run's result: stdout is exactly one JSON line, and its exit_code is the process's."""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, f"stdout is not one line:\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    data: dict[str, Any] = json.loads(lines[0])
    assert set(data) == KEYS
    assert data["exit_code"] == proc.returncode, proc.stderr
    return data


def run(jail: Jail, run_file: Path, prefix: Path | str, *args: str) -> dict[str, Any]:
    proc = jail.run(["sh", str(run_file), "--prefix", str(prefix), "-y", "--json", *args], check=False)
    return result_of(proc)


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under root with its type, size, mtime and link target: any write shows."""
    seen: dict[str, tuple[object, ...]] = {}
    if not root.exists():
        return seen
    for here, dirs, files in os.walk(root):
        for name in [*dirs, *files, "."]:
            path = Path(here) / name
            st = path.lstat()
            link = os.readlink(path) if path.is_symlink() else None
            seen[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, link)
    return seen


def test_install_rerun_upgrade_rollback_uninstall(builds: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    py = target_python()
    first = run(jail, builds["1.0.0"], prefix, "--python", py)
    assert first["action"] == "installed" and first["changed"] is True and first["exit_code"] == 0
    assert first["release"].startswith("1.0.0-") and first["previous"] is None
    assert first["version"] == "1.0.0" and first["prefix"] == str(prefix) and first["dry_run"] is False
    assert os.readlink(prefix / "current") == f"releases/{first['release']}"

    # The active release again: nothing on disk changes, not even the state directory.
    before = snapshot(prefix)
    again = run(jail, builds["1.0.0"], prefix, "--python", py)
    assert again["action"] == "unchanged" and again["changed"] is False
    assert again["release"] == first["release"] and "nothing changed" in again["message"]
    assert snapshot(prefix) == before
    text = jail.run(["sh", str(builds["1.0.0"]), "--prefix", str(prefix), "-y", "--python", py])
    assert "already installed and active" in text.stdout and snapshot(prefix) == before

    # --dry-run of the upgrade says what it would do and writes nothing.
    would = run(jail, builds["2.0.0"], prefix, "--python", py, "--dry-run")
    assert (would["action"], would["changed"], would["dry_run"]) == ("upgraded", True, True)
    assert would["release"].startswith("2.0.0-") and would["previous"] == first["release"]
    assert snapshot(prefix) == before

    upgrade = run(jail, builds["2.0.0"], prefix, "--python", py)
    assert (upgrade["action"], upgrade["changed"]) == ("upgraded", True)
    assert upgrade["release"] == would["release"] and upgrade["previous"] == first["release"]

    rollback = result_of(jail.run([str(prefix / "bin" / "tiny-rollback"), "--json"], check=False))
    assert (rollback["action"], rollback["changed"], rollback["exit_code"]) == ("rolled-back", True, 0)
    assert rollback["release"] == first["release"] and rollback["previous"] == upgrade["release"]
    assert rollback["version"] == "1.0.0" and rollback["prefix"] == str(prefix)
    assert os.readlink(prefix / "current") == f"releases/{first['release']}"

    # The newer file again: its release is complete but not active, so it is activated, not rebuilt.
    activated = run(jail, builds["2.0.0"], prefix, "--python", py)
    assert (activated["action"], activated["changed"]) == ("activated", True)
    assert activated["previous"] == first["release"]
    assert os.readlink(prefix / "current") == f"releases/{upgrade['release']}"

    before = snapshot(prefix)
    dry = result_of(jail.run([str(prefix / "bin" / "tiny-uninstall"), "--json", "--dry-run"], check=False))
    assert (dry["action"], dry["dry_run"], dry["previous"]) == ("uninstalled", True, upgrade["release"])
    assert snapshot(prefix) == before
    gone = result_of(jail.run([str(prefix / "bin" / "tiny-uninstall"), "--json"], check=False))
    assert (gone["action"], gone["changed"], gone["previous"]) == ("uninstalled", True, upgrade["release"])
    assert not prefix.exists()


def test_rollback_without_a_previous_release_fails_as_json(builds: dict[str, Path], jail: Jail,
                                                            tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    run(jail, builds["1.0.0"], prefix, "--python", target_python())
    proc = jail.run([str(prefix / "bin" / "tiny-rollback"), "--json"], check=False)
    failed = result_of(proc)
    assert (failed["action"], failed["changed"], failed["exit_code"]) == ("failed", False, 1)
    assert "no previous complete release" in failed["message"] and "no previous" in proc.stderr


def test_dry_run_into_a_new_prefix_writes_nothing(builds: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "new" / "opt"
    would = run(jail, builds["1.0.0"], prefix, "--python", target_python(), "--dry-run")
    assert (would["action"], would["changed"], would["dry_run"], would["exit_code"]) == ("installed", True, True, 0)
    assert would["release"].startswith("1.0.0-") and "nothing written" in would["message"]
    assert not (tmp_path / "new").exists()


def test_refusals_are_results(builds: dict[str, Path], jail: Jail, tmp_path: Path) -> None:
    data = builds["1.0.0"].read_bytes()
    prefix = tmp_path / "opt"
    corrupt = tmp_path / "corrupt.run"
    middle = len(data) - 5000  # in the payload, past the header
    corrupt.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:])
    refused = run(jail, corrupt, prefix, "--python", target_python())
    assert (refused["action"], refused["changed"], refused["exit_code"]) == ("refused", False, 3)
    assert "is corrupt" in refused["message"] and refused["hint"] == "copy the installer again and compare its sha256"
    assert refused["prefix"] == str(prefix) and refused["version"] == "1.0.0"

    truncated = tmp_path / "truncated.run"
    truncated.write_bytes(data[:-1])
    cut = run(jail, truncated, prefix)
    assert (cut["action"], cut["exit_code"]) == ("refused", 3) and "truncated" in cut["message"]

    usage = run(jail, builds["1.0.0"], prefix, "--bogus")
    assert (usage["action"], usage["exit_code"], usage["message"]) == ("refused", 2, "unknown option: --bogus")

    wrong = run(jail, builds["1.0.0"], prefix, "--python", "/bin/true")
    assert (wrong["action"], wrong["exit_code"]) == ("refused", 4) and "needs CPython" in wrong["message"]

    # The message and prefix survive JSON whatever bytes they hold.
    odd = f'{tmp_path}/a "quoted" \\ dir\twith\ncontrols'
    weird = run(jail, builds["1.0.0"], odd, "--python", target_python())
    assert (weird["exit_code"], weird["prefix"]) == (2, odd) and "newline" in weird["message"]
    assert not prefix.exists() and not list(tmp_path.glob("a *"))


def test_read_only_prefix_fails_the_same_with_and_without_dry_run(builds: dict[str, Path], jail: Jail,
                                                                 tmp_path: Path) -> None:
    readonly = tmp_path / "ro"
    readonly.mkdir()
    jail.setup = [f"mount --bind {readonly} {readonly}", f"mount -o remount,ro,bind {readonly}"]
    for extra in ((), ("--dry-run",)):
        failed = run(jail, builds["1.0.0"], readonly / "opt", "--python", target_python(), *extra)
        assert (failed["action"], failed["changed"], failed["exit_code"]) == ("failed", False, 1)
        assert failed["message"] == f"cannot create {readonly / 'opt'}"
        assert failed["dry_run"] is bool(extra)
    assert not list(readonly.iterdir())


def test_missing_launchers_or_links_make_the_active_release_activated(builds: dict[str, Path], jail: Jail,
                                                                     tmp_path: Path) -> None:
    """`unchanged` means the active release with everything activation writes in place."""
    prefix, links = tmp_path / "opt", tmp_path / "usr-local-bin"
    py = target_python()
    first = run(jail, builds["1.0.0"], prefix, "--python", py)
    (prefix / "bin" / "tiny").unlink()
    repaired = run(jail, builds["1.0.0"], prefix, "--python", py)
    assert (repaired["action"], repaired["changed"], repaired["previous"]) == ("activated", True, first["release"])
    assert "launchers were written again" in repaired["message"] and (prefix / "bin" / "tiny").is_file()
    would = run(jail, builds["1.0.0"], prefix, "--python", py, "--link-bin", str(links), "--dry-run")
    assert (would["action"], would["changed"]) == ("activated", True) and not links.exists()
    linked = run(jail, builds["1.0.0"], prefix, "--python", py, "--link-bin", str(links))
    assert linked["action"] == "activated" and os.readlink(links / "tiny") == str(prefix / "bin" / "tiny")
    again = run(jail, builds["1.0.0"], prefix, "--python", py, "--link-bin", str(links))
    assert (again["action"], again["changed"]) == ("unchanged", False)


def test_a_fat_file_reports_for_the_target_the_header_picked(tiny_project: ProjectFactory, jail: Jail,
                                                             tmp_path: Path, builder_cache: Path) -> None:
    """A fat file's plan reads the picked target's manifest: dry run, install, unchanged; a host that
    matches none of its targets is a refusal (exit 4) with the list."""
    project = tiny_project()
    here = ("--python-platform", "x86_64-manylinux_2_28", "--python-platform", "aarch64-manylinux_2_28")
    fat = build(project, tmp_path / "fat.run", "--python", PY, "--fat", *here)
    prefix = tmp_path / "opt"
    py = target_python()
    would = run(jail, fat, prefix, "--python", py, "--dry-run")
    assert (would["action"], would["dry_run"], would["exit_code"]) == ("installed", True, 0) and not prefix.exists()
    done = run(jail, fat, prefix, "--python", py)
    assert (done["action"], done["release"]) == ("installed", would["release"])
    assert run(jail, fat, prefix, "--python", py)["action"] == "unchanged"
    elsewhere = ("--python-platform", "aarch64-manylinux_2_28", "--python-platform", "aarch64-apple-darwin")
    foreign = build(project, tmp_path / "foreign.run", "--python", PY, "--fat", *elsewhere)
    refused = run(jail, foreign, tmp_path / "other", "--python", py)
    assert (refused["action"], refused["exit_code"]) == ("refused", 4) and "aarch64" in refused["message"]
