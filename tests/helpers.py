"""Small helpers the end-to-end tests share."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

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
