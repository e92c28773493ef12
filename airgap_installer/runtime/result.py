"""The result contract (issue 20): what one run did to a prefix, as one JSON object.

`sh FILE.run --json`, `PREFIX/bin/NAME-rollback --json` and `NAME-uninstall --json` print it as the
last line of stdout (their progress goes to stderr). Fleet tools (the Ansible collection in ansible/)
read `changed`, `action` and `exit_code`; a person reads `message`. The header writes the same object
in sh when it refuses a file before Python runs (templates/header.sh, json_result).

    changed    bool: the prefix changed (with --dry-run: would change)
    action     installed | upgraded | activated | unchanged | refused | failed
               (rollback: rolled-back; uninstall: uninstalled; with --dry-run the action it would take)
    release    the release this run made active (or would), "<version>-<sha12>"; null when none
    previous   the release that was active before the run; null when none
    version    the installer's version (rollback: the version now active)
    prefix     the prefix, absolute
    exit_code  the process's exit status: 0 ok, 1 failed, 2 usage, 3 corrupt or untrusted, 4 unsuitable host
    message    one line for a person (the error line when exit_code is not 0)
    hint       what to do next, or "" (the "tip:" line)
    dry_run    true when nothing was written because --dry-run asked so
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

ACTIONS = ("installed", "upgraded", "activated", "unchanged", "refused", "failed", "rolled-back", "uninstalled")


@dataclass(frozen=True)
class Result:
    changed: bool
    action: str
    release: str | None
    previous: str | None
    version: str | None
    prefix: str | None
    exit_code: int
    message: str
    hint: str = ""
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")

    def to_json(self) -> str:
        """One line: ASCII only (any byte of a path survives any terminal and any decoder)."""
        return json.dumps(asdict(self), ensure_ascii=True, sort_keys=False)


def action_for_exit(code: int) -> str:
    """A run that stopped with this code: 1 is a failed install, 2, 3 and 4 are refusals."""
    return "failed" if code == 1 or code > 4 else "refused"
