#!/bin/sh
# @@NAME@@ @@VERSION@@ installer in @@COUNT@@ parts, made by airgap-installer @@TOOL_VERSION@@.
# Keep every part beside this file (FAT32 and transfer stations cap file sizes). This first part checks
# each part's size, joins them into one installer in a temporary directory ($TMPDIR, default /tmp; it
# needs room for @@TOTAL@@ bytes) while it hashes the whole (one read), runs it with the same options,
# and removes the joined copy. When the whole's sha256 is wrong, each part is hashed to name the bad one;
# the joined copy is removed and nothing else is written.
set -eu
NAME=@@NAME_Q@@
TOTAL=@@TOTAL@@
WHOLE_SHA256=@@WHOLE_SHA256@@
# part file name, size, sha256
PARTS='
@@PARTS@@
'

die() { printf '%s-installer: error: %s\n' "$NAME" "$2" >&2; [ -z "${3:-}" ] || printf '%s-installer: tip: %s\n' "$NAME" "$3" >&2; exit "$1"; }

sha256_stream() { # openssl first: the CPU's SHA instructions, 7x coreutils' sha256sum here
    if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 | sed 's/.*= *//'
    elif command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -d' ' -f1
    else die 3 "no sha256 tool (sha256sum, shasum or openssl) on this host" "install coreutils"
    fi
}

main() {
    case "$0" in /*) self=$0 ;; *) self="$(pwd)/$0" ;; esac
    dir=${self%/*}
    files=""
    while read -r name size _sha; do
        [ -n "$name" ] || continue
        part="$dir/$name"
        [ -r "$part" ] || die 3 "part $name is missing (it must be beside $self)" "copy every part of the installer"
        got=$(($(wc -c < "$part")))
        [ "$got" = "$size" ] || die 3 "part $name has $got bytes, expected $size" "copy that part again"
        files="$files $name"
    done <<EOF
$PARTS
EOF
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/airgap-join.XXXXXX") || die 1 "cannot make a temporary directory in ${TMPDIR:-/tmp}"
    trap 'rm -rf "$tmp"' EXIT
    trap 'rm -rf "$tmp"; exit 130' INT
    trap 'rm -rf "$tmp"; exit 143' TERM
    joined="$tmp/@@JOINED@@"
    # shellcheck disable=SC2086 # the part names have no spaces (the builder makes them)
    whole=$(cd "$dir" && cat $files | tee "$joined" | sha256_stream)
    [ "$(($(wc -c < "$joined")))" = "$TOTAL" ] \
        || die 1 "cannot join the parts ($TOTAL bytes) in $tmp (disk full?)" "set TMPDIR to a directory with room"
    if [ "$whole" != "$WHOLE_SHA256" ]; then  # which part? Only now is each one read again
        while read -r name _size sha; do
            [ -n "$name" ] || continue
            [ "$(sha256_stream < "$dir/$name")" = "$sha" ] || die 3 "part $name is corrupt (sha256)" "copy that part again"
        done <<EOF
$PARTS
EOF
        die 3 "the joined parts do not make the installer (sha256 $whole)" "copy every part again"
    fi
    # A signature of the whole file travels beside this first part; the joined file finds it beside it.
    if [ -f "$self.sig" ]; then cp "$self.sig" "$joined.sig"; fi
    sh "$joined" "$@"
}

main "$@"; exit $?
