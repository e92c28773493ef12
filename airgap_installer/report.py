"""`build --dry-run`: the "will this work?" report, one table per target. Pure: plans in, lines out.

Every package once, with what happens to it, its size and why; a package that only some Python patch
versions get (a lock forked inside the minor) carries that range as a note instead of repeating the
list per range. Then what else travels (the target's uv, the runtime, the project's files) and the
total. Problems are not here: planning raises every one of them at once, before anything is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from airgap_installer.plan import Step, Variant


@dataclass(frozen=True)
class Extra:
    """Something that travels besides the locked packages."""

    what: str
    size: int


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _span(first: tuple[int, int, int], last: tuple[int, int, int] | None) -> str:
    return f"Python {'.'.join(map(str, first))}" + (f" to {'.'.join(map(str, last))}" if last else " and later")


def _rows(variants: list[Variant], local_notes: dict[str, str]) -> list[tuple[Step, str]]:
    """Each distinct step once, with the patch range it belongs to when not every variant has it."""
    seen: dict[tuple[str, str | None, str, str | None], tuple[Step, list[Variant]]] = {}
    for variant in variants:
        for step in variant.plan.steps:
            key = (step.package.name, step.package.version, step.action,
                   step.artifact.filename if step.artifact else None)
            seen.setdefault(key, (step, []))[1].append(variant)
    rows = []
    for step, where in seen.values():
        note = step.reason
        if step.action == "ship" and step.artifact is not None:
            note = step.artifact.filename
        if step.action == "local" and step.package.name in local_notes:
            note = f"{local_notes[step.package.name]}; {note}"
        if len(where) < len(variants):
            note += f"  [{', '.join(_span(v.first, v.last) for v in where)}]"
        rows.append((step, note))
    order = {"local": 0, "build": 1, "ship": 2, "source": 3, "skip": 4}
    return sorted(rows, key=lambda r: (order.get(r[0].action, 9), r[0].package.name, r[0].package.version or ""))


def render(variants: list[Variant], extras: list[Extra], local_notes: dict[str, str] | None = None) -> list[str]:
    target = variants[0].plan.target
    rows = _rows(variants, local_notes or {})
    header = ("action", "package", "version", "kind", "size", "what and why")
    table = [header] + [
        (step.action, step.package.name, step.package.version or "", step.package.kind,
         _size(step.artifact.size) if step.action in ("ship",) and step.artifact else
         ("built here" if step.action in ("build", "local") else "-"), note)
        for step, note in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    forks = "" if len(variants) == 1 else f"; the lock forks by patch version: {len(variants)} ranges, noted per row"
    lines = [f"{target.slug} (CPython {target.python_version}{forks})"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
              for row in table]
    shipped = sum(s.artifact.size or 0 for s, _ in rows if s.action == "ship" and s.artifact)
    unknown = sum(1 for s, _ in rows if s.action == "ship" and s.artifact and s.artifact.size is None)
    built = sum(1 for s, _ in rows if s.action in ("build", "local"))
    lines.append("  also: " + "; ".join(f"{e.what} {_size(e.size)}" for e in extras))
    counts = {a: sum(1 for s, _ in rows if s.action == a) for a in ("ship", "build", "local", "source", "skip")}
    lines.append(f"  {counts['ship']} wheels shipped, {counts['build']} built here from sdists or git, "
                 f"{counts['local']} local packages built here, {counts['source']} wheel files in the tree, "
                 f"{counts['skip']} skipped by markers")
    total = shipped + sum(e.size for e in extras)
    lines.append(f"  total: {_size(total)}" + (f" + {built} wheel(s) built here" if built else "")
                 + (f" + {unknown} wheel(s) of unknown size" if unknown else ""))
    return lines
