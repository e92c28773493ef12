"""Read TOML into plain dicts: the stdlib's tomllib where it exists (3.11+), tomlkit on 3.10.

tomlkit keeps formatting for the files we write (relock.py, sources.py); for reading it is ~10x slower
than tomllib, which shows in a warm build's start-up.
"""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib

    TOMLError: type[Exception] = tomllib.TOMLDecodeError

    def parse_toml(text: str) -> dict[str, Any]:
        return tomllib.loads(text)
else:  # pragma: no cover - exercised on 3.10 only
    import tomlkit
    import tomlkit.exceptions

    TOMLError = tomlkit.exceptions.TOMLKitError

    def parse_toml(text: str) -> dict[str, Any]:
        return tomlkit.parse(text).unwrap()
