"""Install a release from the payload with no network, then switch PREFIX/current to it atomically.

Layout (DESIGN.md):
    PREFIX/bin/uv -> ../current/.airgap/bin/uv     the release's own uv
    PREFIX/bin/<script>                            launchers that resolve through `current`
    PREFIX/current -> releases/<version>-<sha12>   switched by renaming a symlink
    PREFIX/releases/<id>/                          the project: pyproject.toml, uv.lock, uv.toml, .venv
    PREFIX/releases/<id>/[<project dir>/].airgap/  wheelhouse (hard links into the store), pins, manifest,
                                                   uv, install.log, airgap_runtime (for airgap-sync)
    PREFIX/.airgap-installer/wheels, uv-cache      the store: each wheel once, unpacked once (store.py)
    PREFIX/.airgap-installer/failed-<id>.log       the log of an install that failed
A release is built in place (venvs are not relocatable) and marked complete last; a failed build is
removed, so `current` only ever points at a complete release.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import status, store, uvrecords, winlayout
from .layout import COMPLETE, STATE, activate, clean_stale_scratch, project_path, prune
from .manifest import Manifest, ManifestError, member_for
from .result import Result

WINDOWS = sys.platform == "win32"  # the same runtime; winlayout.py holds what differs there
if sys.platform == "win32":  # spelled out so that type checkers see which branch holds
    import msvcrt
else:
    import fcntl


class InstallError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class Progress:
    """Timestamped step lines to stdout (unless quiet) and to the install log. On a terminal the current
    step's line is redrawn every second with how long it has been running, so a long step (installing
    hundreds of wheels) shows it is alive; a pipe gets each line once."""

    TICK = 1.0

    def __init__(self, quiet: bool, log: IO[str] | None = None, terminal: IO[str] | None = None) -> None:
        self.quiet = quiet
        self.log = log
        self.terminal = terminal if terminal is not None and not quiet else None
        self.start = time.monotonic()
        self._line = ""  # the step line drawn on the terminal, not yet ended with a newline
        self._since = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def step(self, text: str) -> None:
        now = time.monotonic()
        line = f"[{now - self.start:5.1f}s] {text}"
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()
        if self.terminal is None:
            if not self.quiet:
                print(line, flush=True)
            return
        with self._lock:
            self._draw("\n" if self._line else "", line)
            self._line, self._since = line, now
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _draw(self, before: str, text: str) -> None:
        assert self.terminal is not None
        self.terminal.write(f"{before}\r{text}\x1b[K")
        self.terminal.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.TICK):
            with self._lock:
                if self._line:
                    self._draw("", f"{self._line} ({time.monotonic() - self._since:.0f}s)")

    def close(self) -> None:
        """End the live line; call before anything else is printed."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.terminal is not None and self._line:
                self._draw("", self._line)
                self.terminal.write("\n")
                self.terminal.flush()
            self._line = ""


class TrustError(InstallError):
    """The prefix's trust policy refuses this file (exit 3): e.g. an older version, replayed."""


@dataclass(frozen=True)
class Trust:
    remember: Path | None = None  # allowed signers to record: the prefix's first signed install
    signer: str | None = None  # who signed this file (the header checked it)
    allow_downgrade: bool = False


def _release_key(version: str) -> tuple[int, ...]:
    found = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(x) for x in found.group(0).split(".")) if found else ()


def check_downgrade(prefix: Path, manifest: Manifest, trust: Trust) -> None:
    """In a prefix that trusts a signer, a file older than the active release is a replay unless asked."""
    signed = trust.signer is not None or (prefix / STATE / "trusted_signers").is_file()
    current = prefix / "current" / ".airgap" / "manifest.json"
    if not signed or trust.allow_downgrade or not current.is_file():
        return
    try:
        active = Manifest.from_json(current.read_bytes()).version
    except (OSError, ManifestError):
        return
    if _release_key(manifest.version) < _release_key(active):
        raise TrustError(f"{manifest.name} {manifest.version} is older than the active {active}; a signed prefix "
                         "does not go back silently", hint="pass --allow-downgrade if that is what you want")


def remember_signers(prefix: Path, trust: Trust) -> None:
    record = prefix / STATE / "trusted_signers"
    if trust.remember is not None and not record.exists():
        data = trust.remember.read_bytes()
        fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)


class BaseMissing(InstallError):
    """A delta file whose base release is not in the prefix (exit 4): refused before anything is written."""


class HostUnfit(InstallError):
    """This host cannot run what the file brings, e.g. uv on a noexec prefix (exit 4)."""


class PayloadError(InstallError):
    """The payload is not one the builder writes (exit 3): refused before anything is written."""


MAX_RATIO = 200  # the builder stores wheels; only small text members are deflated
BOMB_FLOOR = 16 << 20  # below this, a high ratio is just a text file


def check_members(zf: zipfile.ZipFile) -> int:
    """Every member once, under a safe relative name, of a plausible size; the total unpacked size."""
    seen: set[str] = set()
    total = 0
    for info in zf.infolist():
        name = info.filename
        if name in seen:
            raise PayloadError(f"the payload holds {name!r} twice")
        seen.add(name)
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or any(c in name for c in "\0\n\r"):
            raise PayloadError(f"the payload member {name!r} has a name the builder never writes")
        if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PayloadError(f"the payload member {name!r} would unpack to {info.file_size} bytes from "
                               f"{info.compress_size}: not something the builder writes")
        total += info.file_size
    return total


def _safe_target(root: Path, name: str) -> Path:
    path = (root / name).resolve()
    if path != root.resolve() and root.resolve() not in path.parents:
        raise InstallError(f"payload member {name!r} escapes the destination")
    return path


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    mode = (info.external_attr >> 16) & 0o777
    os.chmod(dest, 0o755 if mode & 0o111 else 0o644)


def extract_prefix(zf: zipfile.ZipFile, prefix: str, dest: Path) -> None:
    """Extract every member under `prefix` (e.g. "project/") into dest."""
    for info in zf.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            _extract_member(zf, info, _safe_target(dest, info.filename[len(prefix):]))


def extract_all(zf: zipfile.ZipFile, dest: Path) -> None:
    check_members(zf)  # before the first file is written
    for info in zf.infolist():
        if not info.is_dir():
            _extract_member(zf, info, _safe_target(dest, info.filename))


@contextmanager
def prefix_lock(prefix: Path) -> Iterator[None]:
    """One install at a time per prefix; a second one waits for the first."""
    state = prefix / STATE
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    if state.is_symlink():
        raise InstallError(f"{state} is a symbolic link; the installer does not follow it")
    try:  # never through a link someone planted: it would truncate or lock their file as root
        fd = os.open(state / "lock", os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise InstallError(f"cannot open {state / 'lock'}: {exc.strerror}",
                           hint="if it is a symbolic link, remove it: the installer does not follow links") from exc
    with os.fdopen(fd, "w") as handle:
        try:
            _lock(handle, wait=False)
        except OSError:
            print(f"waiting for another install into {prefix} to finish...", file=sys.stderr, flush=True)
            _lock(handle, wait=True)
        yield


def _lock(handle: IO[str], *, wait: bool) -> None:
    if sys.platform == "win32":
        while True:  # msvcrt's blocking mode gives up after 10 s: keep asking
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if not wait:
                    raise
                time.sleep(1)
    else:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))


def clean_env(scratch: Path, cache: Path, settings: Path) -> dict[str, str]:
    """The environment uv runs in: nothing from the host may point it at an index, a venv or a config.
    `settings`: the release's `.airgap/uv.toml` (the project's own uv settings, written by the builder),
    given as UV_CONFIG_FILE: uv then reads that file and no other, neither the host user's uv.toml nor
    the system-wide `/etc/uv/uv.toml` or `C:\\ProgramData\\uv\\uv.toml`, which no other variable hides."""
    drop = ("UV_", "PIP_", "PYTHON", "VIRTUAL_ENV", "CONDA_", "XDG_CONFIG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    config = scratch / "empty-config"
    config.mkdir(parents=True, exist_ok=True)
    env.update(
        UV_CONFIG_FILE=str(settings),
        UV_CACHE_DIR=str(cache),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        XDG_CONFIG_HOME=str(config),  # an empty home for anything else that looks there
        PYTHONDONTWRITEBYTECODE="1",
    )
    if WINDOWS:
        env["APPDATA"] = str(config)
    return env


def run(argv: list[str], *, cwd: Path, env: dict[str, str], log: IO[str]) -> None:
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, encoding="utf-8", errors="replace")
    log.write(proc.stdout)
    log.flush()
    if proc.returncode != 0:
        # uv's warning about uv.toml shadowing [tool.uv] (and its "- key" list) is noise here.
        lines = [line for line in proc.stdout.strip().splitlines()
                 if line.strip() and not line.startswith(("warning:", "- "))]
        raise InstallError(f"`uv {' '.join(argv[1:3])}` failed (exit {proc.returncode}): {' | '.join(lines[-4:])}",
                           hint=SPACE_HINT if "No space left on device" in proc.stdout else "")


SPACE_HINT = "free some space in the prefix's filesystem, or install into a --prefix on a larger one"


def record_sources(project: Path, recorded_as: Path | None = None) -> None:
    """Record the release's git, direct URL and local packages as uv records its own installs of them
    (uvrecords.py), so that `uv sync --locked` changes nothing. Run by the install, and by
    PREFIX/bin/airgap-sync after it puts wheels back from the wheelhouse. `recorded_as`: where uv will see
    the project (Windows: PREFIX\\current, where the release is renamed to), when not where it is now."""
    meta = project / ".airgap"
    manifest = Manifest.from_json((meta / "manifest.json").read_bytes())
    pinned = {line.split(" ", 1)[0] for line in (meta / "pins.txt").read_text().splitlines() if line}
    try:
        site = uvrecords.site_packages(project / ".venv")
        # A lock forked by patch version pins a subset: only those packages are installed.
        for record in manifest.direct_urls:
            if f"{record.name}=={record.version}" in pinned:
                uvrecords.mark_direct(site, record)
        for local in manifest.local_packages:
            if f"{local.name}=={local.version}" in pinned:
                uvrecords.mark_local(site, project, local, recorded_as=recorded_as)
    except uvrecords.RecordError as exc:
        raise InstallError(str(exc)) from exc


def run_hook(name: str, manifest: Manifest, release: Path, project: Path, env: dict[str, str],
             progress: Progress, log: IO[str]) -> None:
    """A `[tool.airgap-installer]` pre-/post-install command, run with sh in the new release. It fails the
    install (and the previous release stays active) when it fails."""
    command = manifest.hooks.get(name)
    if not command:
        return
    progress.step(f"running the {name} hook: {command}")
    hook_env = {**env, "AIRGAP_PREFIX": str(release.parent.parent), "AIRGAP_RELEASE": str(project)}
    log.write(f"$ sh -c {command!r}\n")
    log.flush()
    proc = subprocess.run(["sh", "-c", command], cwd=project, env=hook_env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        # The install's handler adds where its output is kept (the release's log is moved away).
        raise InstallError(f"the {name} hook failed (exit {proc.returncode}): {command}")


def build_project_env(manifest: Manifest, project: Path, uv_bin: str, python: str, pins: list[str],
                      env: dict[str, str], progress: Progress, log: IO[str], prefix: Path) -> None:
    """The project's .venv: the pins from the wheelhouse (the local packages' wheels too), recorded as uv
    records its own installs, then `uv sync --locked` as a check that changes nothing."""
    meta = project / ".airgap"
    progress.step(f"creating the virtual environment with {python}")
    # On Windows the release is renamed into PREFIX\\current: its venv's launchers must not hold its path.
    relocatable = ["--relocatable"] if WINDOWS else []
    run([uv_bin, "venv", "--offline", *relocatable, "--python", python, str(project / ".venv")], cwd=project, env=env,
        log=log)
    venv_python = str(project / ".venv" / ("Scripts/python.exe" if WINDOWS else "bin/python"))
    if pins:
        progress.step(f"installing {len(pins)} locked packages from the wheelhouse")
        # The store's path, not the release's links to it: uv's cache knows wheels by this directory.
        wheels = meta / "wheelhouse" if WINDOWS else store.store_dir(prefix)
        run([uv_bin, "pip", "install", "--offline", "--no-index", "--find-links", str(wheels),
             "--python", venv_python, "--no-deps", "--require-hashes", "-r", str(meta / "pins.txt")],
            cwd=project, env=env, log=log)
    record_sources(project)
    # --locked, not --frozen: the same call proves that uv.lock is current for pyproject.toml, which is
    # what plain `uv run` will check later; everything is installed already, so it changes nothing.
    progress.step("checking the project (uv sync --locked)")
    run([uv_bin, "sync", "--locked", "--offline", *manifest.sync_args], cwd=project, env=env, log=log)


def build_script_env(script: str, project: Path, uv_bin: str, python: str, env: dict[str, str],
                     progress: Progress, log: IO[str]) -> None:
    """A PEP 723 script's environment, made by uv itself from the wheelhouse (the release's uv.toml keeps
    it offline; the lock's versions are the only ones there), in the release's uv cache; `.venv` points at
    it for the launcher. Plain `uv run SCRIPT` in the release makes the same from the same wheelhouse."""
    progress.step(f"creating the environment of {script} with {python}")
    run([uv_bin, "sync", "--script", script, "--offline", "--python", python], cwd=project, env=env, log=log)
    made = sorted(Path(env["UV_CACHE_DIR"]).glob("environments-v2/*/pyvenv.cfg"))
    if len(made) != 1:
        raise InstallError(f"uv made {len(made)} environments for {script}, expected one")
    os.symlink(os.path.relpath(made[0].parent, project), project / ".venv")


def wait_for_uv(uv: Path, timeout: float = 900.0) -> None:
    """The header inflates uv in the background while this runtime extracts the wheels; it leaves `uv`
    when done, or `uv.failed` ("<exit code> <line>") when there is none."""
    failed = uv.with_name(uv.name + ".failed")
    deadline = time.monotonic() + timeout
    while not uv.exists():
        if failed.exists():
            code, _, line = failed.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
            line = line or "the installer could not unpack its uv"
            if code == "4":  # noexec, or no gzip on this host
                raise HostUnfit(line, hint="choose a --prefix on a filesystem that allows executables"
                                if "noexec" in line else "install gzip (busybox has it)")
            raise InstallError(line, hint=SPACE_HINT)
        if time.monotonic() > deadline:
            raise InstallError(f"uv did not appear at {uv} within {timeout:.0f} s",
                               hint="run the installer again; it unpacks uv into the prefix first")
        time.sleep(0.01)


def build_release(zf: zipfile.ZipFile, release: Path, manifest: Manifest, uv: Path, python: str,
                  scratch: Path, progress: Progress, log: IO[str], available: dict[str, Path] | None = None,
                  target: str | None = None) -> None:
    project = release / project_path(manifest)
    meta = project / ".airgap"
    progress.step("extracting the project and its wheelhouse")
    extract_prefix(zf, "project/", release)
    if target is not None:  # a fat file: the files that differ for this target
        extract_prefix(zf, f"targets/{target}/project/", release)
    prefix = release.parent.parent
    # Each wheel once per prefix: what an earlier release brought is reused (sha256-checked), not written.
    if WINDOWS:  # no shared store there yet (the active release is renamed, not linked): the release's own
        extract_prefix(zf, "wheelhouse/", meta / "wheelhouse")
        (meta / "wheelhouse").mkdir(parents=True, exist_ok=True)  # uv.toml's find-links names it, even empty
        reused, written = 0, 0
    else:
        reused, written = store.stock(zf, store.store_dir(prefix), store.expected_hashes(manifest),
                                      meta / "wheelhouse", available,
                                      only=store.wheels_of(manifest) if target is not None else None)
    if reused:
        progress.step(f"reused {reused} wheels the prefix already holds, wrote {written}")
    _extract_member(zf, zf.getinfo(member_for(target)), meta / "manifest.json")
    extract_prefix(zf, "airgap_runtime/", meta / "airgap_runtime")  # for PREFIX/bin/airgap-sync
    wait_for_uv(uv)  # inflated by the header meanwhile
    pins = manifest.pins_for(tuple(sys.version_info[:3]))  # the header runs us with the target's Python
    if pins is None:
        raise InstallError(f"this installer has no packages for Python {'.'.join(map(str, sys.version_info[:3]))}",
                           hint="rebuild for this interpreter")
    (meta / "pins.txt").write_text("".join(line + "\n" for line in pins))
    if WINDOWS:  # the release is renamed into PREFIX\\current whole: it keeps its own uv and cache
        (meta / "bin").mkdir(parents=True, exist_ok=True)
        uv_bin = str(meta / "bin" / "uv.exe")
        try:
            os.replace(uv, uv_bin)  # the bootstrap carved it inside PREFIX: same filesystem
        except OSError:
            shutil.copy2(uv, uv_bin)
        env = clean_env(scratch, meta / "uv-cache", meta / "uv.toml")
    else:
        store.place_uv(prefix, uv, meta / "bin" / "uv")
        uv_bin = str(meta / "bin" / "uv")
        # uv unpacks each wheel into its cache and hard-links the files into the venv. The cache is the
        # prefix's (store.py): a wheel an earlier release unpacked is linked, not unpacked again. A script's
        # environment lives in its release's own cache (uv keeps it there).
        env = clean_env(scratch, meta / "uv-cache" if manifest.script else store.cache_dir(prefix), meta / "uv.toml")
    run_hook("pre-install", manifest, release, project, env, progress, log)
    if manifest.script:
        build_script_env(manifest.script, project, uv_bin, python, env, progress, log)
    else:
        build_project_env(manifest, project, uv_bin, python, pins, env, progress, log, prefix)
    run_hook("post-install", manifest, release, project, env, progress, log)
    (meta / COMPLETE).write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")


def read_checked(run_file: Path, target: str | None = None) -> Manifest:
    """The manifest of a payload whose members are all ones the builder writes; nothing is written.
    `target`: the target a fat file's header picked on this host."""
    with zipfile.ZipFile(run_file) as zf:
        check_members(zf)  # refused before anything is written
        try:
            return Manifest.from_json(zf.read(member_for(target)))
        except KeyError:
            raise ManifestError(f"the payload has no {member_for(target)}") from None


def find_base(prefix: Path, manifest: Manifest) -> dict[str, Path]:
    """A delta file's reused wheels, found in the prefix and checked (read only); BaseMissing when absent."""
    if manifest.base is None:
        return {}
    try:
        return store.find_reused(prefix, manifest)
    except LookupError as exc:
        raise BaseMissing(str(exc), hint=f"install {manifest.base.describe()} first, or use the full installer "
                          f"of {manifest.name} {manifest.version}") from exc


def install(run_file: Path, *, prefix: Path, uv: Path, python: str, payload_sha256: str, quiet: bool,
            keep: int = 3, link_bin: Path | None = None, trust: Trust = Trust(), target: str | None = None) -> Result:
    prefix = prefix.resolve()
    manifest = read_checked(run_file, target)
    check_downgrade(prefix, manifest, trust)
    available = find_base(prefix, manifest)
    with zipfile.ZipFile(run_file) as zf, prefix_lock(prefix):
        plan = status.plan(prefix, manifest, payload_sha256, link_bin)  # under the lock: another may have run
        release_id = plan.release
        release = prefix / "releases" / release_id
        meta = release / project_path(manifest) / ".airgap"

        def result(action: str, changed: bool = True) -> Result:
            done = status.Plan(action, release_id, plan.previous)
            return Result(changed, action, release_id, plan.previous, manifest.version, str(prefix), 0,
                          status.message(done, manifest, prefix, dry_run=False))

        if plan.action == "unchanged":
            # Nothing is rewritten: not the release, not `current`, not the launchers. Only a prefix's
            # first signed install records whom it trusts.
            trusted = trust.remember is not None and not (prefix / STATE / "trusted_signers").exists()
            remember_signers(prefix, trust)
            done = result("unchanged", changed=trusted)
            Progress(quiet).step(done.message)
            return done
        clean_stale_scratch(prefix)
        if plan.action == "activated":
            if WINDOWS:  # the complete release is renamed into PREFIX\\current (or is there already)
                activate_windows(prefix, release_id, manifest, python, link_bin, record=False)
            else:
                activate(prefix, release_id, manifest, link_bin)
            remember_signers(prefix, trust)
            done = result("activated")
            Progress(quiet).step(done.message)
            return done
        if release.exists():
            shutil.rmtree(release)  # left half-made by an interrupted install
        scratch = prefix / STATE / f"run.{os.getpid()}"
        meta.mkdir(parents=True)
        with open(meta / "install.log", "w", encoding="utf-8") as log:
            progress = Progress(quiet, log, terminal=sys.stdout if sys.stdout.isatty() else None)
            try:
                try:
                    build_release(zf, release, manifest, uv, python, scratch, progress, log, available, target)
                except BaseException as exc:
                    # Keep the log (a rename: it needs no space), then remove the half-made release.
                    kept = prefix / STATE / f"failed-{release_id}.log"
                    log.flush()
                    os.replace(meta / "install.log", kept)
                    shutil.rmtree(release, ignore_errors=True)
                    if isinstance(exc, InstallError):
                        exc.hint = "; ".join(filter(None, [exc.hint, f"the full output is in {kept}"]))
                    raise
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
                if WINDOWS:
                    activate_windows(prefix, release_id, manifest, python, link_bin)
                else:
                    activate(prefix, release_id, manifest, link_bin)
                remember_signers(prefix, trust)
                progress.step(f"installed {manifest.name} {manifest.version} into {prefix}")
                removed = (winlayout.prune_releases if WINDOWS else prune)(prefix, keep)
                for old in removed:
                    progress.step(f"removed old release {old}")
                if removed and not WINDOWS:
                    uv_now = str(meta / "bin" / "uv")
                    dropped = store.sweep(prefix, uv_now, clean_env(scratch, store.cache_dir(prefix), meta / "uv.toml"))
                    shutil.rmtree(scratch, ignore_errors=True)
                    if dropped:
                        progress.step(f"dropped {len(dropped)} wheels no release uses")
            finally:
                progress.close()  # ends the live line before anything else is printed
        if not quiet:
            script = manifest.scripts[0] if manifest.scripts else "python"
            current, uv_path = prefix / "current" / project_path(manifest), prefix / "bin" / "uv"
            print(f"run it with: cd {current} && {uv_path} run {script}")
    return result(plan.action)


def activate_windows(prefix: Path, release_id: str, manifest: Manifest, python: str, link_bin: Path | None,
                     record: bool = True) -> None:
    """Record the local packages of a new release for where it will be (PREFIX\\current), then switch to it
    (winlayout.py): it works there as soon as it lands. A release made active again was recorded so already."""
    project = prefix / "releases" / release_id / project_path(manifest)
    if record and not manifest.script:
        record_sources(project, recorded_as=prefix / "current" / project_path(manifest))
        try:  # a wheel file locked by path was installed by uv from the release's tree: it moves too
            uvrecords.relocate(uvrecords.site_packages(project / ".venv"), prefix / "releases" / release_id,
                               prefix / "current")
        except uvrecords.RecordError as exc:
            raise InstallError(str(exc)) from exc
    try:
        winlayout.activate(prefix, release_id, manifest, python, link_bin)
    except winlayout.SwitchError as exc:
        raise InstallError(str(exc), hint="the new release is complete; run the installer again to make it active") \
            from exc
    except winlayout.LinkError as exc:
        raise InstallError(str(exc), hint="choose another --link-bin, or remove that file") from exc


