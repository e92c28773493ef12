@echo off
rem sha256 of this whole file with these 64 digits as zeros: @@FILE_SHA256@@
rem @@NAME@@ @@VERSION@@ installer for @@TARGET@@, made by airgap-installer @@TOOL_VERSION@@.
rem Usage: THIS_FILE --help   (from cmd.exe; every byte is checked before anything is written)
rem
rem Layout: [0, PAYLOAD_OFFSET) this cmd.exe bootstrap (CRLF); [PAYLOAD_OFFSET, EOF) a zip with absolute
rem offsets that Python runs (`python -I THIS_FILE`): the stdlib-only installer runtime, uv.exe, the
rem wheels and the project. cmd.exe never reads past the `exit /b` below. Numbers are padded with spaces
rem so that this bootstrap keeps its length when they are filled in.
rem payload: offset @@PAYLOAD_OFFSET@@ size @@PAYLOAD_SIZE@@ sha256 @@PAYLOAD_SHA256@@
rem Only forward jumps: cmd.exe looks for a label from the current line to the end of the file first, and
rem the end of this file is the zip. Exit codes: 0 ok, 1 install failed, 2 usage, 3 corrupt, 4 this host
rem cannot run it (no CPython @@PYTHON@@ found: pass --python PATH).
setlocal EnableExtensions DisableDelayedExpansion
rem --info and --help need no Python (as the first option).
if /i "%~1"=="--info" goto airgap_info
if /i "%~1"=="--help" goto airgap_help
if /i "%~1"=="-h" goto airgap_help
set "AIRGAP_SELF=%~f0"
rem --json: the refusals below print the result line too (runtime/result.py), on stdout; the rest on stderr.
set "AIRGAP_JSON="
set "AIRGAP_DRY=false"
for %%a in (%*) do if /i "%%~a"=="--json" set "AIRGAP_JSON=1"
for %%a in (%*) do if /i "%%~a"=="--dry-run" set "AIRGAP_DRY=true"
set "AIRGAP_RESULT={"changed": false, "action": "refused", "release": null, "previous": null, "version": "@@VERSION@@", "prefix": null, "exit_code":"
set "AIRGAP_PY="
set "AIRGAP_PYARG="
if /i "%~1"=="--python" set "AIRGAP_PY=%~2"
if /i "%~2"=="--python" set "AIRGAP_PY=%~3"
if /i "%~3"=="--python" set "AIRGAP_PY=%~4"
if /i "%~4"=="--python" set "AIRGAP_PY=%~5"
if /i "%~5"=="--python" set "AIRGAP_PY=%~6"
if /i "%~6"=="--python" set "AIRGAP_PY=%~7"
if /i "%~7"=="--python" set "AIRGAP_PY=%~8"
if /i "%~8"=="--python" set "AIRGAP_PY=%~9"
if not defined AIRGAP_PY goto airgap_find
if exist "%AIRGAP_PY%" goto airgap_run
echo error: --python %AIRGAP_PY%: no such file 1>&2
echo tip: pass the path of a CPython @@PYTHON@@ python.exe 1>&2
if defined AIRGAP_JSON echo %AIRGAP_RESULT% 4, "message": "the --python given is no such file", "hint": "pass the path of a CPython @@PYTHON@@ python.exe", "dry_run": %AIRGAP_DRY%}
exit /b 4
:airgap_find
rem The py launcher (python.org's installer puts it on PATH), then python on PATH.
py -@@PYTHON@@ -I -c "" <nul >nul 2>nul
if errorlevel 1 goto airgap_path
set "AIRGAP_PY=py"
set "AIRGAP_PYARG=-@@PYTHON@@"
goto airgap_run
:airgap_path
python -I -c "" <nul >nul 2>nul
if errorlevel 1 goto airgap_none
set "AIRGAP_PY=python"
goto airgap_run
:airgap_none
echo error: no Python found: neither `py -@@PYTHON@@` nor `python` runs here 1>&2
echo tip: install CPython @@PYTHON@@, or pass --python C:\path\to\python.exe 1>&2
if defined AIRGAP_JSON echo %AIRGAP_RESULT% 4, "message": "no Python found: neither `py -@@PYTHON@@` nor `python` runs here", "hint": "install CPython @@PYTHON@@, or pass --python C:\\path\\to\\python.exe", "dry_run": %AIRGAP_DRY%}
exit /b 4
:airgap_run
rem Every byte before Python reads the zip: the size here, then the sha256 of the payload followed by this
rem bootstrap with line 2's digest read as zeros (a damaged zip could not even run the runtime's check).
set "AIRGAP_SIZE=@@TOTAL_SIZE@@
if "%~z0"=="%AIRGAP_SIZE%" goto airgap_sized
echo error: %AIRGAP_SELF% is truncated or has bytes appended: %~z0 bytes, expected %AIRGAP_SIZE% 1>&2
echo tip: copy the installer again 1>&2
if defined AIRGAP_JSON echo %AIRGAP_RESULT% 3, "message": "the installer is truncated or has bytes appended", "hint": "copy the installer again", "dry_run": %AIRGAP_DRY%}
exit /b 3
:airgap_sized
"%AIRGAP_PY%" %AIRGAP_PYARG% -I -B -c "import hashlib,re,sys;f=open(sys.argv[1],'rb');h=f.read(@@PAYLOAD_OFFSET@@);w=hashlib.sha256();[w.update(c) for c in iter(lambda:f.read(1<<20),b'')];d=re.search(b'zeros: ([0-9a-f]{64})',h);w.update(h[:d.start(1)]+b'0'*64+h[d.end(1):]);a=w.hexdigest();e=d.group(1).decode();a==e or sys.exit('error: '+sys.argv[1]+' is corrupt: sha256 '+a+', expected '+e+chr(10)+'tip: copy the installer again and compare its sha256')" "%AIRGAP_SELF%"
if errorlevel 1 goto airgap_corrupt
set "AIRGAP_BOOTSTRAP_VERIFIED=1"
"%AIRGAP_PY%" %AIRGAP_PYARG% -I -B "%AIRGAP_SELF%" %*
exit /b %errorlevel%
:airgap_corrupt
if defined AIRGAP_JSON echo %AIRGAP_RESULT% 3, "message": "the installer is corrupt: its sha256 is not the one it was built with", "hint": "copy the installer again and compare its sha256", "dry_run": %AIRGAP_DRY%}
exit /b 3
:airgap_info
@@INFO@@
exit /b 0
:airgap_help
echo.Usage: %~nx0 [--prefix DIR] [-y] [--python PATH] [--keep N] [--link-bin DIR] [--json] [--dry-run]
echo.       [--trust KEYS] [--quiet] [--check] [--info] [--list]
echo.
echo.  --prefix DIR   install into DIR (default: %%LOCALAPPDATA%%\Programs\@@NAME@@)
echo.  -y, --yes      do not ask for confirmation
echo.  --python PATH  the CPython @@PYTHON@@ (64-bit) to install with (default: py -@@PYTHON@@, else python on PATH)
echo.  --keep N       keep N releases for rollback (default: 3)
echo.  --link-bin DIR also write the launchers into DIR (e.g. a directory on PATH)
echo.  --json         print the result as one JSON object, the last line of stdout (progress: stderr)
echo.  --dry-run      run every check and say what an install would do; write nothing
echo.  --trust KEYS   refuse the file unless FILE.cmd.sig verifies with these allowed_signers or public key
echo.                 (ssh-keygen.exe: Windows' OpenSSH Client); --signature SIG: the .sig, if not beside
echo.  --allow-downgrade  in a prefix that trusts a signer, install a version older than the active one
echo.  --quiet        print only errors
echo.  --accept       accept the project's license without asking (read it with --license)
echo.  --sbom         print the CycloneDX SBOM and exit
echo.  --check        verify every byte of this file and exit
echo.  --info         print what this installer contains and exit
echo.  --list         list the payload's files and exit
echo.  --extract DIR  extract the payload into DIR and exit
echo.  --wheelhouse DIR  write the wheels, a pylock.toml and a requirements.txt into DIR and exit
echo.
echo.Exit codes: 0 ok, 1 install failed (the previous release stays active), 2 usage, 3 corrupt,
echo.truncated or appended file, 4 this host cannot run it (no CPython @@PYTHON@@ found).
exit /b 0
