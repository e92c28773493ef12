"""Sessions: tests (the suite CI runs), lint, typecheck, bench."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "aarch64", "windows", "fuzz", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: unit tests and end-to-end installs in a no-network jail."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not aarch64 and not windows", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The readers of untrusted bytes (manifest, header, payload members) under hypothesis, with a large
    fixed budget (3000 examples each); a crash found becomes a regression test."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_fuzz.py", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})


@nox.session
def aarch64(session: nox.Session) -> None:
    """An aarch64 installer installed and run under qemu-user in an arm64 Debian root (needs root and
    Debian's qemu-user-static, binfmt-support and debootstrap; .ci/run installs them)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "aarch64", *session.posargs)


@nox.session
def windows(session: nox.Session) -> None:
    """A Windows installer installed and run under Wine 8 in the no-network jail (needs Debian's wine, wine64
    and gcc-mingw-w64-x86-64-posix; .ci/run installs them)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "windows", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "airgap_installer", "tests", "noxfile.py", "scripts")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Build and install the example project, timed against `uv sync --frozen`; prints a table."""
    session.install("-e", ".")
    session.run("python", "scripts/bench.py", *session.posargs)
