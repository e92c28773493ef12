"""Fuzzing the readers of untrusted bytes (issue 14): the manifest reader, the header parser and the
payload check. Whatever the input, they answer with their own one-line error, never a traceback.
`nox -s tests` runs a small budget; `nox -s fuzz` a large one (HYPOTHESIS_PROFILE=fuzz)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgap_installer.errors import InstallerFileError
from airgap_installer.inspect import inspect_file
from airgap_installer.runtime import install
from airgap_installer.runtime.manifest import Manifest, ManifestError

settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30)

GOOD: dict[str, Any] = {
    "format": 2, "name": "demo", "version": "1.0", "target": "t", "python": "3.11", "libc": None, "libc_min": None,
    "macos_min": None, "requires_python": "", "uv_version": "0.13.9", "uv_wheel": "uv.whl", "bundled_python": None,
    "tool_version": "0.1.0", "build_date": None, "scripts": [], "project_dir": ".", "script": None,
    "modified_files": [], "default_groups": None, "sync_args": [], "pin_variants": [], "direct_urls": [],
    "packages": [], "local_packages": [], "hooks": {}, "base": None,
}


@pytest.mark.fault("any bytes as a manifest (fuzzed)",
                   "its own one-line error, never a traceback")
@given(st.binary(max_size=2000))
def test_manifest_reader_on_any_bytes(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        Manifest.from_json(data)


@given(st.sampled_from(sorted(GOOD)), json_values)
def test_manifest_reader_on_any_value_of_any_key(key: str, value: Any) -> None:
    try:
        manifest = Manifest.from_dict({**GOOD, key: value})
    except ManifestError:
        return
    assert Manifest.from_json(manifest.to_json()) == manifest  # what it accepts, it reads back the same


@pytest.mark.fault("any bytes behind a valid-looking header (fuzzed)",
                   "`inspect`/`verify` answer with one line, never a traceback")
@given(st.binary(max_size=4000))
def test_header_parser_on_any_bytes(tmp_path_factory: Any, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / "x.run"
    path.write_bytes(b"#!/bin/sh\n# made by airgap-installer\n" + data)
    with contextlib.suppress(InstallerFileError):
        inspect_file(path, verify=True)


@pytest.mark.fault("any payload member names (fuzzed)",
                   "refused or accepted by one check, never a traceback")
@given(st.lists(st.tuples(st.text(min_size=1, max_size=30), st.binary(max_size=200)), max_size=6))
def test_payload_check_on_any_member_names(members: list[tuple[str, bytes]]) -> None:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")  # duplicate names are among the cases
        for name, data in members:
            try:
                zf.writestr(name, data)
            except (ValueError, UnicodeEncodeError, IndexError):  # names the stdlib writer itself refuses
                return
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf, contextlib.suppress(install.PayloadError):
        install.check_members(zf)


def test_the_fuzzed_inputs_include_what_must_be_refused() -> None:
    # The strategies reach the cases that matter: a reader that accepted these would be wrong.
    for key, value in (("version", "../x"), ("scripts", ["a b"]), ("format", 99), ("hooks", {"x": 1})):
        try:
            Manifest.from_dict({**GOOD, key: value})
        except ManifestError:
            continue
        raise AssertionError(f"{key}={value!r} was accepted")
    assert json.loads(json.dumps(GOOD)) == Manifest.from_dict(GOOD).to_dict()
