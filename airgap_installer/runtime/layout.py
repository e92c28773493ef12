"""The prefix layout: activation (the atomic switch of `current`), helper scripts, pruning.

    PREFIX/current -> releases/<id>[/<project dir>]   switched by renaming a new symlink over it
    PREFIX/bin/uv -> ../current/.airgap/bin/uv        the active release's own uv
    PREFIX/bin/<script>, airgap-sync, <name>-rollback, <name>-uninstall   small sh scripts
    PREFIX/.airgap-installer/                         lock, `previous` (the last current), `linked`
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .manifest import Manifest

STATE = ".airgap-installer"
COMPLETE = "complete"
MARK = "made by airgap-installer"


def project_path(manifest: Manifest) -> str:
    """The project's directory inside a release: "" unless path dependencies sit beside it."""
    rel = manifest.project_dir or "."
    return "" if rel == "." else rel


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _replace_symlink(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp.{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)  # rename(2) over the old link: atomic


def _write_atomic(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def launcher(prefix: Path, script: str, script_file: str | None = None) -> str:
    """A console script of the active release; for a PEP 723 script, the script with its environment."""
    if script_file:
        current = prefix / "current"
        command = f"{_quote(current / '.venv' / 'bin' / 'python')} {_quote(current / script_file)}"
    else:
        command = _quote(prefix / "current" / ".venv" / "bin" / script)
    return f"#!/bin/sh\n# {MARK}: runs {script} of the active release\nexec {command} \"$@\"\n"


RECORD_SOURCES = ("import sys; sys.path.insert(0, '.airgap'); from airgap_runtime.main import main; "
                  "sys.exit(main(['record-sources', '.']))")


def sync_helper(prefix: Path) -> str:
    uv = _quote(prefix / "bin" / "uv")
    return f"""#!/bin/sh
# {MARK}: `uv sync ARGS` for the active release, offline. uv's own sync fetches missing packages
# from the lock's URLs (e.g. an extra that a plain `uv sync` removed); this first puts every bundled
# wheel back from the release's wheelhouse, records git and direct URL packages as uv does, then
# syncs as asked.
set -e
cd {_quote(prefix / "current")}
{uv} pip install --quiet --no-deps --require-hashes -r .airgap/pins.txt
.venv/bin/python -I -c {_quote(RECORD_SOURCES)}
exec {uv} sync "$@"
"""


RESULT_SH = """\
JSON=0 DRY=0
for a in "$@"; do
    case "$a" in --json) JSON=1 ;; --dry-run) DRY=1 ;; *) echo "$ME: error: unknown option: $a" >&2; exit 2 ;; esac
done
id_of() {{ r=${{1#releases/}}; printf '%s' "${{r%%/*}}"; }}
js() {{ if [ -n "$1" ]; then printf '"%s"' "$1"; else printf null; fi; }}  # release ids need no escaping
result() {{ # changed action release previous exit_code message: one line (runtime/result.py) or text
    if [ "$5" != 0 ]; then echo "$ME: error: $6" >&2; fi
    if [ "$JSON" = 1 ]; then
        v=$3; [ -n "$v" ] || v=$4
        printf '{{"changed": %s, "action": "%s", "release": %s, "previous": %s, "version": %s, "prefix": %s, \
"exit_code": %s, "message": "%s", "hint": "", "dry_run": %s}}\\n' "$1" "$2" "$(js "$3")" "$(js "$4")" \
            "$(js "${{v%-*}}")" {prefix_json} "$5" "$6" "$([ "$DRY" = 1 ] && echo true || echo false)"
    elif [ "$5" = 0 ]; then echo "{name}: $6"; fi
    exit "$5"
}}
"""


def _result_sh(prefix: Path, name: str) -> str:
    """The option loop and the result line shared by the rollback and uninstall helpers. Release ids are
    "<version>-<sha12>" (manifest.py allows no quote or backslash in either); the prefix is escaped here."""
    return RESULT_SH.format(prefix_json=_quote(json.dumps(str(prefix))), name=name)


def rollback_helper(prefix: Path, name: str) -> str:
    return f"""#!/bin/sh
# {MARK}: make the release that was active before the current one active again.
# --json: print the result as one JSON line; --dry-run: say what it would do and change nothing.
set -eu
P={_quote(prefix)}
ME={_quote(name + "-rollback")}
{_result_sh(prefix, name)}
prev=$(cat "$P/{STATE}/previous" 2>/dev/null || true)
cur=$(readlink "$P/current" 2>/dev/null || true)
if [ -z "$prev" ] || [ ! -f "$P/$prev/.airgap/{COMPLETE}" ]; then
    result false failed "" "$(id_of "$cur")" 1 "there is no previous complete release to go back to"
fi
new=$(id_of "$prev") old=$(id_of "$cur")
if [ "$DRY" = 1 ]; then result true rolled-back "$new" "$old" 0 "would make $new active again; nothing written"; fi
# An atomic switch: rename a new symlink over `current` (portable, unlike mv -T / mv -h).
"$P/$prev/.venv/bin/python" -I -c 'import os, sys
os.symlink(sys.argv[1], sys.argv[2] + ".rollback")
os.replace(sys.argv[2] + ".rollback", sys.argv[2])' "$prev" "$P/current"
printf '%s\\n' "$cur" > "$P/{STATE}/previous"
result true rolled-back "$new" "$old" 0 "$new is active again (it was $old)"
"""


def uninstall_helper(prefix: Path, name: str) -> str:
    return f"""#!/bin/sh
# {MARK}: remove what the installer created in this prefix, and nothing else. Files other programs
# or users put into the prefix stay, and so does the prefix itself if anything is left in it.
# --json: print the result as one JSON line; --dry-run: say what it would do and change nothing.
set -eu
P={_quote(prefix)}
ME={_quote(name + "-uninstall")}
{_result_sh(prefix, name)}
cur=$(id_of "$(readlink "$P/current" 2>/dev/null || true)")
if [ "$DRY" = 1 ]; then result true uninstalled "" "$cur" 0 "would uninstall $cur from $P; nothing written"; fi
if [ -f "$P/{STATE}/linked" ]; then
    while IFS= read -r link; do
        if [ -L "$link" ]; then case "$(readlink "$link")" in "$P"/bin/*) rm -f "$link" ;; esac; fi
    done < "$P/{STATE}/linked"
fi
for f in "$P"/bin/* "$P"/bin/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    if [ -L "$f" ] && [ "$(readlink "$f")" = ../current/.airgap/bin/uv ]; then rm -f "$f"; continue; fi
    if [ -f "$f" ] && head -n 2 "$f" | grep -q '{MARK}'; then rm -f "$f"; fi
done
rm -rf "$P/releases" "$P/python" "$P/{STATE}"
rm -f "$P/current"
rmdir "$P/bin" 2>/dev/null || true
rmdir "$P" 2>/dev/null || true
result true uninstalled "" "$cur" 0 "uninstalled from $P"
"""


def activate(prefix: Path, release_id: str, manifest: Manifest, link_bin: Path | None = None) -> None:
    """Point bin/ and current at the release; remember what was active. `current` is switched last."""
    bin_dir = prefix / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    name = manifest.name
    _replace_symlink(bin_dir / "uv", "../current/.airgap/bin/uv")
    for script in manifest.scripts:
        _write_atomic(bin_dir / script, launcher(prefix, script, manifest.script), 0o755)
    _write_atomic(bin_dir / "airgap-sync", sync_helper(prefix), 0o755)
    _write_atomic(bin_dir / f"{name}-rollback", rollback_helper(prefix, name), 0o755)
    _write_atomic(bin_dir / f"{name}-uninstall", uninstall_helper(prefix, name), 0o755)
    if link_bin is not None:
        link_launchers(prefix, manifest, link_bin)
    rel = project_path(manifest)
    target = f"releases/{release_id}/{rel}" if rel else f"releases/{release_id}"
    current = prefix / "current"
    if current.is_symlink() and os.readlink(current) != target:
        _write_atomic(prefix / STATE / "previous", os.readlink(current) + "\n", 0o644)
    _replace_symlink(current, target)


def link_launchers(prefix: Path, manifest: Manifest, link_bin: Path) -> None:
    """Symlink the launchers into e.g. /usr/local/bin; recorded so uninstall removes exactly these."""
    link_bin.mkdir(parents=True, exist_ok=True)
    record = prefix / STATE / "linked"
    known = set(record.read_text().splitlines()) if record.is_file() else set()
    for script in manifest.scripts:
        link = link_bin / script
        if link.exists() and not link.is_symlink():
            raise OSError(f"{link} exists and is not a link; not replacing it")
        if link.is_symlink() and os.readlink(link) != str(prefix / "bin" / script):
            raise OSError(f"{link} links to {os.readlink(link)}, another program's; not replacing it")
        _replace_symlink(link, str(prefix / "bin" / script))
        known.add(str(link))
    _write_atomic(record, "".join(f"{line}\n" for line in sorted(known)), 0o644)


def prune(prefix: Path, keep: int) -> list[str]:
    """Remove releases beyond the `keep` newest complete ones; never `current` or `previous`;
    half-made releases (an install killed with SIGKILL) always go."""
    releases = prefix / "releases"
    protected = set()
    for link in (prefix / "current",):
        if link.is_symlink():
            protected.add(os.readlink(link).split("/")[1])
    previous = prefix / STATE / "previous"
    if previous.is_file() and previous.read_text().strip():
        protected.add(previous.read_text().strip().split("/")[1])
    complete: list[tuple[float, str]] = []
    removed = []
    for release in sorted(releases.iterdir()) if releases.is_dir() else []:
        if release.name in protected:
            continue
        candidates = [release / ".airgap" / COMPLETE, *release.glob(f"*/.airgap/{COMPLETE}")]
        markers = [m for m in candidates if m.is_file()]
        if not markers:
            shutil.rmtree(release, ignore_errors=True)
            removed.append(release.name)
        else:
            complete.append((markers[0].stat().st_mtime, release.name))
    room = max(keep - len(protected), 0)
    for _, name in sorted(complete, reverse=True)[room:]:
        shutil.rmtree(releases / name, ignore_errors=True)
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process whose parent has not reaped it yet is a zombie: it is gone for us
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def clean_stale_scratch(prefix: Path) -> None:
    """Scratch space of installs that were killed. Called with the prefix lock held: a runtime creates
    its run.PID only under that lock, so any other run.* is stale; a header's tmp.PID belongs to an
    installer that may be waiting for the lock, and is removed only when its process is gone."""
    for scratch in (prefix / STATE).iterdir() if (prefix / STATE).is_dir() else []:
        kind, _, pid = scratch.name.partition(".")
        if not pid.isdigit() or int(pid) == os.getpid() or kind not in ("run", "tmp"):
            continue
        if kind == "run" or not _alive(int(pid)):
            shutil.rmtree(scratch, ignore_errors=True)
