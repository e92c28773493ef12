"""Trust across the gap (issue 15): a file signed with an OpenSSH key installs with --trust; unsigned,
tampered, wrongly signed and replayed older files are refused with exit 3 and nothing written; the
prefix remembers whom it trusts; `airgap-installer verify --trust` says the same from Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is missing")


def keypair(where: Path, name: str) -> tuple[Path, Path]:
    key = where / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@release", "-f", str(key)],
                   check=True)
    return key, key.with_name(key.name + ".pub")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    release, release_pub = keypair(tmp_path, "release")
    other, other_pub = keypair(tmp_path, "other")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'releases@example.org namespaces="airgap-installer" {release_pub.read_text()}')
    return {"key": release, "pub": release_pub, "allowed": allowed, "other": other, "other_pub": other_pub}


@pytest.mark.fault("a file signed by another key, unsigned, a bad signature, a replayed older version",
                   "exit 3 before anything is written; a prefix remembers whom it trusts")
def test_signed_install_and_every_refusal(tiny_project: ProjectFactory, keys: dict[str, Path], jail: Jail,
                                          tmp_path: Path, builder_cache: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(version="2.0.0")
    signed = build(project, tmp_path / "v2.run", "--python", PY, "--sign", str(keys["key"]))
    sig = signed.with_name("v2.run.sig")
    assert sig.is_file()
    # Stock OpenSSH checks it too, before anything runs.
    with signed.open("rb") as data:
        subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(keys["allowed"]), "-I", "releases@example.org",
                        "-n", "airgap-installer", "-s", str(sig)], stdin=data, check=True, capture_output=True)
    capsys.readouterr()
    assert main(["verify", str(signed), "--trust", str(keys["allowed"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signed_by"] == "releases@example.org"

    def refused(run_file: Path, trust: Path, says: str, *extra: str) -> None:
        prefix = tmp_path / "refused"
        proc = install(jail, run_file, prefix, "--python", target_python(), "--trust", str(trust), *extra,
                       check=False)
        assert proc.returncode == 3 and says in proc.stderr, proc.stderr
        assert not prefix.exists()
        capsys.readouterr()
        assert main(["verify", str(run_file), "--trust", str(trust), *extra]) == 1
        assert says.split(" ")[0] in capsys.readouterr().err

    refused(signed, keys["other_pub"], "is not signed by a key in")  # the wrong key
    unsigned = build(project, tmp_path / "unsigned.run", "--python", PY)
    refused(unsigned, keys["allowed"], "is not signed")
    tampered = tmp_path / "tampered.run"
    data = bytearray(signed.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    shutil.copy(sig, tampered.with_name("tampered.run.sig"))
    proc = install(jail, tampered, tmp_path / "refused", "--python", target_python(), "--trust", str(keys["pub"]),
                   check=False)
    assert proc.returncode == 3 and not (tmp_path / "refused").exists()

    # The right key, as allowed_signers or as a bare public key: installed, and the prefix remembers it.
    prefix = tmp_path / "opt"
    install(jail, signed, prefix, "--python", target_python(), "--trust", str(keys["pub"]))
    assert (prefix / ".airgap-installer" / "trusted_signers").read_text() == keys["pub"].read_text()
    # From now on an unsigned file is refused in this prefix even without --trust...
    proc = install(jail, unsigned, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 3 and "is not signed" in proc.stderr
    # ...and an older, genuinely signed file is a replay unless asked for.
    old = build(tiny_project(version="1.0.0", directory="tiny-old"), tmp_path / "v1.run", "--python", PY,
                "--sign", str(keys["key"]))
    proc = install(jail, old, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 3 and "older than the active 2.0.0" in proc.stderr
    assert (prefix / "current").resolve().name.startswith("2.0.0-")
    install(jail, old, prefix, "--python", target_python(), "--allow-downgrade")
    assert (prefix / "current").resolve().name.startswith("1.0.0-")


def test_the_sbom_lists_exactly_what_the_file_carries(tmp_path: Path, jail: Jail, builder_cache: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib
    import zipfile

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from tests.conftest import copy_example

    project = copy_example(tmp_path / "hello")
    run_file = build(project, tmp_path / "hello.run", "--python", PY, "--sbom")
    beside = run_file.with_name("hello.run.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(beside) is None
    assert jail.run(["sh", str(run_file), "--sbom"]).stdout == beside  # from the file itself, with only sh
    capsys.readouterr()
    assert main(["inspect", str(run_file), "--sbom"]) == 0 and capsys.readouterr().out == beside
    sbom = json.loads(beside)
    by_file = {p["value"]: c for c in sbom["components"] for p in c.get("properties", [])
               if p["name"] == "airgap-installer:file"}
    with zipfile.ZipFile(run_file) as zf:
        wheels = {n.split("/", 1)[1]: hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist()
                  if n.startswith("wheelhouse/")}
    assert set(wheels) <= set(by_file)
    for name, sha in wheels.items():
        assert by_file[name]["hashes"] == [{"alg": "SHA-256", "content": sha}]
    hello = next(c for c in sbom["components"] if c["name"] == "hello")
    assert {"name": "airgap-installer:origin", "value": "built-local"} in hello["properties"]
    assert any(c["name"] == "uv" and c["type"] == "application" for c in sbom["components"])
    assert any("licenses" in c for c in sbom["components"])  # what the wheels' metadata says
    again = build(project, tmp_path / "again.run", "--python", PY, "--sbom")
    assert again.with_name("again.run.cdx.json").read_text() == beside  # reproducible, like the file


@pytest.mark.fault("a missing or corrupt part of a split file",
                   "the part is named; the joined copy in $TMPDIR is removed, nothing else written")
def test_parts_under_a_size_install_as_one_file(tiny_project: ProjectFactory, keys: dict[str, Path], jail: Jail,
                                                tmp_path: Path, builder_cache: Path) -> None:
    # Issue 16, item 3: a file cut for a FAT32 stick or a transfer station's limit; signed as a whole.
    out = tmp_path / "dist"
    out.mkdir()
    run_file = build(tiny_project(), out / "tiny.run", "--python", PY, "--split-size", "5M",
                     "--sign", str(keys["key"]))
    parts = sorted(out.glob("tiny.run.[0-9][0-9][0-9]"))
    assert len(parts) == 4 and all(p.stat().st_size <= 5 * 1024 * 1024 for p in parts)
    assert run_file.stat().st_size < 4096  # the first part: a stub that joins the others
    if shutil.which("shellcheck"):
        check = subprocess.run(["shellcheck", "-s", "sh", str(run_file)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
    prefix = tmp_path / "opt"
    install(jail, run_file, prefix, "--python", target_python(), "--trust", str(keys["pub"]))
    assert (prefix / "current").is_symlink()
    # A corrupt or a missing part is named, and nothing is written.
    data = bytearray(parts[2].read_bytes())
    data[100] ^= 1
    parts[2].write_bytes(bytes(data))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    jail.env = {"TMPDIR": str(scratch)}
    proc = install(jail, run_file, tmp_path / "never", "--python", target_python(), check=False)
    assert proc.returncode == 3 and f"part {parts[2].name} is corrupt" in proc.stderr
    assert not list(scratch.iterdir()), "the joined copy is removed"
    parts[2].unlink()
    proc = install(jail, run_file, tmp_path / "never", "--python", target_python(), check=False)
    assert proc.returncode == 3 and f"part {parts[2].name} is missing" in proc.stderr
    assert not (tmp_path / "never").exists()
