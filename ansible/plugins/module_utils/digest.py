# -*- coding: utf-8 -*-
# Copyright: airgap-installer developers
# MIT License (see LICENSE in the repository root)
"""The sha256 of a file, read in 1 MiB blocks: the action plugin (controller) and the install module (host)
compare installers by it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
