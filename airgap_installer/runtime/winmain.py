"""Entry point of the Windows installer: the cmd.exe bootstrap (templates/install.cmd) runs
`PYTHON -I -B FILE.cmd [options]` and this does what the sh header does on POSIX: options, the check of
every byte before anything is written, the host check, uv.exe out of the payload; then the same
install as on POSIX (install.py), activated the Windows way (winlayout.py).

Exit codes as the sh installer's: 0 ok; 1 install failed (the previous release stays active); 2 usage;
3 the file is corrupt, truncated or unreadable; 4 this host cannot run it (OS, CPU, Python).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NoReturn, TextIO

from . import signature, status
from .layout import STATE
from .manifest import Manifest, ManifestError
from .result import Result, action_for_exit

BOOTSTRAP_MAX = 1 << 20
USAGE = "Offline installer for Windows, run from cmd.exe; exit codes: 0 ok, 1 install failed (the previous " \
        "release stays active), 2 usage, 3 corrupt file, 4 this host cannot run it."
_DIGEST = re.compile(rb"zeros: ([0-9a-f]{64})\r\n")
_PAYLOAD = re.compile(rb"payload: offset +(\d+) +size +(\d+) +sha256 ([0-9a-f]{64})")


class Refused(Exception):
    def __init__(self, code: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # a usage error is a refusal too (one line; --json: a result)
        raise Refused(2, message, "see --help")


def _parser(name: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=name, description=USAGE)
    parser.add_argument("--prefix", help="install into this directory (default: %%LOCALAPPDATA%%\\Programs\\NAME)")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--python", help="the CPython to install with (the bootstrap runs this runtime with it)")
    parser.add_argument("--bundled-python", action="store_true",
                        help=argparse.SUPPRESS)  # install.cmd of a bundle: this interpreter goes into PREFIX\\python
    parser.add_argument("--keep", type=int, default=3, help="keep N releases for rollback (default: 3)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--accept", action="store_true", help="accept the project's license without asking")
    parser.add_argument("--link-bin", metavar="DIR", help="also write the launchers into DIR (e.g. one on PATH)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as one JSON object, the last line of stdout (progress: stderr)")
    parser.add_argument("--dry-run", action="store_true",
                        help="run every check (file, signature, host, Python, prefix) and say what an install "
                             "would do; write nothing")
    parser.add_argument("--trust", metavar="FILE", help="refuse the file unless its signature (FILE.cmd.sig beside "
                        "it) verifies with this allowed_signers file or public key (needs ssh-keygen.exe)")
    parser.add_argument("--signature", metavar="SIG", help="the signature file, if it is not beside this one")
    parser.add_argument("--allow-downgrade", action="store_true",
                        help="in a prefix that trusts a signer, install a version older than the active one")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true", help="verify the file's sha256 and exit")
    what.add_argument("--info", action="store_true", help="print what this installer contains and exit")
    what.add_argument("--list", action="store_true", help="list the payload's files and exit")
    what.add_argument("--license", action="store_true", help="print the license to accept and exit")
    what.add_argument("--sbom", action="store_true", help="print the CycloneDX SBOM and exit")
    what.add_argument("--extract", metavar="DIR", help="check the file, extract its payload into DIR and exit")
    what.add_argument("--wheelhouse", metavar="DIR",
                      help="check the file, write its wheels with a pylock.toml and a requirements.txt into DIR")
    return parser


class Bootstrap:
    """What the bootstrap's text says about the file: its digest and where the payload is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open(path, "rb") as f:
                head = f.read(BOOTSTRAP_MAX)
        except OSError as exc:
            raise Refused(3, f"cannot read {path}: {exc.strerror}") from exc
        digest, payload = _DIGEST.search(head), _PAYLOAD.search(head)
        if digest is None or payload is None:
            raise Refused(3, f"{path} is not an installer this runtime can check (its bootstrap is damaged)",
                          "copy the installer again")
        self.digest = digest.group(1).decode()
        self.digest_at = digest.start(1)
        self.offset, self.size = int(payload.group(1)), int(payload.group(2))
        self.payload_sha256 = payload.group(3).decode()

    def verify(self) -> None:
        """Every byte: the size, then the sha256 of the payload followed by the bootstrap with its own
        digest read as zeros (what the builder computed), and the payload's own sha256."""
        actual_size = os.path.getsize(self.path)
        expected = self.offset + self.size
        if actual_size < expected:
            raise Refused(3, f"{self.path} is truncated: {actual_size} bytes, expected {expected}",
                          "copy the installer again")
        if actual_size > expected:
            raise Refused(3, f"{self.path} has {actual_size - expected} unexpected bytes appended "
                          f"(expected {expected} bytes)", "copy the installer again")
        whole, payload = hashlib.sha256(), hashlib.sha256()
        with open(self.path, "rb") as f:
            head = bytearray(f.read(self.offset))
            while chunk := f.read(1 << 20):
                whole.update(chunk)
                payload.update(chunk)
        head[self.digest_at:self.digest_at + 64] = b"0" * 64
        whole.update(bytes(head))
        if whole.hexdigest() != self.digest:
            raise Refused(3, f"{self.path} is corrupt: sha256 {whole.hexdigest()}, expected {self.digest}",
                          "copy the installer again and compare its sha256")
        if payload.hexdigest() != self.payload_sha256:
            raise Refused(3, f"{self.path} is corrupt: its payload's sha256 is {payload.hexdigest()}",
                          "copy the installer again")


def default_prefix(name: str) -> Path:
    base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
    return Path(base) / "Programs" / name


def check_host(manifest: Manifest) -> None:
    """Windows, the target's CPU, and a CPython of the target's X.Y with the same pointer size."""
    if sys.platform != "win32":
        raise Refused(4, f"this installer is for Windows ({manifest.target}); this is {sys.platform}",
                      "build one for this platform, or run this one on Windows")
    machine = (os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE") or "").upper()
    wanted = "ARM64" if "aarch64" in manifest.target else "AMD64"
    if machine and machine != wanted:
        raise Refused(4, f"this installer is for {wanted} Windows; this host is {machine}",
                      "build one for this host's CPU")
    found = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if found != manifest.python or struct.calcsize("P") != 8:
        bits = struct.calcsize("P") * 8
        raise Refused(4, f"{sys.executable} is CPython {found} ({bits}-bit); this installer needs CPython "
                      f"{manifest.python} (64-bit)", f"pass --python C:\\path\\to\\python{manifest.python}\\python.exe")


def info(manifest: Manifest, payload_sha256: str) -> str:
    """What --info prints; the builder writes the same text into the bootstrap (it then needs no Python)."""
    shipped = [p for p in manifest.packages if p.action != "skip"]
    lines = [
        f"{manifest.name} {manifest.version}: offline installer for {manifest.target} (Python {manifest.python})",
        f"  requires-python  {manifest.requires_python or 'any'}",
        f"  uv               {manifest.uv_version} (uv.exe bundled)",
        f"  scripts          {' '.join(manifest.scripts) or '(none)'}",
        f"  built            {manifest.build_date or 'unset (reproducible build)'} by airgap-installer "
        f"{manifest.tool_version}",
        f"  payload sha256   {payload_sha256}",
        f"  packages ({len(shipped)}):",
        *(f"    {p.action:<6} {p.name} {p.version or ''}".rstrip() for p in shipped),
    ]
    return "\n".join(lines)


LICENSE = "license.txt"  # winfile.LICENSE


def accept_license(zf: zipfile.ZipFile, manifest: Manifest, accepted: bool) -> None:
    """As the sh installer: a project's license is shown and accepted (or --accept) before anything is written."""
    if accepted or LICENSE not in zf.namelist():
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise Refused(2, f"{manifest.name} comes with a license that must be accepted",
                      "read it with --license, then pass --accept")
    print(zf.read(LICENSE).decode("utf-8", errors="replace"))
    try:
        answer = input("Do you accept the license terms? [yes/no] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        raise Refused(2, "the license was not accepted")


def confirm(manifest: Manifest, prefix: Path) -> None:
    if not sys.stdin or not sys.stdin.isatty():
        raise Refused(2, "not installing without confirmation (stdin is not a terminal)",
                      "pass -y to install without asking")
    try:
        answer = input(f"Install {manifest.name} {manifest.version} into {prefix}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused(2, "cancelled; nothing was written")


def carve_uv(zf: zipfile.ZipFile, work: Path) -> Path:
    """uv.exe out of the payload, and proof that it runs here."""
    uv = work / "uv.exe"
    with zf.open("bin/uv.exe") as src, open(uv, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    proc = subprocess.run([str(uv), "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise Refused(4, f"the bundled uv.exe does not run here (exit {proc.returncode})",
                      "check that nothing (an antivirus, an AppLocker policy) blocks programs in the prefix")
    return uv


def place_python(prefix: Path, manifest: Manifest, quiet: bool) -> str:
    """The bundled interpreter (the one running this) copied to PREFIX\\python\\<key>, once: the venv's
    home must outlive the folder the bundle was extracted to. Returns its python.exe."""
    key = manifest.bundled_python or f"cpython-{sys.version_info[0]}.{sys.version_info[1]}-windows"
    if not re.fullmatch(r"[A-Za-z0-9._+-]+", key):
        raise Refused(3, f"the manifest names the bundled interpreter {key!r}, which is no directory name")
    dest = prefix / "python" / key
    if (dest / ".airgap-complete").is_file():
        return str(dest / "python.exe")
    source = Path(sys.executable).resolve().parent
    if not quiet:
        print(f"Installing the bundled CPython {'.'.join(map(str, sys.version_info[:3]))} into {dest}", flush=True)
    tmp = dest.with_name(f".{key}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for path in sorted(source.rglob("*")):
        target = tmp / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as src, open(target, "wb") as out:  # not shutil.copy2: CopyFile2 (see winlayout)
            shutil.copyfileobj(src, out, 1 << 20)
    (tmp / ".airgap-complete").write_text(f"{key}\n", encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return str(dest / "python.exe")


class Seen:
    """What a run has learnt so far, for the result of a run that is refused on the way (--json)."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.prefix: Path | None = None


TRUSTED = "trusted_signers"  # install.remember_signers writes it


def check_signature(args: argparse.Namespace, self_path: Path, prefix: Path | None) -> tuple[str | None, Path | None]:
    """--trust, or a prefix that remembers its signers: ssh-keygen's verdict on FILE.sig, as the sh header's
    check_signature. Returns the signer and the keys a prefix's first signed install records."""
    remembered = prefix / STATE / TRUSTED if prefix is not None else None
    if remembered is not None and not remembered.is_file():
        remembered = None
    if not args.trust and remembered is None:
        return None, None
    sig = Path(args.signature) if args.signature else None
    try:
        who = signature.signer(self_path, Path(args.trust), sig) if args.trust else None
        if remembered is not None:
            who = signature.signer(self_path, remembered, sig)
    except signature.SignatureError as exc:
        raise Refused(exc.exit_code, str(exc), exc.hint) from exc
    return who, (Path(os.path.abspath(args.trust)) if args.trust and remembered is None else None)


def check_writable(prefix: Path) -> None:
    """--dry-run: what the install's first writes would meet."""
    here = prefix
    while not here.exists() and here.parent != here:
        here = here.parent
    if not here.is_dir() or not os.access(here, os.W_OK):
        raise Refused(1, f"cannot create {prefix}" if here != prefix else f"{prefix} is not writable",
                      "choose a writable --prefix")


def _runtime(argv: list[str], out: TextIO) -> int:
    """The runtime's install or plan (main.py), with the real stdout: its --json line goes there."""
    from .main import main as runtime_main  # the install and its error handling, as on POSIX

    saved = sys.stdout
    sys.stdout = out
    try:
        return runtime_main(argv)
    finally:
        sys.stdout = saved


def run(args: argparse.Namespace, self_path: Path, seen: Seen, out: TextIO) -> int:
    boot = Bootstrap(self_path)
    if not args.info and os.environ.get("AIRGAP_BOOTSTRAP_VERIFIED") != "1":
        boot.verify()  # before anything is read from the payload or written (the bootstrap did it already)
    installing = not (args.info or args.check or args.extract or args.wheelhouse or args.list or args.license
                      or args.sbom)
    try:
        with zipfile.ZipFile(self_path) as zf:
            manifest = Manifest.from_json(zf.read("manifest.json"))
            seen.version = manifest.version
            prefix = Path(os.path.abspath(args.prefix)) if args.prefix else default_prefix(manifest.name)
            if installing:
                seen.prefix = prefix
    except (OSError, KeyError, zipfile.BadZipFile, ManifestError) as exc:
        raise Refused(3, f"{self_path}: {exc}", "copy the installer again") from exc
    if args.info:
        print(info(manifest, boot.payload_sha256))
        return 0
    signer, remember = check_signature(args, self_path, prefix if installing else None)
    try:
        with zipfile.ZipFile(self_path) as zf:
            if args.list:
                for entry in zf.infolist():
                    print(f"{entry.file_size:>12}  {entry.filename}")
                return 0
            if args.license or args.sbom:
                name = LICENSE if args.license else "sbom.cdx.json"
                if name not in zf.namelist():
                    print(f"{manifest.name} sets no license to accept")
                    return 0
                sys.stdout.write(zf.read(name).decode("utf-8", errors="replace"))
                return 0
            if installing:
                check_host(manifest)
                accept_license(zf, manifest, args.accept)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise Refused(3, f"{self_path}: {exc}", "copy the installer again") from exc
    if args.extract or args.wheelhouse:
        return _runtime(["extract", args.extract] if args.extract else ["wheelhouse", args.wheelhouse], out)
    if args.check:
        print(f"{self_path}: OK ({manifest.name} {manifest.version} for {manifest.target}, payload sha256 "
              f"{boot.payload_sha256})")
        return 0
    if args.keep < 1:
        raise Refused(2, f"--keep takes a whole number of at least 1, not {args.keep}")
    link_bin = [] if not args.link_bin else ["--link-bin", os.path.abspath(args.link_bin)]
    trust = [*(["--signed-by", signer] if signer else []), *(["--allow-downgrade"] if args.allow_downgrade else [])]
    common = ["--prefix", str(prefix), "--payload-sha256", boot.payload_sha256, *link_bin, *trust,
              *(["--quiet"] if args.quiet else []), *(["--json"] if args.json else [])]
    if args.dry_run:  # every check, then what an install would do; nothing is written
        check_writable(prefix)
        return _runtime(["plan", *common, "--dry-run"], out)
    if not args.yes:
        confirm(manifest, prefix)
    if remember is None:  # the active release again writes nothing, not even scratch space
        code = _runtime(["plan", *common], out)
        if code != GO_ON:
            return code
    try:
        prefix.mkdir(parents=True, exist_ok=True)
        work = prefix / STATE / f"win.{os.getpid()}"  # not tmp.PID: layout.clean_stale_scratch probes those
        work.mkdir(parents=True)
    except OSError as exc:
        raise Refused(1, f"cannot create {prefix}: {exc.strerror}", "choose a writable --prefix") from exc
    os.chdir(prefix)  # this process's own working directory must not keep PREFIX\\current from being renamed
    try:
        with zipfile.ZipFile(self_path) as zf:
            uv = carve_uv(zf, work)
        if not args.quiet and not args.bundled_python:
            print(f"Installing {manifest.name} {manifest.version} into {prefix} (Python: {sys.executable})",
                  flush=True)
        python = place_python(prefix, manifest, args.quiet) if args.bundled_python else sys.executable
        argv = ["install", *common, "--uv", str(uv), "--python", python, "--keep", str(args.keep)]
        return _runtime([*argv, *(["--remember-signers", str(remember)] if remember else [])], out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


GO_ON = 10  # main.GO_ON: the plan says an install has work to do


def refused(exc: Refused, seen: Seen, json: bool, dry_run: bool, out: TextIO) -> int:
    """The two lines for a person on stderr; with --json, the result on stdout (result.py)."""
    print(f"error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"tip: {exc.hint}", file=sys.stderr)
    if json:
        active = status.active_release(seen.prefix) if seen.prefix is not None else None
        result = Result(False, action_for_exit(exc.code), None, active, seen.version,
                        str(seen.prefix) if seen.prefix is not None else None, exc.code, str(exc), exc.hint, dry_run)
        print(result.to_json(), file=out, flush=True)
    return exc.code


def main(argv: list[str] | None = None) -> int:
    self_path = Path(sys.argv[0]).resolve()
    raw = sys.argv[1:] if argv is None else argv
    out, seen = sys.stdout, Seen()
    try:
        args = _parser(self_path.name).parse_args(raw)
    except Refused as exc:  # known before any option can be refused, as in the sh header
        return refused(exc, seen, "--json" in raw, "--dry-run" in raw, out)
    if args.json:
        sys.stdout = sys.stderr  # progress and prompts; stdout carries only the result line
    try:
        return run(args, self_path, seen, out)
    except Refused as exc:
        return refused(exc, seen, args.json, args.dry_run, out)
    except KeyboardInterrupt:
        print("error: interrupted; the previous release is still active", file=sys.stderr)
        return 130
    finally:
        sys.stdout = out
