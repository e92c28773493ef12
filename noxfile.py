"""Sessions: tests (the suite CI runs), lint, typecheck, bench."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "aarch64", "fleet", "windows", "fuzz", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: unit tests and end-to-end installs in a no-network jail."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not aarch64 and not fleet and not windows", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The readers of untrusted bytes (manifest, header, payload members) under hypothesis, with a large
    fixed budget (3000 examples each); a crash found becomes a regression test."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_fuzz.py", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})
    # atheris (libFuzzer, coverage-guided) where it installs: it ships wheels for CPython <= 3.11 on Linux.
    try:
        session.install("atheris")
    except Exception:  # nox raises its own CommandFailed; the reason is in the log above
        session.log("atheris does not install for this Python: only the hypothesis fuzzing ran")
        return
    for target in ("manifest", "header", "payload"):
        session.run("python", "tests/fuzz_atheris.py", target, "-runs=100000", "-rss_limit_mb=1024")


@nox.session
def aarch64(session: nox.Session) -> None:
    """An aarch64 installer installed and run under qemu-user in an arm64 Debian root (needs root and
    Debian's qemu-user-static, binfmt-support and debootstrap; .ci/run installs them)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "aarch64", *session.posargs)


# The versions the collection was tested and linted with (ansible/tests/sanity/ignore-2.19.txt names one).
FLEET_TOOLS = ("ansible-core>=2.19,<2.20", "ansible-lint>=26,<27")


@nox.session
def fleet(session: nox.Session) -> None:
    """The Ansible collection (ansible/) with the real engine against real SSH hosts (Debian's
    openssh-server, started by the test on loopback ports in a network namespace; needs root), then
    ansible-lint (production profile) and every `ansible-test sanity` test, --local (docs/testing.md).
    ansible-core 2.19 wants Python 3.11+ on the controller (the session's interpreter)."""
    session.install("-e", ".[test]", *FLEET_TOOLS)
    session.run("pytest", "-m", "fleet", *session.posargs)
    # ansible-test keeps the venvs of its sanity tests in HOME/.ansible: keep them with the session.
    session.run("python", "scripts/fleet_lint.py", "--home", f"{session.virtualenv.location}/ansible-test-home")


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
