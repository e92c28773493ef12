"""Is uv.lock current for the pyproject.toml files, when uv cannot say so on this machine?

`uv export --locked` (and `uv lock --check`) needs a Python interpreter inside the project's
requires-python, even only to compare files (uv 0.13.9): with none on the builder it looks for one and
downloads it. The builder never does that (a cross-build must not depend on which interpreters the
build machine has), so when its own Python is outside requires-python, it exports with `--frozen` and
checks here what uv.lock records of each local package against its pyproject.toml: requires-python,
the dependencies with their extras and version specifiers, the optional dependencies, the dependency
groups, and the workspace's constraints and overrides. That is where a lock goes stale in practice (a
dependency added, removed or re-pinned without `uv lock`). Markers and sources are not compared; a
package with dynamic dependencies is not checked. Pure: reads text, decides.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from airgap_installer.tomlread import parse_toml

# (name, its extras, its version specifier, the optional-dependency extra it belongs to)
Key = tuple[str, tuple[str, ...], str, str]
_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


def _spec(text: str) -> str:
    try:
        return ",".join(sorted(str(s) for s in SpecifierSet(text)))
    except InvalidSpecifier:
        return text


def _from_text(text: str, extra: str = "") -> Key | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return canonicalize_name(req.name), tuple(sorted(req.extras)), _spec(str(req.specifier)), extra


def _from_lock(entry: dict[str, Any]) -> Key:
    found = _EXTRA.search(str(entry.get("marker", "")))
    return (canonicalize_name(str(entry.get("name", ""))), tuple(sorted(entry.get("extras", []))),
            _spec(str(entry.get("specifier", ""))), canonicalize_name(found.group(1)) if found else "")


def _same(pyproject: list[Key], locked: list[Key]) -> bool:
    return set(pyproject) == set(locked)


def _groups(pyproject: dict[str, Any]) -> dict[str, list[Key]]:
    groups = pyproject.get("dependency-groups", {})
    out: dict[str, list[Key]] = {}

    def expand(name: str, seen: tuple[str, ...]) -> list[Key]:
        keys: list[Key] = []
        for item in groups.get(name, []):
            if isinstance(item, str) and (key := _from_text(item)):
                keys.append(key)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str) and item["include-group"] \
                    not in seen:
                keys += expand(item["include-group"], (*seen, name))
        return keys

    for name in groups:
        out[canonicalize_name(name)] = expand(name, ())
    return out


_GRID = [f"3.{minor}.{patch}" for minor in range(6, 20) for patch in (0, 1, 5, 11, 30)]


def _same_python(ranges: list[str], locked: str) -> bool:
    """The lock's requires-python admits the interpreters every package admits (uv writes the
    intersection, simplified: `>=3.9` and `>=3.10` as `>=3.10`)."""
    try:
        wanted, lock = [SpecifierSet(r) for r in ranges], SpecifierSet(locked)
    except InvalidSpecifier:
        return True
    return all(all(w.contains(v) for w in wanted) == lock.contains(v) for v in _GRID)


def stale_reasons(uv_lock_text: str, pyprojects: dict[str, str]) -> list[str]:
    """Why uv.lock is out of date; empty when it looks current. `pyprojects`: the pyproject.toml text
    of each local package, by its path in uv.lock's sources (`.`, `packages/app`, `../lib`)."""
    lock = parse_toml(uv_lock_text)
    reasons: list[str] = []
    by_source: dict[str, dict[str, Any]] = {}
    for package in lock.get("package", []):
        source = package.get("source", {})
        for kind in ("editable", "directory", "virtual"):
            if isinstance(source.get(kind), str):
                by_source[source[kind]] = package
    ranges = []
    for path, text in sorted(pyprojects.items()):
        doc = parse_toml(text)
        project = doc.get("project")
        if not isinstance(project, dict):  # a virtual workspace root: its groups are in the manifest
            manifest_groups = lock.get("manifest", {}).get("dependency-groups", {})
            for group, keys in _groups(doc).items():
                if not _same(keys, [_from_lock(e) for e in manifest_groups.get(group, [])]):
                    reasons.append(f"the workspace's dependency group {group!r} changed")
            continue
        name = canonicalize_name(str(project.get("name", "")))
        if isinstance(project.get("requires-python"), str):
            ranges.append(project["requires-python"])
        package = by_source.get(path)
        if package is None:
            reasons.append(f"{name} ({path}) is not in uv.lock")
            continue
        if "dependencies" in project.get("dynamic", []) or "optional-dependencies" in project.get("dynamic", []):
            continue
        metadata = package.get("metadata", {})
        wanted = [k for text in project.get("dependencies", []) if (k := _from_text(text))]
        for extra, extra_deps in project.get("optional-dependencies", {}).items():
            wanted += [k for text in extra_deps if (k := _from_text(text, canonicalize_name(extra)))]
        if not _same(wanted, [_from_lock(e) for e in metadata.get("requires-dist", [])]):
            reasons.append(f"the dependencies of {name} changed")
        locked_groups: dict[str, Any] = {canonicalize_name(g): v for g, v in metadata.get("requires-dev", {}).items()}
        for group, keys in _groups(doc).items():
            if not _same(keys, [_from_lock(e) for e in locked_groups.get(group, [])]):
                reasons.append(f"the dependency group {group!r} of {name} changed")
        if set(locked_groups) - set(_groups(doc)):
            reasons.append(f"a dependency group of {name} was removed")
    root = parse_toml(pyprojects.get(".", "")) if "." in pyprojects else {}
    tool_uv = root.get("tool", {}).get("uv", {})
    manifest = lock.get("manifest", {})
    for setting, field in (("constraint-dependencies", "constraints"), ("override-dependencies", "overrides"),
                           ("build-constraint-dependencies", "build-constraints")):
        wanted = [k for text in tool_uv.get(setting, []) if (k := _from_text(text))]
        if not _same(wanted, [_from_lock(e) for e in manifest.get(field, [])]):
            reasons.append(f"[tool.uv] {setting} changed")
    if ranges and isinstance(lock.get("requires-python"), str) and not _same_python(ranges, lock["requires-python"]):
        reasons.append(f"requires-python changed ({lock['requires-python']} in uv.lock, {', '.join(ranges)} now)")
    return reasons


def script_stale_reasons(lock_text: str, dependencies: list[str], requires_python: str) -> list[str]:
    """The same for a script's lock (`uv lock --script`): its `[manifest] requirements` are the script's
    inline dependencies."""
    lock = parse_toml(lock_text)
    reasons = []
    wanted = [k for text in dependencies if (k := _from_text(text))]
    if not _same(wanted, [_from_lock(e) for e in lock.get("manifest", {}).get("requirements", [])]):
        reasons.append("the script's dependencies changed")
    if requires_python and isinstance(lock.get("requires-python"), str) \
            and not _same_python([requires_python], lock["requires-python"]):
        reasons.append(f"requires-python changed ({lock['requires-python']} in the lock, {requires_python} now)")
    return reasons
