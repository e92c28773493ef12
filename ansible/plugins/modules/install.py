#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airgap-installer developers
# MIT License (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: install
short_description: Install an airgap-installer file (FILE.run) on a host, idempotently
version_added: "0.1.0"
description:
  - Runs C(sh FILE.run --prefix PREFIX -y --json) on the host and reports the installer's own result.
  - With O(remote_src=false) (the default) O(src) is a file on the control node; it is copied into
    O(cache_dir) on the host only when the host does not already hold a file with the same sha256
    there. A signature C(FILE.run.sig) beside O(src) is copied with it.
  - Installing the release that is already active changes nothing on the host and reports C(changed=false).
  - In check mode the installer runs with C(--dry-run) (every check it makes before an install, that is
    the file's integrity and signature, the host, the Python and the prefix) and writes nothing; a file
    the host does not hold yet is copied into Ansible's temporary directory for that run only.
  - A refusal or failure fails the task with the installer's one-line reason as C(msg) and its
    exit code as RV(rc) (1 failed and the previous release is still active, 2 usage, 3 corrupt or
    untrusted file, 4 unsuitable host).
options:
  src:
    description:
      - The installer file. On the control node unless O(remote_src=true).
    type: path
    required: true
  remote_src:
    description:
      - O(src) is already on the host; nothing is copied.
    type: bool
    default: false
  cache_dir:
    description:
      - Where on the host a copied installer is kept, so that later runs need not copy it again.
    type: path
    default: /var/tmp/airgap-installer
  prefix:
    description:
      - The installation prefix (C(--prefix)).
    type: path
    required: true
  keep:
    description:
      - How many releases to keep for rollback (C(--keep)).
    type: int
  python:
    description:
      - The CPython interpreter on the host to use (C(--python)).
    type: path
  accept_license:
    description:
      - Accept the project's license (C(--accept)). Without it, a file with a license is refused.
    type: bool
    default: false
  link_bin:
    description:
      - Also link the launchers into this directory (C(--link-bin)).
    type: path
  trust:
    description:
      - An allowed_signers file or public key on the host; the file must be signed by one of its keys (C(--trust)).
    type: path
  signature:
    description:
      - The signature on the host, if it is not O(src) with C(.sig) appended (C(--signature)).
    type: path
  allow_downgrade:
    description:
      - In a prefix that trusts a signer, allow a version older than the active one (C(--allow-downgrade)).
    type: bool
    default: false
  shared_prefix:
    description:
      - As root, install into a prefix that another user owns or may write to (C(--shared-prefix)).
    type: bool
    default: false
  sha256:
    description:
      - The file's expected sha256; set by the action plugin when it copies O(src). The module refuses a file
        that does not match it.
    type: str
attributes:
  check_mode:
    support: full
    description: Runs the installer with C(--dry-run); nothing is written on the host.
  diff_mode:
    support: full
    description: Shows the active release before and after.
  action:
    support: full
    description: An action plugin copies O(src) from the control node when the host lacks it.
  async:
    support: none
    description: The installer holds a lock on the prefix; run it in the foreground.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host the installer supports.
author:
  - airgap-installer developers (@airgap-installer)
"""

EXAMPLES = r"""
- name: Install the release
  airgap.installer.install:
    src: files/myapp-1.2.0.run
    prefix: /opt/myapp
    python: /usr/bin/python3.11
    keep: 3
  register: installed

- name: Use a file that is already on the host
  airgap.installer.install:
    src: /srv/media/myapp-1.2.0.run
    remote_src: true
    prefix: /opt/myapp
"""

RETURN = r"""
installer:
  description: The installer's result object (the last line of its stdout with C(--json)).
  returned: always
  type: dict
  sample:
    changed: true
    action: upgraded
    release: 1.2.0-0123456789ab
    previous: 1.1.0-ba9876543210
    version: 1.2.0
    prefix: /opt/myapp
    exit_code: 0
    message: installed myapp 1.2.0-0123456789ab into /opt/myapp (was 1.1.0-ba9876543210)
    hint: ""
    dry_run: false
release:
  description: The release that is active after the run (or would be, in check mode).
  returned: always
  type: str
  sample: 1.2.0-0123456789ab
previous:
  description: The release that was active before the run.
  returned: always
  type: str
  sample: 1.1.0-ba9876543210
rc:
  description: The installer's exit code.
  returned: always
  type: int
  sample: 0
stderr:
  description: The installer's progress lines and errors.
  returned: always
  type: str
hint:
  description: What to do next, when the installer failed or refused.
  returned: failure
  type: str
copied:
  description: Whether the file was copied to the host in this run (set by the action plugin).
  returned: when O(remote_src=false)
  type: bool
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.airgap.installer.plugins.module_utils.digest import sha256_of
from ansible_collections.airgap.installer.plugins.module_utils.result import run_and_report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            remote_src=dict(type="bool", default=False),
            cache_dir=dict(type="path", default="/var/tmp/airgap-installer"),
            prefix=dict(type="path", required=True),
            keep=dict(type="int"),
            python=dict(type="path"),
            accept_license=dict(type="bool", default=False),
            link_bin=dict(type="path"),
            trust=dict(type="path"),
            signature=dict(type="path"),
            allow_downgrade=dict(type="bool", default=False),
            shared_prefix=dict(type="bool", default=False),
            sha256=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    src = p["src"]
    try:
        if p["sha256"] and sha256_of(src) != p["sha256"]:
            module.fail_json(msg="%s does not have the sha256 %s the control node sent" % (src, p["sha256"]), rc=3)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the installer %s: %s" % (src, exc), rc=3)
    argv = ["sh", src, "--prefix", p["prefix"], "-y", "--json"]
    if module.check_mode:
        argv.append("--dry-run")
    if p["keep"] is not None:
        argv += ["--keep", str(p["keep"])]
    for option, flag in (("python", "--python"), ("link_bin", "--link-bin"), ("trust", "--trust"),
                         ("signature", "--signature")):
        if p[option]:
            argv += [flag, p[option]]
    for option, flag in (("accept_license", "--accept"), ("allow_downgrade", "--allow-downgrade"),
                         ("shared_prefix", "--shared-prefix")):
        if p[option]:
            argv.append(flag)
    run_and_report(module, argv)


if __name__ == "__main__":
    main()
