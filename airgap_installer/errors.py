"""One base error; a subclass per failure class, each with a hint the CLI prints as TIP."""

from __future__ import annotations


class AirgapError(Exception):
    """A failure the user can act on: a one-line message and a hint."""

    hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class UsageError(AirgapError):
    """Bad command-line input."""


class ProjectError(AirgapError):
    """pyproject.toml is missing or malformed."""

    hint = "check pyproject.toml; the project must be a uv project with a [project] table"


class LockError(AirgapError):
    """uv.lock is missing, stale or cannot be read."""

    hint = "run `uv lock` in the project and commit uv.lock"


class TargetError(AirgapError):
    """The target platform or Python cannot be understood."""

    hint = "see `airgap-installer build --help` for target names"


class PlanError(AirgapError):
    """Some locked packages have nothing installable for the target."""


class FetchError(AirgapError):
    """An artifact could not be downloaded or did not match the lock's hash."""

    hint = "check the network or rebuild with a warm cache; pass --offline to use only the cache"


class UvError(AirgapError):
    """A uv subprocess failed; the message carries its argv and output."""


class InstallerFileError(AirgapError):
    """A .run file is corrupt, truncated or not ours."""

    hint = "download or copy the installer again and compare its sha256"
