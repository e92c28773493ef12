"""uv on both sides: the builder's uv (the `uv` package, one runner for every call) and the target's
uv (the binary inside the `uv` wheel for the target platform, same pinned version)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from airgap_installer.errors import TargetError, UvError
from airgap_installer.lock import Artifact
from airgap_installer.plan import WheelRanker
from airgap_installer.target import Target
from airgap_installer.uvwheels import UV_VERSION, UV_WHEELS

log = logging.getLogger(__name__)


def builder_uv() -> str:
    """The builder's uv: `$AIRGAP_INSTALLER_UV` or the binary of the installed `uv` package."""
    env = os.environ.get("AIRGAP_INSTALLER_UV")
    if env:
        return env
    import uv  # the PyPI package, pinned in our dependencies

    return str(uv.find_uv_bin())


def run_uv(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run the builder's uv; on failure raise UvError with the argv and uv's own output. uv never
    downloads a Python for the builder: the only interpreter download is a bundled one, made by us."""
    argv = [builder_uv(), *args]
    log.info("running %s", " ".join(argv))  # -v shows every uv call
    env = {**(os.environ if env is None else env), "UV_PYTHON_DOWNLOADS": "never"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        said = uv_failure(proc.stderr or proc.stdout)
        raise UvError(f"`uv {' '.join(args)}` failed (exit {proc.returncode}): {said}")
    return proc.stdout


def uv_failure(output: str, most: int = 12) -> str:
    """What uv said went wrong, on one line: its error, cause and hint lines (a build backend's output
    can run to hundreds of lines before them), else its last lines; -v logs all of it."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    log.info("uv said:\n%s", output)
    key = [line for line in lines if line.startswith(("error", "caused by", "cause:", "hint", "Caused by"))
           or line.startswith(("×", "╰─▶", "├─▶", "help:"))]
    return " | ".join((key or lines)[-most:])


def target_uv_wheel(target: Target) -> Artifact:
    """The uv wheel (pinned hash) whose binary runs on the target."""
    wheels = [Artifact(url, sha, size, name) for name, url, sha, size in UV_WHEELS]
    best = WheelRanker(target.tags()).best(wheels)
    if best is None:
        raise TargetError(f"uv {UV_VERSION} publishes no binary for {target.platform.name}")
    return best


@dataclass(frozen=True)
class UvBinary:
    """Where the uv binary sits inside its wheel: a raw (deflate) stream we copy without recompressing."""

    wheel: Path
    data_offset: int
    method: int
    crc: int
    compress_size: int
    file_size: int


def locate_uv_binary(wheel: Path) -> UvBinary:
    """The binary's stream in a uv wheel: `scripts/uv`, or `scripts/uv.exe` in a Windows wheel."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        exe = f"uv-{UV_VERSION}.data/scripts/uv.exe"
        info = zf.getinfo(exe if exe in names else f"uv-{UV_VERSION}.data/scripts/uv")
    with wheel.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
    return UvBinary(
        wheel=wheel,
        data_offset=info.header_offset + 30 + name_len + extra_len,
        method=info.compress_type,
        crc=info.CRC,
        compress_size=info.compress_size,
        file_size=info.file_size,
    )


def uv_binary_sha256(wheel: Path, memo_dir: Path) -> str:
    """The sha256 of the uv binary a wheel holds, as it lands on the target: an upgrade takes the prefix's
    copy by it instead of inflating the file's (a delta file without uv needs it). Memoized by the
    wheel's file name under memo_dir (inflating 38 MB costs 0.2 s per build)."""
    memo = memo_dir / f"{wheel.name}.sha256"
    try:
        known = memo.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{64}", known):
            return known
    except OSError:
        pass
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as zf, zf.open(f"uv-{UV_VERSION}.data/scripts/uv") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    memo_dir.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
    tmp.write_text(digest.hexdigest() + "\n")
    os.replace(tmp, memo)
    return digest.hexdigest()
