"""What the installer prints while it works: one redrawn line on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import shlex
import sys
import time
from pathlib import Path

import pytest

from airgap_installer.runtime.install import Progress
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build
from tests.jail import Jail


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_running_step_redrawn_with_its_age(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Progress, "TICK", 0.01)
    terminal, log = Terminal(), io.StringIO()
    progress = Progress(quiet=False, log=log, terminal=terminal)
    progress.step("installing 279 locked packages")
    time.sleep(0.1)
    progress.step("syncing the project")
    progress.close()
    out = terminal.getvalue()
    first, second = out.split("\n")[:2]
    assert first.startswith("\r[  0.0s] installing 279 locked packages\x1b[K")
    assert "installing 279 locked packages (0s)\x1b[K" in first  # the ticker's redraw, on the same line
    assert second.startswith("\r[  0.1s] syncing the project") and out.endswith("\n")
    # The log gets each step once, as plain lines.
    assert [line.split("] ", 1)[1] for line in log.getvalue().splitlines()] == [
        "installing 279 locked packages", "syncing the project"]


def test_a_pipe_gets_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(quiet=False, terminal=None)
    progress.step("extracting")
    progress.close()
    assert capsys.readouterr().out == "[  0.0s] extracting\n"


def test_quiet_prints_nothing_even_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = Terminal()
    progress = Progress(quiet=True, terminal=terminal)
    progress.step("extracting")
    progress.close()
    assert terminal.getvalue() == "" and capsys.readouterr().out == ""


def test_the_real_installer_on_a_pseudo_terminal(tiny_project: ProjectFactory, jail: Jail, tmp_path: Path,
                                                 builder_cache: Path) -> None:
    run_file = build(tiny_project(), tmp_path / "tiny.run", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}")
    prefix = tmp_path / "p"
    command = shlex.join(["sh", str(run_file), "--prefix", str(prefix), "-y", "--python", target_python()])
    out = jail.run(["script", "-qec", command, "/dev/null"]).stdout
    # (Read as text, the terminal's carriage returns come back as newlines.) The erase-to-end-of-line
    # after each step shows the line was drawn for a terminal.
    assert "[  0.0s] extracting the project and its wheelhouse\x1b[K" in out
    assert "installed tiny 1.0.0" in out
    # The live line is ended before the closing hint is printed.
    assert "\x1b[K\nrun it with:" in out
