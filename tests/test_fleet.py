"""The fleet (issue 20): the airgap.installer collection, installed with ansible-galaxy from ansible/,
driving the real engine (ansible-core from PyPI) against real SSH hosts (tests/fleet.py), all inside a
network namespace with only loopback. `nox -s fleet` runs it (-m fleet); `nox -s tests` leaves it out.

Hosts h1, h2, h3 are healthy; `ro` has its prefix on a read-only mount. One story, in order: check
mode writes nothing; the first run changes the healthy hosts and fails `ro` with the installer's own
line; the second run changes nothing; the example rollout playbook (docs/examples/fleet-rollout.yml)
upgrades to v2 canary first, and rolls h3 back to v1 when its check fails; the rollback module returns
h1 to v1; the uninstall module empties h2 (check mode first), and a second uninstall has nothing to do;
a signed file installs on h2 with `trust`, and the same file with a forged signature is refused (exit 3);
with remote_src, the v2 file h3 already holds makes its complete v2 release active again (`activated`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, make_tiny, target_python
from tests.fleet import Fleet, fleet_unavailable
from tests.helpers import build
from tests.index import LocalIndex
from tests.jail import SYSTEM_PATH

pytestmark = pytest.mark.fleet

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
HOSTS = ["h1", "h2", "h3", "ro"]
HEALTHY = ["h1", "h2", "h3"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    reason = fleet_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the fleet test must run on CI: {reason}")
        pytest.skip(f"no real SSH hosts here: {reason}")
    for tool in ("ansible", "ansible-playbook", "ansible-galaxy"):
        if not (Path(sys.executable).parent / tool).exists():
            pytest.fail(f"{tool} is not installed next to {sys.executable}: run `nox -s fleet`")
    fleet = Fleet(tmp_path_factory.mktemp("fleet"))
    try:
        fleet.start(HOSTS, readonly_hosts=("ro",))
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex,
           builder_cache: Path) -> dict[str, Path]:
    """tiny 1.0.0 and 2.0.0; 2.0.0 signed (with allowed_signers), and the same file with another key's
    signature. Every file is named tiny.run, as a site would name its releases' files."""
    root = tmp_path_factory.mktemp("fleet-builds")
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-C", "release", "-f", str(root / "release")], check=True)
    subprocess.run([*keygen, "-C", "other", "-f", str(root / "other")], check=True)
    allowed = root / "allowed_signers"
    allowed.write_text(f'release namespaces="airgap-installer" {(root / "release.pub").read_text()}')
    out = {"allowed_signers": allowed}
    for version, deps in (("1.0.0", ("alpha", "beta<2")), ("2.0.0", ("alpha", "beta<2", "gamma"))):
        project = make_tiny(root, local_index, version=version, deps=deps, directory=f"tiny-{version}")
        out[version] = build(project, root / "out" / version / "tiny.run", "--python", PY)
    out["signed"] = root / "signed" / "tiny.run"
    out["signed"].parent.mkdir()
    shutil.copy(out["2.0.0"], out["signed"])
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(root / "release"), "-n", "airgap-installer",
                    str(out["signed"])], check=True)
    out["forged"] = root / "forged" / "tiny.run"
    out["forged"].parent.mkdir()
    shutil.copy(out["2.0.0"], out["forged"])
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(root / "other"), "-n", "airgap-installer",
                    str(out["forged"])], check=True)
    return out


@pytest.fixture(scope="module")
def ansible_env(fleet: Fleet) -> dict[str, str]:
    """The controller's environment; the collection installed from the repository's folder, offline."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        "HOME": str(fleet.root / "home"),
        "LANG": "C.UTF-8",
        "ANSIBLE_COLLECTIONS_PATH": str(fleet.root / "collections"),
        "ANSIBLE_LOCAL_TEMP": str(fleet.root / "ansible-local"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(fleet.root / "cp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_PIPELINING": "True",  # one SSH round trip per module instead of four
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PYTHONWARNINGS": "ignore",
    }
    fleet.run(["ansible-galaxy", "collection", "install", str(REPO / "ansible"), "-p", env["ANSIBLE_COLLECTIONS_PATH"]],
              env=env)
    return env


def adhoc(fleet: Fleet, env: dict[str, str], inventory: Path, tree: str, module: str, args: str,
          *extra: str, hosts: tuple[str, ...] = tuple(HOSTS)) -> dict[str, dict[str, Any]]:
    """`ansible HOSTS -m MODULE -a ARGS`; each host's result, read from the tree callback's files."""
    out = fleet.root / tree
    proc = fleet.run(["ansible", ":".join(hosts), "-i", str(inventory), "-m", module, "-a", args, "-t", str(out),
                      *extra], env=env, check=False)
    results = {}
    for host in hosts:
        assert (out / host).is_file(), f"no result for {host}:\n{proc.stdout}\n{proc.stderr}"
        results[host] = json.loads((out / host).read_text())
    return results


def snapshot(fleet: Fleet) -> dict[str, tuple[object, ...]]:
    """Every entry of every host's prefix and installer cache, with its size and mtime."""
    seen: dict[str, tuple[object, ...]] = {}
    for host in fleet.hosts:
        for root in (host.prefix, host.cache_dir):
            seen[str(root)] = (root.exists(),)
            for here, dirs, files in os.walk(root):
                for name in [".", *dirs, *files]:
                    st = (Path(here) / name).lstat()
                    seen[os.path.join(here, name)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP: host -> {ok, changed, failed, rescued, ...}."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^(\S+)\s+: (.*)$", line)
        if match and "ok=" in match.group(2):
            found[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return found


def active(fleet: Fleet, host: str) -> str:
    prefix = next(h.prefix for h in fleet.hosts if h.name == host)
    return os.readlink(prefix / "current").split("/")[1]


def test_fleet_rollout(fleet: Fleet, builds: dict[str, Path], ansible_env: dict[str, str]) -> None:
    env = ansible_env
    inventory = fleet.inventory(target_python(), extra={
        "h1": {"airgap_check": "{{ airgap_prefix }}/bin/tiny"},
        "h2": {"airgap_check": "{{ airgap_prefix }}/bin/tiny"},
        "h3": {"airgap_check": "/bin/false"},  # v2 "does not work" on h3: the rollout rolls it back
    })
    v1 = (f"src={builds['1.0.0']} prefix={{{{ airgap_prefix }}}} python={{{{ airgap_python }}}} "
          "cache_dir={{ airgap_cache_dir }}")

    # Check mode: every host says what it would do; nothing is written anywhere a host keeps state.
    before = snapshot(fleet)
    would = adhoc(fleet, env, inventory, "tree-check", "airgap.installer.install", v1, "--check")
    for host in HEALTHY:
        assert would[host]["changed"] is True and would[host]["installer"]["dry_run"] is True, would[host]
        assert would[host]["installer"]["action"] == "installed" and would[host]["copied"] is True
    assert would["ro"]["rc"] == 1 and would["ro"]["installer"]["action"] == "failed"  # the tree drops "failed"
    assert snapshot(fleet) == before
    for host in fleet.hosts:
        assert not host.prefix.exists() and not host.cache_dir.exists()

    # First run: the healthy hosts change; `ro` fails with the installer's own line and exit code.
    first = adhoc(fleet, env, inventory, "tree-1", "airgap.installer.install", v1)
    for host in HEALTHY:
        result = first[host]
        assert result["changed"] is True and result["copied"] is True, result
        assert result["installer"]["action"] == "installed" and result["release"].startswith("1.0.0-")
        assert active(fleet, host) == result["release"]
    ro_prefix = next(h.prefix for h in fleet.hosts if h.name == "ro")
    assert first["ro"]["rc"] == 1 and first["ro"]["installer"]["changed"] is False
    assert first["ro"]["copied"] is True  # its cache is writable: the file is there for the next run
    assert first["ro"]["msg"] == f"cannot create {ro_prefix}"
    assert first["ro"]["installer"]["action"] == "failed"
    v1_release = first["h1"]["release"]

    # Second run: nothing to copy, nothing to install.
    second = adhoc(fleet, env, inventory, "tree-2", "airgap.installer.install", v1)
    for host in HEALTHY:
        assert second[host]["changed"] is False and second[host]["copied"] is False, second[host]
        assert second[host]["installer"]["action"] == "unchanged"
    assert second["ro"]["rc"] == 1 and second["ro"]["copied"] is False and second["ro"]["changed"] is False

    # The example rollout playbook, in check mode first (nothing written), then for real.
    playbook = REPO / "docs" / "examples" / "fleet-rollout.yml"
    rollout = ["ansible-playbook", "-i", str(inventory), str(playbook),
               "-e", f"airgap_installer_file={builds['2.0.0']}", "-e", "airgap_hosts=h1:h2:h3"]
    before = snapshot(fleet)
    checked = fleet.run([*rollout, "--check", "--diff"], env=env, check=False)
    assert recap(checked.stdout)["h1"]["changed"] == 1, checked.stdout
    assert f"-active release: {v1_release}\n+active release: 2.0.0-" in checked.stdout  # --diff
    assert snapshot(fleet) == before
    assert {active(fleet, h) for h in HEALTHY} == {v1_release}

    done = fleet.run(rollout, env=env, check=False)
    counts = recap(done.stdout)
    assert counts["h1"]["failed"] == 0 and counts["h2"]["failed"] == 0, done.stdout
    assert counts["h3"]["rescued"] == 1 and counts["h3"]["failed"] == 1, done.stdout
    assert done.returncode != 0  # a failed host fails the run
    v2_release = active(fleet, "h1")
    assert v2_release.startswith("2.0.0-") and active(fleet, "h2") == v2_release
    assert active(fleet, "h3") == v1_release  # rolled back by the rescue

    # The rollback module returns h1 to v1.
    back = adhoc(fleet, env, inventory, "tree-rollback", "airgap.installer.rollback", "prefix={{ airgap_prefix }}",
                 hosts=("h1",))
    assert back["h1"]["changed"] is True and back["h1"]["installer"]["action"] == "rolled-back", back["h1"]
    assert back["h1"]["release"] == v1_release and active(fleet, "h1") == v1_release

    # A helper an older airgap-installer wrote ignores its arguments: the module refuses to run it.
    h1 = next(h for h in fleet.hosts if h.name == "h1")
    helper = h1.prefix / "bin" / "tiny-rollback"
    new_helper = helper.read_text()
    helper.write_text("#!/bin/sh\n# made by airgap-installer: (the pre-issue-20 helper took no options)\nexit 0\n")
    old = adhoc(fleet, env, inventory, "tree-old-helper", "airgap.installer.rollback", "prefix={{ airgap_prefix }}",
                "--check", hosts=("h1",))
    assert old["h1"]["rc"] == 2 and "older airgap-installer" in old["h1"]["msg"], old["h1"]
    helper.write_text(new_helper)

    # Uninstall h2: check mode touches nothing; then it goes; a second run has nothing to do.
    before = snapshot(fleet)
    would_go = adhoc(fleet, env, inventory, "tree-uninstall-check", "airgap.installer.uninstall",
                     "prefix={{ airgap_prefix }}", "--check", hosts=("h2",))
    assert would_go["h2"]["installer"]["dry_run"] is True and would_go["h2"]["previous"] == v2_release
    assert snapshot(fleet) == before
    gone = adhoc(fleet, env, inventory, "tree-uninstall", "airgap.installer.uninstall", "prefix={{ airgap_prefix }}",
                 hosts=("h2",))
    assert gone["h2"]["changed"] is True and gone["h2"]["installer"]["action"] == "uninstalled"
    h2 = next(h for h in fleet.hosts if h.name == "h2")
    assert not h2.prefix.exists()
    again = adhoc(fleet, env, inventory, "tree-uninstall-2", "airgap.installer.uninstall", "prefix={{ airgap_prefix }}",
                  hosts=("h2",))
    assert again["h2"]["changed"] is False and again["h2"]["rc"] == 0

    # Signed: FILE.run.sig travels beside the file; each is copied only when the host's differs.
    signed = (f"src={builds['signed']} prefix={{{{ airgap_prefix }}}} python={{{{ airgap_python }}}} "
              f"cache_dir={{{{ airgap_cache_dir }}}} trust={builds['allowed_signers']}")
    trusted = adhoc(fleet, env, inventory, "tree-signed", "airgap.installer.install", signed, hosts=("h2",))
    assert trusted["h2"]["installer"]["action"] == "installed" and trusted["h2"]["copied"] is True, trusted["h2"]
    assert (h2.cache_dir / "tiny.run.sig").read_bytes() == builds["signed"].with_suffix(".run.sig").read_bytes()
    forged = adhoc(fleet, env, inventory, "tree-forged", "airgap.installer.install",
                   signed.replace(str(builds["signed"]), str(builds["forged"])), hosts=("h2",))
    assert forged["h2"]["rc"] == 3 and forged["h2"]["copied"] is True, forged["h2"]  # only the .sig differed
    assert forged["h2"]["msg"] == f"{h2.cache_dir / 'tiny.run'} is not signed by a key in {builds['allowed_signers']}"
    assert active(fleet, "h2") == trusted["h2"]["release"]

    # remote_src: h3 holds v2 in its cache from the rollout, and v2's release from before its rollback.
    h3 = next(h for h in fleet.hosts if h.name == "h3")
    on_host = (f"src={h3.cache_dir / 'tiny.run'} remote_src=true prefix={{{{ airgap_prefix }}}} "
               "python={{ airgap_python }}")
    again_v2 = adhoc(fleet, env, inventory, "tree-remote", "airgap.installer.install", on_host, hosts=("h3",))
    assert again_v2["h3"]["installer"]["action"] == "activated" and "copied" not in again_v2["h3"], again_v2["h3"]
    assert active(fleet, "h3") == v2_release and again_v2["h3"]["previous"] == v1_release
