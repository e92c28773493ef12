"""Small helpers the end-to-end tests share."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.jail import Jail


def build(project: Path, output: Path, *args: str) -> Path:
    rc = main(["build", str(project), "-o", str(output), *args])
    assert rc == 0
    assert output.exists()  # a file, or the directory of several targets' files
    return output


def install(jail: Jail, run_file: Path, prefix: Path, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
    return jail.run(["sh", str(run_file), "--prefix", str(prefix), "-y", *args], check=check)


def uv_in(jail: Jail, prefix: Path, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
    """Run the installed uv in PREFIX/current, as a user would: clean env, no network."""
    return jail.run([str(prefix / "bin" / "uv"), *args], cwd=prefix / "current", check=check)


def dry_run_row(out: str, action: str, name: str) -> str | None:
    """The `--dry-run` table row for that package and action, or None."""
    for line in out.splitlines():
        cells = line.split()
        if cells[:2] == [action, name]:
            return line
    return None


def write(path: Path, text: str) -> None:
    """Write a fixture file from an indented text block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


# What a minimal host has: a shell, coreutils-like tools and gzip. No python3, unzip or tar.
TOOLS = ("sh", "cat", "chmod", "cut", "dd", "head", "tail", "mkdir", "rm", "sha256sum", "wc", "sed", "uname",
         "id", "gzip", "basename", "mv", "ln", "env", "tr", "ls")
MASKED = ("/usr/bin/python3", "/usr/bin/python3.11", "/usr/bin/python", "/usr/bin/unzip", "/usr/bin/tar",
          "/bin/tar")


def bare_host(jail: Jail, bin_dir: Path, shell: str) -> list[str]:
    """Point PATH at a directory with only TOOLS (from busybox, or from this system), mask the rest."""
    bin_dir.mkdir()
    busybox = shutil.which("busybox")
    for tool in TOOLS:
        source = busybox if shell == "busybox" else shutil.which(tool)
        if source is None:
            pytest.skip(f"{tool} is not available here")
        (bin_dir / tool).symlink_to(source)
    jail.path = str(bin_dir)
    jail.masked = list(MASKED)
    if shell == "busybox":
        if busybox is None:
            pytest.skip("busybox is not installed (.ci/run installs it with apt-get)")
        return [busybox, "sh"]
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    return [exe]
