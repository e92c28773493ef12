"""Signatures that verify with no network: OpenSSH's `ssh-keygen -Y sign/verify` (on nearly every host),
namespace `airgap-installer`, over the whole file. The signature travels beside it as `FILE.run.sig`:
anyone can check it with stock tools before running anything (`ssh-keygen -Y verify ... < FILE.run`),
and the installer's own header checks it with `--trust`. Ed25519 signatures are deterministic, so a
signed rebuild is byte-identical too."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from airgap_installer.errors import AirgapError, InstallerFileError, UsageError

NAMESPACE = "airgap-installer"


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise UsageError("ssh-keygen (OpenSSH) is needed to sign or check signatures", hint="install openssh-client")
    return found


def sign(path: Path, key: Path) -> Path:
    """Write `path`.sig, signed with the OpenSSH private key `key`."""
    if not key.is_file():
        raise UsageError(f"--sign {key}: no such key file", hint="ssh-keygen -t ed25519 -f release-key")
    sig = path.with_name(path.name + ".sig")
    sig.unlink(missing_ok=True)  # ssh-keygen will not overwrite it
    proc = subprocess.run([_ssh_keygen(), "-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE, str(path)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not sig.is_file():
        raise AirgapError(f"signing {path.name} failed: {proc.stderr.strip() or proc.stdout.strip()}",
                          hint="a passphrase-protected key needs ssh-agent; check the key with ssh-keygen -y -f KEY")
    return sig


def allowed_signers(keys: Path, scratch: Path) -> Path:
    """An allowed_signers file as given, or one made from a bare public key (`ssh-ed25519 AAAA...`)."""
    try:
        first = keys.read_text(encoding="utf-8").splitlines()[0] if keys.stat().st_size else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--trust {keys}: cannot read it ({exc})") from exc
    if first.startswith(("ssh-", "ecdsa-", "sk-")):
        made = scratch / "allowed_signers"
        made.write_text(f'signer namespaces="{NAMESPACE}" {first}\n')
        return made
    return keys


def verify_signature(path: Path, keys: Path, signature: Path | None = None) -> str:
    """Who signed `path`, per `keys`; InstallerFileError when it is unsigned, tampered or another's."""
    sig = signature or path.with_name(path.name + ".sig")
    if not sig.is_file():
        raise InstallerFileError(f"{path} is not signed: no signature at {sig}",
                                 hint="copy FILE.run.sig along with the installer")
    tool = _ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="airgap-trust-") as tmp, path.open("rb") as data:
        allowed = allowed_signers(keys, Path(tmp))
        found = subprocess.run([tool, "-Y", "find-principals", "-s", str(sig), "-f", str(allowed)], stdin=data,
                               capture_output=True, text=True)
        who = found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else ""
        if not who:
            raise InstallerFileError(f"{path} is not signed by a key in {keys}",
                                     hint="get the installer from its publisher again, or the right keys")
        data.seek(0)
        checked = subprocess.run([tool, "-Y", "verify", "-f", str(allowed), "-I", who, "-n", NAMESPACE, "-s", str(sig)],
                                 stdin=data, capture_output=True, text=True)
    if checked.returncode != 0:
        raise InstallerFileError(f"{path} does not match its signature {sig} (signed by {who})",
                                 hint="copy the installer and its .sig again")
    return who
