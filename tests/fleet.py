"""Real SSH hosts for the fleet tests (issue 20): Debian's openssh-server, one sshd per "host", each with
its own config, host key and AuthorizedKeysFile, on loopback ports inside a network namespace (and a
mount namespace) that a holder process keeps alive. Every command of a test (sshd, ansible-galaxy,
ansible, ansible-playbook) runs in it with `nsenter`: nothing there can reach any network but lo.

Each host is this machine as root (sshd's privilege separation needs root); what tells them apart is
the port, the prefix, the installer cache and Ansible's remote temporary directory (inventory vars).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
FIRST_PORT = 2201


def fleet_unavailable() -> str | None:
    """None when real SSH hosts can be started here, else why not (for a skip or, on CI, a failure)."""
    if os.geteuid() != 0:
        return "sshd's privilege separation and nsenter need root"
    for tool in (SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"):
        if not os.path.exists(tool):
            return f"{tool} is missing (apt-get install openssh-server)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    return None


@dataclass
class Host:
    name: str
    port: int
    prefix: Path
    root: Path  # this host's own directory: config, keys, logs, cache, remote tmp

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"


@dataclass
class Fleet:
    root: Path
    hosts: list[Host] = field(default_factory=list)
    readonly: Path | None = None  # bind-mounted read-only inside the namespace
    holder: subprocess.Popen[str] | None = None

    @property
    def client_key(self) -> Path:
        return self.root / "client_ed25519"

    def ns(self, argv: list[str]) -> list[str]:
        assert self.holder is not None
        return ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "--", *argv]

    def run(self, argv: list[str], *, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.ns(argv), env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"failed (exit {proc.returncode}): {argv}\n--- stdout\n{proc.stdout}\n"
                                 f"--- stderr\n{proc.stderr}")
        return proc

    def start(self, names: list[str], readonly_hosts: tuple[str, ...] = ()) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.readonly = self.root / "readonly"
        self.readonly.mkdir(exist_ok=True)
        ro = str(self.readonly)
        script = (f"ip link set lo up && mount --make-rprivate / && mount --bind {ro} {ro} && "
                  f"mount -o remount,ro,bind {ro} && echo ready && exec sleep 86400")
        self.holder = subprocess.Popen(["unshare", "-n", "-m", "--", "sh", "-c", script], stdout=subprocess.PIPE,
                                       text=True)
        assert self.holder.stdout is not None
        assert self.holder.stdout.readline().strip() == "ready", "the namespace holder did not start"
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
        subprocess.run([*keygen, "-f", str(self.client_key)], check=True)
        authorized = self.root / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        for i, name in enumerate(names):
            root = self.root / name
            root.mkdir()
            prefix = (self.readonly if name in readonly_hosts else root) / "opt"
            host = Host(name, FIRST_PORT + i, prefix, root)
            subprocess.run([*keygen, "-f", str(root / "host_ed25519")], check=True)
            (root / "sshd_config").write_text(
                f"Port {host.port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_ed25519'}\n"
                f"AuthorizedKeysFile {authorized}\nPidFile {root / 'sshd.pid'}\n"
                "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nStrictModes no\nPrintMotd no\nSubsystem sftp /usr/lib/openssh/sftp-server\n")
            self.run([SSHD, "-f", str(root / "sshd_config"), "-E", str(root / "sshd.log")])
            self.hosts.append(host)
        self._wait_for_ports()

    def _wait_for_ports(self) -> None:
        probe = ("import socket, sys\nfor p in sys.argv[1:]:\n    socket.create_connection(('127.0.0.1', int(p)), 1)"
                 ".close()\n")
        deadline = time.monotonic() + 20
        while True:
            proc = self.run(["python3", "-c", probe, *(str(h.port) for h in self.hosts)], check=False)
            if proc.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"sshd did not start listening: {proc.stderr}")
            time.sleep(0.2)

    def stop(self) -> None:
        for host in self.hosts:
            pidfile = host.root / "sshd.pid"
            if pidfile.is_file():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()
            if self.holder.stdout is not None:
                self.holder.stdout.close()

    def inventory(self, python: str, extra: dict[str, dict[str, str]] | None = None) -> Path:
        """A YAML inventory: every host on 127.0.0.1 with its port, prefix, cache and remote tmp."""
        lines = ["all:", "  vars:", "    ansible_host: 127.0.0.1", "    ansible_user: root",
                 f"    ansible_ssh_private_key_file: {self.client_key}",
                 "    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                 " -o IdentitiesOnly=yes -o BatchMode=yes",
                 f"    ansible_python_interpreter: {python}",
                 f"    airgap_python: {python}", "  hosts:"]
        for host in self.hosts:
            lines += [f"    {host.name}:", f"      ansible_port: {host.port}", f"      airgap_prefix: {host.prefix}",
                      f"      airgap_cache_dir: {host.cache_dir}", f"      ansible_remote_tmp: {host.root / 'tmp'}"]
            lines += [f"      {key}: {json.dumps(value)}" for key, value in (extra or {}).get(host.name, {}).items()]
        path = self.root / "inventory.yml"
        path.write_text("\n".join(lines) + "\n")
        return path
