"""The source tree that travels to the target: which files (as git would commit them), the smallest tree
holding the project and its path dependencies (`Tree`), a staged copy to change files in, and the files
the target needs to differ (uv's offline settings, `.python-version`), each recorded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit

from airgap_installer.errors import ProjectError
from airgap_installer.lock import local_archives, local_paths
from airgap_installer.project import Project, load_project
from airgap_installer.target import Target

if TYPE_CHECKING:
    from airgap_installer.request import Selection
from airgap_installer.tomlread import TOMLError

# Never shipped: environments, caches, VCS metadata, build output.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".nox", ".tox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "dist", "build", "node_modules", ".airgap", ".idea", ".vscode"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".run")
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
# Shipped even when git ignores or does not track them: uv needs them on the target.
ALWAYS = frozenset({"pyproject.toml", "uv.lock"})

WHEELHOUSE = ".airgap/wheelhouse"

# [tool.uv] keys that are project metadata, not settings: a uv.toml does not shadow them. Every other
# [tool.uv] key is a setting that a uv.toml would shadow.
PROJECT_ONLY_KEYS = frozenset(
    {"sources", "workspace", "managed", "package", "default-groups", "dependency-groups", "dev-dependencies",
     "conflicts", "environments", "required-environments", "build-backend"}
)


def ship_tree(project_root: Path, local_dirs: Iterable[str]) -> tuple[Path, str]:
    """The smallest tree holding the project and every local package or wheel file (path dependencies
    may sit beside it, e.g. `../pathdep`), and the project's place in it. Shipping that tree keeps
    relative paths valid."""
    dirs = [project_root, *((project_root / d).resolve() for d in local_dirs)]
    root = Path(os.path.commonpath(dirs))
    return root, project_root.relative_to(root).as_posix()


def _git_files(top: Path) -> set[Path] | None:
    """The files git would commit under `top` (tracked, or untracked and not ignored); None outside git.
    Going by git keeps ignored files (`.env`, credentials, local data) out of the installer."""
    try:
        proc = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                               "--", "."], capture_output=True, check=False)
    except FileNotFoundError:
        return None
    if proc.returncode != 0:
        return None
    base = top.resolve()  # the names as git lists them under it: a symlink stays a symlink's path
    return {base / name for name in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if name}


def project_files(root: Path, dirs: Iterable[Path] | None = None, exclude: Path | None = None,
                  skip: Iterable[str] = (), also: Iterable[Path] = ()) -> list[tuple[str, Path, int]]:
    """(posix name relative to root, path, mode) for every file under `dirs` (default: root), sorted.
    Skips EXCLUDED_*, files git ignores (in a git work tree), the file `exclude` and the names in `skip`;
    the files in `also` (e.g. wheels the lock installs by path) are shipped whatever git says."""
    out: dict[str, tuple[str, Path, int]] = {}
    for path in also:
        if not path.is_file():
            raise ProjectError(f"{path} is missing", hint="uv.lock installs it from that path; restore the file or "
                               "re-lock")
        rel = path.relative_to(root).as_posix()
        out[rel] = (rel, path, 0o644)
    skipped = set(skip)
    for top in dirs or [root]:
        allowed = _git_files(top)
        if allowed is not None:
            # In git, git decides: a tracked `src/pkg/build/` travels; ignored `.venv/` does not.
            candidates = sorted(path for path in allowed if path.is_relative_to(top.resolve()))
        else:
            candidates = []
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
                candidates += [Path(dirpath) / name for name in filenames]
        for path in candidates:
            rel = path.relative_to(root.resolve() if allowed is not None else root).as_posix()
            if path.name.endswith(EXCLUDED_SUFFIXES) or path == exclude or rel in skipped or not path.is_file():
                continue
            if any(part in VCS_DIRS for part in Path(rel).parts):
                continue
            _check_name(rel)
            if path.is_symlink():
                _check_link(path, rel, root, allowed)
            out[rel] = (rel, path, 0o755 if os.access(path, os.X_OK) else 0o644)
    for name in ALWAYS:  # uv needs them on the target, whatever git says
        for top in dirs or [root]:
            path = top / name
            if path.is_file() and (rel := path.relative_to(root).as_posix()) not in out and rel not in skipped:
                out[rel] = (rel, path, 0o644)
    return sorted(out.values())


def _check_name(rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise ProjectError(f"{rel.encode('utf-8', 'surrogateescape')!r}: a file name that is not UTF-8 cannot "
                           "travel in the installer", hint="rename the file, or have git ignore it") from None


def _check_link(path: Path, rel: str, root: Path, allowed: set[Path] | None) -> None:
    """A symlink travels as the file it points at, only when that file is in the project and travels
    itself: `notes.txt -> /etc/shadow` or a link to an ignored `.env` would carry a secret along."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise ProjectError(f"{rel} is a symbolic link to {target}, outside the project: it is not shipped",
                           hint="replace the link with the file it stands for, or remove it")
    if allowed is not None and target not in {p.resolve() for p in allowed if not p.is_symlink()}:
        raise ProjectError(f"{rel} is a symbolic link to {target.relative_to(root.resolve())}, which git ignores",
                           hint="the link would ship an ignored file (a secret?): remove the link or track the file")


OFFLINE = {"offline": True, "find-links": [WHEELHOUSE], "python-downloads": "never"}
HEADER = ("Written by airgap-installer: keeps uv offline on this host, using the bundled",
          "wheelhouse (find-links is relative to this file).")


def offline_config(root: Path) -> tuple[str, str, str | None]:
    """Where the target's offline settings go, the file's text, and a note when a file of the project
    changes. uv reads one project configuration: a uv.toml shadows every setting in `[tool.uv]` (and
    warns about it on every command), so the settings join the project's own uv.toml if it has one,
    else its `[tool.uv]` if that holds settings, else a new uv.toml (pyproject.toml untouched). None of
    them changes what `uv lock --check` decides."""
    try:
        if (root / "uv.toml").is_file():
            doc = tomlkit.parse((root / "uv.toml").read_text(encoding="utf-8"))
            _apply(doc)
            return "uv.toml", tomlkit.dumps(doc), "uv.toml (offline = true, find-links = the bundled wheelhouse, " \
                                                  "python-downloads = \"never\")"
        if not (root / "pyproject.toml").is_file():  # a script
            pyproject = tomlkit.document()
        else:
            pyproject = tomlkit.parse((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (TOMLError, tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read the project's uv settings in {root}: {exc}") from exc
    tool_uv = pyproject.get("tool", {}).get("uv", {})
    if any(key not in PROJECT_ONLY_KEYS for key in tool_uv):
        _apply(tool_uv)
        return "pyproject.toml", tomlkit.dumps(pyproject), (
            "pyproject.toml ([tool.uv] offline = true, find-links = the bundled wheelhouse, "
            "python-downloads = \"never\": a uv.toml would shadow the project's [tool.uv] settings)")
    doc = tomlkit.document()
    for line in HEADER:
        doc.add(tomlkit.comment(line))
    _apply(doc)
    return "uv.toml", tomlkit.dumps(doc), None


INSTALLER_CONFIG = ".airgap/uv.toml"  # in the project: the settings the installer's own uv calls read
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|[A-Za-z]:[\\/]|[/\\~]")  # a URL or an absolute path


def installer_config(name: str, text: str) -> str:
    """The settings uv finds in the release's project (`name`: the file that holds them, as offline_config
    chose), as a uv.toml for `.airgap/uv.toml`. The installer's uv calls read it as UV_CONFIG_FILE, which
    makes uv read no other configuration: not the host user's, not the host's system-wide one
    (`/etc/uv/uv.toml`, `C:\\ProgramData\\uv\\uv.toml`; docs/uv-facts.md). uv resolves relative index and
    find-links paths against the file's directory: they are rebased from the project to `.airgap/`."""
    doc = tomlkit.parse(text).unwrap()
    if name == "pyproject.toml":
        doc = {k: v for k, v in doc.get("tool", {}).get("uv", {}).items() if k not in PROJECT_ONLY_KEYS}
    for table in (doc, doc.get("pip", {})):
        for key in ("find-links", "extra-index-url"):
            if isinstance(table.get(key), list):
                table[key] = [_rebased(v) for v in table[key]]
        if isinstance(table.get("index-url"), str):
            table["index-url"] = _rebased(table["index-url"])
        for index in table.get("index", []) if isinstance(table.get("index"), list) else []:
            if isinstance(index, dict) and isinstance(index.get("url"), str):
                index["url"] = _rebased(index["url"])
    head = "# Written by airgap-installer: the project's uv settings, read by the installer's own uv calls only.\n"
    return head + tomlkit.dumps(doc)


def _rebased(value: Any) -> Any:
    """A path relative to the project, relative to its `.airgap/` instead; URLs and absolute paths as they are."""
    return value if not isinstance(value, str) or _URL.match(value) else f"../{value}"


def _apply(settings: Any) -> None:
    """Our settings on top; indexes and find-links of the build machine mean nothing on the target, and
    `no-index` would make uv take the lock for stale."""
    for key in ("find-links", "no-index", "offline", "python-downloads"):
        settings.pop(key, None)
    for key, value in OFFLINE.items():
        settings[key] = value


@dataclass(frozen=True)
class Tree:
    """The source tree that travels: the project and every local package, at their relative layout."""

    root: Path
    project_rel: str  # the project's directory inside the tree ("." when it is the root)
    files: list[tuple[str, Path, int]]
    modified: tuple[str, ...] = ()  # files that differ from the repository's, and why
    default_groups: tuple[str, ...] | None = None
    generated: tuple[tuple[str, bytes], ...] = ()  # files written for the target, replacing the tree's own

    @property
    def project_dir(self) -> Path:
        return (self.root / self.project_rel).resolve()

    def member(self, name: str) -> str:
        return in_project(self.project_rel, name)


def for_target(tree: Tree, target: Target) -> Tree:
    """The files the target needs to differ from the repository's: uv's offline settings (sources.py)
    and a `.python-version` that names an exact patch version (pyenv writes
    `3.11.7`): uv on the target would demand exactly that interpreter, so it says the target's X.Y."""
    name, text, note = offline_config(tree.project_dir)
    generated = [(tree.member(name), text.encode())]
    modified = [*tree.modified, *([note] if note else [])]
    names = {rel for rel, _, _ in tree.files}
    parts = [] if tree.project_rel == "." else tree.project_rel.split("/")
    for depth in range(len(parts), -1, -1):  # uv reads the nearest .python-version up to the workspace root
        rel = "/".join([*parts[:depth], ".python-version"])
        if rel in names:
            pinned = (tree.root / rel).read_text(encoding="utf-8").strip()
            if pinned != target.python_version:
                generated.append((rel, f"{target.python_version}\n".encode()))
                modified.append(f"{rel} ({pinned!r} -> {target.python_version!r}: any CPython "
                                f"{target.python_version} on the host)")
            break
    # Credentials in an index URL (`https://user:token@host/simple`) stay on the build machine.
    by_name = dict(generated)
    paths = {rel: path for rel, path, _ in tree.files}
    for rel in sorted({*by_name, *(r for r, p in paths.items() if p.name in ("pyproject.toml", "uv.toml"))}):
        if rel.rsplit("/", 1)[-1] in ("pyproject.toml", "uv.toml"):
            text = by_name[rel].decode() if rel in by_name else paths[rel].read_text(encoding="utf-8", errors="replace")
            clean = without_credentials(text)
            if clean != text:
                by_name[rel] = clean.encode()
                modified.append(f"{rel} (credentials removed from URLs: they stay on the build machine)")
    # What the installer's own uv calls read (UV_CONFIG_FILE): the same settings, from no other file.
    settings = tree.member(name)
    by_name[tree.member(INSTALLER_CONFIG)] = installer_config(name, by_name[settings].decode()).encode()
    return replace(tree, generated=tuple(sorted(by_name.items())), modified=tuple(modified))


_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s\"']+@")


def without_credentials(text: str) -> str:
    """URLs with their `user:password@` removed (uv.lock never holds them: the same URLs still match)."""
    return _CREDENTIALS.sub(r"\g<scheme>", text)


def in_project(project_rel: str, name: str) -> str:
    """A file of the project as a name inside the shipped tree."""
    return name if project_rel == "." else f"{project_rel}/{name}"


def source_tree(project: Project) -> Tree:
    if project.script:  # a script travels alone: its directory may hold anything
        path = project.root / project.script
        return Tree(project.root, ".", [(project.script, path, 0o644)], modified=(
            f"{project.lock_path.name} is not shipped: with it uv would fetch the lock's URLs; the wheelhouse holds "
            "exactly the locked files (sha256-checked here), so uv resolves offline to the same versions",))
    lock_text = project.lock_path.read_text(encoding="utf-8")
    local, archives = local_paths(lock_text), local_archives(lock_text)
    root, rel = ship_tree(project.root, [*local, *archives])
    dirs = [project.root, *((project.root / d).resolve() for d in local)]
    wheels = [(project.root / a).resolve() for a in archives]
    return Tree(root, rel, project_files(root, dirs, skip=[in_project(rel, "uv.toml")], also=wheels))


def stage(tree: Tree, dest: Path) -> Tree:
    """A copy of the tree to change files in (e.g. a re-lock). Its `.git` is a link to the repository's,
    so that uv can still ask a backend for a version taken from git."""
    for rel, path, mode in tree.files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(mode)
    top = subprocess.run(["git", "-C", str(tree.root), "rev-parse", "--show-toplevel"], capture_output=True,
                         text=True, check=False).stdout.strip()
    if top and (Path(top) / ".git").exists() and tree.root.resolve().is_relative_to(Path(top).resolve()):
        (dest / ".git").symlink_to(Path(top) / ".git")
    return Tree(dest, tree.project_rel, [(rel, dest / rel, mode) for rel, _, mode in tree.files])


def local_projects(tree: Tree) -> list[Project]:
    """Every local package of the lock (selected or not: uv reads the metadata of all of them)."""
    if not (tree.project_dir / "uv.lock").is_file():  # a script: no local packages
        return []
    lock_text = (tree.project_dir / "uv.lock").read_text(encoding="utf-8")
    return [load_project((tree.project_dir / path).resolve()) for path in local_paths(lock_text)]


def launcher_scripts(project: Project, locals_: list[Project], selection: Selection) -> tuple[str, ...]:
    """The console scripts that get a PREFIX/bin launcher: the project's, or the selected members'."""
    if not (selection.package or selection.all_packages):
        return project.scripts
    chosen = [p for p in locals_ if selection.all_packages or p.name == selection.package]
    return tuple(sorted({script for p in chosen for script in p.scripts}))
