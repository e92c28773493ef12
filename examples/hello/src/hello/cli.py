"""`hello`: show that the project and its dependencies import offline."""

from __future__ import annotations

import sys
from importlib.metadata import version


def main(argv: list[str] | None = None) -> int:
    import httpx
    from rich.console import Console
    from rich.table import Table

    args = sys.argv[1:] if argv is None else argv
    table = Table(title="hello, offline")
    table.add_column("package")
    table.add_column("version")
    for name in ("hello", "rich", "httpx"):
        table.add_row(name, version(name))
    console = Console(width=80)
    console.print(table)
    # Build a request without sending it: proves httpx works with no network.
    request = httpx.Request("GET", "https://example.invalid/", params={"who": " ".join(args) or "world"})
    console.print(f"would GET {request.url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
