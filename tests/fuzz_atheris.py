"""Coverage-guided fuzzing with atheris (libFuzzer) of the readers of untrusted bytes, the same three as
tests/test_fuzz.py's hypothesis tests: the manifest reader, the header parser with `verify`, and the
payload member check. `nox -s fuzz` runs each with a fixed budget of runs; a crash is a Python exception
other than the reader's own error, and libFuzzer writes the input that caused it (crash-*) for a
regression test.

    python tests/fuzz_atheris.py manifest|header|payload -runs=N
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports():  # zipfile and json too: their parsing is what the bytes reach
    import io
    import zipfile

    from airgap_installer.errors import InstallerFileError
    from airgap_installer.inspect import inspect_file
    from airgap_installer.runtime import install
    from airgap_installer.runtime.manifest import Manifest, ManifestError

SCRATCH = Path(tempfile.mkdtemp(prefix="airgap-atheris-")) / "x.run"


def manifest(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        Manifest.from_json(data)


HEAD = (b"#!/bin/sh\n[ size check ]\n#\n# sha256 of this whole file with these 64 digits as zeros: " + b"0" * 64
        + b"\n# made by airgap-installer\nPAYLOAD_OFFSET=$(( 400 ))\nPAYLOAD_SIZE=$(( 10 ))\nPAYLOAD_SHA256="
        + b"0" * 64 + b"\nMEMBERS='\n")


def header(data: bytes) -> None:
    """Past the fields, so the fuzzer reaches the carve table, the size and the sha256 checks."""
    SCRATCH.write_bytes(HEAD + data)
    with contextlib.suppress(InstallerFileError):
        inspect_file(SCRATCH, verify=True)


def payload(data: bytes) -> None:
    """The bytes as a zip (whatever zipfile makes of them), then the member check."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError):
        return  # zipfile's own refusals: the runtime turns BadZipFile into exit 3 (runtime/main.py)
    with zf, warnings.catch_warnings(), contextlib.suppress(install.PayloadError):
        warnings.simplefilter("ignore")
        install.check_members(zf)


TARGETS = {"manifest": manifest, "header": header, "payload": payload}

if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
