"""pyproject.toml (and its `[tool.airgap-installer]` defaults) -> Project."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from airgap_installer.errors import ProjectError
from airgap_installer.tomlread import TOMLError, parse_toml

# Keys of [tool.airgap-installer] and the build option each one defaults.
CONFIG_KEYS = frozenset(
    {"python", "python-platform", "extras", "all-extras", "groups", "no-dev", "output", "package",
     "bundle-python", "license", "pre-install", "post-install"}
)


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    version: str
    requires_python: SpecifierSet
    scripts: tuple[str, ...]
    build_backend: str | None
    build_requires: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)
    indexes: tuple[tuple[str, str], ...] = ()  # (name, url) of each named [[tool.uv.index]]
    dynamic: tuple[str, ...] = ()  # project.dynamic: e.g. a version taken from git
    virtual: bool = False  # a workspace root with no [project]: only its members are packages
    script: str | None = None  # a PEP 723 script (its file name in `root`), locked in `<script>.lock`
    dependencies: tuple[str, ...] = ()  # a script's inline dependencies (for the lock check)
    cache_keys: dict[str, Any] | None = None  # [tool.uv] cache-keys as the runtime reads them (None: uv's)

    @property
    def lock_path(self) -> Path:
        return self.root / (f"{self.script}.lock" if self.script else "uv.lock")


def _get(table: Any, key: str, kind: type, where: str, default: Any = None) -> Any:
    value = table.get(key, default) if table is not None else default
    if value is not None and not isinstance(value, kind):
        raise ProjectError(f"pyproject.toml: {where}.{key} must be a {kind.__name__}")
    return value


_SCRIPT_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


def load_script(path: Path) -> Project:
    """A single-file script with PEP 723 inline metadata, locked by `uv lock --script` into `<file>.lock`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from exc
    blocks = [m for m in _SCRIPT_BLOCK.finditer(text) if m.group("type") == "script"]
    if len(blocks) != 1:
        raise ProjectError(f"{path}: {'no' if not blocks else 'more than one'} `# /// script` metadata block",
                           hint="a script needs PEP 723 inline metadata: `uv add --script FILE PACKAGE` writes it")
    content = "".join(line[2:] if line.startswith("# ") else line[1:]
                      for line in blocks[0].group("content").splitlines(keepends=True))
    try:
        meta = parse_toml(content)
        requires_python = SpecifierSet(_get(meta, "requires-python", str, "script", ""))
    except (TOMLError, InvalidSpecifier) as exc:
        raise ProjectError(f"{path}: its `# /// script` block is not valid ({exc})") from exc
    name = canonicalize_name(path.stem) or "script"
    config = _get(_get(meta, "tool", dict, "script", {}), "airgap-installer", dict, "script.tool", {})
    _check_config(config, path)
    return Project(root=path.parent.resolve(), name=name, version="0", requires_python=requires_python,
                   scripts=(name,), build_backend=None, build_requires=(), config=config, script=path.name,
                   dependencies=tuple(str(d) for d in _get(meta, "dependencies", list, "script", [])))


def load_project(root: Path) -> Project:
    if root.is_file() and root.suffix == ".py":
        return load_script(root)
    path = root / "pyproject.toml"
    if not path.is_file():
        raise ProjectError(f"no pyproject.toml in {root}", hint="pass the project directory, e.g. `build .`")
    try:
        doc = parse_toml(path.read_text(encoding="utf-8"))
    except (TOMLError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc})") from exc
    tool = _get(doc, "tool", dict, "", {})
    project = _get(doc, "project", dict, "", None)
    virtual = project is None and isinstance(_get(_get(tool, "uv", dict, "tool", {}), "workspace", dict, "tool.uv"),
                                              dict)
    if project is None and not virtual:
        raise ProjectError(f"{path}: no [project] table (and no [tool.uv.workspace]: not a uv project)")
    if virtual:  # a virtual workspace root: the members hold the code; named after its directory
        project = {"name": canonicalize_name(root.resolve().name) or "workspace"}
    name = _get(project, "name", str, "project")
    if not name:
        raise ProjectError(f"{path}: project.name is missing")
    version = _get(project, "version", str, "project", "0")
    try:
        requires_python = SpecifierSet(_get(project, "requires-python", str, "project", ""))
    except InvalidSpecifier as exc:
        raise ProjectError(f"{path}: project.requires-python is not a version specifier ({exc})") from exc
    scripts = tuple(sorted(_get(project, "scripts", dict, "project", {})))
    build_system = _get(doc, "build-system", dict, "", {})
    config = _get(tool, "airgap-installer", dict, "tool", {})
    uv_indexes = list(_get(_get(tool, "uv", dict, "tool", {}), "index", list, "tool.uv", []))
    if (root / "uv.toml").is_file():  # the project's uv.toml may name indexes too
        try:
            uv_indexes += _get(parse_toml((root / "uv.toml").read_text(encoding="utf-8")), "index", list, "", [])
        except (TOMLError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{root / 'uv.toml'}: not valid TOML ({exc})") from exc
    indexes = tuple((i["name"], i["url"]) for i in uv_indexes
                    if isinstance(i, dict) and isinstance(i.get("name"), str) and isinstance(i.get("url"), str))
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ProjectError(
            f"{path}: unknown key(s) in [tool.airgap-installer]: {', '.join(unknown)}",
            hint=f"known keys: {', '.join(sorted(CONFIG_KEYS))}",
        )
    _check_config(config, path)
    return Project(
        root=root.resolve(),
        name=name,
        version=version,
        requires_python=requires_python,
        scripts=scripts,
        build_backend=_get(build_system, "build-backend", str, "build-system"),
        build_requires=tuple(_get(build_system, "requires", list, "build-system", [])),
        config=config,
        indexes=indexes,
        dynamic=tuple(str(d) for d in _get(project, "dynamic", list, "project", [])),
        virtual=virtual,
        cache_keys=_cache_keys(_get(_get(tool, "uv", dict, "tool", {}), "cache-keys", list, "tool.uv"), path),
    )


def _cache_keys(keys: list[Any] | None, path: Path) -> dict[str, Any] | None:
    """`[tool.uv] cache-keys` as the target's runtime needs them to write uv's record of a local package
    (runtime/uvrecords.py): files and globs, directories, git, environment variables."""
    if keys is None:
        return None
    spec: dict[str, Any] = {"files": [], "dirs": [], "git": False, "env": []}
    for key in keys:
        if isinstance(key, str):
            spec["files"].append(key)
        elif isinstance(key, dict) and isinstance(key.get("file"), str):
            spec["files"].append(key["file"])
        elif isinstance(key, dict) and isinstance(key.get("dir"), str):
            spec["dirs"].append(key["dir"])
        elif isinstance(key, dict) and "git" in key:
            spec["git"] = True
        elif isinstance(key, dict) and isinstance(key.get("env"), str):
            spec["env"].append(key["env"])
        else:
            raise ProjectError(f"{path}: tool.uv.cache-keys has an entry uv 0.13.9 does not know: {key!r}")
    return spec


_CONFIG_TYPES: dict[str, type | tuple[type, ...]] = {
    "python": str, "python-platform": str, "extras": list, "all-extras": bool, "groups": list, "no-dev": bool,
    "output": str, "package": str, "bundle-python": bool, "license": str, "pre-install": str,
    "post-install": str,
}


def _check_config(config: dict[str, Any], path: Path) -> None:
    for key, value in config.items():
        if not isinstance(value, _CONFIG_TYPES[key]):
            kind = _CONFIG_TYPES[key]
            raise ProjectError(f"{path}: tool.airgap-installer.{key} must be a "
                               f"{kind.__name__ if isinstance(kind, type) else kind}")


def workspace_of(member: Path) -> Path | None:
    """The workspace root whose uv.lock covers `member` (uv finds it from a member's directory too)."""
    member = member.resolve()
    for parent in member.parents:
        pyproject = parent / "pyproject.toml"
        if not (parent / "uv.lock").is_file() or not pyproject.is_file():
            continue
        try:
            workspace = parse_toml(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("uv", {}).get("workspace")
        except (TOMLError, UnicodeDecodeError):
            return None
        if not isinstance(workspace, dict):
            continue
        members = [m for pattern in workspace.get("members", []) if isinstance(pattern, str)
                   for m in parent.glob(pattern)]
        excluded = [m for pattern in workspace.get("exclude", []) if isinstance(pattern, str)
                    for m in parent.glob(pattern)]
        if any(m.resolve() == member for m in members) and not any(m.resolve() == member for m in excluded):
            return parent
    return None
