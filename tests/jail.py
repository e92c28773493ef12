"""An air-gap jail for tests: no network, hidden caches and configs, a clean environment.

`Jail.run(cmd)` runs `cmd` under `unshare -n -m` (`unshare -r -n -m` when not root): a network
namespace with only a downed loopback, a private mount namespace in which every `hidden` directory is
covered by an empty tmpfs (the builder's caches, pip's local package folders and config, the source
project), and `env -i` with a minimal PATH and a fresh HOME. What runs there cannot reach anything
the build machine had.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What this machine (and any developer's) has that a target host would not.
DEFAULT_HIDDEN = (
    "/root/.cache",
    "/root/.config",
    "/root/.local/share/uv",
    "/etc/xdg/pip",
    "/opt/wheels",
    "/opt/pypi",
    "/opt/pypi-more",
)


def unshare_available() -> str | None:
    """None when the jail works here, else the reason it does not (for a skip message)."""
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    prefix = ["unshare", "-n", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-n", "-m"]
    proc = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"unshare -n -m is not permitted here: {proc.stderr.strip()}"
    return None


@dataclass
class Jail:
    home: Path
    hidden: list[str] = field(default_factory=lambda: list(DEFAULT_HIDDEN))
    path: str = SYSTEM_PATH
    env: dict[str, str] = field(default_factory=dict)
    masked: list[str] = field(default_factory=list)  # files replaced by /dev/null (a "missing" tool)
    setup: list[str] = field(default_factory=list)  # more shell lines run as root before the command (mounts)

    def command(self, cmd: list[str], cwd: Path | None = None) -> list[str]:
        mounts = "".join(
            f"[ -d {shlex.quote(d)} ] && mount -t tmpfs airgap-hidden {shlex.quote(d)}\n" for d in self.hidden
        )
        mounts += "".join(f"[ -e {shlex.quote(f)} ] && mount --bind /dev/null {shlex.quote(f)}\n"
                          for f in self.masked)
        mounts += "".join(f"{line}\n" for line in self.setup)
        cd = f"cd {shlex.quote(str(cwd))}\n" if cwd else ""
        env = [f"PATH={self.path}", f"HOME={self.home}", "LANG=C.UTF-8", "TERM=dumb",
               *(f"{k}={v}" for k, v in self.env.items())]
        script = f"set -e\n{mounts}{cd}exec env -i {' '.join(shlex.quote(e) for e in env)} \"$@\"\n"
        prefix = ["unshare", "-n", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-n", "-m"]
        return [*prefix, "--", "/bin/sh", "-c", script, "jail", *cmd]

    def run(self, cmd: list[str], *, cwd: Path | None = None, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(self.command(cmd, cwd), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"jailed command failed (exit {proc.returncode}): {cmd}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def sh(self, script: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return self.run(["/bin/sh", "-c", script], **kwargs)  # type: ignore[arg-type]
