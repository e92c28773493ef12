# -*- coding: utf-8 -*-
# Copyright: airgap-installer developers
# MIT License (see LICENSE in the repository root)
"""The controller side of airgap.installer.install: copy FILE.run (and FILE.run.sig) to the host only
when the host does not hold a file with that sha256 in cache_dir, then run the module on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.airgap.installer.plugins.module_utils.digest import sha256_of

MODULE = "airgap.installer.install"


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # not used since 2.5
        args = dict(self._task.args)
        try:
            if args.get("remote_src"):
                result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
                return result
            if not args.get("src"):
                return dict(result, failed=True, msg="src is required")
            try:
                local = self._find_needle("files", args["src"])
            except AnsibleError as exc:
                return dict(result, failed=True, msg=to_text(exc), rc=2)
            digest = sha256_of(local)
            cache_dir = args.get("cache_dir") or "/var/tmp/airgap-installer"
            dest = self._connection._shell.join_path(cache_dir, os.path.basename(local))
            pairs = [(local, dest)]
            if os.path.isfile(local + ".sig"):  # the signature travels beside the file
                pairs.append((local + ".sig", dest + ".sig"))
            stale = [(source, final) for source, final in pairs
                     if self._remote_sha256(final, task_vars) != (digest if source == local else sha256_of(source))]
            copied = bool(stale)
            path = dest
            if stale and self._task.check_mode:  # both, side by side, in the task's temporary directory
                path = self._stage(pairs, cache_dir, task_vars)
            elif stale:
                self._stage(stale, cache_dir, task_vars)
            args.update(src=path, remote_src=True, sha256=digest)
            module_result = self._execute_module(MODULE, module_args=args, task_vars=task_vars)
            module_result["copied"] = copied
            if copied and not self._task.check_mode:
                module_result["changed"] = True  # the host now holds the file
            result.update(module_result)
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _remote_sha256(self, path, task_vars):
        stat = self._execute_module("ansible.legacy.stat", task_vars=task_vars, module_args=dict(
            path=path, follow=False, get_checksum=True, checksum_algorithm="sha256"))
        info = stat.get("stat") or {}
        return info.get("checksum") if info.get("exists") and info.get("isreg") else None

    def _stage(self, pairs, cache_dir, task_vars):
        """Put files on the host: into cache_dir, or, in check mode, only into Ansible's temporary
        directory for this task (removed when the task ends). Returns the first file's temporary path."""
        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        staged = []
        for source, final in pairs:
            path = self._connection._shell.join_path(tmpdir, os.path.basename(source))
            self._transfer_file(source, path)
            staged.append((path, final))
        self._fixup_perms2([tmpdir] + [pair[0] for pair in staged])
        if self._task.check_mode:
            return staged[0][0]
        made = self._execute_module("ansible.legacy.file", task_vars=task_vars,
                                    module_args=dict(path=cache_dir, state="directory", mode="0755"))
        if made.get("failed"):
            raise AnsibleError("cannot create %s on the host: %s" % (cache_dir, made.get("msg")))
        for path, final in staged:
            moved = self._execute_module("ansible.legacy.copy", task_vars=task_vars, module_args=dict(
                src=path, dest=final, remote_src=True, mode="0644"))
            if moved.get("failed"):
                raise AnsibleError("cannot copy %s to the host's %s: %s" % (os.path.basename(path), final, moved.get("msg")))
        return staged[0][0]
