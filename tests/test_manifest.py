"""The manifest is one typed, versioned contract: the builder writes it, the runtime, inspect and verify
read it with the same checks (issue 13), and a hostile value is refused before anything is written (14)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from airgap_installer.runtime import install
from airgap_installer.runtime.manifest import FORMAT, Manifest, ManifestError
from tests.conftest import ProjectFactory
from tests.helpers import build

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A manifest as the builder writes it, for a project with a local package, forks and a hook."""
    return {
        "format": FORMAT, "name": "demo", "version": "1.2.3", "target": "cp311-x86_64-manylinux_2_28",
        "python": "3.11", "libc": "glibc", "libc_min": "2.17", "macos_min": None, "requires_python": ">=3.9",
        "uv_version": "0.13.9", "uv_wheel": "uv-0.13.9-py3-none-manylinux_2_17_x86_64.whl", "bundled_python": None,
        "tool_version": "0.1.0", "build_date": None, "scripts": ["demo"], "project_dir": "demo", "script": None,
        "modified_files": [], "default_groups": None, "sync_args": ["--extra", "yaml"],
        "pin_variants": [{"first": "3.11.0", "last": "3.11.4", "pins": ["six==1.16 --hash=sha256:" + "0" * 64]},
                         {"first": "3.11.5", "last": None, "pins": ["six==1.17 --hash=sha256:" + "1" * 64]}],
        "direct_urls": [{"name": "gitdep", "version": "0.3", "direct_url": {"url": "https://x/y.git",
                                                                             "vcs_info": {"vcs": "git"}}}],
        "packages": [{"name": "six", "version": "1.17", "action": "ship", "reason": "best wheel", "file": "six.whl"}],
        "local_packages": [{"name": "pathdep", "version": "1.0", "path": "../pathdep", "editable": True,
                            "wheel": "pathdep-1.0-py3-none-any.whl", "cache_keys": None}],
        "hooks": {"post-install": ".venv/bin/demo --selftest"},
        "base": {"name": "demo", "version": "1.2.2", "release": "1.2.2-0123456789ab",
                 "uv_wheel": "uv-0.13.9-py3-none-manylinux_2_17_x86_64.whl", "reused": ["six.whl"]},
    }


def test_round_trip(real: dict[str, Any]) -> None:
    manifest = Manifest.from_dict(real)
    assert manifest.to_dict() == real
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.pins_for((3, 11, 2)) == real["pin_variants"][0]["pins"]
    assert manifest.pins_for((3, 11, 9)) == real["pin_variants"][1]["pins"]


def test_the_builder_writes_what_the_runtime_reads(tiny_project: ProjectFactory, tmp_path: Path,
                                                   builder_cache: Path) -> None:
    run_file = build(tiny_project(), tmp_path / "t.run", "--python", PY)
    text = zipfile.ZipFile(run_file).read("manifest.json")
    assert Manifest.from_json(text).to_json().encode() == text


def broken(real: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(real))
    *parents, last = path.split(".")
    table = doc
    for part in parents:
        table = table[int(part)] if isinstance(table, list) else table[part]
    if value is KeyError:
        del table[last]
    else:
        table[last] = value
    return doc


@pytest.mark.parametrize(("path", "value", "says"), [
    ("name", KeyError, "name is missing"),
    ("surprise", 1, "unknown key surprise"),
    ("format", FORMAT + 1, "newer airgap-installer"),
    ("format", "2", "format must be a int"),
    ("pin_variants.0.pins", "six", "pin_variants[0].pins must be a list"),
    ("pin_variants.1.first", "3.11", "pin_variants[1].first '3.11' is not allowed"),
    ("version", "../../../etc", "version '../../../etc' is not allowed"),
    ("version", "1.0\n", "is not allowed"),
    ("project_dir", "/srv", "leaves the release"),
    ("project_dir", "a/../../b", "leaves the release"),
    ("local_packages.0.path", "../../../x", "leaves the release"),
    ("scripts", ["ok", "../../bin/evil"], "is not allowed"),
    ("scripts", ["$(reboot)"], "is not allowed"),
    ("scripts", ["a\nb"], "is not allowed"),
    ("name", "demo; rm -rf /", "is not allowed"),
    ("script", "../x.py", "is not allowed"),
    ("hooks", {"pre-upgrade": "x"}, "hooks.pre-upgrade"),
    ("base.reused", ["../../etc/passwd"], "base.reused entry '../../etc/passwd' is not allowed"),
    ("base.release", "../x", "base.release '../x' is not allowed"),
])
@pytest.mark.fault("unknown, missing or mistyped manifest keys, a newer format",
                   "one line naming the key")
def test_every_bad_value_is_named(real: dict[str, Any], path: str, value: Any, says: str) -> None:
    with pytest.raises(ManifestError) as err:
        Manifest.from_dict(broken(real, path, value))
    assert says in str(err.value)


@pytest.mark.fault("a manifest bomb, not JSON, a list",
                   "one line; 16 MB cap")
def test_not_json_a_bomb_and_a_list_are_refused() -> None:
    for data, says in ((b"{", "not valid JSON"), (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
                       (b" " * (17 * 1024 * 1024), "more than a manifest can be"), (b"[]", "JSON object")):
        with pytest.raises(ManifestError) as err:
            Manifest.from_json(data)
        assert says in str(err.value)


@pytest.mark.fault("a manifest value that would leave the release or reach a shell (`../`, `/abs`, newline, `$(...)`)",
                   "exit 3 before anything is written; the builder refuses to write such a file")
def test_the_runtime_refuses_a_hostile_manifest_before_writing(real: dict[str, Any], tmp_path: Path) -> None:
    crafted = tmp_path / "crafted.run"
    with zipfile.ZipFile(crafted, "w") as zf:
        zf.writestr("manifest.json", json.dumps(broken(real, "version", "../../escape")))
    prefix = tmp_path / "prefix"
    with pytest.raises(ManifestError):
        install.install(crafted, prefix=prefix, uv=tmp_path / "uv", python=sys.executable, payload_sha256="0" * 64,
                        quiet=True)
    assert not prefix.exists()


@pytest.mark.parametrize(("members", "says"), [
    ([("manifest.json", b"{}"), ("manifest.json", b"{}")], "twice"),
    ([("../../etc/cron.d/x", b"x")], "never writes"),
    ([("/abs", b"x")], "never writes"),
    ([("bomb.bin", b"\0" * (64 << 20))], "would unpack to"),
])
@pytest.mark.fault("crafted payload members: named twice, escaping (`../`, `/abs`), a deflate bomb",
                   "refused before the first file is written, also by `--extract` (exit 3)")
def test_the_runtime_refuses_a_crafted_payload_before_writing(members: list[tuple[str, bytes]], says: str,
                                                              tmp_path: Path) -> None:
    import warnings

    crafted = tmp_path / "crafted.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we write on purpose
        with zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members:
                zf.writestr(name, data)
    dest = tmp_path / "out"
    with zipfile.ZipFile(crafted) as zf, pytest.raises(install.PayloadError) as err:
        install.extract_all(zf, dest)
    assert says in str(err.value) and not dest.exists()
