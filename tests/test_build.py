"""The builder: clear one-line errors with a hint, a warm cache that needs no network, inspect/verify."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from airgap_installer.auth import index_credentials
from airgap_installer.cache import Cache
from airgap_installer.cli import main
from airgap_installer.project import load_project
from airgap_installer.uvbin import builder_uv
from tests.conftest import ProjectFactory
from tests.helpers import build, dry_run_row
from tests.index import LocalIndex, make_wheel

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_missing_lock_says_run_uv_lock(tiny_project: ProjectFactory, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    (project / "uv.lock").unlink()
    rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "x.run"))
    assert rc == 1
    assert err.splitlines()[0].startswith("ERROR no uv.lock in")
    assert "TIP run `uv lock`" in err
    assert not (tmp_path / "x.run").exists()


def test_stale_lock_is_an_error_not_a_silent_relock(tiny_project: ProjectFactory, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    before = (project / "uv.lock").read_bytes()
    assert run_cli(capsys, "build", str(project), "--dry-run")[0] == 0  # the export is now memoized
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha", ', '"alpha", "gamma", '))
    rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "x.run"))
    assert rc == 1 and "uv.lock is out of date" in err and "TIP run `uv lock`" in err
    assert (project / "uv.lock").read_bytes() == before


def test_not_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(capsys, "build", str(tmp_path))
    assert rc == 1 and "no pyproject.toml" in err


def test_python_outside_requires_python(tiny_project: ProjectFactory, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(capsys, "build", str(tiny_project()), "--python", "3.8", "-o", str(tmp_path / "x.run"))
    assert rc == 2 and "outside requires-python >=3.9" in err  # a usage error: exit 2, as argparse's


def test_an_os_error_is_one_line_not_a_traceback(tiny_project: ProjectFactory, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("")
    rc, _, err = run_cli(capsys, "build", str(tiny_project()), "-o", str(tmp_path / "a-file" / "x.run"))
    assert rc == 2 and err.startswith("ERROR ") and "a-file is a file" in err and "TIP " in err
    assert "Traceback" not in err


def test_configuration_is_checked_before_any_download(tiny_project: ProjectFactory, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    project = tiny_project(extra_toml='\n[tool.airgap-installer]\nlicense = "LICENSE.txt"\n')

    def no_downloads(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be fetched before the configuration is checked")

    monkeypatch.setattr("airgap_installer.assemble.fetch", no_downloads)
    monkeypatch.setattr("airgap_installer.assemble.build_wheels", no_downloads)
    rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY)
    assert rc == 2 and "license: cannot read" in err
    rc, _, err = run_cli(capsys, "build", str(project), "--dry-run", "--python", PY)
    assert rc == 2 and "license: cannot read" in err


def test_an_unexpected_error_says_internal_error(tiny_project: ProjectFactory, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("airgap_installer.assemble.source_tree", broken)
    rc, _, err = run_cli(capsys, "build", str(tiny_project()), "--dry-run")
    assert rc == 1 and "ERROR internal error: RuntimeError: boom" in err and "rerun with -v" in err
    with pytest.raises(RuntimeError):
        main(["-v", "build", str(tiny_project(directory="again")), "--dry-run"])


def test_inspect_into_a_closed_pipe_is_quiet(tiny_project: ProjectFactory, tmp_path: Path) -> None:
    import subprocess
    import sys

    run_file = build(tiny_project(), tmp_path / "p.run", "--python", PY)
    # `true` leaves before the first line is written: every write meets a closed pipe.
    proc = subprocess.run(f"{sys.executable} -m airgap_installer inspect {run_file} | true", shell=True,
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    out = subprocess.run([sys.executable, "-m", "airgap_installer", "inspect", str(run_file)], capture_output=True,
                         text=True).stdout
    assert "build_date:      unset (reproducible build)" in out or "build_date:" in out and "None" not in out


def test_platform_without_wheels_lists_the_package(tiny_project: ProjectFactory, local_index: LocalIndex,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.index import make_wheel

    make_wheel(local_index.files, "nativeonly", "1.0", tag="cp312-cp312-manylinux_2_28_x86_64")
    local_index.publish()
    project = tiny_project(deps=("alpha", "nativeonly"))
    rc, _, err = run_cli(capsys, "build", str(project), "--python", "3.12", "--python-platform",
                         "aarch64-manylinux_2_28", "-o", str(tmp_path / "x.run"))
    assert rc == 1
    assert "nothing installable for cp312-aarch64-manylinux_2_28: nativeonly 1.0" in err
    assert not (tmp_path / "x.run").exists()


def test_warm_cache_builds_offline_and_cold_offline_names_what_is_missing(
        tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path, local_index: LocalIndex,
        capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    cold = tmp_path / "cold-cache"
    rc, _, err = run_cli(capsys, "build", str(project), "--python", PY, "--offline", "--cache-dir", str(cold),
                         "-o", str(tmp_path / "x.run"))
    assert rc == 1 and "--offline" in err and "alpha-1.0-py3-none-any.whl" in err
    online = build(project, tmp_path / "a.run", "--python", PY)
    port = local_index.port
    local_index.stop()  # the index is gone: only the cache can serve the second build
    try:
        offline = build(project, tmp_path / "b.run", "--python", PY, "--offline")
        # A new version of the project itself is built here, offline: its wheel joins the cache.
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "1.0.1"'))
        (project / "uv.lock").write_text((project / "uv.lock").read_text().replace(
            'name = "tiny"\nversion = "1.0.0"', 'name = "tiny"\nversion = "1.0.1"'))
        bumped = build(project, tmp_path / "c.run", "--python", PY, "--offline")
    finally:
        local_index.start(port)
    assert online.read_bytes() == offline.read_bytes()
    with zipfile.ZipFile(bumped) as zf:
        assert "wheelhouse/tiny-1.0.1-py3-none-any.whl" in zf.namelist()


def test_inspect_and_verify(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    run_file = build(tiny_project(), tmp_path / "i.run", "--python", PY)
    capsys.readouterr()
    rc, out, _ = run_cli(capsys, "inspect", str(run_file), "--json")
    report = json.loads(out)
    assert rc == 0 and report["name"] == "tiny" and report["uv_version"] == "0.13.9"
    assert any(p.startswith("alpha==1.0 --hash=sha256:") for p in report["pin_variants"][0]["pins"])
    rc, out, _ = run_cli(capsys, "verify", str(run_file))
    assert rc == 0 and out.startswith(f"{run_file}: OK")


def test_tool_config_gives_defaults(tiny_project: ProjectFactory, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(extra_toml=f'\n[tool.airgap-installer]\npython = "{PY}"\nno-dev = true\n')
    rc, out, _ = run_cli(capsys, "build", str(project), "--dry-run")
    assert rc == 0 and out.startswith(f"cp{PY.replace('.', '')}-")
    assert "devtool" not in out and dry_run_row(out, "ship", "alpha")
    rc, out, _ = run_cli(capsys, "build", str(project), "--dry-run", "--group", "dev")
    assert dry_run_row(out, "ship", "devtool")  # a selection on the command line replaces the configured one


def test_unknown_tool_config_key(tiny_project: ProjectFactory, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(extra_toml='\n[tool.airgap-installer]\nbundle_python = true\n')
    rc, _, err = run_cli(capsys, "build", str(project), "--dry-run")
    assert rc == 1 and "unknown key(s) in [tool.airgap-installer]: bundle_python" in err


def test_unchanged_inputs_skip_the_uv_export(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    project = tiny_project()
    first = build(project, tmp_path / "a.run", "--python", PY)
    monkeypatch.setenv("AIRGAP_INSTALLER_UV", "/bin/false")  # any uv call would now fail
    second = build(project, tmp_path / "b.run", "--python", PY)
    assert first.read_bytes() == second.read_bytes()
    (project / "uv.lock").write_text((project / "uv.lock").read_text() + "\n")  # an input changed
    with pytest.raises(AssertionError):
        build(project, tmp_path / "c.run", "--python", PY)


def test_a_private_index_is_reached_with_the_credentials_uv_uses(tmp_path: Path, builder_cache: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    index = LocalIndex(tmp_path / "private", auth=("builder", "s3cret"))
    index.files.mkdir(parents=True)
    make_wheel(index.files, "privpkg", "1.0", body="SECRET = True")
    index.publish()
    index.start()
    try:
        project = tmp_path / "proj"
        (project / "src" / "proj").mkdir(parents=True)
        (project / "src" / "proj" / "__init__.py").write_text("")
        (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
            [project]
            name = "proj"
            version = "1.0"
            requires-python = ">=3.9"
            dependencies = ["privpkg"]
            [build-system]
            requires = ["uv_build>=0.13,<0.14"]
            build-backend = "uv_build"
            [[tool.uv.index]]
            name = "corp-private"
            url = "{index.url}"
            default = true
            """))
        creds = {"UV_INDEX_CORP_PRIVATE_USERNAME": "builder", "UV_INDEX_CORP_PRIVATE_PASSWORD": "s3cret"}
        subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True,
                       env={**os.environ, **creds, "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
        monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))

        # No credentials: one line naming the status, and where credentials go.
        rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "a.run"), "--python", PY)
        assert rc == 1 and "HTTP 401" in err and "UV_INDEX_<NAME>_USERNAME" in err
        # uv's environment variables for the named index.
        for name, value in creds.items():
            monkeypatch.setenv(name, value)
        build(project, tmp_path / "b.run", "--python", PY)
        # Or a netrc entry for the host, and nothing in the environment (the wheel leaves the cache).
        wheel = next(index.files.glob("privpkg-*.whl"))
        Cache(builder_cache).path(hashlib.sha256(wheel.read_bytes()).hexdigest()).unlink()
        for name in creds:
            monkeypatch.delenv(name)
        (tmp_path / "netrc").write_text("machine 127.0.0.1 login builder password s3cret\n")
        monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
        build(project, tmp_path / "c.run", "--python", PY)
        assert (tmp_path / "b.run").read_bytes() == (tmp_path / "c.run").read_bytes()
        # Neither the environment's nor netrc's password is in the file (issue 15, item 6).
        assert b"s3cret" not in (tmp_path / "b.run").read_bytes()
    finally:
        index.stop()


def test_credentials_go_only_to_their_own_host() -> None:
    creds = index_credentials([("corp", "https://pkgs.corp.example/simple")],
                              {"UV_INDEX_CORP_USERNAME": "u", "UV_INDEX_CORP_PASSWORD": "p", "NETRC": "/nonexistent"})
    assert creds.header("https://pkgs.corp.example/files/x.whl") == "Basic dTpw"
    assert creds.header("https://pkgs.corp.example:443/files/x.whl") == "Basic dTpw"
    assert creds.header("http://pkgs.corp.example/files/x.whl") is None  # another scheme
    assert creds.header("https://files.pythonhosted.org/x.whl") is None
    # Credentials written in the index URL count too; the environment wins over them.
    in_url = index_credentials([("corp", "https://u%40corp:p@pkgs.corp.example/simple")], {"NETRC": "/nonexistent"})
    assert in_url.header("https://pkgs.corp.example/x.whl") == "Basic dUBjb3JwOnA="
    both = index_credentials([("corp", "https://url:url@pkgs.corp.example/simple")],
                             {"UV_INDEX_CORP_USERNAME": "u", "UV_INDEX_CORP_PASSWORD": "p", "NETRC": "/nonexistent"})
    assert both.header("https://pkgs.corp.example/x.whl") == "Basic dTpw"


def test_indexes_are_named_in_pyproject_or_in_the_projects_uv_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[[tool.uv.index]]\nname = "a"\n'
                                             'url = "https://a.example/simple"\n')
    (tmp_path / "uv.toml").write_text('[[index]]\nname = "b"\nurl = "https://b.example/simple"\n')
    assert load_project(tmp_path).indexes == (("a", "https://a.example/simple"), ("b", "https://b.example/simple"))


def test_a_failing_uv_keeps_its_error_and_causes() -> None:
    from airgap_installer.uvbin import uv_failure

    noise = "\n".join(f"compiling module {i}" for i in range(300))
    output = f"{noise}\nerror: Failed to build `demo @ file:///x`\n  Caused by: The build backend failed\n" \
             f"{noise}\nhint: install the headers\n"
    said = uv_failure(output)
    assert "error: Failed to build" in said and "Caused by: The build backend failed" in said and "hint:" in said
    assert "compiling module" not in said
    assert uv_failure("just one line") == "just one line"


def test_an_unreachable_git_remote_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 11, item 5: the tip is about reaching the remote, not about the target platform.
    import subprocess

    from airgap_installer.uvbin import builder_uv

    repo = tmp_path / "gitdep"
    (repo / "src" / "gitdep").mkdir(parents=True)
    (repo / "src" / "gitdep" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text('[project]\nname = "gitdep"\nversion = "1"\nrequires-python = ">=3.9"\n'
                                         '[build-system]\nrequires = ["uv_build>=0.13,<0.14"]\n'
                                         'build-backend = "uv_build"\n')
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "one"], check=True)
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.9"\ndependencies = ["gitdep"]\n'
        f'[tool.uv.sources]\ngitdep = {{ git = "{repo.as_uri()}" }}\n')
    subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True)
    repo.rename(tmp_path / "moved-away")
    rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY)
    assert rc == 1 and "gitdep: cannot check out" in err
    assert "reach the git remote" in err and "matches the target" not in err


@pytest.mark.fault("(build host) `license`/`output` outside the project",
                   "refused (exit 2)")
def test_config_paths_stay_inside_the_project(tiny_project: ProjectFactory, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(extra_toml='\n[tool.airgap-installer]\nlicense = "/etc/passwd"\n')
    rc, _, err = run_cli(capsys, "build", str(project), "--dry-run", "--python", PY)
    assert rc == 2 and "license = '/etc/passwd' is outside the project" in err
    project = tiny_project(directory="out", extra_toml='\n[tool.airgap-installer]\noutput = "../../elsewhere.run"\n')
    rc, _, err = run_cli(capsys, "build", str(project), "--python", PY)
    assert rc == 2 and "output = '../../elsewhere.run' is outside the project" in err


@pytest.mark.fault("(build host) a console-script name the target would refuse",
                   "refused at build time")
def test_a_console_script_name_the_target_would_refuse_is_refused_here(
        tiny_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('tiny = "tiny.cli:main"', '"tiny $(reboot)" = "tiny.cli:main"'))
    rc, _, err = run_cli(capsys, "build", str(project), "-o", str(tmp_path / "x.run"), "--python", PY)
    # uv_build refuses the name itself; with a backend that takes it, the manifest check refuses it.
    assert rc == 1 and "tiny $(reboot)" in err and "Traceback" not in err
    assert not (tmp_path / "x.run").exists()


def test_no_credential_leaves_the_build_machine(tmp_path: Path, builder_cache: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 15, item 6: each kind of credential the builder may use is searched for in every byte of the
    # file, in what inspect and --dry-run print, and in the -v log.
    import logging

    index = LocalIndex(tmp_path / "private", auth=("builder", "pw-in-url-7f3a"))
    index.files.mkdir(parents=True)
    make_wheel(index.files, "privpkg", "1.0")
    index.publish()
    index.start()
    try:
        secret_url = index.url.replace("http://", "http://builder:pw-in-url-7f3a@")
        for where in ("pyproject", "uv.toml"):
            project = tmp_path / where
            (project / "src" / "proj").mkdir(parents=True)
            (project / "src" / "proj" / "__init__.py").write_text("")
            index_toml = f'[[index]]\nname = "corp"\nurl = "{secret_url}"\ndefault = true\n'
            text = ('[project]\nname = "proj"\nversion = "1.0"\nrequires-python = ">=3.9"\ndependencies = ["privpkg"]\n'
                    '[build-system]\nrequires = ["uv_build>=0.13,<0.14"]\nbuild-backend = "uv_build"\n')
            if where == "pyproject":
                text += index_toml.replace("[[index]]", "[[tool.uv.index]]")
            else:
                (project / "uv.toml").write_text(index_toml)
            (project / "pyproject.toml").write_text(text)
            subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True,
                           env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
            capsys.readouterr()
            logging.getLogger().setLevel(logging.DEBUG)
            run_file = build(project, tmp_path / f"{where}.run", "--python", PY, "--cache-dir", str(tmp_path / where))
            assert main(["inspect", str(run_file), "--json"]) == 0
            assert main(["build", str(project), "--dry-run", "--python", PY]) == 0
            said = capsys.readouterr()
            assert b"pw-in-url-7f3a" not in run_file.read_bytes()
            assert "pw-in-url-7f3a" not in said.out + said.err
            names = zipfile.ZipFile(run_file).namelist()
            assert "wheelhouse/privpkg-1.0-py3-none-any.whl" in names
    finally:
        logging.getLogger().setLevel(logging.WARNING)
        index.stop()


def test_inspect_shows_hooks_and_never_sends_control_characters(tiny_project: ProjectFactory, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(extra_toml='\n[tool.airgap-installer]\npost-install = "echo \\u001b]0;owned\\u0007 done"\n')
    run_file = build(project, tmp_path / "h.run", "--python", PY)
    capsys.readouterr()
    assert main(["inspect", str(run_file)]) == 0
    out = capsys.readouterr().out
    assert "post-install:" in out and "\x1b" not in out and "\\x1b" in out


def test_dynamic_dependencies_of_a_local_package_are_refused_before_anything_is_fetched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """setuptools' `dependencies = {file = ...}` (or a metadata hook): uv on the target would have to run
    the build backend to check uv.lock, offline; tried: the install failed at `uv sync --locked`. The build
    refuses it, and --dry-run names it as a PROBLEM. A dynamic version alone is fine (other tests)."""
    project = tmp_path / "dyn"
    (project / "src" / "dyn").mkdir(parents=True)
    (project / "src" / "dyn" / "__init__.py").write_text("")
    (project / "requirements.txt").write_text("")
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "dyn"
        version = "0.1.0"
        requires-python = ">=3.9"
        dynamic = ["dependencies"]
        [tool.setuptools.dynamic]
        dependencies = {file = ["requirements.txt"]}
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        """))
    subprocess.run([builder_uv(), "lock", "-q", "--project", str(project)], check=True)
    out = tmp_path / "dyn.run"
    assert main(["build", str(project), "-o", str(out), "--cache-dir", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "dyn (dependencies): dynamic in pyproject.toml" in err and "TIP list them in [project]" in err
    assert not out.exists()
    assert main(["build", str(project), "-o", str(out), "--dry-run"]) != 0
    assert "PROBLEM dyn (dependencies)" in capsys.readouterr().out
