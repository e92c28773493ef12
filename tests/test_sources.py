"""What travels to the target: the project tree and a uv.toml that keeps uv offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomlkit

from airgap_installer.errors import ProjectError
from airgap_installer.sources import offline_config, project_files


def test_project_files_skip_environments_and_caches(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", "src/p/__init__.py", ".venv/bin/python", ".git/HEAD",
                 "src/p/__pycache__/x.pyc", "dist/old.whl", "uv.toml", "p.egg-info/PKG-INFO", "out.run"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    files = {name: mode for name, _, mode in project_files(tmp_path, skip=["uv.toml"])}
    assert set(files) == {"pyproject.toml", "uv.lock", "src/p/__init__.py", "run.sh"}
    assert files["run.sh"] == 0o755 and files["uv.lock"] == 0o644


def test_tool_uv_settings_get_the_offline_settings_in_pyproject(tmp_path: Path) -> None:
    # A uv.toml would shadow [tool.uv] (uv warns on every command): ours join [tool.uv] instead.
    text = ('[project]\nname = "p"\n\n[tool.uv]\nconstraint-dependencies = ["idna<4"]  # keep me\nno-index = true\n'
            '\n[tool.uv.sources]\nidna = { index = "x" }\n')
    (tmp_path / "pyproject.toml").write_text(text)
    name, new, note = offline_config(tmp_path)
    assert name == "pyproject.toml" and note and "pyproject.toml" in note
    doc = tomlkit.parse(new).unwrap()["tool"]["uv"]
    assert doc["offline"] is True and doc["python-downloads"] == "never"
    assert doc["find-links"] == [".airgap/wheelhouse"]
    assert doc["constraint-dependencies"] == ["idna<4"] and doc["sources"] == {"idna": {"index": "x"}}
    assert "no-index" not in doc  # no-index makes uv treat the lock as stale
    assert "# keep me" in new  # the user's formatting stays


def test_a_project_without_uv_settings_gets_a_uv_toml_and_its_pyproject_stays(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.uv.sources]\nidna = { index = "x" }\n')
    name, new, note = offline_config(tmp_path)
    assert name == "uv.toml" and note is None
    assert tomlkit.parse(new).unwrap() == {"offline": True, "find-links": [".airgap/wheelhouse"],
                                           "python-downloads": "never"}


def test_existing_uv_toml_is_merged(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.uv]\ncompile-bytecode = true\n')
    (tmp_path / "uv.toml").write_text('link-mode = "copy"\nfind-links = ["/build/machine/only"]\n')
    name, new, note = offline_config(tmp_path)
    doc = tomlkit.parse(new).unwrap()
    assert name == "uv.toml" and note and doc["link-mode"] == "copy" and doc["find-links"] == [".airgap/wheelhouse"]


def test_ship_tree_holds_sibling_path_dependencies(tmp_path: Path) -> None:
    from airgap_installer.sources import ship_tree

    project = tmp_path / "src" / "demo"
    project.mkdir(parents=True)
    (tmp_path / "src" / "pathdep").mkdir()
    assert ship_tree(project, [".", "packages/member"]) == (project, ".")
    assert ship_tree(project, [".", "../pathdep"]) == (tmp_path / "src", "demo")


def test_in_a_git_work_tree_ignored_files_stay_home(tmp_path: Path) -> None:
    import subprocess

    for name in ("pyproject.toml", "uv.lock", "src/p/__init__.py", "secret.env", "data/big.csv", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / ".gitignore").write_text("secret.env\ndata/\nuv.lock\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "pyproject.toml", "src", ".gitignore"], check=True)
    names = {name for name, _, _ in project_files(tmp_path)}
    # Tracked, untracked-but-not-ignored, and the files uv needs even when ignored; never ignored ones.
    assert names == {".gitignore", "pyproject.toml", "uv.lock", "src/p/__init__.py", "notes.txt"}


def test_wheels_the_lock_installs_by_path_travel_whatever_the_exclusions(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "dist/vendored-1.0-py3-none-any.whl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    wheel = tmp_path / "dist" / "vendored-1.0-py3-none-any.whl"
    assert "dist/vendored-1.0-py3-none-any.whl" not in {n for n, _, _ in project_files(tmp_path)}
    assert "dist/vendored-1.0-py3-none-any.whl" in {n for n, _, _ in project_files(tmp_path, also=[wheel])}
    wheel.unlink()
    with pytest.raises(ProjectError, match="vendored-1.0-py3-none-any.whl is missing"):
        project_files(tmp_path, also=[wheel])


def test_git_tracked_directories_named_like_build_output_travel(tmp_path: Path) -> None:
    # Exclusions by name apply outside git only: in git, git decides (issue 13, defect 1).
    import subprocess

    for name in ("pyproject.toml", "src/pkg/__init__.py", "src/pkg/build/steps.py", "src/pkg/venv/helper.py",
                 "dist/keep.txt", ".venv/bin/python", "notes/ignored.log"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / ".gitignore").write_text(".venv/\n*.log\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    names = {name for name, _, _ in project_files(tmp_path)}
    assert {"src/pkg/build/steps.py", "src/pkg/venv/helper.py", "dist/keep.txt"} <= names
    assert ".venv/bin/python" not in names and "notes/ignored.log" not in names
    assert not any(n.startswith(".git/") for n in names)


@pytest.mark.fault("(build host) a symlink out of the project, or to a file git ignores",
                   "the build refuses it with one line")
def test_symlinks_travel_only_as_files_of_the_project(tmp_path: Path) -> None:
    # Issue 14, item 10: a link out of the project, or to a file git ignores, would carry a secret along.
    import subprocess

    secret = tmp_path / "outside-secret"
    secret.write_text("root:x:0:0\n")
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (project / "src" / "real.txt").write_text("ok\n")
    (project / "src" / "alias.txt").symlink_to("real.txt")
    assert {n for n, _, _ in project_files(project)} == {"pyproject.toml", "src/real.txt", "src/alias.txt"}
    (project / "notes.txt").symlink_to(secret)
    with pytest.raises(ProjectError, match="outside the project"):
        project_files(project)
    (project / "notes.txt").unlink()
    (project / ".env").write_text("TOKEN=1\n")
    (project / ".gitignore").write_text(".env\n")
    (project / "env-link").symlink_to(".env")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    with pytest.raises(ProjectError, match="which git ignores"):
        project_files(project)


@pytest.mark.fault("(build host) a file name that is not UTF-8",
                   "the build refuses it")
def test_a_file_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("x")
    with pytest.raises(ProjectError, match="not UTF-8"):
        project_files(tmp_path)


def test_the_installers_config_holds_the_projects_settings_rebased_to_airgap(tmp_path: Path) -> None:
    """`.airgap/uv.toml` (the installer's UV_CONFIG_FILE): the settings uv finds in the release, with the
    keys only a pyproject.toml may hold left out and relative index and find-links paths rebased, as uv
    resolves them against the file's own directory."""
    from airgap_installer.sources import installer_config

    pyproject = ('[project]\nname = "p"\n[tool.uv]\nresolution = "lowest-direct"\nfind-links = [".airgap/wheelhouse"]\n'
                 'extra-index-url = ["vendor/simple", "https://mirror.example/simple"]\n'
                 '[tool.uv.sources]\nidna = { index = "x" }\n'
                 '[[tool.uv.index]]\nname = "x"\nurl = "http://127.0.0.1:9/simple"\n'
                 '[[tool.uv.index]]\nname = "y"\nurl = "local/index"\n')
    doc = tomlkit.parse(installer_config("pyproject.toml", pyproject)).unwrap()
    assert doc == {"resolution": "lowest-direct", "find-links": ["../.airgap/wheelhouse"],
                   "extra-index-url": ["../vendor/simple", "https://mirror.example/simple"],
                   "index": [{"name": "x", "url": "http://127.0.0.1:9/simple"}, {"name": "y", "url": "../local/index"}]}
    uv_toml = ('offline = true\nfind-links = [".airgap/wheelhouse", "/abs/wheels", "C:\\\\wheels"]\n'
               '[pip]\nindex-url = "idx"\n')
    doc = tomlkit.parse(installer_config("uv.toml", uv_toml)).unwrap()
    assert doc == {"offline": True, "find-links": ["../.airgap/wheelhouse", "/abs/wheels", "C:\\wheels"],
                   "pip": {"index-url": "../idx"}}
