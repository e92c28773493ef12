"""Lint the Ansible collection (ansible/) and the example playbook, as `nox -s fleet` does:

1. `ansible-galaxy collection install ansible/` into a temporary directory (no network needed);
2. `ansible-lint --offline` on the collection and docs/examples/fleet-rollout.yml (production profile);
3. `ansible-test sanity --local` on a copy laid out as ansible_collections/airgap/installer (a git
   repository, as ansible-test wants). Each sanity test with requirements runs in a venv that
   ansible-test bootstraps with a get-pip script from ci-files.testing.ansible.com; that host is out
   of reach here, so HOME gets a stand-in at the cache path ansible-test documents (pip from the
   interpreter's own ensurepip wheel runs `pip install` with the same arguments). The requirements
   themselves come from the package index pip is configured with.

    python scripts/fleet_lint.py [--home DIR]   # DIR keeps ansible-test's venvs between runs
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTION = REPO / "ansible"
PLAYBOOK = REPO / "docs" / "examples" / "fleet-rollout.yml"
GET_PIP = '''"""Stand-in for ansible-test's get-pip download (scripts/fleet_lint.py): the pip wheel bundled with
this interpreter's ensurepip runs `pip install ARGS`, which is what get-pip.py does with its own pip."""
import glob
import os
import sys

import ensurepip

sys.path.insert(0, glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))[0])
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install", *[a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]]))
'''


def run(argv: list[str], **kwargs: object) -> None:
    print("+", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def pip_versions() -> list[str]:
    """The pip versions ansible-test may ask for (its bootstrap script is named after it)."""
    import ansible_test  # installed with ansible-core

    text = (Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
    found = sorted(set(re.findall(r"\bpip='([0-9.]+)'", text)))
    if not found:
        raise SystemExit("cannot find the pip version ansible-test bootstraps (its python_requirements.py)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="HOME for ansible-test (keeps its venvs between runs)")
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="fleet-lint-") as tmp:
        work = Path(tmp)
        home = args.home or work / "home"
        env = {**os.environ, "HOME": str(home), "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"),
               "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "PYTHONWARNINGS": "ignore"}
        cache = home / ".ansible" / "test" / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        for version in pip_versions():
            (cache / f"get_pip_{version.replace('.', '_')}.py").write_text(GET_PIP)

        run(["ansible-galaxy", "collection", "install", str(COLLECTION), "-p", env["ANSIBLE_COLLECTIONS_PATH"]],
            env=env)
        run(["ansible-lint", "--offline", "--nocolor", "--profile", "production", str(COLLECTION), str(PLAYBOOK)],
            env=env, cwd=REPO)

        copy = work / "tree" / "ansible_collections" / "airgap" / "installer"
        shutil.copytree(COLLECTION, copy)
        git = ["git", "-c", "user.email=lint@example.invalid", "-c", "user.name=lint"]
        run([*git, "init", "-q"], cwd=copy)
        run([*git, "add", "-A"], cwd=copy)
        run([*git, "commit", "-qm", "sanity"], cwd=copy)
        python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        run(["ansible-test", "sanity", "--local", "--python", python, "--color", "no"], env=env, cwd=copy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
