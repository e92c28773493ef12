"""Hostile input cannot hurt (issue 14): every byte of the file is checked, truncation anywhere is
refused, and the prefix is defended when root installs. Each case runs the real header in the jail."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from airgap_installer.cli import main
from tests.conftest import ProjectFactory, target_python
from tests.helpers import build, install, uv_in
from tests.jail import Jail

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def run_file(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path) -> Path:
    return build(tiny_project(), tmp_path / "install-tiny.run", "--python", PY)


@pytest.mark.fault("a same-length edit of a header line below `main`",
                   "exit 3 before the edited line runs; `verify` says corrupt")
def test_an_edited_header_line_is_caught(run_file: Path, jail: Jail, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # A same-length edit of a header line would run its command: the file's sha256 covers the header.
    # (An edit above main runs before any check can: only a signature checked outside the file, issue 15,
    # guards against that; docs/security.md says so.)
    data = run_file.read_bytes()
    old = b'    say "Installing $NAME $VERSION into $PREFIX (Python: $PYTHON)"'
    assert old in data
    bad = tmp_path / "edited.run"
    new = b'    echo pwned; : "$NAME $VERSION into $PREFIX (Python: $PYTHON)"'
    bad.write_bytes(data.replace(old, new.ljust(len(old)), 1))  # same length: offsets stay
    check = jail.run(["sh", str(bad), "--check"], check=False)
    assert check.returncode == 3 and "is corrupt" in check.stderr
    proc = install(jail, bad, tmp_path / "prefix", "--python", target_python(), check=False)
    assert proc.returncode == 3 and "pwned" not in proc.stdout and not (tmp_path / "prefix").exists()
    assert main(["verify", str(bad)]) == 1 and "is corrupt" in capsys.readouterr().err


@pytest.mark.fault("truncated at many offsets (every byte of the first 300, then across the file)",
                   "exit 3 with one line after line 2; sh's own syntax error inside line 2; nothing written")
def test_a_file_cut_anywhere_installs_nothing(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    data = run_file.read_bytes()
    line2_end = data.index(b"\n", data.index(b"\n") + 1) + 1
    main_at = data.index(b'\nmain "$@"; exit $?') + 1
    cuts = sorted({*range(0, 300), main_at, main_at + 5, *range(300, len(data), max(1, len(data) // 40))})
    for end in cuts:
        (tmp_path / f"cut-{end}.run").write_bytes(data[:end])
    # One jail run tries every cut: `sh FILE --prefix P -y` records its exit code and whether P appeared.
    prefix = tmp_path / "prefix"
    script = (f'for end in {" ".join(map(str, cuts))}; do\n'
              f'  sh "{tmp_path}/cut-$end.run" --prefix "{prefix}" -y --python "{target_python()}" '
              f'>/dev/null 2>"{tmp_path}/err-$end"; rc=$?\n'
              f'  [ -e "{prefix}" ] && made=made || made=none; echo "$end $rc $made"; rm -rf "{prefix}"\n'
              'done\n')
    results = {int(e): (int(rc), made) for e, rc, made in
               (line.split() for line in jail.sh(script).stdout.splitlines())}
    assert sorted(results) == cuts
    assert all(made == "none" for _, made in results.values()), "a cut file wrote the prefix"
    for end, (rc, _) in results.items():
        err = (tmp_path / f"err-{end}").read_text()
        if end >= line2_end:  # the size check on line 2 has run: the installer's own refusal
            assert rc == 3 and "is truncated" in err, (end, rc, err)
        elif end > len(b"#!/bin/sh\n"):  # inside line 2: sh fails on the half line, or its test is false
            assert rc != 0, (end, err)
        else:  # an empty file or a lone `#!/bin/sh` has no code to refuse with (docs/security.md)
            assert rc == 0 and err == ""


@pytest.mark.fault("`umask 000`",
                   "the installer sets `umask 022`: nothing it creates is writable by others "
                   "(uv's empty lock files are, by uv's design)")
def test_umask_000_leaves_nothing_world_writable(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    jail.sh(f"umask 000; sh {run_file} --prefix {prefix} -y --python {target_python()} --quiet")
    # uv makes its lock files (empty, no code) writable by all on purpose, so other users can take them.
    writable = [p for p in prefix.rglob("*")
                if not p.is_symlink() and p.lstat().st_mode & stat.S_IWOTH and not p.name.endswith(".lock")]
    assert writable == []


@pytest.mark.fault("`PREFIX/.airgap-installer` or its `lock` planted as a symlink",
                   "not followed: refused with one line")
def test_a_planted_lock_symlink_is_not_followed(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    (prefix / ".airgap-installer").mkdir(parents=True)
    (prefix / ".airgap-installer" / "lock").symlink_to(victim)
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 1 and "symbolic link" in proc.stderr
    assert victim.read_text() == "keep me\n"
    (prefix / ".airgap-installer" / "lock").unlink()
    os.rmdir(prefix / ".airgap-installer")
    (prefix / ".airgap-installer").symlink_to(tmp_path)
    proc = install(jail, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 4 and "symbolic link" in proc.stderr


@pytest.mark.fault("root, and a prefix (or a directory above it) that another user owns or may write to",
                   "exit 4 unless `--shared-prefix`")
@pytest.mark.skipif(os.geteuid() != 0, reason="only root installs into other users' prefixes")
def test_root_refuses_a_prefix_another_user_owns_or_may_write(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    os.chown(other, 1000, 1000)
    proc = install(jail, run_file, other / "app", "--python", target_python(), check=False)
    assert proc.returncode == 4 and "belongs to user 1000" in proc.stderr and "--shared-prefix" in proc.stderr
    assert not (other / "app").exists()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    proc = install(jail, run_file, shared, "--python", target_python(), check=False)
    assert proc.returncode == 4 and "may be written by other users" in proc.stderr
    install(jail, run_file, shared, "--python", target_python(), "--shared-prefix")
    assert (shared / "current").is_symlink()


@pytest.mark.fault("HOME unset (non-root), a prefix with a newline",
                   "exit 2 with one line")
def test_odd_environments_and_prefixes_get_one_line(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    proc = jail.run(["env", "-u", "HOME", "sh", str(run_file), "-y", "--python", target_python()], check=False)
    if os.geteuid() != 0:  # root's default prefix is /opt/NAME and needs no HOME
        assert proc.returncode == 2 and "HOME is not set" in proc.stderr
    proc = install(jail, run_file, tmp_path / "a\nb", "--python", target_python(), check=False)
    assert proc.returncode == 2 and "newline" in proc.stderr
    assert not (tmp_path / "a\nb").exists()


@pytest.mark.fault("`--link-bin` over another program's link",
                   "refused; the link stays")
def test_link_bin_does_not_replace_another_programs_link(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    links = tmp_path / "usr-local-bin"
    links.mkdir()
    (links / "tiny").symlink_to("/usr/bin/true")
    proc = install(jail, run_file, tmp_path / "prefix", "--python", target_python(), "--link-bin", str(links),
                   check=False)
    assert proc.returncode == 1 and "another program's" in proc.stderr
    assert os.readlink(links / "tiny") == "/usr/bin/true"


@pytest.mark.fault("a system-wide `/etc/uv/uv.toml` on the host (here: not even TOML)",
                   "the install's uv calls do not read it (UV_CONFIG_FILE: the release's own settings only)")
def test_the_hosts_system_uv_config_is_not_read_by_the_install(run_file: Path, jail: Jail, tmp_path: Path) -> None:
    """uv reads /etc/uv/uv.toml (after $XDG_CONFIG_DIRS/uv/uv.toml) and no variable moves it: the install
    gives uv the release's settings as UV_CONFIG_FILE, which makes uv read no other file. The file is
    put into this jail's /etc only (an overlay in its mount namespace), never into this machine's."""
    upper, work = tmp_path / "etc-upper", tmp_path / "etc-work"
    (upper / "uv").mkdir(parents=True)
    work.mkdir()
    (upper / "uv" / "uv.toml").write_text("this is not toml = = =\n")
    hostile = replace(jail, setup=[*jail.setup,
                                   f"mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc"])
    prefix = tmp_path / "prefix"
    proc = install(hostile, run_file, prefix, "--python", target_python(), check=False)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    # The file is there for uv in that jail: the user's own uv calls read it (their host, their config).
    said = uv_in(hostile, prefix, "run", "tiny", check=False)
    assert said.returncode != 0 and "/etc/uv/uv.toml" in said.stderr
    # Without it, plain `uv run` in the release works offline, with no environment variables.
    assert "tiny ok alpha=1.0" in uv_in(jail, prefix, "run", "tiny").stdout
