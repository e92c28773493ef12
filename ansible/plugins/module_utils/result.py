# -*- coding: utf-8 -*-
# Copyright: airgap-installer developers
# MIT License (see LICENSE in the repository root)
"""Run an airgap-installer command with --json and turn its result line into the module's result.

The installer prints one JSON object as the last line of stdout (airgap_installer/runtime/result.py):
changed, action, release, previous, version, prefix, exit_code, message, hint, dry_run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os


def last_json_line(stdout):
    """The result object, or None when stdout holds none (an installer without --json support)."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                data = json.loads(line)
            except ValueError:
                return None
            return data if isinstance(data, dict) and "exit_code" in data else None
    return None


def run_and_report(module, argv):
    """Run argv on the host; exit the module with the installer's result (fail_json on a non-zero code)."""
    rc, stdout, stderr = module.run_command(argv)
    result = last_json_line(stdout)
    if result is None:
        tail = " | ".join(line for line in stderr.strip().splitlines()[-3:] if line)
        module.fail_json(msg="the installer printed no JSON result (exit %d): %s" % (rc, tail or "no output"),
                         rc=rc, stdout=stdout, stderr=stderr, cmd=argv)
    out = dict(changed=bool(result.get("changed")), installer=result, release=result.get("release"),
               previous=result.get("previous"), rc=rc, stderr=stderr)
    if module._diff:
        after = result.get("release") if result.get("changed") else result.get("previous")
        out["diff"] = dict(before="active release: %s\n" % result.get("previous"), after="active release: %s\n" % after)
    if rc != 0:
        message = result.get("message") or "the installer failed"
        if result.get("hint"):
            out["hint"] = result["hint"]
        module.fail_json(msg=message, **out)
    module.exit_json(msg=result.get("message", ""), **out)


def helper_path(module, prefix, name, kind):
    """PREFIX/bin/NAME-KIND (rollback, uninstall); without a name, the one such helper in PREFIX/bin.
    None when the prefix holds no installation."""
    if name:
        path = os.path.join(prefix, "bin", "%s-%s" % (name, kind))
        if not os.path.isfile(path):
            return None
        knows_json(module, path)
        return path
    found = sorted(glob.glob(os.path.join(glob.escape(prefix), "bin", "*-%s" % kind)))
    if len(found) > 1:
        module.fail_json(msg="%s holds several %s helpers (%s); set name" % (prefix, kind, ", ".join(found)), rc=2)
    if found:
        knows_json(module, found[0])
    return found[0] if found else None


def knows_json(module, helper):
    """A helper written by an older installer ignores its arguments: --dry-run would really act."""
    try:
        with open(helper, "rb") as handle:
            text = handle.read(1 << 16)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (helper, exc), rc=1)
    if b"--dry-run" not in text or b"--json" not in text:
        module.fail_json(msg="%s was written by an older airgap-installer that has no --json or --dry-run" % helper,
                         hint="install a release made by a newer airgap-installer into the prefix first", rc=2)
