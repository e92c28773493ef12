"""Write docs/security.md's fault matrix from the tests: every test marked
`@pytest.mark.fault(case, behaviour)` is one row, so the table says only what a test shows.

    python scripts/fault_matrix.py           # print the table
    python scripts/fault_matrix.py --write   # put it into docs/security.md between its markers

tests/test_security_doc.py fails when the document and the tests disagree."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
START = "<!-- fault-matrix: written by scripts/fault_matrix.py from the tests' fault marks; do not edit -->"
END = "<!-- fault-matrix end -->"


def _fault_marks(node: ast.FunctionDef) -> list[tuple[str, str]]:
    marks = []
    for deco in node.decorator_list:
        if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "fault"
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in deco.args)
                and len(deco.args) == 2):
            marks.append((str(deco.args[0].value), str(deco.args[1].value)))  # type: ignore[attr-defined]
    return marks


def rows(tests: Path = ROOT / "tests") -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(tests.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                for case, behaviour in _fault_marks(node):
                    found.append((case, behaviour, f"`{path.name}::{node.name}`"))
    return found


def table(tests: Path = ROOT / "tests") -> str:
    lines = ["| fault | behaviour | test |", "|---|---|---|"]
    lines += [f"| {case} | {behaviour} | {test} |" for case, behaviour, test in rows(tests)]
    return "\n".join([START, *lines, END])


def replaced(doc: str, new_table: str) -> str:
    start, end = doc.index(START), doc.index(END) + len(END)
    return doc[:start] + new_table + doc[end:]


def main(argv: list[str]) -> int:
    text = table()
    if argv[1:] == ["--write"]:
        DOC.write_text(replaced(DOC.read_text(encoding="utf-8"), text), encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
