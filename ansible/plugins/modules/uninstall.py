#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airgap-installer developers
# MIT License (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uninstall
short_description: Remove what an airgap-installer file installed in a prefix
version_added: "0.1.0"
description:
  - "Runs C(PREFIX/bin/NAME-uninstall --json): the releases, launchers, links and state the installer made go; other files in the prefix stay."
  - In check mode the helper runs with C(--dry-run) and writes nothing.
options:
  prefix:
    description:
      - The installation prefix.
    type: path
    required: true
  name:
    description:
      - The project's name (the helper is C(PREFIX/bin/NAME-uninstall)); needed only when the prefix holds several.
    type: str
attributes:
  check_mode:
    support: full
    description: Runs the helper with C(--dry-run); nothing is written on the host.
  diff_mode:
    support: full
    description: Shows the active release before and after.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host the installer ran on.
author:
  - airgap-installer developers (@airgap-installer)
"""

EXAMPLES = r"""
- name: Go back to the release that was active before
  airgap.installer.uninstall:
    prefix: /opt/myapp
"""

RETURN = r"""
installer:
  description: The helper's result object (the last line of its stdout with C(--json)).
  returned: when the prefix holds an installation
  type: dict
  sample:
    changed: true
    action: uninstalled
    release: 1.1.0-ba9876543210
    previous: 1.2.0-0123456789ab
    version: 1.1.0
    prefix: /opt/myapp
    exit_code: 0
    message: done
    hint: ""
    dry_run: false
release:
  description: The release that is active after the run.
  returned: always
  type: str
previous:
  description: The release that was active before the run.
  returned: always
  type: str
rc:
  description: The helper's exit code.
  returned: always
  type: int
stderr:
  description: The helper's error output.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.airgap.installer.plugins.module_utils.result import helper_path, run_and_report


def main():
    module = AnsibleModule(
        argument_spec=dict(prefix=dict(type="path", required=True), name=dict(type="str")),
        supports_check_mode=True,
    )
    p = module.params
    helper = helper_path(module, p["prefix"], p["name"], "uninstall")
    if helper is None:
        module.exit_json(changed=False, msg="%s holds no installation" % p["prefix"], installer=None, release=None,
                         previous=None, rc=0, stderr="")
    argv = [helper, "--json"]
    if module.check_mode:
        argv.append("--dry-run")
    run_and_report(module, argv)


if __name__ == "__main__":
    main()
