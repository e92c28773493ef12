"""The prefix layout on Windows: no links, releases switched by renaming directories.

    PREFIX\\current\\                   the active release itself (its project), renamed into place
    PREFIX\\releases\\<id>\\             the other complete releases, kept for rollback (--keep)
    PREFIX\\bin\\uv.exe                  a hard link to (else a copy of) the active release's uv.exe
    PREFIX\\bin\\<script>.cmd            launchers: PREFIX\\current\\.venv\\Scripts\\<script>.exe
    PREFIX\\bin\\<name>-rollback.cmd, <name>-uninstall.cmd
    PREFIX\\.airgap-installer\\          lock, `active` (the id now in current), `previous`, runtime\\ (the
                                       helpers' copy of this code), failed-<id>.log

Why renames and not a junction: a junction needs no administrator, but Wine 8 (where this is tested)
refuses to create one (FSCTL_SET_REPARSE_POINT: "Request not supported"; `mklink /J` says it made one
and makes nothing), and so do FAT32/exFAT volumes. A directory rename works everywhere. The venv is made
`--relocatable` and the local packages are recorded for PREFIX\\current before the switch (uvrecords.py),
so the release works there as soon as it lands. The switch is two renames (current -> releases\\<old>,
releases\\<new> -> current; undone if the second fails); Windows refuses to rename a directory that a
running program holds open, and then the install says so and leaves the active release as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from .layout import COMPLETE, MARK, RECORD_SOURCES, STATE, project_path, prune
from .manifest import Manifest

RUNTIME_DIR = "runtime"


class SwitchError(OSError):
    """PREFIX\\current could not be switched (a program runs from it); nothing changed."""


class LinkError(Exception):
    """--link-bin DIR holds a launcher of that name that this prefix did not write; nothing changed."""


def release_root(prefix: Path, release_id: str) -> Path:
    return prefix / "releases" / release_id


def active_id(prefix: Path) -> str | None:
    """The id of the release that PREFIX\\current holds, or None."""
    record = prefix / STATE / "active"
    if not (prefix / "current").is_dir() or not record.is_file():
        return None
    return record.read_text(encoding="utf-8").strip() or None


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(tmp, path)


def _copy(source: Path, dest: Path) -> None:
    """A plain byte copy: shutil's copies call CopyFile2 on Windows, which Wine 8 does not implement."""
    with open(source, "rb") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _cmd_quote(path: Path | str) -> str:
    """A path inside double quotes in a .cmd file (`%` would be expanded; `"` cannot be in a path)."""
    return '"' + str(path).replace("%", "%%") + '"'


def project_dir(prefix: Path, manifest: Manifest) -> Path:
    """The active project: PREFIX\\current, or a directory in it when path dependencies sit beside it."""
    rel = project_path(manifest)
    return prefix / "current" / rel if rel else prefix / "current"


def launcher(current: Path, script: str, script_file: str | None) -> str:
    if script_file:
        command = f"{_cmd_quote(current / '.venv' / 'Scripts' / 'python.exe')} {_cmd_quote(current / script_file)}"
    else:
        command = _cmd_quote(current / ".venv" / "Scripts" / f"{script}.exe")
    return f"@rem {MARK}: runs {script} of the active release\r\n@{command} %*\r\n@exit /b %errorlevel%\r\n"


def sync_helper(prefix: Path, current: Path) -> str:
    """airgap-sync.cmd: `uv sync ARGS` offline, as layout.sync_helper on POSIX: every bundled wheel put back
    from the release's wheelhouse and the git, URL and local packages recorded as uv records them first."""
    uv = _cmd_quote(prefix / "bin" / "uv.exe")
    return (f"@rem {MARK}: `uv sync ARGS` for the active release, offline\r\n@setlocal\r\n"
            f"@cd /d {_cmd_quote(current)}\r\n"
            f"@{uv} pip install --quiet --no-deps --require-hashes -r .airgap\\pins.txt\r\n"
            "@if errorlevel 1 exit /b 1\r\n"
            f"@.venv\\Scripts\\python.exe -I -c \"{RECORD_SOURCES}\"\r\n"
            "@if errorlevel 1 exit /b 1\r\n"
            f"@{uv} sync %*\r\n@exit /b %errorlevel%\r\n")


def helper(prefix: Path, python: str, action: str, name: str) -> str:
    """A .cmd that runs this module's `helper_main` with the interpreter that installed the prefix (not the
    release's own: Windows keeps a directory whose program is running from being renamed or removed)."""
    runtime = prefix / STATE / RUNTIME_DIR
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from airgap_runtime.winlayout import helper_main; "
            "sys.exit(helper_main(sys.argv[2:]))")
    run = (f"@rem {MARK}: {action} for {name}\r\n@{_cmd_quote(python)} -I -B -c \"{code}\" {_cmd_quote(runtime)} "
           f"{action} {_cmd_quote(prefix)} {name} %*\r\n")
    if action != "uninstall":
        return run + "@exit /b %errorlevel%\r\n"
    # Windows cannot delete a batch file while cmd.exe runs it from Python: the file deletes itself on its
    # last line, which cmd.exe has read whole (`exit /b` there: it never reads the next, missing, line).
    return (run + "@if errorlevel 1 exit /b 1\r\n"
            f"@del \"%~f0\" & rmdir {_cmd_quote(prefix / 'bin')} 2>nul & rmdir {_cmd_quote(prefix)} 2>nul"
            " & exit /b 0\r\n")


def _rename(source: Path, dest: Path, attempts: int = 10) -> None:
    """os.rename, tried again for a few seconds: on Windows a scanner (Defender) or an indexer may hold a
    fresh file open for a moment, and the rename of its directory fails meanwhile."""
    for attempt in range(attempts):
        try:
            os.rename(source, dest)
            return
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def switch(prefix: Path, release_id: str) -> str | None:
    """Make releases\\<release_id> PREFIX\\current; the release it replaces goes back to releases\\.
    Returns the id that was active. On failure nothing has changed (SwitchError)."""
    new = release_root(prefix, release_id)
    current = prefix / "current"
    old = active_id(prefix)
    if old == release_id:
        return old
    parked: Path | None = None
    if current.exists():
        parked = release_root(prefix, old) if old else prefix / STATE / f"orphan.{os.getpid()}"
        try:
            _rename(current, parked)
        except OSError as exc:
            raise SwitchError(exc.errno, f"cannot switch {current}: {exc.strerror} (a program running from it, "
                              "or a command prompt whose current directory is in it, keeps Windows from "
                              "renaming it: close them and run the installer again)") from exc
    try:
        _rename(new, current)
    except OSError as exc:
        if parked is not None:
            _rename(parked, current)
        raise SwitchError(exc.errno, f"cannot move the new release into {current}: {exc.strerror}") from exc
    state = prefix / STATE
    _write(state / "active", release_id + "\n")
    if old:
        _write(state / "previous", f"releases/{old}\n")  # the form layout.prune reads
    return old


def link_uv(prefix: Path, current: Path) -> None:
    """PREFIX\\bin\\uv.exe: a hard link to the active release's uv.exe (a copy where links are refused). A
    running uv.exe cannot be replaced but can be renamed: the old one is moved aside first."""
    bin_dir = prefix / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    source = current / ".airgap" / "bin" / "uv.exe"
    for stale in bin_dir.glob(".uv.exe.old.*"):
        with contextlib.suppress(OSError):  # still running
            stale.unlink()
    target = bin_dir / "uv.exe"
    tmp = bin_dir / f".uv.exe.new.{os.getpid()}"
    if tmp.exists():
        tmp.unlink()
    try:
        os.link(source, tmp)
    except OSError:
        _copy(source, tmp)
    if target.exists():
        os.replace(target, bin_dir / f".uv.exe.old.{os.getpid()}")
    os.replace(tmp, target)
    with contextlib.suppress(OSError):
        (bin_dir / f".uv.exe.old.{os.getpid()}").unlink()


def write_helpers(prefix: Path, manifest: Manifest, python: str) -> None:
    """Launchers and helpers in PREFIX\\bin, and the helpers' own copy of this runtime."""
    bin_dir = prefix / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    current = project_dir(prefix, manifest)
    for script in manifest.scripts:
        _write(bin_dir / f"{script}.cmd", launcher(current, script, manifest.script))
    name = manifest.name
    if not manifest.script:
        _write(bin_dir / "airgap-sync.cmd", sync_helper(prefix, current))
    _write(bin_dir / f"{name}-rollback.cmd", helper(prefix, python, "rollback", name))
    _write(bin_dir / f"{name}-uninstall.cmd", helper(prefix, python, "uninstall", name))
    runtime = prefix / STATE / RUNTIME_DIR / "airgap_runtime"
    here = current / ".airgap" / "airgap_runtime"  # this code, as the release keeps it (not the zip's)
    tmp = runtime.with_name(f".airgap_runtime.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for source in sorted(here.glob("*.py")):
        _copy(source, tmp / source.name)
    shutil.rmtree(runtime, ignore_errors=True)
    os.replace(tmp, runtime)


def _ours(path: Path, prefix: Path) -> bool:
    """A launcher this prefix wrote: our mark on its first line, and this prefix in it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first, rest = f.readline(), f.read()
    except OSError:
        return False
    return MARK in first and str(prefix).replace("%", "%%") in rest


def check_links(prefix: Path, manifest: Manifest, link_bin: Path) -> None:
    """--link-bin DIR: refuse before anything changes when DIR holds another program's launcher."""
    for script in manifest.scripts:
        link = link_bin / f"{script}.cmd"
        if link.exists() and not _ours(link, prefix):
            raise LinkError(f"{link} exists and was not written by airgap-installer for {prefix} (another "
                            "program's); not replacing it")


def link_launchers(prefix: Path, manifest: Manifest, link_bin: Path) -> None:
    """--link-bin DIR (e.g. a directory on PATH): the same .cmd launchers as PREFIX\\bin's (no links on
    Windows: they run PREFIX\\current's scripts), recorded in `linked` so that uninstall removes them."""
    link_bin.mkdir(parents=True, exist_ok=True)
    current = project_dir(prefix, manifest)
    record = prefix / STATE / "linked"
    known = set(record.read_text(encoding="utf-8").splitlines()) if record.is_file() else set()
    for script in manifest.scripts:
        _write(link_bin / f"{script}.cmd", launcher(current, script, manifest.script))
        known.add(str(link_bin / f"{script}.cmd"))
    _write(record, "".join(f"{line}\n" for line in sorted(known)))


def launchers_in_place(prefix: Path, manifest: Manifest, link_bin: Path | None) -> bool:
    """PREFIX\\bin holds uv.exe and the launchers activation writes, and --link-bin DIR the same launchers."""
    bin_dir = prefix / "bin"
    names = ["uv.exe", *(f"{s}.cmd" for s in manifest.scripts), f"{manifest.name}-rollback.cmd",
             f"{manifest.name}-uninstall.cmd"]
    if not all((bin_dir / name).is_file() for name in names):
        return False
    if link_bin is None:
        return True
    current = project_dir(prefix, manifest)
    for script in manifest.scripts:
        try:
            text = (link_bin / f"{script}.cmd").read_bytes()
        except OSError:
            return False
        if text != launcher(current, script, manifest.script).encode("utf-8"):
            return False
    return True


def activate(prefix: Path, release_id: str, manifest: Manifest, python: str, link_bin: Path | None = None) -> None:
    """Switch PREFIX\\current to the complete release, then point bin\\ (and --link-bin DIR) at it."""
    if link_bin is not None:
        check_links(prefix, manifest, link_bin)
    switch(prefix, release_id)
    write_helpers(prefix, manifest, python)
    if link_bin is not None:
        link_launchers(prefix, manifest, link_bin)
    link_uv(prefix, project_dir(prefix, manifest))


def prune_releases(prefix: Path, keep: int) -> list[str]:
    """`keep` counts PREFIX\\current: releases\\ keeps `previous` and the newest others up to it."""
    return prune(prefix, max(keep - 1, 0))


def rollback(prefix: Path, name: str) -> int:
    previous = prefix / STATE / "previous"
    prev = previous.read_text(encoding="utf-8").strip().split("/")[-1] if previous.is_file() else ""
    if not prev or not (release_root(prefix, prev) / ".airgap" / COMPLETE).is_file():
        print(f"{name}-rollback: error: there is no previous complete release to go back to", file=sys.stderr)
        return 1
    try:
        was = switch(prefix, prev)
        current = prefix / "current"
        link_uv(prefix, current if (current / ".airgap").is_dir() else next(current.glob("*/.airgap")).parent)
    except OSError as exc:
        print(f"{name}-rollback: error: {exc}", file=sys.stderr)
        return 1
    print(f"{name}: {prev} is active again (it was {was})")
    return 0


def uninstall(prefix: Path, name: str) -> int:
    """Remove what the installer made, and nothing else; the prefix itself goes if nothing else is left.
    The running .cmd helper is left for cmd.exe (Windows cannot delete a batch file while it runs it)."""
    bin_dir = prefix / "bin"
    for entry in sorted(bin_dir.iterdir()) if bin_dir.is_dir() else []:
        if entry.name == f"{name}-uninstall.cmd":
            continue
        made = entry.name in ("uv.exe",) or entry.name.startswith((".uv.exe.",))
        if not made and entry.suffix == ".cmd" and entry.is_file():
            with open(entry, encoding="utf-8", errors="replace") as f:
                made = MARK in f.readline()
        if made:
            entry.unlink()
    record = prefix / STATE / "linked"  # --link-bin's launchers, where this prefix still owns them
    for line in record.read_text(encoding="utf-8").splitlines() if record.is_file() else []:
        if line and Path(line).is_file() and _ours(Path(line), prefix):
            Path(line).unlink()
    for path in (prefix / "current", prefix / "releases", prefix / STATE):
        shutil.rmtree(path, ignore_errors=True)
    left = [p for p in (prefix / "current", prefix / "releases") if p.exists()]
    if left:
        print(f"{name}-uninstall: error: could not remove {', '.join(map(str, left))} (is a program running "
              "from it?)", file=sys.stderr)
        return 1
    python_dir = prefix / "python"  # a bundled interpreter, when there is one
    if python_dir.is_dir() and python_dir.resolve() in Path(sys.executable).resolve().parents:
        print(f"{name}: {python_dir} is the interpreter this uninstall runs with; remove it with "
              f"rmdir /s /q {python_dir}")
    else:
        shutil.rmtree(python_dir, ignore_errors=True)
    print(f"{name}: uninstalled from {prefix}")
    return 0  # the .cmd then deletes itself, and PREFIX\\bin and PREFIX when they are empty


def helper_main(argv: list[str]) -> int:
    """`rollback PREFIX NAME` or `uninstall PREFIX NAME`, from the .cmd helpers in PREFIX\\bin."""
    if len(argv) < 3 or argv[0] not in ("rollback", "uninstall"):
        print("usage: rollback|uninstall PREFIX NAME", file=sys.stderr)
        return 2
    action, prefix, name = argv[0], Path(argv[1]), argv[2]
    return rollback(prefix, name) if action == "rollback" else uninstall(prefix, name)
