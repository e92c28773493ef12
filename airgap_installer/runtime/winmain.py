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

from .layout import STATE
from .manifest import Manifest, ManifestError

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


def _parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=name, description=USAGE)
    parser.add_argument("--prefix", help="install into this directory (default: %%LOCALAPPDATA%%\\Programs\\NAME)")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--python", help="the CPython to install with (the bootstrap runs this runtime with it)")
    parser.add_argument("--bundled-python", action="store_true",
                        help=argparse.SUPPRESS)  # install.cmd of a bundle: this interpreter goes into PREFIX\\python
    parser.add_argument("--keep", type=int, default=3, help="keep N releases for rollback (default: 3)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--accept", action="store_true", help="accept the project's license without asking")
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


def run(args: argparse.Namespace, self_path: Path) -> int:
    boot = Bootstrap(self_path)
    if not args.info and os.environ.get("AIRGAP_BOOTSTRAP_VERIFIED") != "1":
        boot.verify()  # before anything is read from the payload or written (the bootstrap did it already)
    try:
        with zipfile.ZipFile(self_path) as zf:
            manifest = Manifest.from_json(zf.read("manifest.json"))
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
            if not (args.info or args.check or args.extract or args.wheelhouse):
                check_host(manifest)
                accept_license(zf, manifest, args.accept)
    except (OSError, KeyError, zipfile.BadZipFile, ManifestError) as exc:
        raise Refused(3, f"{self_path}: {exc}", "copy the installer again") from exc
    if args.info:
        print(info(manifest, boot.payload_sha256))
        return 0
    if args.extract or args.wheelhouse:
        from .main import main as runtime_main  # what the sh installer's --extract/--wheelhouse run

        return runtime_main(["extract", args.extract] if args.extract else ["wheelhouse", args.wheelhouse])
    if args.check:
        print(f"{self_path}: OK ({manifest.name} {manifest.version} for {manifest.target}, payload sha256 "
              f"{boot.payload_sha256})")
        return 0
    if args.keep < 1:
        raise Refused(2, f"--keep takes a whole number of at least 1, not {args.keep}")
    prefix = Path(os.path.abspath(args.prefix)) if args.prefix else default_prefix(manifest.name)
    if not args.yes:
        confirm(manifest, prefix)
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
        from .main import main as runtime_main  # the install and its error handling, as on POSIX

        python = place_python(prefix, manifest, args.quiet) if args.bundled_python else sys.executable
        argv = ["install", "--prefix", str(prefix), "--uv", str(uv), "--python", python,
                "--payload-sha256", boot.payload_sha256, "--keep", str(args.keep)]
        return runtime_main([*argv, *(["--quiet"] if args.quiet else [])])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    self_path = Path(sys.argv[0]).resolve()
    args = _parser(self_path.name).parse_args(argv)
    try:
        return run(args, self_path)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"tip: {exc.hint}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("error: interrupted; the previous release is still active", file=sys.stderr)
        return 130
