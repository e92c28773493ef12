#!/bin/sh
[ $(($(wc -c <"$0"))) = $((@@TOTAL_SIZE@@)) ] || { printf 'error: %s is truncated or has bytes appended\ntip: copy the installer again\n' "$0" >&2; case " $* " in *" --json "*) echo '{"changed": false, "action": "refused", "release": null, "previous": null, "version": null, "prefix": null, "exit_code": 3, "message": "the installer is truncated or has bytes appended", "hint": "copy the installer again", "dry_run": false}' ;; esac; exit 3; }
# Line 2 (one whole line, so a cut after it is refused with exit 3) checks the size before sh reads on.
# sha256 of this whole file with these 64 digits as zeros: @@FILE_SHA256@@
# @@NAME@@ @@VERSION@@ installer, made by airgap-installer @@TOOL_VERSION@@ (do not edit: every byte of
# this file is checked against the sha256 above before anything is written).
# Usage: sh THIS_FILE --help
#
# Layout: [0, PAYLOAD_OFFSET) this POSIX sh header; [PAYLOAD_OFFSET, EOF) a zip (absolute offsets), so
# `unzip -l THIS_FILE` and `python3 -m zipfile -l THIS_FILE` read it. Numbers are padded with spaces
# so the header keeps its length when they are filled in.
# The whole body is inside main() and the file ends the shell's reading with `exit`, so the shell
# never reads the zip bytes.
set -eu

NAME=@@NAME_Q@@
VERSION=@@VERSION_Q@@
TARGET=@@TARGET_Q@@
TARGET_OS=@@TARGET_OS_Q@@
TARGET_MACHINE=@@TARGET_MACHINE_Q@@
TARGET_LIBC=@@TARGET_LIBC_Q@@
LIBC_MIN=@@LIBC_MIN_Q@@
PYTHON_VERSION=@@PYTHON_Q@@
REQUIRES_PYTHON=@@REQUIRES_PYTHON_Q@@
UV_VERSION=@@UV_VERSION_Q@@
BUILD_DATE=@@BUILD_DATE_Q@@
SCRIPTS=@@SCRIPTS_Q@@
MODIFIED=@@MODIFIED_Q@@
HOOKS=@@HOOKS_Q@@
# A delta file carries only what its base release lacks; the base must be installed in the prefix.
DELTA_OF=@@DELTA_OF_Q@@
DELTA_NOTE=@@DELTA_NOTE_Q@@
UV_SHA256=@@UV_SHA256_Q@@
UV_MEMBER=@@UV_MEMBER_Q@@
# A file for several targets (--fat): one line each, "slug os machine libc libc_min python uv_member
# uv_sha256 delta_of python_archive python_key python_full python_json_head python_json_tail" ("-" for
# none); the header picks the first one this host can run, and the runtime installs its manifest.
TARGETS='@@TARGETS@@'
PICKED=""
# A bundled interpreter (python-build-standalone), installed by uv from a one-entry download list.
PYTHON_ARCHIVE=@@PYTHON_ARCHIVE_Q@@
PYTHON_KEY=@@PYTHON_KEY_Q@@
PYTHON_FULL=@@PYTHON_FULL_Q@@
PYTHON_JSON_HEAD=@@PYTHON_JSON_HEAD_Q@@
PYTHON_JSON_TAIL=@@PYTHON_JSON_TAIL_Q@@
HAS_LICENSE=@@HAS_LICENSE@@
PAYLOAD_OFFSET=$(( @@PAYLOAD_OFFSET@@ ))
PAYLOAD_SIZE=$(( @@PAYLOAD_SIZE@@ ))
PAYLOAD_SHA256=@@PAYLOAD_SHA256@@
UV_SIZE=$(( @@UV_SIZE@@ ))
PYTHON_SIZE=$(( @@PYTHON_SIZE@@ ))
# Members the shell carves itself: offset length sha256 method(0 stored, 8 deflate) size crc32 name
MEMBERS='
@@MEMBERS@@
'

# Exit codes: 0 ok; 1 install failed (the previous release stays active); 2 usage;
# 3 the file is corrupt, truncated or unreadable; 4 this host cannot run it (OS, CPU, Python).
usage() {
    cat <<EOF
$NAME $VERSION: offline installer for $TARGET (Python $PYTHON_VERSION), uv $UV_VERSION bundled$([ -z "$PYTHON_ARCHIVE" ] || echo ", and CPython $PYTHON_FULL").

Usage: sh $(basename "$SELF") [options]

  --prefix DIR     install into DIR (default: $(default_prefix 2>/dev/null || echo "\$HOME/.local/opt/$NAME"))
  -y, --yes        do not ask for confirmation
  --keep N         keep N releases for rollback (default: 3)
  --link-bin DIR   also link the launchers into DIR (e.g. /usr/local/bin)
  --python PATH    use this Python $PYTHON_VERSION interpreter (default: $([ -z "$PYTHON_ARCHIVE" ] && echo "search PATH" || echo "the bundled one"))
  --check          verify the file's sha256 and exit
  --info           print what this installer contains and exit
  --list           list the payload's members and exit
  --extract DIR    write the payload's files into DIR, install nothing
  --wheelhouse DIR write the target's wheels into DIR with a pylock.toml and a requirements.txt
                   (with hashes) for pip or uv, install nothing
  --license        print the license and exit
  --sbom           print the CycloneDX SBOM of what this file carries and exit
  --accept         accept the license without being asked
  --dry-run        run every check (file, signature, host, Python, prefix) and say what an install
                   would do; write nothing
  --json           print the result as one JSON object, the last line of stdout (progress: stderr)
  --quiet          print only errors
  --shared-prefix  as root, install into a prefix that another user owns or may write to
  --trust FILE     refuse the file unless its signature (FILE.run.sig beside it) verifies with this
                   allowed_signers file or public key; the prefix then remembers whom it trusts
  --signature SIG  the signature file, if it is not beside this one
  --allow-downgrade  in a prefix that trusts a signer, install a version older than the active one
  --help           show this help

After install:  cd PREFIX/current && PREFIX/bin/uv run <command>   (works with no network)
Launchers for $SCRIPTS are in PREFIX/bin, with $NAME-rollback, $NAME-uninstall and airgap-sync.
Running an older installer again makes its release active again.
Exit codes: 0 ok, 1 install failed (previous release kept), 2 usage, 3 corrupt file, 4 unsuitable host.
EOF
}

die() { # code message [hint]
    printf '%s: error: %s\n' "$NAME-installer" "$2" >&2
    if [ -n "${3:-}" ]; then printf '%s: tip: %s\n' "$NAME-installer" "$3" >&2; fi
    if [ "${JSON:-0}" = 1 ]; then json_result "$1" "$2" "${3:-}"; fi
    exit "$1"
}

json_str() { # a JSON string: \ and " escaped, control characters as \u00XX
    s=$1 out=""
    while [ -n "$s" ]; do
        rest=${s#?}; ch=${s%"$rest"}; s=$rest
        case "$ch" in
            \\|\") out="$out\\$ch" ;;
            [[:cntrl:]]) out="$out$(printf '\\u%04x' "'$ch")" ;;
            *) out="$out$ch" ;;
        esac
    done
    printf '"%s"' "$out"
}

json_result() { # code message hint: the result of a run this header stops (runtime/result.py), on fd 3
    action=refused; [ "$1" != 1 ] || action=failed
    where=null; [ -z "${PREFIX:-}" ] || where=$(json_str "$PREFIX")
    printf '{"changed": false, "action": "%s", "release": null, "previous": null, "version": "%s", "prefix": %s, "exit_code": %s, "message": %s, "hint": %s, "dry_run": %s}\n' \
        "$action" "$VERSION" "$where" "$1" "$(json_str "$2")" "$(json_str "$3")" \
        "$([ "${DRY_RUN:-0}" = 1 ] && echo true || echo false)" >&3
}

say() { if [ "$QUIET" = 1 ]; then :; elif [ "$JSON" = 1 ]; then printf '%s\n' "$*" >&2; else printf '%s\n' "$*"; fi; }

default_prefix() {
    if [ "$(id -u 2>/dev/null || echo 1)" = 0 ]; then echo "/opt/$NAME"; return 0; fi
    [ -n "${HOME:-}" ] || die 2 "HOME is not set, so there is no default prefix" "pass --prefix DIR"
    echo "$HOME/.local/opt/$NAME"
}

sha256_stream() {
    # openssl first: it uses the CPU's SHA instructions (365 MB: 0.4 s, where coreutils' sha256sum takes 2.9 s).
    if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 | sed 's/^.*= *//'
    elif command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -d' ' -f1
    else die 3 "no sha256 tool (sha256sum, shasum or openssl) on this host" "install coreutils"
    fi
}

file_size() { # wc -c pads with spaces on macOS: arithmetic drops them
    echo $(( $(wc -c < "$1") ))
}

verify() {
    [ -r "$SELF" ] || die 3 "cannot read $SELF" "run it as: sh /path/to/installer.run"
    size=$(file_size "$SELF")
    expected=$((PAYLOAD_OFFSET + PAYLOAD_SIZE))
    if [ "$size" -lt "$expected" ]; then
        die 3 "$SELF is truncated: $size bytes, expected $expected" "copy the installer again"
    fi
    if [ "$size" -gt "$expected" ]; then
        die 3 "$SELF has $((size - expected)) unexpected bytes appended (expected $expected bytes)" "copy the installer again"
    fi
    # Every byte: the payload, then this header with line 4's sha256 read as zeros (it cannot hold its own).
    expected=$(head -n 4 "$SELF" | sed -n '4s/.*: \([0-9a-f]\{64\}\)$/\1/p')
    actual=$({ tail -c +$((PAYLOAD_OFFSET + 1)) "$SELF"
               head -c "$PAYLOAD_OFFSET" "$SELF" | sed '4s/[0-9a-f]\{64\}$/0000000000000000000000000000000000000000000000000000000000000000/'
             } | sha256_stream)
    if [ "$actual" != "$expected" ]; then
        die 3 "$SELF is corrupt: sha256 $actual, expected $expected" "copy the installer again and compare its sha256"
    fi
    # The carve table sits in this header: each member the shell cuts out must be where it says, as it says.
    while read -r off len sha _method _usize _crc name; do
        [ -n "$name" ] || continue
        got=$(member_bytes "$off" "$len" | sha256_stream)
        if [ "$got" != "$sha" ]; then
            die 3 "$SELF is corrupt: member $name has sha256 $got, expected $sha" "copy the installer again"
        fi
    done <<EOF
$MEMBERS
EOF
}

member_bytes() { # offset length: the bytes of a member (in 4096-byte blocks when it is aligned)
    if [ $(($1 % 4096)) = 0 ]; then
        dd if="$SELF" bs=4096 skip=$(($1 / 4096)) count=$(( ($2 + 4095) / 4096 )) 2>/dev/null | head -c "$2"
    else
        tail -c +$(($1 + 1)) "$SELF" | head -c "$2"
    fi
}

le32() { # print a number as 4 little-endian bytes
    v=$1; i=0
    while [ $i -lt 4 ]; do
        printf "\\$(printf %03o $(( (v >> (8 * i)) & 255 )))"
        i=$((i + 1))
    done
}

carve() { # name dest: copy one member out of this file, inflating a deflate stream with gzip
    found=0
    while read -r off len _sha method usize crc name; do
        [ "$name" = "$1" ] || continue
        found=1
        if [ "$method" = 8 ]; then
            command -v gzip >/dev/null 2>&1 || die 4 "gzip is needed to unpack $1" "install gzip (busybox has it)"
            # A raw deflate stream (its sha256 checked by verify): give it a gzip header and trailer.
            { printf '\037\213\010\000\000\000\000\000\000\003'
              member_bytes "$off" "$len"
              le32 "$crc"; le32 "$usize"; } | gzip -dc > "$2" || die 1 "cannot unpack $1 into $2 (disk full, or gzip failed?)"
        else
            member_bytes "$off" "$len" > "$2" || die 1 "cannot write $2 (disk full?)"
        fi
    done <<EOF
$MEMBERS
EOF
    [ "$found" = 1 ] || die 3 "member $1 is missing from this installer"
}

python_fits() { # path -> 0 when it is CPython $PYTHON_VERSION
    [ -n "$1" ] || return 1
    got=$("$1" -I -c 'import sys; print("%d.%d-%s" % (sys.version_info[0], sys.version_info[1], sys.implementation.name))' 2>/dev/null) || return 1
    [ "$got" = "$PYTHON_VERSION-cpython" ]
}

find_python() {
    if [ -n "$PYTHON" ]; then
        python_fits "$PYTHON" && { echo "$PYTHON"; return 0; }
        found=$("$PYTHON" -I -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "not a Python")
        die 4 "--python $PYTHON is $found; this installer needs CPython $PYTHON_VERSION" \
            "pass a CPython $PYTHON_VERSION interpreter, or rebuild with: airgap-installer build --python X.Y"
    fi
    for candidate in "python$PYTHON_VERSION" python3 python; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if python_fits "$path"; then echo "$path"; return 0; fi
    done
    seen=""
    for candidate in python3 python; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        v=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
        seen="$seen $path ($v)"
    done
    die 4 "no CPython $PYTHON_VERSION found (requires-python $REQUIRES_PYTHON; found:${seen:- none})" \
        "pass --python /path/to/python$PYTHON_VERSION, or rebuild for the host's Python with --python X.Y"
}

host_libc() { # prints "glibc 2.36", "musl 1.2.4" or nothing
    v=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
    if [ -n "$v" ]; then echo "glibc $v"; return 0; fi
    out=$(ldd --version 2>&1 || true)
    case "$out" in
        *musl*) echo "musl $(printf '%s\n' "$out" | sed -n 's/^Version \([0-9.]*\).*/\1/p')" ;;
        *GLIBC*|*"GNU libc"*) echo "glibc $(printf '%s\n' "$out" | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')" ;;
    esac
}

version_lt() { # a.b < c.d
    a1=${1%%.*} a2=${1#*.} b1=${2%%.*} b2=${2#*.}
    a2=${a2%%.*} b2=${b2%%.*}
    [ "$a1" -lt "$b1" ] || { [ "$a1" -eq "$b1" ] && [ "$a2" -lt "$b2" ]; }
}

check_host() {
    os=$(uname -s 2>/dev/null || echo unknown)
    machine=$(uname -m 2>/dev/null || echo unknown)
    case "$os" in Linux) os=linux ;; Darwin) os=macos ;; esac
    case "$machine" in arm64) [ "$os" = macos ] || machine=aarch64 ;; amd64) machine=x86_64 ;; esac
    if [ "$os" != "$TARGET_OS" ] || [ "$machine" != "$TARGET_MACHINE" ]; then
        die 4 "this installer was built for $TARGET ($TARGET_OS $TARGET_MACHINE); this host is $os $machine" \
            "rebuild with: airgap-installer build --python-platform <this host's platform>"
    fi
    if [ "$os" = macos ]; then
        v=$(sw_vers -productVersion 2>/dev/null || true)
        if [ -n "$LIBC_MIN" ] && [ -n "$v" ] && version_lt "$v" "$LIBC_MIN"; then
            die 4 "this installer needs macOS >= $LIBC_MIN (for its binary wheels); this host has macOS $v" \
                "rebuild with MACOSX_DEPLOYMENT_TARGET=$v"
        fi
        return 0
    fi
    [ "$os" = linux ] && [ -n "$TARGET_LIBC" ] || return 0
    libc=$(host_libc)
    name=${libc%% *} version=${libc#* }
    if [ -n "$name" ] && [ "$name" != "$TARGET_LIBC" ]; then
        die 4 "this installer was built for $TARGET ($TARGET_LIBC); this host has $libc" \
            "rebuild with --python-platform $TARGET_MACHINE-unknown-linux-$( [ "$name" = musl ] && echo musl || echo gnu)"
    fi
    if [ -n "$LIBC_MIN" ] && [ -n "$version" ] && [ "$version" != "$libc" ] && version_lt "$version" "$LIBC_MIN"; then
        die 4 "this installer needs $TARGET_LIBC >= $LIBC_MIN (for its binary wheels); this host has $libc" \
            "rebuild for an older level, e.g. --python-platform $TARGET_MACHINE-manylinux_${version%%.*}_${version#*.}"
    fi
}

pick_target() { # a file for several targets: the first one this host runs (OS, CPU, libc, a CPython or
    # a bundled one); the builder lists the targets that use the host's Python first
    os=$(uname -s 2>/dev/null || echo unknown)
    machine=$(uname -m 2>/dev/null || echo unknown)
    case "$os" in Linux) os=linux ;; Darwin) os=macos ;; esac
    case "$machine" in arm64) [ "$os" = macos ] || machine=aarch64 ;; amd64) machine=x86_64 ;; esac
    libc=""; [ "$os" != linux ] || libc=$(host_libc)
    macos=""; [ "$os" != macos ] || macos=$(sw_vers -productVersion 2>/dev/null || true)
    tried=""
    while read -r t_slug t_os t_machine t_libc t_min t_python t_uv t_uv_sha t_delta t_archive t_key t_full t_head t_tail; do
        [ -n "$t_slug" ] || continue
        tried="$tried $t_slug"; [ "$t_archive" = - ] || tried="$tried (brings CPython $t_full)"
        [ "$t_os" = "$os" ] && [ "$t_machine" = "$machine" ] || continue
        if [ -n "$libc" ] && [ "$t_libc" != - ]; then
            [ "${libc%% *}" = "$t_libc" ] || continue
            if [ "$t_min" != - ] && version_lt "${libc#* }" "$t_min"; then continue; fi
        fi
        if [ -n "$macos" ] && [ "$t_min" != - ] && version_lt "$macos" "$t_min"; then continue; fi
        PYTHON_VERSION=$t_python
        if [ -n "$PYTHON" ]; then  # --python: it must be the target's version, bundled or not
            python_fits "$PYTHON" || continue
        elif [ "$t_archive" = - ]; then  # a target that brings its CPython needs none on the host
            found=""
            for candidate in "python$t_python" python3 python; do
                path=$(command -v "$candidate" 2>/dev/null) || continue
                if python_fits "$path"; then found=$path; break; fi
            done
            [ -n "$found" ] || continue
        fi
        TARGET=$t_slug TARGET_OS=$t_os TARGET_MACHINE=$t_machine UV_MEMBER=$t_uv PICKED=$t_slug
        TARGET_LIBC=$t_libc LIBC_MIN=$t_min UV_SHA256=$t_uv_sha DELTA_OF="$NAME $t_delta"
        PYTHON_ARCHIVE=$t_archive PYTHON_KEY=$t_key PYTHON_FULL=$t_full
        PYTHON_JSON_HEAD=$t_head PYTHON_JSON_TAIL=$t_tail
        [ "$t_libc" != - ] || TARGET_LIBC=""
        [ "$t_min" != - ] || LIBC_MIN=""
        [ "$t_uv_sha" != - ] || UV_SHA256=""
        [ "$t_delta" != - ] || DELTA_OF=""
        if [ "$t_archive" = - ]; then PYTHON_ARCHIVE="" PYTHON_KEY="" PYTHON_FULL="" PYTHON_JSON_HEAD="" PYTHON_JSON_TAIL=""; fi
        return 0
    done <<EOF
$TARGETS
EOF
    die 4 "this host ($os $machine${libc:+, $libc}) with ${PYTHON:-the Pythons on PATH} matches none of this file's targets:$tried" \
        "pass --python PATH for one of them, or build a file for this host"
}

check_signature() { # with --trust, or in a prefix that remembers a signer: who made this file
    remembered="" where=$PREFIX
    [ -n "$where" ] || where=$(default_prefix 2>/dev/null || true)
    case "$where" in /*) ;; ?*) where="$(pwd)/$where" ;; esac
    if [ "$ACTION" = install ] && [ -n "$where" ] && [ -f "$where/.airgap-installer/trusted_signers" ]; then
        remembered="$where/.airgap-installer/trusted_signers"
    fi
    [ -n "$TRUST" ] || [ -n "$remembered" ] || return 0
    command -v ssh-keygen >/dev/null 2>&1 || die 4 "ssh-keygen (OpenSSH) is needed to check the signature" \
        "install openssh-client, or check the file elsewhere with: airgap-installer verify FILE --trust KEYS"
    sig=${SIGNATURE:-$SELF.sig}
    [ -r "$sig" ] || die 3 "$SELF is not signed: no signature at $sig" "copy FILE.run.sig along with the installer"
    if [ -n "$TRUST" ]; then signed_by "$sig" "$TRUST"; fi
    if [ -n "$remembered" ]; then signed_by "$sig" "$remembered"; fi
    if [ -n "$TRUST" ] && [ -z "$remembered" ]; then TRUST_NEW=$TRUST; fi
}

signed_by() { # signature keys: SIGNER, or exit 3. keys: an allowed_signers file or a bare public key
    [ -r "$2" ] || die 2 "cannot read the trusted keys $2"
    allowed=$2 made=""
    case "$(head -n 1 "$2")" in ssh-*|ecdsa-*|sk-*)  # a bare public key: it is the one signer
        made=$(mktemp "${TMPDIR:-/tmp}/airgap-allowed.XXXXXX") || die 1 "cannot make a temporary file"
        printf 'signer namespaces="airgap-installer" %s\n' "$(head -n 1 "$2")" > "$made"
        allowed=$made ;;
    esac
    who=$(ssh-keygen -Y find-principals -s "$1" -f "$allowed" < "$SELF" 2>/dev/null | head -n 1) || who=""
    ok=0
    if [ -n "$who" ] && ssh-keygen -Y verify -f "$allowed" -I "$who" -n airgap-installer -s "$1" < "$SELF" >/dev/null 2>&1; then
        ok=1
    fi
    [ -z "$made" ] || rm -f "$made"
    [ -n "$who" ] || die 3 "$SELF is not signed by a key in $2" "get the installer from its publisher again, or the right keys"
    [ "$ok" = 1 ] || die 3 "$SELF does not match its signature $1 (signed by $who)" "copy the installer and its .sig again"
    SIGNER=$who
}

check_prefix_owner() { # as root: a prefix that another user owns or may write to (or any directory
    # above it) lets that user change what root installs and later runs; refuse it, as sshd refuses keys
    [ "$(id -u 2>/dev/null || echo 1)" = 0 ] && [ "$SHARED" = 0 ] || return 0
    dir=$PREFIX
    while :; do
        if [ -e "$dir" ]; then
            # shellcheck disable=SC2012,SC2046 # ls -ldn is the portable way to read an owner and a mode
            set -- $(ls -ldn "$dir")
            case "$1" in d????w????|d???????w?) case "$1" in *t) ;; *)
                die 4 "$dir may be written by other users: they could change what root installs" \
                    "choose a --prefix only root may write to, or pass --shared-prefix" ;; esac ;;
            esac
            [ "$3" = 0 ] || die 4 "$dir belongs to user $3: that user could change what root installs" \
                "choose a --prefix that root owns, or pass --shared-prefix"
        fi
        [ "$dir" != / ] || break
        dir=${dir%/*}; [ -n "$dir" ] || dir=/  # dirname, with nothing but the shell
    done
}

install_python() { # -> path of the bundled interpreter, installed by uv under PREFIX/python
    case "$work" in *'"'*|*'\'*) die 1 "the prefix path may not contain quotes or backslashes" ;; esac
    carve "$PYTHON_ARCHIVE" "$work/python.tar.gz"
    url="file://$(printf '%s' "$work/python.tar.gz" | sed 's/ /%20/g')"
    printf '%s%s%s\n' "$PYTHON_JSON_HEAD" "$url" "$PYTHON_JSON_TAIL" > "$work/downloads.json"
    # UV_NO_CONFIG: no uv.toml of this host (the user's, /etc/uv/uv.toml) reaches this call
    if ! env -i PATH="$PATH" HOME="$work" UV_NO_CONFIG=1 UV_CACHE_DIR="$work/cache" UV_PYTHON_INSTALL_DIR="$PREFIX/python" \
        "$work/uv" python install --offline --no-bin \
        --python-downloads-json-url "file://$(printf '%s' "$work/downloads.json" | sed 's/ /%20/g')" \
        "$PYTHON_KEY" > "$work/python.log" 2>&1; then
        die 1 "uv could not install the bundled Python: $(tail -n 3 "$work/python.log" | tr '\n' ' ')" \
            "check free space in $PREFIX"
    fi
    rm -f "$work/python.tar.gz"
    py="$PREFIX/python/$PYTHON_KEY/bin/python$PYTHON_VERSION"
    python_fits "$py" || die 1 "the bundled Python at $py does not run on this host"
    echo "$py"
}

check_space() { # before writing: the payload unpacked, uv inflated and the venv, with some margin
    need_kb=$(( (PAYLOAD_SIZE * 3 + UV_SIZE + PYTHON_SIZE * 4) / 1024 ))
    free_kb=$(df -Pk "${1:-$PREFIX}" 2>/dev/null | awk 'NR == 2 { print $4 }' || true)
    case "$free_kb" in ''|*[!0-9]*) return 0 ;; esac  # no df or awk: ENOSPC is still caught later
    if [ "$free_kb" -lt "$need_kb" ]; then
        die 1 "not enough space in $PREFIX: about $((need_kb / 1024)) MB needed, $((free_kb / 1024)) MB free" \
            "free some space, or choose a --prefix on a larger filesystem"
    fi
}

show_license() {
    cat <<'AIRGAP_INSTALLER_LICENSE_END'
@@LICENSE_TEXT@@
AIRGAP_INSTALLER_LICENSE_END
}

accept_license() {
    [ "$HAS_LICENSE" = 1 ] && [ "$ACCEPT" = 0 ] || return 0
    if [ ! -t 0 ]; then
        die 2 "$NAME comes with a license that must be accepted" "read it with --license, then pass --accept"
    fi
    show_license | { if command -v more >/dev/null 2>&1; then more; else cat; fi; }
    printf 'Do you accept the license terms? [yes/no] '
    read -r answer || answer=no
    case "$answer" in yes|YES|Yes) ;; *) die 2 "the license was not accepted" ;; esac
}

confirm() {
    [ "$YES" = 1 ] && return 0
    if [ ! -t 0 ]; then
        die 2 "not installing without confirmation (stdin is not a terminal)" "pass -y to install without asking"
    fi
    printf 'Install %s %s into %s? [y/N] ' "$NAME" "$VERSION" "$PREFIX"
    read -r answer || answer=n
    case "$answer" in y|Y|yes|YES) ;; *) die 2 "cancelled" ;; esac
}

info() {
    cat <<EOF
name:            $NAME
version:         $VERSION
target:          $TARGET${LIBC_MIN:+ (needs $TARGET_LIBC >= $LIBC_MIN)}
python:          $(if [ -n "$TARGETS" ]; then echo "each target's, below"; elif [ -n "$PYTHON_ARCHIVE" ]; then echo "CPython $PYTHON_FULL, bundled ($PYTHON_KEY)"; else echo "CPython $PYTHON_VERSION from the host"; fi) (requires-python $REQUIRES_PYTHON)
uv:              $UV_VERSION (bundled)
build date:      $BUILD_DATE
payload sha256:  $PAYLOAD_SHA256
payload size:    $PAYLOAD_SIZE bytes
scripts:         $SCRIPTS
changed files:   $MODIFIED
hooks:           ${HOOKS:-none}
EOF
    printf '%s\n' "$TARGETS" | while read -r t_slug t_os t_machine t_libc t_min t_python _uv _sha t_delta t_archive t_key t_full _rest; do
        [ -n "$t_slug" ] || continue
        needs=""; [ "$t_min" = - ] || needs=", needs $( [ "$t_libc" = - ] && echo macOS || echo "$t_libc") >= $t_min"
        python="CPython $t_python from the host"; [ "$t_archive" = - ] || python="CPython $t_full, bundled ($t_key)"
        delta=""; [ "$t_delta" = - ] || delta=", upgrades $NAME $t_delta"
        echo "  for:           $t_slug ($python, $t_os $t_machine$needs$delta)"
    done
    if [ -n "$DELTA_OF" ]; then echo "delta of:        $DELTA_OF ($DELTA_NOTE; install it first)"; fi
}

kept_uv() { # the prefix's copy of this file's uv (one per sha256, runtime/store.py): no need to inflate ours
    f="$PREFIX/.airgap-installer/uv.$UV_SHA256"
    [ -n "$UV_SHA256" ] && [ -f "$f" ] && [ ! -L "$f" ] && [ "$(sha256_stream < "$f")" = "$UV_SHA256" ] && echo "$f"
}

base_uv() { # a delta file that carries no uv: the base release's copy, found by its sha256
    kept_uv && return 0
    for f in "$PREFIX"/releases/*/.airgap/bin/uv "$PREFIX"/releases/*/*/.airgap/bin/uv; do
        [ -f "$f" ] && [ ! -L "$f" ] || continue
        if [ "$(sha256_stream < "$f")" = "$UV_SHA256" ]; then echo "$f"; return 0; fi
    done
    die 4 "this delta installer upgrades $DELTA_OF, which is not installed in $PREFIX (no uv $UV_VERSION there)" \
        "install $DELTA_OF first, or use the full installer of $NAME $VERSION"
}

inflate_uv() { # in the background, while the runtime extracts the wheels (two cores): the runtime waits
    # for $work/uv, or for $work/uv.failed ("<exit code> <line>"), which says why there is none.
    if (carve "$UV_MEMBER" "$work/uv.part") >/dev/null 2>"$work/uv.log" 3>/dev/null; then
        if chmod 755 "$work/uv.part" && "$work/uv.part" --version >/dev/null 2>&1; then
            mv "$work/uv.part" "$work/uv"
            return 0
        fi
        echo "4 $UV_NOEXEC" > "$work/uv.failed.tmp"
    else  # carve died: its exit code, and its error line
        echo "$? $(sed -n 's/^.*: error: //p' "$work/uv.log" | head -n 1)" > "$work/uv.failed.tmp"
    fi
    mv "$work/uv.failed.tmp" "$work/uv.failed"
}

plan_install() { # the runtime says what an install would do; the run stops here when it writes nothing
    py=$PYTHON
    bundled="$PREFIX/python/$PYTHON_KEY/bin/python$PYTHON_VERSION"
    if [ -z "$py" ] && python_fits "$bundled"; then py=$bundled; fi
    if [ -z "$py" ] && [ "$DRY_RUN" = 1 ]; then  # any python3 >= 3.9 reads the file
        py=$(command -v python3 2>/dev/null || true)
        [ -n "$py" ] && "$py" -I -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null \
            || die 4 "--dry-run needs python3 (3.9 or newer) on this host before the bundled Python is installed" \
                "run it without --dry-run, or install python3"
    fi
    [ -n "$py" ] || return 0  # the bundled Python is not installed yet: so is no release of this file
    if [ "$DRY_RUN" = 1 ]; then  # what the install's first writes would meet
        dir=$PREFIX
        while [ ! -e "$dir" ]; do dir=${dir%/*}; [ -n "$dir" ] || dir=/; done
        [ -w "$dir" ] || { [ "$dir" = "$PREFIX" ] && die 1 "$PREFIX is not writable" "choose a writable --prefix"; } \
            || die 1 "cannot create $PREFIX" "choose a writable --prefix, or run as a user who may write there"
        check_space "$dir"
    elif [ -n "${TRUST_NEW:-}" ]; then
        return 0  # the prefix's first signed install records its signers even when the release is active
    fi
    set -- plan --prefix "$PREFIX" --payload-sha256 "$PAYLOAD_SHA256"
    if [ "$DRY_RUN" = 1 ]; then set -- "$@" --dry-run; fi
    if [ "$JSON" = 1 ]; then set -- "$@" --json; fi
    if [ "$QUIET" = 1 ]; then set -- "$@" --quiet; fi
    if [ -n "${SIGNER:-}" ]; then set -- "$@" --signed-by "$SIGNER"; fi
    if [ "$DOWNGRADE" = 1 ]; then set -- "$@" --allow-downgrade; fi
    if [ -n "$LINK_BIN" ]; then set -- "$@" --link-bin "$LINK_BIN"; fi
    if [ -n "$PICKED" ]; then set -- "$@" --target "$PICKED"; fi
    rc=0
    "$py" -I "$SELF" "$@" || rc=$?
    [ "$rc" = 10 ] || exit "$rc"  # 10: there is work to do
}

run_runtime() { # python action args...: the stdlib-only runtime inside the payload (zipapp)
    py=$1; shift
    exec "$py" -I "$SELF" "$@"
}

main() {
    case "$0" in /*) SELF=$0 ;; *) SELF="$(pwd)/$0" ;; esac
    ACTION=install PREFIX="" YES=0 QUIET=0 PYTHON="" EXTRACT="" KEEP=3 LINK_BIN="" ACCEPT=0 SHARED=0
    TRUST="" SIGNATURE="" DOWNGRADE=0 JSON=0 DRY_RUN=0
    for arg in "$@"; do  # known before any option can be refused: its refusal is a result too
        if [ "$arg" = --json ]; then JSON=1; exec 3>&1; fi
    done
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) [ $# -ge 2 ] || die 2 "--prefix needs a directory"; PREFIX=$2; shift ;;
            --prefix=*) PREFIX=${1#*=} ;;
            --python) [ $# -ge 2 ] || die 2 "--python needs a path"; PYTHON=$2; shift ;;
            --python=*) PYTHON=${1#*=} ;;
            --extract) [ $# -ge 2 ] || die 2 "--extract needs a directory"; ACTION=extract; EXTRACT=$2; shift ;;
            --extract=*) ACTION=extract; EXTRACT=${1#*=} ;;
            --wheelhouse) [ $# -ge 2 ] || die 2 "--wheelhouse needs a directory"; ACTION=wheelhouse; EXTRACT=$2; shift ;;
            --wheelhouse=*) ACTION=wheelhouse; EXTRACT=${1#*=} ;;
            --keep) [ $# -ge 2 ] || die 2 "--keep needs a number"; KEEP=$2; shift ;;
            --keep=*) KEEP=${1#*=} ;;
            --link-bin) [ $# -ge 2 ] || die 2 "--link-bin needs a directory"; LINK_BIN=$2; shift ;;
            --link-bin=*) LINK_BIN=${1#*=} ;;
            -y|--yes) YES=1 ;;
            --accept) ACCEPT=1 ;;
            --json) ;;
            --dry-run) DRY_RUN=1 ;;
            --shared-prefix) SHARED=1 ;;
            --trust) [ $# -ge 2 ] || die 2 "--trust needs a file (allowed_signers or a public key)"; TRUST=$2; shift ;;
            --trust=*) TRUST=${1#*=} ;;
            --signature) [ $# -ge 2 ] || die 2 "--signature needs a file"; SIGNATURE=$2; shift ;;
            --signature=*) SIGNATURE=${1#*=} ;;
            --allow-downgrade) DOWNGRADE=1 ;;
            --license) ACTION=license ;;
            --sbom) ACTION=sbom ;;
            -q|--quiet) QUIET=1 ;;
            --check) ACTION=check ;;
            --info) ACTION=info ;;
            --list) ACTION=list ;;
            -h|--help) ACTION=help ;;
            *) die 2 "unknown option: $1" "see --help" ;;
        esac
        shift
    done
    case "$KEEP" in ''|*[!0-9]*) die 2 "--keep takes a whole number, not '$KEEP'" ;; esac
    case "$ACTION" in
        help) usage; return 0 ;;
        info) info; return 0 ;;
        license)
            if [ "$HAS_LICENSE" = 1 ]; then show_license; else echo "$NAME sets no license to accept"; fi
            return 0 ;;
    esac
    verify
    check_signature
    case "$ACTION" in
        sbom) carve sbom.cdx.json /dev/stdout; return 0 ;;
        check) say "$SELF: OK ($NAME $VERSION for $TARGET, payload sha256 $PAYLOAD_SHA256)"; return 0 ;;
        list|extract|wheelhouse)
            py=$(command -v python3 2>/dev/null || command -v python 2>/dev/null || true)
            if [ -z "$py" ] && [ "$ACTION" = list ] && command -v unzip >/dev/null 2>&1; then
                unzip -Z1 "$SELF" 2>/dev/null; return 0
            fi
            [ -n "$py" ] || die 4 "--$ACTION needs python3 (or unzip for --list) on this host"
            if [ "$ACTION" = list ]; then run_runtime "$py" list; fi
            if [ "$ACTION" = wheelhouse ] && [ -n "$TARGETS" ]; then  # the wheels of this host's target
                pick_target
                run_runtime "$py" wheelhouse "$EXTRACT" --target "$PICKED"
            fi
            run_runtime "$py" "$ACTION" "$EXTRACT" ;;
    esac
    [ -z "$TARGETS" ] || pick_target
    check_host
    if [ -n "$PYTHON" ] || [ -z "$PYTHON_ARCHIVE" ]; then PYTHON=$(find_python); fi
    [ -n "$PREFIX" ] || PREFIX=$(default_prefix)
    case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
    case "$PREFIX" in *"
"*) die 2 "the prefix may not contain a newline" "choose another --prefix" ;; esac
    # What the installer creates is the installer's: not writable by others, whatever umask it was given.
    umask 022
    accept_license
    [ "$DRY_RUN" = 1 ] || confirm
    check_prefix_owner
    if [ -n "$DELTA_OF" ]; then  # before anything is written: the base must be there
        [ -d "$PREFIX/releases" ] || die 4 "this delta installer upgrades $DELTA_OF, and $PREFIX holds no release" \
            "install $DELTA_OF first, or use the full installer of $NAME $VERSION"
        case "$MEMBERS" in *" $UV_MEMBER
"*) ;; *) uv_from=$(base_uv) || exit $? ;; esac
    fi
    plan_install
    mkdir -p "$PREFIX" 2>/dev/null || die 1 "cannot create $PREFIX" "choose a writable --prefix, or run as a user who may write there"
    [ -w "$PREFIX" ] || die 1 "$PREFIX is not writable" "choose a writable --prefix"
    check_space
    state="$PREFIX/.airgap-installer"
    [ ! -L "$state" ] || die 4 "$state is a symbolic link; the installer does not follow it" "remove it, or choose another --prefix"
    mkdir -p "$state" && chmod 700 "$state"
    work="$state/tmp.$$"
    mkdir "$work" 2>/dev/null || die 1 "cannot create $work: something is already there" "remove it and run again"
    uv_job=""
    trap '[ -z "$uv_job" ] || kill "$uv_job" 2>/dev/null; rm -rf "$work"' EXIT
    trap '[ -z "$uv_job" ] || kill "$uv_job" 2>/dev/null; rm -rf "$work"; exit 130' INT
    trap '[ -z "$uv_job" ] || kill "$uv_job" 2>/dev/null; rm -rf "$work"; exit 143' TERM
    UV_NOEXEC="the bundled uv does not run here (is $PREFIX mounted noexec?)"
    printf '#!/bin/sh\nexit 0\n' > "$work/exec-check" && chmod 755 "$work/exec-check"
    "$work/exec-check" 2>/dev/null || die 4 "$UV_NOEXEC" "choose a --prefix on a filesystem that allows executables"
    [ -n "${uv_from:-}" ] || uv_from=$(kept_uv) || true
    if [ -n "$uv_from" ] || [ -z "$PYTHON" ]; then  # a copy; or uv installs the bundled Python first
        if [ -n "$uv_from" ]; then cp "$uv_from" "$work/uv"; else carve "$UV_MEMBER" "$work/uv"; fi
        chmod 755 "$work/uv"
        "$work/uv" --version >/dev/null 2>&1 || die 4 "$UV_NOEXEC" "choose a --prefix on a filesystem that allows executables"
    else
        inflate_uv & uv_job=$!
    fi
    if [ -z "$PYTHON" ]; then
        say "Installing the bundled CPython $PYTHON_FULL into $PREFIX/python"
        PYTHON=$(install_python)
    fi
    say "Installing $NAME $VERSION into $PREFIX (Python: $PYTHON)"
    set -- install --prefix "$PREFIX" --uv "$work/uv" --python "$PYTHON" --payload-sha256 "$PAYLOAD_SHA256"
    set -- "$@" --keep "$KEEP"
    if [ -n "${TRUST_NEW:-}" ]; then set -- "$@" --remember-signers "$TRUST_NEW"; fi
    if [ -n "${SIGNER:-}" ]; then set -- "$@" --signed-by "$SIGNER"; fi
    if [ "$DOWNGRADE" = 1 ]; then set -- "$@" --allow-downgrade; fi
    if [ -n "$LINK_BIN" ]; then set -- "$@" --link-bin "$LINK_BIN"; fi
    if [ "$QUIET" = 1 ]; then set -- "$@" --quiet; fi
    if [ "$JSON" = 1 ]; then set -- "$@" --json; fi
    if [ -n "$PICKED" ]; then set -- "$@" --target "$PICKED"; fi
    # Not exec: the trap removes the work directory once the runtime is done.
    rc=0
    "$PYTHON" -I "$SELF" "$@" || rc=$?
    [ -z "$uv_job" ] || wait "$uv_job" 2>/dev/null || true
    uv_job=""
    return "$rc"
}

main "$@"; exit $?
