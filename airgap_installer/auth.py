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
    by_host: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # from netrc

    def header(self, url: str) -> str | None:
        """The Authorization header value for a request to `url`, if any credentials apply."""
        found = self.by_realm.get(realm(url)) or self.by_host.get(urlsplit(url).hostname or "")
        if found is None:
            return None
        return "Basic " + base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode()


def _netrc_hosts(path: Path) -> dict[str, tuple[str, str]]:
    """host -> (login, password) from a netrc file; nothing when it is missing or unreadable (as uv)."""
    if not path.is_file():
        return {}
    try:
        hosts = netrc.netrc(str(path)).hosts
    except (netrc.NetrcParseError, OSError):
        return {}
    return {host: (login, password or "") for host, (login, _, password) in hosts.items()}


def index_credentials(indexes: Iterable[tuple[str, str]], environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for the project's named indexes (name, url), from the environment, the URLs and netrc;
    read once per build."""
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
    return Credentials(by_realm, _netrc_hosts(netrc_file))
