"""`nox -s bench`: build and install side by side with uv and a hand recipe; prints a Markdown table.

Usage: python scripts/bench.py [--runs 3] [--projects example,large] [--out docs/benchmarks.md]

Measured in one run on this machine, best of N:
- uv sync --frozen, cold (empty uv cache) and warm (warm cache, fresh venv);
- our cold build (empty artifact cache) and warm build (--offline);
- the floor of a warm build: sha256sum + cat of the same bytes;
- our install (the .run, all checks included) and the hand recipe over the same file: sha256sum it,
  unzip it, uv venv, uv pip install --offline --no-index --no-deps of every wheel, the project editable;
  interleaved, on the disk and on a tmpfs (this VM's disk write-back makes single runs vary 2x);
- the file size against the sum of the wheels plus gzip -6 of the uv binary;
- the builder's peak memory (max RSS of the build process).
"""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from airgap_installer.uvbin import builder_uv  # noqa: E402

UV = builder_uv()
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
BASE_PYTHON = str(Path(sys.base_prefix) / "bin" / f"python{PY}")
LARGE = ["jupyterlab", "pandas", "scipy", "scikit-learn", "matplotlib", "fastapi", "uvicorn", "sqlalchemy",
         "boto3", "httpx", "rich", "pydantic", "polars", "pyarrow", "sympy", "django", "flask", "celery", "alembic",
         "statsmodels", "seaborn", "plotly", "dash", "bokeh", "sphinx", "pytest"]  # ~190 packages
XL = [*LARGE, "google-cloud-storage", "azure-storage-blob", "black", "ruff", "mypy", "mkdocs-material",
      "opentelemetry-sdk", "grpcio-tools", "kubernetes", "ansible-core", "pillow", "opencv-python-headless",
      "networkx", "numba", "xarray", "dask[complete]", "streamlit", "langchain-core", "transformers"]  # ~280


def run(argv: list[str], **kwargs: object) -> None:
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise SystemExit(f"failed: {argv[:4]}...\n{proc.stderr[-2000:]}")


def best(runs: int, setup: Callable[[], None], action: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        setup()
        os.sync()  # the previous run's dirty pages must not be written back during this one
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def generated_project(root: Path, name: str, dependencies: list[str], extra: str = "") -> Path:
    project = root / name
    (project / "src" / name).mkdir(parents=True)
    (project / "src" / name / "__init__.py").write_text("")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "{name}"
        version = "1.0"
        requires-python = ">={PY}"
        dependencies = [{deps}]
        [build-system]
        requires = ["uv_build>=0.13,<0.14"]
        build-backend = "uv_build"
        """) + extra)
    run([UV, "lock", "--quiet", "--project", str(project)])
    return project


def peak_rss_mb(argv: list[str]) -> float:
    """Peak RSS of the biggest process in argv's tree, measured by a fresh wrapper process."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def big_wheel_rss(root: Path, size: int = 1 << 30) -> float:
    """Peak RSS (MB) of a build whose one dependency is a `size`-byte wheel, served on 127.0.0.1."""
    from tests.index import LocalIndex

    index = LocalIndex(root / "index")
    index.files.mkdir(parents=True)
    blob = root / "blob.bin"
    sha = hashlib.sha256()
    with blob.open("wb") as f:
        for _ in range(size // (1 << 24)):
            chunk = os.urandom(1 << 24)
            sha.update(chunk)
            f.write(chunk)
    digest = base64.urlsafe_b64encode(sha.digest()).rstrip(b"=").decode()
    meta = {"big-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: big\nVersion: 1.0\n",
            "big-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\n"
                                       "Tag: py3-none-any\n"}
    with zipfile.ZipFile(index.files / "big-1.0-py3-none-any.whl", "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.write(blob, "big/blob.bin")
        for name, text in meta.items():
            zf.writestr(name, text)
        zf.writestr("big-1.0.dist-info/RECORD", f"big/blob.bin,sha256={digest},{size}\n" + "".join(
            f"{n},,\n" for n in meta) + "big-1.0.dist-info/RECORD,,\n")
    blob.unlink()
    index.publish()
    index.start()
    try:
        project = generated_project(root, "bigwheel", ["big"], extra=textwrap.dedent(f"""
            [[tool.uv.index]]
            name = "local"
            url = "{index.url}"
            default = true
            """))
        return peak_rss_mb([sys.executable, "-m", "airgap_installer", "build", str(project), "-o",
                            str(root / "big.run"), "--python", PY, "--cache-dir", str(root / "cache")])
    finally:
        index.stop()


def bench_project(name: str, project: Path, work: Path, runs: int) -> dict[str, float]:
    env = dict(os.environ)
    # A user's Python caches bytecode; this machine's environment turns that off for everything.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = work / "cache"
    out = work / f"{name}.run"
    build = [sys.executable, "-m", "airgap_installer", "build", str(project), "-o", str(out), "--python", PY,
             "--cache-dir", str(cache)]
    uv_cache = work / "uv-cache"
    r: dict[str, float] = {}

    def fresh_uv_cache() -> None:
        shutil.rmtree(uv_cache, ignore_errors=True)
        shutil.rmtree(project / ".venv", ignore_errors=True)

    def fresh_venv() -> None:
        shutil.rmtree(project / ".venv", ignore_errors=True)

    sync = [UV, "sync", "--frozen", "--quiet", "--python", PY, "--project", str(project)]
    sync_env = {**env, "UV_CACHE_DIR": str(uv_cache)}
    r["uv sync --frozen, cold"] = best(runs, fresh_uv_cache, lambda: run(sync, env=sync_env))
    r["uv sync --frozen, warm"] = best(runs, fresh_venv, lambda: run(sync, env=sync_env))
    shutil.rmtree(project / ".venv", ignore_errors=True)

    r["build, cold"] = best(runs, lambda: shutil.rmtree(cache, ignore_errors=True), lambda: run(build))
    r["build, warm (--offline)"] = best(runs, lambda: None, lambda: run([*build, "--offline"]))
    r["builder peak RSS, MB"] = peak_rss_mb([*build, "--offline"])

    with zipfile.ZipFile(out) as zf:
        wheels = [n for n in zf.namelist() if n.startswith("wheelhouse/")]
        wheel_bytes = sum(zf.getinfo(n).file_size for n in wheels)
        uv_raw = zf.read("bin/uv")
    blobs = [p for p in (cache / "sha256").rglob("*") if p.is_file()]
    floor = f"sha256sum {' '.join(map(str, blobs))} > /dev/null && cat {' '.join(map(str, blobs))} > /dev/null"
    r["floor: sha256sum + cat"] = best(runs, lambda: None, lambda: run(["sh", "-c", floor]))
    r["file size, MB"] = out.stat().st_size / 1e6
    r["floor size: wheels + gzip -6 uv, MB"] = (wheel_bytes + len(gzip.compress(uv_raw, 6))) / 1e6

    for label, where, reuse in install_places(work):
        ours, hand = install_times(out, where, uv_raw, runs, env, reuse)
        r[f"install (.run, all checks), {label}"] = ours
        r[f"install, hand recipe, {label}"] = hand
    r["packages"] = len(wheels)
    r["install throughput (disk), MB/s"] = r["file size, MB"] / r["install (.run, all checks), disk"]
    r["warm build throughput, MB/s"] = r["file size, MB"] / r["build, warm (--offline)"]
    return r


def install_places(work: Path) -> list[tuple[str, Path, bool]]:
    """Installs are timed on the disk and, when there is room, on a tmpfs: (label, directory, whether
    runs may delete the previous run's files). This VM's disk makes the same `uv pip install` of 130
    wheels take 2 to 14 s in back-to-back runs; in memory the ratio shows our own work. On the disk
    every run gets new directories, removed only at the end: deleting gigabytes on this ext4 mount
    (`discard`) stalls the writes of whatever runs next."""
    places = [("disk", work / "disk", False)]
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 16 * 1024**3:
        places.append(("tmpfs", Path(tempfile.mkdtemp(prefix="airgap-bench-", dir=shm)), True))
    return places


def install_times(out: Path, where: Path, uv_raw: bytes, runs: int, env: dict[str, str],
                  reuse: bool) -> tuple[float, float]:
    """Best-of-`runs` seconds of our install and of the hand recipe over the same file, interleaved so
    that both meet the same state of the disk. The hand recipe: sha256sum it, unzip it, uv venv,
    uv pip install --offline --no-index --no-deps of every wheel, the project editable."""
    where.mkdir(parents=True, exist_ok=True)
    uvbin = where / "uv"
    uvbin.write_bytes(uv_raw)
    uvbin.chmod(0o755)
    wheels = wheels_for_this_python(out)

    def ours(run_dir: Path) -> None:
        run(["sh", str(out), "--prefix", str(run_dir / "prefix"), "-y", "-q", "--python", BASE_PYTHON])

    def hand(run_dir: Path) -> None:
        (run_dir / "wheels.txt").write_text("".join(f"{run_dir}/hand/wheelhouse/{name}\n" for name in wheels))
        recipe = textwrap.dedent(f"""\
            set -e
            sha256sum {out} > /dev/null
            unzip -q {out} -d {run_dir}/hand 2>/dev/null || true
            cd {run_dir}/hand/project
            {uvbin} venv -q --no-config --python {BASE_PYTHON} .venv
            {uvbin} pip install -q --no-config --offline --no-index --no-deps --python .venv/bin/python \
                -r {run_dir}/wheels.txt
            {uvbin} pip install -q --no-config --offline --no-index --no-deps --python .venv/bin/python -e .
            """)
        run(["sh", "-c", recipe], env={**env, "UV_CACHE_DIR": str(run_dir / "hc")})

    times: dict[str, list[float]] = {"ours": [], "hand": []}
    try:
        for i in range(runs):
            for name, action in (("ours", ours), ("hand", hand)):
                run_dir = where / (name if reuse else f"{name}-{i}")

                def setup(run_dir: Path = run_dir) -> None:
                    shutil.rmtree(run_dir, ignore_errors=True)
                    run_dir.mkdir()

                times[name].append(best(1, setup, functools.partial(action, run_dir)))
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return min(times["ours"]), min(times["hand"])


def wheels_for_this_python(run_file: Path) -> list[str]:
    """The wheel files the installer's manifest pins for this interpreter (a lock may fork by patch)."""
    manifest = json.loads(zipfile.ZipFile(run_file).read("manifest.json"))
    here = tuple(sys.version_info[:3])
    files = {(p["name"], p["version"]): p["file"] for p in manifest["packages"] if p["file"]}
    files.update({(p["name"], p["version"]): p["wheel"] for p in manifest["local_packages"]})

    def v(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split("."))

    for variant in manifest["pin_variants"]:
        if v(variant["first"]) <= here and (variant["last"] is None or here <= v(variant["last"])):
            return [files[tuple(pin.split(" ")[0].split("=="))] for pin in variant["pins"]]
    raise SystemExit("no pins for this Python in the installer")


def uv_codecs(root: Path, runs: int) -> str:
    """How to carry the uv binary: each codec present here, by what it costs the build, the file and
    the target host (decode time; whether busybox, the smallest host we support, can decode it)."""
    from airgap_installer.cache import Cache
    from airgap_installer.fetch import fetch
    from airgap_installer.target import make_target
    from airgap_installer.uvbin import locate_uv_binary, target_uv_wheel

    root.mkdir(parents=True, exist_ok=True)
    cache = Cache(root / "cache")
    wheel = target_uv_wheel(make_target(PY, "x86_64-manylinux_2_28"))
    fetch([wheel], cache, base=root, offline=False)
    member = locate_uv_binary(cache.path(wheel.sha256))
    with member.wheel.open("rb") as f:
        f.seek(member.data_offset)
        stream = f.read(member.compress_size)
    binary = root / "uv"
    binary.write_bytes(zlib.decompress(stream, -15))

    def row(label: str, cost: str, packed: Path, decode: str, busybox: str) -> str:
        seconds = best(runs, lambda: None, lambda: run(["sh", "-c", f"{decode} < {packed} > /dev/null"]))
        return f"| {label} | {cost} | {packed.stat().st_size / 1e6:.1f} | {seconds:.2f} | {busybox} |"

    # Ours: the wheel's raw deflate stream, which the header wraps in a gzip header and trailer.
    ours = root / "uv.deflate.gz"
    ours.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + stream
                     + struct.pack("<II", member.crc, member.file_size & 0xFFFFFFFF))
    rows = [row("deflate stream copied from the uv wheel (ours)", "a copy", ours, "gzip -dc", "yes")]
    codecs = [("gzip -6, recompressed", "gzip -6 -c", "gzip -dc", "yes"), ("xz -6", "xz -6 -T1 -c", "xz -dc", "yes"),
              ("zstd -19", "zstd -19 -q -c", "zstd -dc", "no"), ("stored", "cat", "cat", "yes")]
    for label, encode, decode, busybox in codecs:
        if shutil.which(encode.split()[0]) is None:
            continue
        packed = root / f"uv.{encode.split()[0]}"
        start = time.perf_counter()
        run(["sh", "-c", f"{encode} < {binary} > {packed}"])
        rows.append(row(label, f"{time.perf_counter() - start:.2f} s", packed, decode, busybox))
    return (f"| uv binary ({binary.stat().st_size / 1e6:.1f} MB) as | build cost | MB in the file "
            "| decode on the target, s | busybox decodes it |\n|---|---|---|---|---|\n" + "\n".join(rows))

def du_bytes(path: Path) -> int:
    """Bytes on disk under path, each hard-linked file once (du counts an inode once per call)."""
    out = subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def sneakernet(name: str, project: Path, work: Path, v1: Path, runs: int) -> dict[str, float]:
    """Issue 16's measures for a one-package upgrade (the project itself, X -> X.post1): the delta's size
    against what changed, upgrade installs (full and delta file) against a fresh install, the prefix's
    growth against the changed package, split-file installs, and a fresh install against `cp -a` of the
    finished .venv plus sync."""
    cache = work / "cache"
    v2_project = work / f"{name}-v2"
    shutil.copytree(project, v2_project, ignore=shutil.ignore_patterns(".venv"))
    pyproject = v2_project / "pyproject.toml"
    text = pyproject.read_text()
    old = re.search(r'^version = "([^"]+)"', text, re.M)
    assert old is not None, "the project has a static version"
    new_version = f"{old.group(1)}.post1"
    pyproject.write_text(text.replace(old.group(0), f'version = "{new_version}"', 1))
    run([UV, "lock", "--quiet", "--project", str(v2_project)])
    base = [sys.executable, "-m", "airgap_installer", "build", str(v2_project), "--python", PY, "--cache-dir",
            str(cache), "--offline"]
    full, delta, split = work / "v2.run", work / "v2-delta.run", work / "v2-split.run"
    run([*base, "-o", str(full)])
    run([*base, "-o", str(delta), "--delta-from", str(v1)])
    run([*base, "-o", str(split), "--split-size", str(max(full.stat().st_size // 3, 1 << 17))])
    with zipfile.ZipFile(delta) as zf:
        content = [i for i in zf.infolist() if i.filename.startswith(
            ("wheelhouse/", "project/", "airgap_runtime/", "__main__.py", "manifest.json"))]
    # The floor is the issue's: the bytes of what changed, the runtime and the project files as they are
    # (the file deflates the text among them); the overhead is what the file adds to their stored bytes.
    r: dict[str, float] = {"delta file size, MB": delta.stat().st_size / 1e6,
                           "floor: what changed + runtime + project, MB": sum(i.file_size for i in content) / 1e6,
                           "delta overhead: header, SBOM, zip directory, KB":
                               (delta.stat().st_size - sum(i.compress_size for i in content)) / 1e3}
    fat = work / "fat.run"  # linux x86_64 + aarch64 + macOS arm64 in one file
    run([sys.executable, "-m", "airgap_installer", "build", str(project), "--python", PY, "--cache-dir", str(cache),
         "-o", str(fat), "--fat", "--python-platform", "x86_64-manylinux_2_28", "--python-platform",
         "aarch64-manylinux_2_28", "--python-platform", "aarch64-apple-darwin"])
    with zipfile.ZipFile(fat) as zf:
        r["fat file (3 platforms) size, MB"] = fat.stat().st_size / 1e6
        r["floor: distinct wheels + each uv, MB"] = sum(
            i.compress_size for i in zf.infolist() if i.filename.startswith(("wheelhouse/", "bin/uv."))) / 1e6
    where = work / "sneaker"
    # Every run gets new directories, removed only at the end (install_places says why: deleting the
    # previous run's gigabytes just before a run stalls that run's writes on this disk).
    dirs = itertools.count()
    here: dict[str, Path] = {}

    def install(run_file: Path, prefix: Path) -> None:
        run(["sh", str(run_file), "--prefix", str(prefix), "-y", "-q", "--python", BASE_PYTHON])

    def fresh(tag: str) -> None:
        here[tag] = where / f"{tag}-{next(dirs)}"

    def with_v1(tag: str) -> None:
        fresh(tag)
        install(v1, here[tag])

    with_v1("g")
    prefix = here["g"]
    before = du_bytes(prefix)
    install(full, prefix)
    release = next((prefix / "releases").glob(f"{new_version}-*"))
    changed = sum(du_bytes(p) for p in (release / ".venv").glob(f"lib/python3*/site-packages/{name}*"))
    project_files = sum(p.stat().st_size for p in release.rglob("*") if p.is_file() and ".venv" not in p.parts
                        and ".airgap" not in p.parts)
    venv = release / ".venv"
    r["prefix growth of the upgrade, MB"] = (du_bytes(prefix) - before) / 1e6
    r["changed: the package + the project files, MB"] = (changed + project_files) / 1e6
    # Where the growth goes: a release's own venv has its own directory tree (no hard links for those),
    # and the files uv writes per install (RECORD, INSTALLER, launchers with the venv's path).
    r["of the growth: the new venv's directories, MB"] = sum(
        os.lstat(d).st_blocks * 512 for d, _, _ in os.walk(venv)) / 1e6
    r["of the growth: the new venv's unshared files, MB"] = sum(
        st.st_blocks * 512 for d, _, files in os.walk(venv) for f in files
        if (st := os.lstat(os.path.join(d, f))).st_nlink == 1) / 1e6
    # uv's own part of a fresh install: a new venv and every wheel unpacked into an empty cache.
    uv_bin, pins = release / ".airgap" / "bin" / "uv", release / ".airgap" / "pins.txt"
    wheels = prefix / ".airgap-installer" / "wheels"

    def uv_only() -> None:
        venv = here["uvo"] / "venv"
        run(["sh", "-c", f"{uv_bin} venv -q --python {BASE_PYTHON} {venv} && {uv_bin} pip install -q --offline "
             f"--no-index --find-links {wheels} --python {venv / 'bin' / 'python'} --no-deps --require-hashes "
             f"-r {pins}"], env={**os.environ, "UV_CACHE_DIR": str(here["uvo"] / "cache")})

    # Interleaved, like install_times: each measure meets the same state of the disk in every round.
    measures: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
        ("fresh install of v2", lambda: fresh("f"), lambda: install(full, here["f"])),
        ("split v2 (3 parts), fresh install", lambda: fresh("s"), lambda: install(split, here["s"])),
        ("upgrade v1 -> v2, full file", lambda: with_v1("u"), lambda: install(full, here["u"])),
        ("upgrade v1 -> v2, delta file", lambda: with_v1("d"), lambda: install(delta, here["d"])),
        ("cp -a of the finished .venv + sync", lambda: fresh("cp"),
         lambda: run(["sh", "-c", f"cp -a {venv} {here['cp']} && sync"])),
        ("uv venv + uv pip install of the wheels, cold cache", lambda: fresh("uvo"), uv_only),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in measures}
    for _ in range(runs):
        for label, setup, action in measures:
            times[label].append(best(1, setup, action))
    r.update({label: min(seconds) for label, seconds in times.items()})
    shutil.rmtree(where, ignore_errors=True)
    return r


SNEAKER_RATIOS = {
    "fat size / floor (goal <= 1.02)": ("fat file (3 platforms) size, MB", "floor: distinct wheels + each uv, MB"),
    "delta size / floor (goal <= 1.05)": ("delta file size, MB", "floor: what changed + runtime + project, MB"),
    "split install / fresh install (goal <= 1.1)": ("split v2 (3 parts), fresh install", "fresh install of v2"),
    "upgrade (full file) / fresh install (goal <= 0.3)": ("upgrade v1 -> v2, full file", "fresh install of v2"),
    "upgrade (delta file) / fresh install (goal <= 0.3)": ("upgrade v1 -> v2, delta file", "fresh install of v2"),
    "prefix growth / changed (goal <= 1.2)": ("prefix growth of the upgrade, MB",
                                              "changed: the package + the project files, MB"),
    "fresh install / cp -a .venv + sync (goal <= 1.2)": ("fresh install of v2", "cp -a of the finished .venv + sync"),
    "uv's unpack alone / cp -a .venv + sync": ("uv venv + uv pip install of the wheels, cold cache",
                                               "cp -a of the finished .venv + sync"),
    "fresh install / uv's unpack alone": ("fresh install of v2",
                                          "uv venv + uv pip install of the wheels, cold cache"),
}


def table(results: dict[str, dict[str, float]], ratios: dict[str, tuple[str, str]] | None = None) -> str:
    if not results:
        return ""
    names = list(results)
    rows = list(next(iter(results.values())))
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(f"{results[n][row]:.2f}" for n in names) + " |")
    ratios = ratios if ratios is not None else {
        "install / hand recipe, disk (goal <= 1.2)": ("install (.run, all checks), disk", "install, hand recipe, disk"),
        "install / hand recipe, tmpfs (goal <= 1.2)": ("install (.run, all checks), tmpfs",
                                                       "install, hand recipe, tmpfs"),
        "cold build / cold uv sync (goal <= 1.5)": ("build, cold", "uv sync --frozen, cold"),
        "warm build / sha256sum+cat (goal <= 3)": ("build, warm (--offline)", "floor: sha256sum + cat"),
        "size / floor (goal <= 1.03)": ("file size, MB", "floor size: wheels + gzip -6 uv, MB"),
    }
    for label, (a, b) in ratios.items():
        if all(a in results[n] and b in results[n] for n in names):
            lines.append(f"| **{label}** | " + " | ".join(f"**{results[n][a] / results[n][b]:.2f}**" for n in names)
                         + " |")
    return "\n".join(lines)


def aarch64_session() -> str:
    """Wall time of the aarch64 end-to-end test (build for aarch64, install under qemu-user, uv run)."""
    if os.geteuid() != 0 or not shutil.which("qemu-aarch64-static"):
        return "aarch64 under qemu-user: not measured (needs root and qemu-user-static)."
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "aarch64", "-p", "no:cacheprovider"],
                          cwd=REPO, capture_output=True, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        return f"aarch64 under qemu-user: the test failed ({proc.stdout.strip().splitlines()[-1:]})."
    return (f"aarch64 under qemu-user (`nox -s aarch64`: build for aarch64-manylinux_2_28, install into the arm64 "
            f"root with no network, plain `uv run`), arm64 root already made: {took:.1f} s. Making the root "
            "with debootstrap the first time adds about 2.3 minutes.")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--projects", default="example,large,xl,bigwheel,aarch64")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # nox points UV_PROJECT_ENVIRONMENT at its own venv: `uv sync` of a project would empty it.
    for name in ("UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV"):
        os.environ.pop(name, None)
    results: dict[str, dict[str, float]] = {}
    sneaker: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="airgap-bench-") as tmp:
        root = Path(tmp)
        for name in args.projects.split(","):
            if name == "example":
                project = root / "hello"
                shutil.copytree(REPO / "examples" / "hello", project,
                                ignore=shutil.ignore_patterns(".venv", "dist", "__pycache__"))
            elif name in ("bigwheel", "aarch64"):
                continue
            else:
                project = generated_project(root, name, LARGE if name == "large" else XL)
            work = root / f"work-{name}"
            work.mkdir()
            results[name] = bench_project(name, project, work, args.runs)
            if name in ("example", "large"):
                sneaker[name] = sneakernet(project.name, project, work, work / f"{name}.run", args.runs)
            print(f"{name}: done", file=sys.stderr)
        rss = big_wheel_rss(root / "bigwheel") if "bigwheel" in args.projects.split(",") else None
        codecs = uv_codecs(root / "codecs", args.runs)
    text = (f"Seconds unless stated; best of {args.runs}; {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {PY}, uv {subprocess.run([UV, '--version'], capture_output=True, text=True).stdout.split()[1]}."
            f"\n\n{table(results)}\n")
    if sneaker:
        text += ("\nSneaker-net (issue 16): a one-package upgrade (the project itself, X -> X.post1), installed on "
                 "the disk into a prefix that holds 1.0; best of the same runs.\n\n"
                 f"{table(sneaker, SNEAKER_RATIOS)}\n")
    if rss is not None:
        text += f"\nBuilder peak RSS with one 1 GiB wheel: {rss:.0f} MB (goal <= 150, flat in wheel size).\n"
    text += f"\n{codecs}\n"
    if "aarch64" in args.projects.split(","):
        text += f"\n{aarch64_session()}\n"
    print(text)
    if args.out:
        args.out.write_text(f"# Benchmarks\n\nGenerated by `nox -s bench -- --runs {args.runs} --projects "
                            f"{args.projects} --out docs/benchmarks.md` (scripts/bench.py); do not edit by hand."
                            f"\n\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
