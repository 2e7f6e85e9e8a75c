#!/usr/bin/env bash
# run-real.sh [-j N] [--update] [--runs N] [SCRIPT.lab ...]
#
# Runs lab scripts on the real kernel (realnet.sh), normalises the
# transcripts and compares them with expected/NAME.txt.
#   --update   write expected/NAME.txt instead of comparing; with --runs N
#              (default 2 for --update) every script is run N times and the
#              normalised transcripts must be identical, else nothing is
#              written for that script and it is reported as FLAPPING.
#   -j N       run N scripts in parallel (default 1). Every realnet.sh run
#              uses its own namespaces, so this is safe; but keep N small on
#              a busy machine, a few scripts rely on multi-second timers.
# Without SCRIPT arguments all scripts/*.lab are used.  Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=1 UPDATE=0 RUNS=
while [ $# -gt 0 ]; do
    case "$1" in
        -j) JOBS=$2; shift 2 ;;
        --update) UPDATE=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ -n "$RUNS" ] || { [ $UPDATE = 1 ] && RUNS=2 || RUNS=1; }
if [ $# -eq 0 ]; then set -- "$HERE"/scripts/*.lab; fi

TMP=$(mktemp -d /tmp/lvsc-run.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

one() {   # one SCRIPT -> prints "STATUS name"
    local s=$1 name r st=OK
    name=$(basename "$s" .lab)
    for r in $(seq 1 "$RUNS"); do
        "$HERE/realnet.sh" "$s" 2>"$TMP/$name.err.$r" | "$HERE/normalize" > "$TMP/$name.$r"
        [ "${PIPESTATUS[0]}" = 0 ] || st=HARNESS-ERROR
        if [ $r -gt 1 ] && ! cmp -s "$TMP/$name.1" "$TMP/$name.$r"; then
            st=FLAPPING
            diff -u "$TMP/$name.1" "$TMP/$name.$r" > "$TMP/$name.flap" 2>&1
        fi
    done
    if [ $UPDATE = 1 ]; then
        [ $st = OK ] && cp "$TMP/$name.1" "$HERE/expected/$name.txt"
    elif [ $st = OK ]; then
        if [ ! -f "$HERE/expected/$name.txt" ]; then st=NO-EXPECTED
        elif ! cmp -s "$HERE/expected/$name.txt" "$TMP/$name.1"; then
            st=DIFF
            diff -u "$HERE/expected/$name.txt" "$TMP/$name.1" > "$TMP/$name.diff"
        fi
    fi
    echo "$st $name"
}
export -f one
export HERE TMP RUNS UPDATE

mkdir -p "$HERE/expected"
start=$(date +%s)
printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c 'one "$1"' _ {} | sort -k2 > "$TMP/results"
end=$(date +%s)
cat "$TMP/results"
for f in "$TMP"/*.flap "$TMP"/*.diff; do
    [ -f "$f" ] && { echo "==== $(basename "$f")"; cat "$f"; }
done
for f in "$TMP"/*.err.*; do
    [ -s "$f" ] && { echo "==== stderr $(basename "$f")"; cat "$f"; }
done
bad=$(grep -vc '^OK ' "$TMP/results")
echo "$(grep -c '^OK ' "$TMP/results") ok, $bad not ok, $((end - start)) s wall time ($RUNS run(s) each, -j $JOBS)"
[ "$bad" = 0 ]
