"""A Windows installer installed and run for real (issue 19): built on this Linux machine for
`x86_64-pc-windows-msvc`, installed from cmd.exe under Wine 8 in the no-network jail with a Windows
CPython 3.13, and run with plain `uv run` in PREFIX\\current. The project has a compiled win_amd64
dependency (pydantic-core, a Rust extension). Runs in its own session (`nox -s windows`; CI runs it):
it needs Debian's wine, wine64 and gcc-mingw-w64-x86-64-posix (.ci/run installs them); the harness
(tests/wine.py) holds every Wine workaround.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest

from airgap_installer.uvbin import builder_uv
from tests.conftest import ProjectFactory
from tests.helpers import build, write
from tests.jail import Jail
from tests.test_e2e_kinds import workspace  # noqa: F401 (the fixture: every kind of dependency)
from tests.wine import CACHE, PY_LAUNCHER_DIR, PYTHON_DIR, WineHost, embeddable_zip, make_host, missing_tools

pytestmark = [pytest.mark.windows, pytest.mark.pypi]
PYTHON = PYTHON_DIR / "python.exe"
DIST = PureWindowsPath(r"C:\dist")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the Windows tests must run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def wine(jail_ok: None, tmp_path_factory: pytest.TempPathFactory, builder_cache: Path) -> Iterator[WineHost]:
    """One Wine prefix for the module, with CPython 3.13 at C:\\Python313; commands run in the jail."""
    missing = missing_tools()
    if missing:
        _unavailable(f"{', '.join(missing)} not installed (apt-get install wine wine64 gcc-mingw-w64-x86-64-posix)")
    root = tmp_path_factory.mktemp("wine")
    jail = Jail(home=root / "home", hidden=[*Jail(Path()).hidden, str(builder_cache), str(CACHE)],
                env={"WINEPREFIX": str(root / "prefix"), "WINEDEBUG": "-all",
                     "WINEDLLOVERRIDES": "wbemprox=d;mscoree,mshtml=;winedbg.exe=d"})
    yield make_host(root / "prefix", CACHE, jail)
    subprocess.run(["wineserver", "-k"], env={**os.environ, "WINEPREFIX": str(root / "prefix")}, check=False)


def _project(root: Path, version: str) -> Path:
    write(root / "pyproject.toml", f"""\
        [project]
        name = "windemo"
        version = "{version}"
        requires-python = ">=3.11"
        dependencies = ["pydantic-core"]
        [project.scripts]
        windemo = "windemo:main"
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """)
    write(root / "src" / "windemo" / "__init__.py", f"""\
        import sys
        import pydantic_core
        from pydantic_core import core_schema

        def main():
            answer = pydantic_core.SchemaValidator(core_schema.int_schema()).validate_python("41") + 1
            compiled = pydantic_core._pydantic_core.__file__.endswith(".pyd")
            print("windemo {version}", sys.platform, answer, "compiled" if compiled else "pure", sys.argv[1:])
        """)
    subprocess.run([builder_uv(), "lock", "--quiet", "--python", sys.executable, "--project", str(root)], check=True)
    return root


@pytest.fixture(scope="module")
def installers(wine: WineHost, tmp_path_factory: pytest.TempPathFactory) -> dict[str, PureWindowsPath]:
    """windemo 1.0, 1.1 and 1.2, built once for the module and put into C:\\dist."""
    work = tmp_path_factory.mktemp("windemo")
    made = {}
    for version in ("1.0", "1.1", "1.2"):
        project = _project(work / f"windemo-{version}", version)
        out = build(project, work / f"windemo-{version}.cmd", "--python", "3.13", "--python-platform", "windows")
        dest = wine.host_path(DIST / out.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(out.read_bytes())
        made[version] = DIST / out.name
    return made


def install(wine: WineHost, installer: PureWindowsPath, prefix: PureWindowsPath, *args: str,
            check: bool = True, then: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Install; `then`: more lines in PREFIX\\current in the same Wine start (each costs ~2.5 s)."""
    line = f"{installer} --prefix {prefix} -y --python {PYTHON} {' '.join(args)}"
    if not then:  # last and without `call`: under Wine 8 a `call`ed batch's `exit /b N` reaches the caller as 1
        return wine.cmd(line, check=check)
    return wine.cmd(f"call {line}", "if errorlevel 1 exit /b 1", f"cd /d {prefix}\\current", *then, check=check)


def in_current(wine: WineHost, prefix: PureWindowsPath, *lines: str) -> str:
    """Lines run in PREFIX\\current, as a user would: a fresh cmd.exe, no environment variables set."""
    return wine.cmd(f"cd /d {prefix}\\current", *lines).stdout


def test_install_then_plain_uv_run_works_offline(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    prefix = PureWindowsPath(r"C:\apps\first")
    proc = install(wine, installers["1.0"], prefix)
    assert "installed windemo 1.0" in proc.stdout
    assert rf"cd {prefix}\current && {prefix}\bin\uv run windemo" in proc.stdout
    # A fresh cmd.exe, as a user's: no environment variables set.
    out = in_current(wine, prefix, rf"{prefix}\bin\uv.exe sync --locked --dry-run 2>&1",
                     rf"{prefix}\bin\uv.exe run windemo a b", rf"call {prefix}\bin\windemo.cmd x")
    assert "Would make no changes" in out
    assert "windemo 1.0 win32 42 compiled ['a', 'b']" in out
    assert "windemo 1.0 win32 42 compiled ['x']" in out
    host = wine.host_path(prefix)
    assert (host / "bin" / "uv.exe").is_file() and (host / "current" / "uv.toml").is_file()
    assert not list(host.glob("releases/*")), "the active release lives in current, not in releases"


def test_check_info_list_need_no_prefix(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    out = wine.cmd(f"call {installers['1.0']} --check --python {PYTHON}").stdout
    assert re.search(r": OK \(windemo 1.0 for cp313-x86_64-pc-windows-msvc, payload sha256 [0-9a-f]{64}\)", out)
    info = wine.cmd(f"call {installers['1.0']} --info").stdout  # from the bootstrap's text: no Python needed
    assert "windemo 1.0: offline installer for cp313-x86_64-pc-windows-msvc (Python 3.13)" in info
    assert re.search(r"ship +pydantic-core", info)
    # The runtime prints the same text (python -I FILE.cmd --info)
    assert wine.cmd(f"{PYTHON} -I {installers['1.0']} --info").stdout == info
    usage = wine.cmd(f"call {installers['1.0']} --help").stdout
    assert "--prefix DIR" in usage and r"%LOCALAPPDATA%\Programs\windemo" in usage
    listing = wine.cmd(f"call {installers['1.0']} --list --python {PYTHON}").stdout
    assert "bin/uv.exe" in listing and re.search(r"wheelhouse/pydantic_core-.*-cp313-cp313-win_amd64\.whl", listing)
    # The wheels for other tools: uv.exe installs them into a venv from the pylock.toml, offline.
    out = wine.cmd(f"call {installers['1.0']} --wheelhouse C:\\wh --python {PYTHON}", "if errorlevel 1 exit /b 1",
                   f"call {installers['1.0']} --extract C:\\ex --python {PYTHON}", "if errorlevel 1 exit /b 1",
                   rf"C:\ex\bin\uv.exe venv --offline --python {PYTHON} C:\wv 2>&1",
                   r"C:\ex\bin\uv.exe pip install --offline --python C:\wv\Scripts\python.exe"
                   r" -r C:\wh\pylock.toml 2>&1",
                   r"C:\wv\Scripts\python.exe -c " '"import pydantic_core; print(pydantic_core.__version__)"').stdout
    assert "wrote the wheelhouse" in out and "extracted into C:\\ex" in out
    assert re.search(r"\n\d+\.\d+\.\d+\r?\n", out), out


def test_python_found_on_path_and_a_prefix_with_spaces(wine: WineHost, installers: dict[str, PureWindowsPath]
                                                        ) -> None:
    """No --python: the bootstrap finds `python` on PATH; the installer's path and the prefix have spaces
    (as `C:\\Program Files` or a user name would), quoted as a user quotes them."""
    prefix = PureWindowsPath(r"C:\apps\on path")
    spaced = PureWindowsPath(r"C:\my dist\windemo 1.0.cmd")  # the installer's own path too
    wine.host_path(spaced).parent.mkdir(parents=True, exist_ok=True)
    wine.host_path(spaced).write_bytes(wine.host_path(installers["1.0"]).read_bytes())
    proc = wine.cmd(f"set PATH={PYTHON_DIR};%PATH%", f'"{spaced}" --prefix "{prefix}" -y')
    assert f"(Python: {PYTHON})" in proc.stdout
    out = wine.cmd(f'cd /d "{prefix}\\current"', rf'"{prefix}\bin\uv.exe" sync --locked --dry-run 2>&1',
                   rf'"{prefix}\bin\uv.exe" run windemo').stdout
    assert "Would make no changes" in out and "windemo 1.0 win32" in out
    assert "windemo 1.0 win32" in wine.cmd(rf'call "{prefix}\bin\windemo.cmd" a').stdout


def test_py_launcher_is_asked_first(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    """`py -3.13` (a stand-in for python.org's launcher: tests/wine.py) before `python` on PATH."""
    prefix = PureWindowsPath(r"C:\apps\viapy")
    proc = wine.cmd(f"set PATH={PY_LAUNCHER_DIR};%PATH%", f"{installers['1.0']} --prefix {prefix} -y")
    assert f"(Python: {PYTHON})" in proc.stdout
    assert "windemo 1.0 win32" in in_current(wine, prefix, rf"{prefix}\bin\uv.exe run windemo")
    none = wine.cmd(f"{installers['1.0']} --prefix C:\\apps\\nopy -y", check=False)  # neither py nor python
    assert none.returncode == 4 and "no Python found" in none.stderr
    assert not wine.host_path(PureWindowsPath(r"C:\apps\nopy")).exists()


def test_upgrade_rollback_uninstall(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    prefix = PureWindowsPath(r"C:\apps\cycle")
    host = wine.host_path(prefix)
    install(wine, installers["1.0"], prefix)
    proc = install(wine, installers["1.1"], prefix, then=(rf"{prefix}\bin\uv.exe run windemo",))
    assert "installed windemo 1.1" in proc.stdout
    assert "windemo 1.1 win32 42" in proc.stdout
    assert len(list((host / "releases").iterdir())) == 1  # 1.0, kept for rollback
    out = wine.cmd(rf"call {prefix}\bin\windemo-rollback.cmd", "if errorlevel 1 exit /b 1",
                   rf"cd /d {prefix}\current", rf"{prefix}\bin\uv.exe sync --locked --dry-run 2>&1",
                   rf"{prefix}\bin\uv.exe run windemo", rf"call {prefix}\bin\windemo.cmd launcher").stdout
    assert re.search(r"1\.0-[0-9a-f]{12} is active again \(it was 1\.1-[0-9a-f]{12}\)", out)
    assert "Would make no changes" in out and "windemo 1.0 win32 42" in out
    assert "windemo 1.0 win32 42 compiled ['launcher']" in out
    again = install(wine, installers["1.0"], prefix)
    assert "already installed and active" in again.stdout
    # A command prompt whose current directory is in PREFIX\current keeps Windows from renaming it: the
    # upgrade fails with exit 1 and says why; the new release is complete in releases\ and the next run,
    # from elsewhere, only switches to it.
    held = wine.cmd(rf"cd /d {prefix}\current", f"{installers['1.1']} --prefix {prefix} -y --python {PYTHON}",
                    check=False)
    assert held.returncode == 1, (held.stdout, held.stderr)
    assert "a command prompt whose current directory is in it" in held.stderr
    assert "windemo 1.0 win32" in in_current(wine, prefix, rf"{prefix}\bin\uv.exe run windemo")
    switched = install(wine, installers["1.1"], prefix, then=(rf"{prefix}\bin\uv.exe run windemo",))
    assert "was already installed; it is active again" in switched.stdout
    assert "windemo 1.1 win32" in switched.stdout
    # --keep counts PREFIX\current: with --keep 2, releases\ keeps only the one before it (1.1); 1.0 goes.
    pruned = install(wine, installers["1.2"], prefix, "--keep", "2", then=(rf"{prefix}\bin\uv.exe run windemo",))
    assert re.search(r"removed old release 1\.0-[0-9a-f]{12}", pruned.stdout), pruned.stdout
    assert [p.name.split("-")[0] for p in (host / "releases").iterdir()] == ["1.1"]
    assert "windemo 1.2 win32" in pruned.stdout
    out = wine.cmd(rf"call {prefix}\bin\windemo-uninstall.cmd").stdout
    assert f"uninstalled from {prefix}" in out
    # Every file goes, the helper itself too (on its last line); Wine's cmd.exe holds the running batch file
    # until it exits, so the then empty PREFIX\bin and PREFIX stay.
    assert not [p for p in host.rglob("*") if not p.is_dir()], list(host.rglob("*"))
    assert not (host / "current").exists() and not (host / "releases").exists()


def test_the_users_uv_config_is_not_read_by_the_install(wine: WineHost,
                                                        installers: dict[str, PureWindowsPath]) -> None:
    """uv on Windows reads %APPDATA%\\uv\\uv.toml (XDG_CONFIG_HOME does not hide it there) and the system's
    C:\\ProgramData\\uv\\uv.toml (no variable moves it): the install must read neither (UV_CONFIG_FILE, the
    release's own settings). A broken one would fail every uv call that reads it."""
    user_config = wine.host_path(PureWindowsPath(r"C:\users")) / "root" / "AppData" / "Roaming" / "uv" / "uv.toml"
    system_config = wine.host_path(PureWindowsPath(r"C:\ProgramData\uv\uv.toml"))
    for config in (user_config, system_config):
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("this is not toml = = =\n")
    try:
        prefix = PureWindowsPath(r"C:\apps\userconfig")
        proc = install(wine, installers["1.0"], prefix, check=False)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        user_config.unlink()
        said = wine.cmd(f"cd /d {prefix}\\current", rf"{prefix}\bin\uv.exe run windemo 2>&1", check=False)
        assert r"Failed to parse: C:\ProgramData\uv\uv.toml" in said.stdout  # the user's own uv calls read it
    finally:
        user_config.unlink(missing_ok=True)
        system_config.unlink()


def test_damaged_file_is_refused_with_nothing_written(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    good = wine.host_path(installers["1.0"])
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01  # a bit flipped inside the wheelhouse
    cases = {"flipped": bytes(data), "truncated": good.read_bytes()[:-100], "appended": good.read_bytes() + b"x"}
    for name, content in cases.items():
        bad = DIST / f"damaged-{name}.cmd"
        wine.host_path(bad).write_bytes(content)
        prefix = PureWindowsPath(rf"C:\apps\damaged-{name}")
        proc = install(wine, bad, prefix, check=False)
        assert proc.returncode == 3, (name, proc.stdout, proc.stderr)
        said = proc.stdout + proc.stderr
        assert {"flipped": "is corrupt: sha256", "truncated": "is truncated or has bytes appended",
                "appended": "is truncated or has bytes appended"}[name] in said, said
        assert not wine.host_path(prefix).exists(), f"{name}: something was written"


def test_wrong_python_is_refused(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    prefix = PureWindowsPath(r"C:\apps\nopython")
    proc = wine.cmd(f"{installers['1.0']} --prefix {prefix} -y --python C:\\nowhere\\python.exe", check=False)
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    assert "C:\\nowhere\\python.exe" in proc.stdout + proc.stderr
    assert not wine.host_path(prefix).exists()


def test_every_source_kind(wine: WineHost, workspace: Path, tmp_path: Path) -> None:  # noqa: F811
    """test_e2e_kinds.py's workspace for Windows: an sdist-only package and a git dependency built here,
    direct URL wheel and sdist (served on 127.0.0.1 to the build only), a vendored wheel by path, a path
    dependency beside the project (so the project sits in PREFIX\\current\\demo) and a workspace member."""
    out = build(workspace, tmp_path / "kinds.cmd", "--python", "3.13", "--python-platform", "windows")
    installer = DIST / "kinds.cmd"
    wine.host_path(installer).parent.mkdir(parents=True, exist_ok=True)
    wine.host_path(installer).write_bytes(out.read_bytes())
    prefix = PureWindowsPath(r"C:\apps\kinds")
    proc = install(wine, installer, prefix, "--quiet")
    assert proc.stdout == "" and "installed" not in proc.stderr  # --quiet: errors only
    project = rf"{prefix}\current\demo"
    said = wine.cmd(f"cd /d {project}", rf"{prefix}\bin\uv.exe sync --locked --dry-run 2>&1",
                    rf"{prefix}\bin\uv.exe lock --check 2>&1", rf"{prefix}\bin\uv.exe run demo",
                    rf"{prefix}\bin\uv.exe run python -c " '"import urlwheel, urlsdist, vendored; print(1 + 1)"')
    assert "Would make no changes" in said.stdout
    assert "demo ok from git from path member 0.6.2" in said.stdout and "\n2\n" in said.stdout.replace("\r", "")
    assert "demo ok from git" in wine.cmd(rf"call {prefix}\bin\demo.cmd").stdout
    member = wine.cmd(f"cd /d {project}", rf"{prefix}\bin\uv.exe run --package member member-cli")
    assert "member cli ok" in member.stdout
    # Plain `uv sync --no-dev` removes the dev group; uv would fetch it back from the lock's URLs. airgap-sync
    # puts the bundled wheels back and records the git, URL and local packages again, offline.
    again = wine.cmd(f"cd /d {project}", rf"{prefix}\bin\uv.exe sync --no-dev 2>&1",
                     rf"call {prefix}\bin\airgap-sync.cmd", "if errorlevel 1 exit /b 1",
                     rf"{prefix}\bin\uv.exe sync --locked --dry-run 2>&1",
                     rf"{prefix}\bin\uv.exe run python -c " '"import iniconfig; print(3 + 3)"')
    assert "- iniconfig" in again.stdout  # removed by the plain sync
    assert "Would make no changes" in again.stdout and "\n6\n" in again.stdout.replace("\r", "")


def test_bundled_python(wine: WineHost, tmp_path: Path) -> None:
    """--python-archive with python.org's embeddable zip: a .zip holding install.cmd, the self-checking
    installer and the interpreter, extracted (here by Python's zipfile, as Explorer or tar.exe would) and
    run on a host with no Python on PATH and no --python."""
    project = _project(tmp_path / "windemo", "1.0")
    out = build(project, tmp_path / "bundle.zip", "--python", "3.13", "--python-platform", "windows",
                "--python-archive", str(embeddable_zip(CACHE)))
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert {"bundle/install.cmd", "bundle/bundle.cmd", "bundle/python/python.exe"} <= set(names)
        zf.extractall(wine.host_path(PureWindowsPath(r"C:\unpacked")))
    prefix = PureWindowsPath(r"C:\apps\bundled")
    proc = wine.cmd(rf"C:\unpacked\bundle\install.cmd --prefix {prefix} -y")
    assert rf"Installing the bundled CPython 3.13.2 into {prefix}\python\cpython-3.13.2-windows-x86_64-none" \
        in proc.stdout
    host = wine.host_path(prefix)
    assert "home = " + rf"{prefix}\python\cpython-3.13.2-windows-x86_64-none" in \
        (host / "current" / ".venv" / "pyvenv.cfg").read_text()
    shutil.rmtree(wine.host_path(PureWindowsPath(r"C:\unpacked")))  # the release needs none of it
    out_run = in_current(wine, prefix, rf"{prefix}\bin\uv.exe sync --locked --dry-run 2>&1",
                         rf"{prefix}\bin\uv.exe run windemo")
    assert "Would make no changes" in out_run and "windemo 1.0 win32 42 compiled" in out_run
    assert "windemo 1.0 win32" in wine.cmd(rf"call {prefix}\bin\windemo.cmd").stdout


def test_a_license_is_accepted_before_anything_is_written(wine: WineHost, tiny_project: ProjectFactory,
                                                          tmp_path: Path) -> None:
    """As the sh installer: --license shows it; not accepted, exit 2 and nothing written; --accept installs."""
    project = tiny_project(extra_toml='\n[tool.airgap-installer]\nlicense = "EULA.txt"\n')
    (project / "EULA.txt").write_text("Use it only in the lab.\n")
    out = build(project, tmp_path / "tiny-eula.cmd", "--python", "3.13", "--python-platform", "windows")
    installer = DIST / "tiny-eula.cmd"
    wine.host_path(installer).parent.mkdir(parents=True, exist_ok=True)
    wine.host_path(installer).write_bytes(out.read_bytes())
    prefix = PureWindowsPath(r"C:\apps\eula")
    assert "Use it only in the lab." in wine.cmd(f"call {installer} --license --python {PYTHON}").stdout
    refused = install(wine, installer, prefix, check=False)
    # stdin is NUL, which Windows (and Wine) report as a character device, a "terminal": the installer shows
    # the license, asks, reads end-of-file and refuses.
    assert refused.returncode == 2 and "the license was not accepted" in refused.stderr
    assert "Use it only in the lab." in refused.stdout
    assert not wine.host_path(prefix).exists()
    accepted = install(wine, installer, prefix, "--accept", then=(rf"{prefix}\bin\uv.exe run tiny",))
    assert "tiny ok alpha=1.0 beta=1.0" in accepted.stdout


def results(out: str) -> list[dict[str, Any]]:
    """The JSON result lines of a batch (each run with --json prints exactly one on stdout)."""
    lines = [line for line in out.splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), out
    found = [json.loads(line) for line in lines]
    assert all(set(r) == KEYS for r in found), found
    return found


KEYS = {"changed", "action", "release", "previous", "version", "prefix", "exit_code", "message", "hint", "dry_run"}


def test_json_dry_run_and_link_bin(wine: WineHost, installers: dict[str, PureWindowsPath]) -> None:
    """The sh installer's result contract from cmd.exe (runtime/result.py): with --json, stdout is one JSON
    line per run; --dry-run writes nothing; the active release again writes nothing; --link-bin DIR gets
    the same launchers as PREFIX\\bin, and uninstall takes them away."""
    prefix, links = PureWindowsPath(r"C:\apps\json"), PureWindowsPath(r"C:\linkbin")
    host = wine.host_path(prefix)
    run = f"--prefix {prefix} --python {PYTHON} --json"
    [dry] = results(wine.cmd(f"{installers['1.0']} {run} --dry-run").stdout)
    assert not host.exists()  # --dry-run: every check, nothing written (no -y needed)
    assert (dry["action"], dry["changed"], dry["dry_run"], dry["exit_code"]) == ("installed", True, True, 0)
    assert dry["release"].startswith("1.0-") and dry["prefix"] == str(prefix) and "would install" in dry["message"]
    proc = wine.cmd(f"call {installers['1.0']} {run} -y --link-bin {links}",
                    f"call {installers['1.0']} {run} -y --link-bin {links}",
                    f"call {installers['1.1']} {run} -y --link-bin {links}",
                    f"call {installers['1.0']} {run} --dry-run",
                    rf"call {links}\windemo.cmd linked 1>&2")
    first, again, upgrade, back = results(proc.stdout)
    assert "Installing windemo 1.0" in proc.stderr  # progress goes to stderr
    assert (first["action"], first["changed"], first["previous"]) == ("installed", True, None)
    assert (again["action"], again["changed"], again["release"]) == ("unchanged", False, first["release"])
    assert (upgrade["action"], upgrade["previous"], upgrade["version"]) == ("upgraded", first["release"], "1.1")
    assert (back["action"], back["release"], back["dry_run"]) == ("activated", first["release"], True)
    assert "windemo 1.1 win32 42 compiled ['linked']" in proc.stderr  # DIR\windemo.cmd runs the active release
    assert wine.host_path(links / "windemo.cmd").read_bytes() == (host / "bin" / "windemo.cmd").read_bytes()
    wine.cmd(rf"call {prefix}\bin\windemo-uninstall.cmd")
    assert not wine.host_path(links / "windemo.cmd").exists()


def test_refusals_give_one_json_line_and_write_nothing(wine: WineHost, installers: dict[str, PureWindowsPath]
                                                       ) -> None:
    """Every refusal prints the result line with --json, the cmd.exe bootstrap's own too (a damaged file,
    no Python); a launcher in --link-bin DIR that is another program's is not replaced; --trust needs
    ssh-keygen.exe (Windows' OpenSSH Client), and without one the file is refused before anything is
    written (exit 4, as the sh installer without ssh-keygen)."""
    good = wine.host_path(installers["1.0"])
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped, appended = DIST / "json-flipped.cmd", DIST / "json-appended.cmd"
    wine.host_path(flipped).write_bytes(bytes(data))
    wine.host_path(appended).write_bytes(good.read_bytes() + b"x")
    (wine.host_path(DIST) / "windemo.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzl9K+3AfBfNfP3OFmTXDcb"
                                                      "CNDRtmLFtLJO7UrLYJYC release\n")
    wine.host_path(PureWindowsPath(r"C:\foreign")).mkdir(exist_ok=True)
    wine.host_path(PureWindowsPath(r"C:\foreign\windemo.cmd")).write_text("@echo another program's\r\n")
    run = f"--prefix C:\\apps\\refused -y --json --python {PYTHON}"
    proc = wine.cmd(f"call {flipped} {run}", f"call {appended} {run}", f"call {installers['1.0']} {run} --bogus",
                    f"call {installers['1.0']} --prefix C:\\apps\\refused -y --json --python C:\\nowhere\\python.exe",
                    f"call {installers['1.0']} {run} --trust {DIST}\\windemo.pub",
                    f"call {installers['1.0']} {run} --link-bin C:\\foreign",
                    f"{installers['1.0']} --prefix C:\\apps\\refused -y --json", check=False)  # no Python at all
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    flip, cut, bogus, nowhere, trust, foreign, nopython = results(proc.stdout)
    assert (flip["exit_code"], flip["action"], flip["version"]) == (3, "refused", "1.0")
    assert "is corrupt" in flip["message"] and cut["exit_code"] == 3 and "truncated" in cut["message"]
    assert bogus["exit_code"] == 2 and "--bogus" in bogus["message"] and bogus["hint"] == "see --help"
    assert nowhere["exit_code"] == 4 and "no such file" in nowhere["message"]
    assert trust["exit_code"] == 4 and "ssh-keygen" in trust["message"] and "OpenSSH Client" in trust["hint"]
    assert foreign["exit_code"] == 1 and "another program's" in foreign["message"]
    assert nopython["exit_code"] == 4 and "no Python found" in nopython["message"]
    assert "another program's" in wine.host_path(PureWindowsPath(r"C:\foreign\windemo.cmd")).read_text()
    # Only the --link-bin run got as far as building a release (and left the prefix's scratch and state).
    assert not (wine.host_path(PureWindowsPath(r"C:\apps\refused")) / "current").exists()
