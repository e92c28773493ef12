"""docs/security.md's fault matrix is the tests' fault marks, not prose: it says only what a test shows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_fault_matrix_is_generated_from_the_tests() -> None:
    spec = importlib.util.spec_from_file_location("fault_matrix", ROOT / "scripts" / "fault_matrix.py")
    assert spec and spec.loader
    matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(matrix)
    rows = matrix.rows()
    # The classes issue 14 asks the matrix to hold, each shown by at least one marked test.
    for needed in ("corrupt", "truncated at many offsets", "foreign", "killed", "disk", "two installs",
                   "hostile environment", "read-only and noexec", "prefix with a newline", "crafted payload",
                   "manifest value", "umask", "another user owns"):
        assert any(needed in case for case, _, _ in rows), f"no marked test for {needed!r}"
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert matrix.table() in doc, "docs/security.md's fault matrix is stale: run python scripts/fault_matrix.py --write"
