"""Who signed an installer: OpenSSH's `ssh-keygen -Y find-principals` and `-Y verify` (namespace
`airgap-installer`) over the whole file, its signature in `FILE.sig` beside it. The check is ssh-keygen's,
never ours: the sh header runs it in sh (templates/header.sh), the Windows runtime (winmain.py) and the
builder's `verify` (signing.py) run it through this module. Windows 10 1809 and Server 2019 ship
ssh-keygen.exe as the "OpenSSH Client" feature in `%SystemRoot%\\System32\\OpenSSH` (docs/windows.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

NAMESPACE = "airgap-installer"
NO_TOOL_HINT = ("install OpenSSH's client (on Windows: Settings > Optional features > OpenSSH Client), or check "
                "the file elsewhere with: airgap-installer verify FILE --trust KEYS")


class SignatureError(Exception):
    """exit_code 2: the keys cannot be read; 3: unsigned, tampered or another's; 4: no ssh-keygen here."""

    def __init__(self, exit_code: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.hint = hint


def find_ssh_keygen() -> str | None:
    """ssh-keygen on PATH, else (Windows) the one the OpenSSH Client feature installs."""
    found = shutil.which("ssh-keygen")
    if found is None and os.name == "nt":
        system = Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32" / "OpenSSH" / "ssh-keygen.exe"
        found = str(system) if system.is_file() else None
    return found


def allowed_signers(keys: Path, scratch: Path) -> Path:
    """An allowed_signers file as given, or one made in `scratch` from a bare public key (`ssh-ed25519 AAAA...`)."""
    try:
        first = keys.read_text(encoding="utf-8").splitlines()[0] if keys.stat().st_size else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureError(2, f"--trust {keys}: cannot read it ({exc})") from exc
    if first.startswith(("ssh-", "ecdsa-", "sk-")):
        made = scratch / "allowed_signers"
        made.write_text(f'signer namespaces="{NAMESPACE}" {first}\n', encoding="utf-8")
        return made
    return keys


def signer(path: Path, keys: Path, signature: Path | None = None, tool: str | None = None) -> str:
    """Who signed `path` per `keys` (an allowed_signers file or a public key); SignatureError otherwise."""
    sig = signature or path.with_name(path.name + ".sig")
    tool = tool or find_ssh_keygen()
    if tool is None:
        raise SignatureError(4, "ssh-keygen (OpenSSH) is needed to check the signature", NO_TOOL_HINT)
    if not sig.is_file():
        raise SignatureError(3, f"{path} is not signed: no signature at {sig}",
                             f"copy {path.name}.sig along with the installer")
    with tempfile.TemporaryDirectory(prefix="airgap-trust-") as tmp, path.open("rb") as data:
        allowed = allowed_signers(keys, Path(tmp))
        found = subprocess.run([tool, "-Y", "find-principals", "-s", str(sig), "-f", str(allowed)], stdin=data,
                               capture_output=True, text=True)
        who = found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else ""
        if not who:
            raise SignatureError(3, f"{path} is not signed by a key in {keys}",
                                 "get the installer from its publisher again, or the right keys")
        data.seek(0)
        checked = subprocess.run([tool, "-Y", "verify", "-f", str(allowed), "-I", who, "-n", NAMESPACE, "-s", str(sig)],
                                 stdin=data, capture_output=True, text=True)
    if checked.returncode != 0:
        raise SignatureError(3, f"{path} does not match its signature {sig} (signed by {who})",
                             "copy the installer and its .sig again")
    return who
