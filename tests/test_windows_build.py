"""The Windows target on the build side (issue 19), with the local index: what `--dry-run`, `inspect`,
`verify` and the file's own `--info`/`--check` say, refusals made up front, and reproducible bytes.
Installing under Wine is tests/test_e2e_windows.py."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from airgap_installer.cli import main
from airgap_installer.errors import PlanError
from airgap_installer.lock import parse_pylock
from airgap_installer.plan import make_plan
from airgap_installer.target import make_target
from tests.conftest import ProjectFactory
from tests.helpers import build, dry_run_row
from tests.test_plan import NATIVE

WIN = ("--python", "3.13", "--python-platform", "windows")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def cmd_file(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> Path:
    return build(tiny_project(), tmp_path / "dist" / "tiny.cmd", *WIN)


def test_dry_run_shows_the_windows_target_and_its_marker_verdicts(tiny_project: ProjectFactory,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(capsys, "build", str(tiny_project()), "--dry-run", *WIN)
    assert rc == 0
    assert "cp313-x86_64-pc-windows-msvc" in out
    assert "uv 0.13.9 for x86_64-pc-windows-msvc" in out
    assert dry_run_row(out, "ship", "winonly")  # `sys_platform == 'win32'`: true for this target only
    rc, out, _ = run_cli(capsys, "build", str(tiny_project(directory="again")), "--dry-run", "--python", "3.13")
    assert dry_run_row(out, "skip", "winonly")


def test_the_file_is_a_cmd_bootstrap_then_a_zip_and_inspect_and_verify_read_it(
        cmd_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = cmd_file.read_bytes()
    head = data[:data.index(b"PK\x03\x04")]
    assert head.startswith(b"@echo off\r\n") and b"\n" not in head.replace(b"\r\n", b"")  # CRLF only
    names = zipfile.ZipFile(cmd_file).namelist()
    assert {"bin/uv.exe", "__main__.py", "airgap_runtime/winmain.py", "manifest.json"} <= set(names)
    assert "wheelhouse/winonly-1.0-py3-none-any.whl" in names
    assert b"airgap_runtime.winmain" in zipfile.ZipFile(cmd_file).read("__main__.py")
    rc, out, _ = run_cli(capsys, "inspect", str(cmd_file))
    assert rc == 0 and "cp313-x86_64-pc-windows-msvc" in out
    rc, out, _ = run_cli(capsys, "verify", str(cmd_file))
    assert rc == 0 and ": OK (tiny 1.0.0 for cp313-x86_64-pc-windows-msvc" in out
    damaged = cmd_file.with_name("damaged.cmd")
    damaged.write_bytes(data[:-200] + bytes([data[-200] ^ 1]) + data[-199:])
    rc, _, err = run_cli(capsys, "verify", str(damaged))
    assert rc != 0 and "is corrupt: sha256" in err


def test_the_runtime_reads_its_own_file_anywhere_but_installs_only_on_windows(cmd_file: Path, tmp_path: Path) -> None:
    """The zip runs with any CPython (`python -I FILE.cmd`): --info and --check work here; an install
    is refused with exit 4 and nothing written."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", str(cmd_file), *args], capture_output=True, text=True)

    info = run("--info")
    assert info.returncode == 0 and "tiny 1.0.0: offline installer for cp313-x86_64-pc-windows-msvc" in info.stdout
    assert "ship   winonly 1.0" in info.stdout
    assert run("--check").returncode == 0
    proc = run("--prefix", str(tmp_path / "p"), "-y")
    assert proc.returncode == 4 and "this installer is for Windows" in proc.stderr
    assert not (tmp_path / "p").exists()
    assert run("--bogus").returncode == 2


def test_two_windows_builds_are_byte_identical(tiny_project: ProjectFactory, tmp_path: Path,
                                                builder_cache: Path) -> None:
    project = tiny_project()
    a = build(project, tmp_path / "a" / "install.cmd", *WIN)
    b = build(project, tmp_path / "b" / "install.cmd", *WIN)
    assert a.read_bytes() == b.read_bytes()


def test_default_name_carries_the_cmd_extension(tiny_project: ProjectFactory, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, builder_cache: Path) -> None:
    project = tiny_project()
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run_cli(capsys, "build", str(project), *WIN)
    assert rc == 0
    assert (tmp_path / "dist" / "install-tiny-cp313-x86_64-pc-windows-msvc.cmd").is_file()
    assert "install with (cmd.exe): install-tiny-cp313-x86_64-pc-windows-msvc.cmd --prefix" in out


@pytest.mark.parametrize("flags", [("--bundle-python",), ("--split-size", "4G")])
def test_what_windows_cannot_do_yet_is_refused_up_front(tiny_project: ProjectFactory, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str], flags: tuple[str, ...]
                                                        ) -> None:
    rc, _, err = run_cli(capsys, "build", str(tiny_project()), "-o", str(tmp_path / "x.cmd"), *WIN, *flags)
    assert rc != 0 and "a Windows installer cannot do this yet" in err
    assert not (tmp_path / "x.cmd").exists()


def test_native_sdists_are_refused_for_windows_and_pure_ones_built() -> None:
    # This Linux machine cannot compile for Windows: packages whose wheels are all for other platforms
    # are refused before anything is downloaded; an sdist-only package is built here (a pure wheel).
    with pytest.raises(PlanError) as err:
        make_plan(parse_pylock(NATIVE), make_target("3.12", "windows"), can_compile=False)
    assert "fastthing 1.0: wheels only for" in str(err.value) and "puresdist" not in str(err.value)


def test_a_bundled_python_makes_a_zip_with_install_cmd_the_installer_and_the_interpreter(
        tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> None:
    fake = tmp_path / "python-3.13.2-embed-amd64.zip"  # named as python.org names it; the content is a stand-in
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("python.exe", b"MZ stand-in")
        zf.writestr("python313._pth", b"python313.zip\r\n.\r\n")
    project = tiny_project()
    args = (*WIN, "--python-archive", str(fake))
    a = build(project, tmp_path / "a" / "tiny.zip", *args)
    b = build(project, tmp_path / "b" / "tiny.zip", *args)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert sorted(zf.namelist()) == ["tiny/install.cmd", "tiny/python/python.exe", "tiny/python/python313._pth",
                                         "tiny/tiny.cmd"]
        launcher = zf.read("tiny/install.cmd").decode()
        inner = zf.read("tiny/tiny.cmd")
    assert '"%~dp0tiny.cmd" --python "%~dp0python\\python.exe" --bundled-python %*\r\n' in launcher
    assert inner.startswith(b"@echo off\r\n")
    manifest = zipfile.ZipFile(io.BytesIO(inner)).read("manifest.json")
    assert b'"bundled_python": "cpython-3.13.2-windows-x86_64-none"' in manifest
    assert main(["verify", str(a)]) == 0 and main(["inspect", str(a)]) == 0  # the installer inside is checked
    wrong = tmp_path / "python-3.12.9-embed-amd64.zip"
    wrong.write_bytes(fake.read_bytes())
    assert main(["build", str(project), "-o", str(tmp_path / "c.zip"), *WIN, "--python-archive", str(wrong)]) != 0


def test_arm64_windows_carries_the_arm64_uv(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> None:
    """aarch64-pc-windows-msvc is built (nothing here runs it): uv's win_arm64 binary, win_arm64 tags."""
    out = build(tiny_project(), tmp_path / "arm.cmd", "--python", "3.13",
                "--python-platform", "aarch64-pc-windows-msvc")
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["target"] == "cp313-aarch64-pc-windows-msvc"
    assert manifest["uv_wheel"] == "uv-0.13.9-py3-none-win_arm64.whl"
    assert zipfile.ZipFile(out).getinfo("bin/uv.exe").file_size > 10_000_000


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is missing")
def test_a_signed_windows_file_verifies_with_stock_ssh_keygen(tiny_project: ProjectFactory, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              builder_cache: Path) -> None:
    """`--sign` for a Windows target: FILE.cmd.sig over every byte of the .cmd, what the installer's
    `--trust` hands to ssh-keygen.exe on the host (runtime/signature.py); here Linux's ssh-keygen checks
    the same bytes, through `verify` and the runtime's own `signer`. A bundle (.zip) is still refused."""
    from airgap_installer.runtime.signature import SignatureError, signer

    key = tmp_path / "release"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release@example", "-f", str(key)], check=True)
    project = tiny_project()
    out = build(project, tmp_path / "tiny.cmd", *WIN, "--sign", str(key))
    assert out.with_name("tiny.cmd.sig").is_file()
    capsys.readouterr()
    assert main(["verify", str(out), "--trust", str(key) + ".pub", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signed_by"] == "signer"
    assert signer(out, Path(str(key) + ".pub")) == "signer"
    tampered = tmp_path / "tampered.cmd"
    tampered.write_bytes(out.read_bytes() + b"x")
    tampered.with_name("tampered.cmd.sig").write_bytes(out.with_name("tiny.cmd.sig").read_bytes())
    with pytest.raises(SignatureError) as err:
        signer(tampered, Path(str(key) + ".pub"))
    assert err.value.exit_code == 3 and "does not match its signature" in str(err.value)
    rc, _, said = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "b.zip"), *WIN, "--sign",
                          str(key), "--python-archive", str(tmp_path / "python-3.13.2-embed-amd64.zip"))
    assert rc != 0 and "--sign with --python-archive" in said
