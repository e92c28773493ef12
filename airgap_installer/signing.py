"""Signatures that verify with no network: OpenSSH's `ssh-keygen -Y sign/verify` (on nearly every host),
namespace `airgap-installer`, over the whole file. The signature travels beside it as `FILE.run.sig`:
anyone can check it with stock tools before running anything (`ssh-keygen -Y verify ... < FILE.run`),
and the installer's own header checks it with `--trust`. Ed25519 signatures are deterministic, so a
signed rebuild is byte-identical too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from airgap_installer.errors import AirgapError, InstallerFileError, UsageError
from airgap_installer.runtime.signature import NAMESPACE, SignatureError, signer


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


def verify_signature(path: Path, keys: Path, signature: Path | None = None) -> str:
    """Who signed `path`, per `keys`; InstallerFileError when it is unsigned, tampered or another's. The check
    is the one the Windows installer runs (runtime/signature.py): ssh-keygen's."""
    try:
        return signer(path, keys, signature, _ssh_keygen())
    except SignatureError as exc:
        if exc.exit_code == 3:
            raise InstallerFileError(str(exc), hint=exc.hint) from exc
        raise UsageError(str(exc), hint=exc.hint) from exc
