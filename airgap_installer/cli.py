"""Command line: `airgap-installer build|inspect|verify`. The only module that prints or exits."""


from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from airgap_installer import __version__
from airgap_installer.assemble import build, plan_only
from airgap_installer.errors import AirgapError, UsageError
from airgap_installer.inspect import inspect_file, read_sbom
from airgap_installer.request import BuildRequest, Selection
from airgap_installer.runfile import parse_size
from airgap_installer.signing import verify_signature
from airgap_installer.target import load_complete_platform

DESCRIPTION = """\
Build one self-extracting file that installs a uv project on a host with no network, and leaves a
project in which plain `uv run` works there. `build` makes the file; `inspect` and `verify` read one."""

BUILD_EPILOG = """\
targets (uv's --python-platform names):
  x86_64-manylinux_2_28, aarch64-manylinux_2_28, x86_64-manylinux_2_17 (any glibc level 2_17..2_40)
  x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu   (= manylinux_2_28)
  x86_64-unknown-linux-musl, aarch64-unknown-linux-musl (= musllinux_1_2)
  aarch64-apple-darwin, x86_64-apple-darwin             (macOS 13.0)
  x86_64-pc-windows-msvc, aarch64-pc-windows-msvc       (a .cmd file, installed from cmd.exe)
  linux, macos, windows                                 (x86_64 linux, arm64 macOS, x86_64 Windows)
  default: this machine.

examples:
  airgap-installer build examples/hello -o dist/install-hello.run
  airgap-installer build . --python 3.12 --python-platform aarch64-manylinux_2_28
  airgap-installer build . --complete-platform target.json   (pex3 interpreter inspect --markers --tags)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airgap-installer", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build an offline installer for a uv project",
                       epilog=BUILD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("project", nargs="?", default=".", type=Path, help="the project directory (default: .)")
    b.add_argument("-o", "--output", type=Path,
                   help="the .run file to write; a directory with several targets (default: dist/)")
    b.add_argument("--python", action="append", default=[],
                   help="target CPython version X.Y (repeatable; default: .python-version, else this Python)")
    b.add_argument("--python-platform", action="append", default=[],
                   help="target platform, uv's names (repeatable; default: this machine)")
    b.add_argument("--complete-platform", type=Path, action="append", default=[],
                   help="a pex complete-platform JSON describing the target (repeatable)")
    b.add_argument("--extra", action="append", default=[], help="include an optional extra (repeatable)")
    b.add_argument("--all-extras", action="store_true", help="include every optional extra")
    b.add_argument("--group", action="append", default=[], help="include a dependency group (repeatable)")
    b.add_argument("--only-group", action="append", default=[], help="only this dependency group")
    b.add_argument("--all-groups", action="store_true", help="include every dependency group")
    b.add_argument("--no-dev", action="store_true", help="leave out the dev group")
    b.add_argument("--no-default-groups", action="store_true", help="leave out the default groups")
    b.add_argument("--package", help="the workspace member to install")
    b.add_argument("--all-packages", action="store_true", help="install every workspace member")
    b.add_argument("--bundle-python", action="store_true",
                   help="bundle the CPython that the bundled uv would install (python-build-standalone)")
    b.add_argument("--python-archive", type=Path, action="append", default=[],
                   help="bundle this local python-build-standalone install_only archive for the targets it fits "
                        "(repeatable: one per Python version, OS, CPU and C library)")
    b.add_argument("--python-mirror", help="where to download Python archives (default: $UV_PYTHON_INSTALL_MIRROR)")
    b.add_argument("--offline", action="store_true", help="use only the cache; fail naming what is missing")
    b.add_argument("--dry-run", action="store_true", help="print what would be bundled and why; write nothing")
    b.add_argument("--cache-dir", type=Path, help="artifact cache (default: the user cache dir)")
    b.add_argument("--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    b.add_argument("--sign", type=Path, metavar="KEY",
                   help="sign each file with this OpenSSH private key (ssh-keygen -Y); writes FILE.run.sig")
    b.add_argument("--split-size", metavar="SIZE",
                   help="cut each file into parts of at most SIZE (4G for FAT32, 700M); the first part joins them")
    b.add_argument("--fat", action="store_true",
                   help="one file for every --python/--python-platform target; it picks the host's at run time")
    b.add_argument("--delta-from", type=Path, metavar="OLD", action="append", default=[],
                   help="carry only what the earlier installer OLD (or its manifest.json, or the directory "
                        "`sh OLD --extract` wrote) lacks; the target needs OLD's release installed (repeatable: "
                        "the manifests of a fat file's targets)")
    b.add_argument("--sbom", action="store_true",
                   help="also write each file's CycloneDX SBOM beside it (FILE.run.cdx.json); it is always inside")

    i = sub.add_parser("inspect", help="show what an installer contains, without running it")
    i.add_argument("file", type=Path)
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument("--sbom", action="store_true", help="print the CycloneDX SBOM the file carries")

    v = sub.add_parser("verify", help="check an installer's sha256 and structure, without running it")
    v.add_argument("file", type=Path)
    v.add_argument("--trust", type=Path, help="also check its signature with this allowed_signers file or public key")
    v.add_argument("--signature", type=Path, help="the signature, if not FILE.sig beside it")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _cmd_build(args: argparse.Namespace) -> int:
    selection = Selection(
        extras=tuple(args.extra), all_extras=args.all_extras, groups=tuple(args.group),
        all_groups=args.all_groups, no_dev=args.no_dev, no_default_groups=args.no_default_groups,
        only_groups=tuple(args.only_group), package=args.package, all_packages=args.all_packages,
    )
    request = BuildRequest(
        project_dir=args.project, output=args.output, pythons=tuple(args.python),
        platforms=tuple(args.python_platform), targets=tuple(load_complete_platform(p) for p in args.complete_platform),
        selection=selection, offline=args.offline, cache_dir=args.cache_dir, jobs=args.jobs,
        bundle_python=args.bundle_python, python_archives=tuple(args.python_archive), python_mirror=args.python_mirror,
        sign=args.sign, sbom=args.sbom, split_size=_size(args.split_size) if args.split_size else None,
        delta_from=tuple(args.delta_from), fat=args.fat,
    )
    if args.dry_run:
        lines, problems = plan_only(request)
        print("\n".join(lines))
        return 1 if problems else 0
    results = build(request)
    for result in results:
        shipped = len(result.plan.wheels)
        skipped = sum(1 for s in result.plan.steps if s.action == "skip")
        print(f"wrote {result.path} ({result.size / 1e6:.1f} MB): {shipped} wheels for {result.plan.target.slug}, "
              f"{skipped} skipped by markers, {len(result.local_wheels)} local package(s) built here")
    if len(results) == 1:
        if results[0].path.suffix == ".zip":
            print(f"install with (cmd.exe): extract {results[0].path.name}, then "
                  f"{results[0].path.stem}\\install.cmd --prefix C:\\apps\\{results[0].name} -y")
        elif results[0].path.suffix == ".cmd":
            print(f"install with (cmd.exe): {results[0].path.name} --prefix C:\\apps\\{results[0].name} -y")
        else:
            print(f"install with: sh {results[0].path.name} --prefix /opt/{results[0].name} -y")
    return 0


def _printable(value: object) -> str:
    """A value from the file, with control characters shown, not sent to the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(f"--split-size: {exc}") from exc


def _cmd_inspect(args: argparse.Namespace) -> int:
    report = inspect_file(args.file, verify=False)
    if args.sbom:
        print(read_sbom(args.file), end="")
        return 0
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        shown = {**report, "build_date": report.get("build_date") or "unset (reproducible build)",
                 "scripts": " ".join(report.get("scripts") or []) or "none",
                 "needs": (f"glibc/musl >= {report['libc_min']}" if report.get("libc_min") else
                           f"macOS >= {report['macos_min']}" if report.get("macos_min") else "nothing more")}
        if report.get("targets"):  # a fat file: the host's target is picked at run time
            shown["target"] = " + ".join(t["target"] for t in report["targets"])
            shown["needs"] = shown["python"] = "each target's, below"
        for key in ("name", "version", "target", "needs", "python", "uv_version", "build_date", "payload_sha256",
                    "payload_size", "scripts"):
            print(f"{key + ':':16} {_printable(shown.get(key))}")
        for t in report.get("targets") or []:
            needs = (f", needs {t['libc']} >= {t['libc_min']}" if t["libc_min"] else
                     f", needs macOS >= {t['macos_min']}" if t["macos_min"] else "")
            python = (f"{t['bundled_python']}, bundled" if t["bundled_python"] else
                      f"CPython {t['python']} from the host")
            delta = f", upgrades {t['delta_of']}" if t["delta_of"] else ""
            print(f"{'  for:':16} {_printable(t['target'])} ({_printable(python + needs + delta)})")
        for note in report.get("modified_files") or []:
            print(f"{'differs:':16} {_printable(note)}")
        for hook, command in sorted((report.get("hooks") or {}).items()):
            print(f"{hook + ':':16} {_printable(command)}")
        if base := report.get("base"):
            print(f"{'delta of:':16} {_printable(base['name'])} {_printable(base['release'] or base['version'])} "
                  f"(reuses {len(base['reused'])} wheels from it; install it first)")
        for variant in report["pin_variants"]:
            span = f"Python {variant['first']} to {variant['last'] or 'any later'}"
            print(f"{'packages:':16} {len(variant['pins'])} pinned wheels for {span}")
            for pin in variant["pins"]:
                print(f"  {_printable(pin.split(' ')[0])}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    report = inspect_file(args.file, verify=True)
    signer = verify_signature(args.file, args.trust, args.signature) if args.trust else None
    if args.json:
        print(json.dumps({"file": str(args.file), "ok": True, "name": report["name"], "version": report["version"],
                          "target": report["target"], "payload_sha256": report["payload_sha256"],
                          "signed_by": signer}, indent=2))
        return 0
    print(f"{args.file}: OK ({report['name']} {report['version']} for {report['target']}, "
          f"payload sha256 {report['payload_sha256']}" + (f", signed by {signer})" if signer else ")"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    commands = {"build": _cmd_build, "inspect": _cmd_inspect, "verify": _cmd_verify}
    try:
        return commands[args.command](args)
    except BrokenPipeError:  # `airgap-installer inspect FILE | head`: the reader left, as for any tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except AirgapError as exc:
        if args.verbose:
            raise
        _error(str(exc), exc.hint)
        return 2 if isinstance(exc, UsageError) else 1
    except OSError as exc:
        if args.verbose:
            raise
        _error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc),
               "check that path: it must exist, be of the right kind and be writable where output goes")
        return 1
    except KeyboardInterrupt:
        print("ERROR interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        _error(f"internal error: {type(exc).__name__}: {exc}",
               "this is a bug in airgap-installer: rerun with -v for the traceback, and report it")
        return 1


def _error(message: str, hint: str = "") -> None:
    print(f"ERROR {message}", file=sys.stderr)
    if hint:
        print(f"TIP {hint}", file=sys.stderr)
