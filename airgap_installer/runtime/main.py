"""Entry point of the runtime: `python -I installer.run {install,list,extract} ...`.

The header runs `install` with the very interpreter the venv is made from (`--python`), so the
runtime reads the target's exact version from sys.version_info."""

from __future__ import annotations

import argparse
import errno
import sys
import zipfile
from pathlib import Path

from . import install, wheelhouse
from .manifest import ManifestError


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
    sub.add_parser("list")
    e = sub.add_parser("extract")
    e.add_argument("dest")
    w = sub.add_parser("wheelhouse", help="the wheels, a pylock.toml and a requirements.txt, for other tools")
    w.add_argument("dest")
    r = sub.add_parser("record-sources", help="mark git and direct URL packages as uv would (airgap-sync)")
    r.add_argument("project")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
                wheelhouse.export(zf, Path(args.dest))
            print(f"wrote the wheelhouse, pylock.toml and requirements.txt into {args.dest}")
            return 0
        if args.action == "extract":
            with zipfile.ZipFile(run_file) as zf:
                install.extract_all(zf, Path(args.dest))
            print(f"extracted into {args.dest}")
            return 0
        rc: int = install.install(
            run_file,
            prefix=Path(args.prefix),
            uv=Path(args.uv),
            python=args.python,
            payload_sha256=args.payload_sha256,
            quiet=args.quiet,
            keep=args.keep,
            link_bin=Path(args.link_bin) if args.link_bin else None,
            trust=install.Trust(Path(args.remember_signers) if args.remember_signers else None, args.signed_by,
                                args.allow_downgrade),
        )
        return rc
    except install.BaseMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"tip: {exc.hint}", file=sys.stderr)
        return 4
    except install.TrustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"tip: {exc.hint}", file=sys.stderr)
        return 3
    except (ManifestError, install.PayloadError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("tip: copy the installer again; a file this runtime cannot trust is never installed", file=sys.stderr)
        return 3
    except install.InstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"tip: {exc.hint}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''} (the previous release is still active)",
              file=sys.stderr)
        if exc.errno == errno.ENOSPC:
            print("tip: free some space, or install into a --prefix on a larger filesystem", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the previous release is still active", file=sys.stderr)
        return 130
