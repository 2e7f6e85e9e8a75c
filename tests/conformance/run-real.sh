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

. "$HERE/../lib/verdict.sh"

one() {   # one SCRIPT, RUNS times -> TMP/nR/NAME.txt
    local s=$1 name r
    name=$(basename "$s" .lab)
    for r in $(seq 1 "$RUNS"); do
        "$HERE/realnet.sh" "$s" 2>"$TMP/$name.err.$r" | "$HERE/normalize" > "$TMP/n$r/$name.txt"
        [ "${PIPESTATUS[0]}" = 0 ] || { echo "HARNESS-ERROR $name (run $r)"; rm -f "$TMP/n$r/$name.txt"; }
    done
}
export -f one
export HERE TMP RUNS

for r in $(seq 1 "$RUNS"); do mkdir -p "$TMP/n$r"; done
start=$(date +%s)
printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c 'one "$1"' _ {} > "$TMP/harness"
end=$(date +%s)
cat "$TMP/harness"
verdicts "$TMP" "$RUNS" "$UPDATE" "$@"
for f in "$TMP"/*.err.*; do
    [ -s "$f" ] && { echo "==== stderr $(basename "$f")"; cat "$f"; }
done
bad=$VERDICT_BAD
echo "$VERDICT_OK ok, $bad not ok, $((end - start)) s wall time ($RUNS run(s) each, -j $JOBS)"
[ "$bad" = 0 ]
