"""Credentials for private indexes, looked up as uv looks them up, so a project that `uv lock` can
reach is one the builder can download from:

1. `UV_INDEX_<NAME>_USERNAME` / `UV_INDEX_<NAME>_PASSWORD` for an index named in `[[tool.uv.index]]`
   or the project's uv.toml `[[index]]` (NAME upper-cased, every other character than A-Z and 0-9
   turned into `_`), else the user and password written in that index's URL;
2. the netrc file (`$NETRC`, else `~/.netrc`), by host.

Credentials go only to their own scheme, host and port (a redirect elsewhere gets none). Pure but for
reading the environment and the netrc file.
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def realm(url: str) -> str:
    """scheme://host:port, the unit credentials belong to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)}"


def env_prefix(index_name: str) -> str:
    return "UV_INDEX_" + re.sub(r"[^A-Z0-9]", "_", index_name.upper())


@dataclass(frozen=True)
class Credentials:
    by_realm: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    netrc_file: Path | None = None

    def header(self, url: str) -> str | None:
        """The Authorization header value for a request to `url`, if any credentials apply."""
        found = self.by_realm.get(realm(url)) or self._from_netrc(urlsplit(url).hostname or "")
        if found is None:
            return None
        return "Basic " + base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode()

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        if self.netrc_file is None or not self.netrc_file.is_file():
            return None
        try:
            entry = netrc.netrc(str(self.netrc_file)).authenticators(host)
        except (netrc.NetrcParseError, OSError):
            return None
        return (entry[0], entry[2] or "") if entry else None


def index_credentials(indexes: Iterable[tuple[str, str]], environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for the project's named indexes (name, url), from the environment and netrc."""
    env = os.environ if environ is None else environ
    by_realm = {}
    for name, url in indexes:
        prefix = env_prefix(name)
        parts = urlsplit(url)
        user = env.get(f"{prefix}_USERNAME") or unquote(parts.username or "")
        password = env.get(f"{prefix}_PASSWORD") or unquote(parts.password or "")
        if user or password:
            by_realm[realm(url)] = (user, password)
    netrc_file = Path(env["NETRC"]) if env.get("NETRC") else Path.home() / ".netrc"
    return Credentials(by_realm, netrc_file)
