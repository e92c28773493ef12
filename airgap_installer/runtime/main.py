"""Entry point of the runtime: `python -I installer.run {install,plan,list,extract} ...`.

The header runs `install` with the very interpreter the venv is made from (`--python`), so the
runtime reads the target's exact version from sys.version_info. `plan` says what an install would do
and writes nothing: the header runs it first, and stops there for `--dry-run` or when the file's
release is the active one (exit 0); exit 10 means "go on and install". With `--json` both print one
`Result` (result.py) as the last line of stdout and send everything else to stderr."""

from __future__ import annotations

import argparse
import errno
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from . import install, status, wheelhouse
from .manifest import Manifest, ManifestError, member_for
from .result import Result, action_for_exit

GO_ON = 10  # `plan`: an install has work to do


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="installer-runtime")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("install")
    p.add_argument("--prefix", required=True)
    p.add_argument("--uv", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--payload-sha256", required=True)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--keep", type=int, default=3)
    p.add_argument("--link-bin")
    p.add_argument("--remember-signers", help="the prefix's first signed install: whom it trusts from now on")
    p.add_argument("--signed-by", help="the signer the header verified")
    p.add_argument("--allow-downgrade", action="store_true")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line (result.py)")
    p.add_argument("--target", help="a fat file's target, as the header picked it for this host")
    q = sub.add_parser("plan", help="what an install would do; writes nothing")
    q.add_argument("--prefix", required=True)
    q.add_argument("--payload-sha256", required=True)
    q.add_argument("--quiet", action="store_true")
    q.add_argument("--dry-run", action="store_true", help="report and stop, whatever the answer")
    q.add_argument("--signed-by")
    q.add_argument("--allow-downgrade", action="store_true")
    q.add_argument("--link-bin")
    q.add_argument("--json", action="store_true")
    q.add_argument("--target", help="a fat file's target, as the header picked it for this host")
    sub.add_parser("list")
    e = sub.add_parser("extract")
    e.add_argument("dest")
    w = sub.add_parser("wheelhouse", help="the wheels, a pylock.toml and a requirements.txt, for other tools")
    w.add_argument("dest")
    w.add_argument("--target", help="a fat file's target, as the header picked it for this host")
    r = sub.add_parser("record-sources", help="mark git and direct URL packages as uv would (airgap-sync)")
    r.add_argument("project")
    return parser


def _version_of(run_file: Path, target: str | None) -> str | None:
    try:
        with zipfile.ZipFile(run_file) as zf:
            return Manifest.from_json(zf.read(member_for(target))).version
    except (OSError, ManifestError, zipfile.BadZipFile, KeyError):
        return None


def _stopped(run_file: Path, prefix: Path, code: int, message: str, hint: str = "", dry_run: bool = False,
             target: str | None = None) -> Result:
    """A run that ends with an error: the two lines for a person on stderr, and the result."""
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"tip: {hint}", file=sys.stderr)
    active = status.active_release(prefix)
    return Result(False, action_for_exit(code), None, active, _version_of(run_file, target), str(prefix), code, message,
                  hint, dry_run)


def _guarded(run_file: Path, prefix: Path, dry_run: bool, work: Callable[[], Result | None],
             target: str | None = None) -> Result | None:
    """Run an install or a plan; every failure becomes a Result with its exit code."""

    def stop(code: int, message: str, hint: str = "") -> Result:
        return _stopped(run_file, prefix, code, message, hint, dry_run, target)

    try:
        return work()
    except (install.BaseMissing, install.HostUnfit) as exc:  # e.g. a delta's base is not in the prefix
        return stop(4, str(exc), exc.hint)
    except install.TrustError as exc:
        return stop(3, str(exc), exc.hint)
    except (ManifestError, install.PayloadError, zipfile.BadZipFile) as exc:
        return stop(3, str(exc), "copy the installer again; a file this runtime cannot trust is never installed")
    except install.InstallError as exc:
        return stop(1, str(exc), exc.hint)
    except OSError as exc:
        hint = "free some space, or install into a --prefix on a larger filesystem" if exc.errno == errno.ENOSPC else ""
        return stop(1, f"{exc.strerror or exc}: {exc.filename or ''} (the previous release is still active)", hint)
    except KeyboardInterrupt:
        return stop(130, "interrupted; the previous release is still active")


def _plan(run_file: Path, args: argparse.Namespace) -> Result | None:
    """What an install would do (None: it has work to do and this is not a dry run)."""
    prefix = Path(args.prefix).resolve()
    manifest = install.read_checked(run_file, args.target)
    install.check_downgrade(prefix, manifest, install.Trust(None, args.signed_by, args.allow_downgrade))
    plan = status.plan(prefix, manifest, args.payload_sha256, Path(args.link_bin) if args.link_bin else None)
    if plan.changes and plan.action != "activated":
        install.find_base(prefix, manifest)  # a delta file's wheels must be in the prefix (read only)
    if not args.dry_run and plan.changes:
        return None
    return Result(plan.changes, plan.action, plan.release, plan.previous, manifest.version, str(prefix), 0,
                  status.message(plan, manifest, prefix, args.dry_run), dry_run=args.dry_run)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.action in ("install", "plan"):
        return _with_result(args)
    if args.action == "record-sources":
        install.record_sources(Path(args.project))
        return 0
    run_file = Path(sys.argv[0]).resolve()
    if args.action == "list":
        with zipfile.ZipFile(run_file) as zf:
            for info in zf.infolist():
                print(f"{info.file_size:>12}  {info.filename}")
        return 0
    try:
        if args.action == "wheelhouse":
            with zipfile.ZipFile(run_file) as zf:
                wheelhouse.export(zf, Path(args.dest), args.target)
            print(f"wrote the wheelhouse, pylock.toml and requirements.txt into {args.dest}")
            return 0
        with zipfile.ZipFile(run_file) as zf:
            install.extract_all(zf, Path(args.dest))
        print(f"extracted into {args.dest}")
        return 0
    except (ManifestError, install.PayloadError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("tip: copy the installer again; a file this runtime cannot trust is never installed", file=sys.stderr)
        return 3


def _with_result(args: argparse.Namespace) -> int:
    """install or plan; with --json, stdout carries only the result line."""
    run_file = Path(sys.argv[0]).resolve()
    prefix = Path(args.prefix).resolve()
    out = sys.stdout
    if args.json:
        sys.stdout = sys.stderr  # progress lines, and anything else printed, go to stderr
    try:
        if args.action == "plan":
            result = _guarded(run_file, prefix, args.dry_run, lambda: _plan(run_file, args), args.target)
        else:
            result = _guarded(run_file, prefix, False, lambda: install.install(
                run_file,
                prefix=prefix,
                uv=Path(args.uv),
                python=args.python,
                payload_sha256=args.payload_sha256,
                quiet=args.quiet,
                keep=args.keep,
                link_bin=Path(args.link_bin) if args.link_bin else None,
                trust=install.Trust(Path(args.remember_signers) if args.remember_signers else None, args.signed_by,
                                    args.allow_downgrade),
                target=args.target,
            ), args.target)
    finally:
        sys.stdout = out
    if result is None:
        return GO_ON
    if args.json:
        print(result.to_json(), flush=True)
    elif args.action == "plan" and result.exit_code == 0 and not args.quiet:
        print(result.message)
    return result.exit_code
