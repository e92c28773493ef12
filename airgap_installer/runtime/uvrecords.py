"""What uv writes into a `.dist-info` when it installs a package itself, written by us for packages we
installed from the wheelhouse, so that `uv sync --locked` sees them as the lock's own and changes nothing.

- git and direct URL packages: `direct_url.json` as uv writes it for that source (the builder made each
  record): uv neither runs git nor downloads.
- local packages (the project, workspace members, path dependencies), whose wheels were built on the
  build side: `direct_url.json` pointing at the package's directory in the release (`dir_info.editable`
  as the lock says), then `uv_cache.json`, uv's record of the directory's state when it built it. uv
  recomputes that record on every `uv run`/`uv sync` and rebuilds when it differs (docs/uv-facts.md),
  so it is written last, from the files as they now are, the way uv computes it (uv-cache-info 0.13.9):
  `timestamp`: the latest ctime (Windows: modification time) of the cache-key files (default
  pyproject.toml, setup.py, setup.cfg),
  `directories`: the birth time of each cache-key directory (default src/; the inode where the file
  system has no birth time; null where it is missing), `commit`/`tags`: null (no .git travels),
  `env`: the named variables' values.
Idempotent: run by the install and again by `PREFIX/bin/airgap-sync`.
"""

from __future__ import annotations

import glob
import json
import os
import re
import struct
import sys
from pathlib import Path
from typing import Any

from .manifest import DirectRecord, LocalPackage

DEFAULT_KEYS: dict[str, Any] = {"files": ["pyproject.toml", "setup.py", "setup.cfg"], "dirs": ["src"],
                                "git": False, "env": []}


class RecordError(Exception):
    pass


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages")) or sorted(venv.glob("Lib/site-packages"))
    if not found:
        raise RecordError(f"no site-packages in {venv}")
    return found[0]


def find_dist_info(site: Path, name: str, version: str | None = None) -> Path:
    wanted = normalize(name)
    for entry in site.glob("*.dist-info"):
        dist, _, found_version = entry.name[:-len(".dist-info")].rpartition("-")
        if normalize(dist) == wanted and (version is None or found_version == version):
            return entry
    raise RecordError(f"{name} {version or ''} is not installed; cannot record its source".replace("  ", " "))


def write_record(dist_info: Path, filename: str, data: str) -> None:
    """Write a file into the dist-info and list it in RECORD (once), as an installer does."""
    (dist_info / filename).write_text(data)
    line = f"{dist_info.name}/{filename},,"
    record = dist_info / "RECORD"
    if line not in record.read_text().splitlines():
        with open(record, "a") as out:
            out.write(line + "\n")


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _timestamp(ns: int) -> dict[str, int]:
    return {"secs_since_epoch": ns // 1_000_000_000, "nanos_since_epoch": ns % 1_000_000_000}


_STATX_BTIME = 0x800


def _statx_birth_ns(path: Path) -> int | None:
    """The birth time as statx(2) reports it (what uv reads), or None where the file system has none.
    Python's os.stat has no birth time on Linux, so ask libc; fall back to coreutils' stat."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        statx = libc.statx
    except (ImportError, OSError, AttributeError):
        return _stat_tool_birth_ns(path)
    buf = ctypes.create_string_buffer(256)
    # statx(AT_FDCWD, path, flags=0 (follow links, as uv), mask=BASIC_STATS|BTIME, buf)
    if statx(-100, os.fsencode(path), 0, 0x7FF | _STATX_BTIME, buf) != 0:
        return _stat_tool_birth_ns(path)
    (mask,) = struct.unpack_from("<I", buf.raw, 0)
    if not mask & _STATX_BTIME:
        return None
    seconds, nanos = struct.unpack_from("<qI", buf.raw, 80)  # struct statx: stx_btime at offset 80
    return int(seconds) * 1_000_000_000 + int(nanos)


def _stat_tool_birth_ns(path: Path) -> int | None:
    import subprocess

    try:
        out = subprocess.run(["stat", "-c", "%.9W", str(path)], capture_output=True, text=True).stdout.strip()
        seconds, _, nanos = out.partition(".")
        value = int(seconds) * 1_000_000_000 + int(nanos.ljust(9, "0")[:9])
    except (OSError, ValueError):
        return None
    return value or None  # coreutils prints 0 where the birth time is unknown


def _birth_ns(path: Path) -> int | None:
    st = os.stat(path)
    if hasattr(st, "st_birthtime_ns"):  # macOS, BSD, Windows (3.12+)
        return int(getattr(st, "st_birthtime_ns"))  # noqa: B009 (absent on Linux; typeshed varies)
    if hasattr(st, "st_birthtime"):
        return int(getattr(st, "st_birthtime") * 1_000_000_000)  # noqa: B009
    if sys.platform == "win32":  # before 3.12, Windows reports the creation time as st_ctime
        return st.st_ctime_ns
    if sys.platform.startswith("linux"):
        return _statx_birth_ns(path)
    return None


def cache_info(directory: Path, keys: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    """uv's CacheInfo for a local package's directory, as uv computes it (see the module docstring)."""
    newest: int | None = None
    candidates: list[Path] = []
    for pattern in keys.get("files", []):
        if any(c in pattern for c in "*?[{"):
            candidates += [Path(p) for p in glob.glob(str(directory / pattern), recursive=True)]
        else:
            candidates.append(directory / pattern)
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not os.path.isfile(path):
            continue
        # uv's Timestamp: ctime on Unix, the modification time elsewhere (on Windows, Python's st_ctime is
        # the creation time; Wine reports the two alike, so only this line keeps a real host right).
        stamp = st.st_mtime_ns if sys.platform == "win32" else st.st_ctime_ns
        newest = stamp if newest is None else max(newest, stamp)
    directories: dict[str, Any] = {}
    for name in keys.get("dirs", []):
        path = directory / name
        if not path.exists():
            directories[name] = None
        elif path.is_dir():
            born = _birth_ns(path)
            directories[name] = _timestamp(born) if born is not None else os.stat(path).st_ino
    values = os.environ if env is None else env
    return {
        "timestamp": _timestamp(newest) if newest is not None else None,
        "commit": None,  # uv reads them from .git, which does not travel
        "tags": None,
        "env": {var: values.get(var) for var in keys.get("env", [])},
        "directories": directories,
    }


def mark_direct(site: Path, entry: DirectRecord) -> None:
    """A git or direct URL package: the direct_url.json uv writes for that source."""
    dist_info = find_dist_info(site, entry.name, entry.version)
    write_record(dist_info, "direct_url.json", _json(entry.direct_url))


def mark_local(site: Path, project: Path, entry: LocalPackage, env: dict[str, str] | None = None,
               recorded_as: Path | None = None) -> None:
    """A local package installed from the wheel built on the build side, recorded as uv records the
    (editable) install of its directory in the release. uv_cache.json goes last: it states the directory's
    files as they are now."""
    directory = (project / entry.path).resolve()
    seen_at = Path(os.path.normpath(recorded_as / entry.path)) if recorded_as is not None else directory
    dist_info = find_dist_info(site, entry.name)
    record = {"url": seen_at.as_uri(), "dir_info": {"editable": entry.editable}}
    write_record(dist_info, "direct_url.json", _json(record))
    (dist_info / "uv_build.json").unlink(missing_ok=True)  # no build settings to compare
    write_record(dist_info, "uv_cache.json", _json(cache_info(directory, entry.cache_keys or DEFAULT_KEYS,
                                                               env)))


def relocate(site: Path, old: Path, new: Path) -> None:
    """Every `direct_url.json` that points into `old` (a release about to be renamed) made to point into
    `new`, where uv will see it: a wheel file locked by path (uv installed it from the release's tree)
    and the local packages. Windows only: there releases are switched by renaming their directories."""
    old_uri, new_uri = old.as_uri().rstrip("/") + "/", new.as_uri().rstrip("/") + "/"
    for record in sorted(site.glob("*.dist-info/direct_url.json")):
        data = json.loads(record.read_text(encoding="utf-8"))
        url = data.get("url", "") if isinstance(data, dict) else ""
        if isinstance(url, str) and (url + "/").startswith(old_uri):
            data["url"] = (new_uri + url[len(old_uri):]).rstrip("/") if url + "/" != old_uri else new_uri.rstrip("/")
            record.write_text(_json(data), encoding="utf-8")
