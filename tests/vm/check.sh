#!/usr/bin/env bash
# check.sh [--update] [--runs N] [-j N] [--extra IN OUT] [SCRIPT.lab ...]
#
# Runs lab scripts in the VM (run.sh), normalises the transcripts
# (normalize) and compares them with expected/NAME.txt.
#   --update   write expected/NAME.txt instead of comparing.  Every script
#              is run N times (--runs, default 2 for --update, 1 otherwise),
#              each run in a NEW VM boot; a script is only written when all
#              N normalised transcripts are identical, else it is reported
#              FLAPPING with the diff.
#   -j N       split the scripts over N VMs booted side by side (default 1;
#              this machine has 2 cores: -j 2 at most).
#   --extra IN OUT  also run IN/*.lab in the same boot(s) and leave their raw
#              transcripts in OUT, unjudged: the differential tester's pinned
#              IPVS seeds (difftest/run.mjs --ipvs-pinned --from-raw OUT)
#              compare them with the lab instead of a recorded transcript.
# Without SCRIPT arguments all scripts/*.lab are used.  Needs root (apt,
# reading /boot) only for the first build.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=1 UPDATE=0 RUNS= EXTRA_IN= EXTRA_OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        -j) JOBS=$2; shift 2 ;;
        --update) UPDATE=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --extra) EXTRA_IN=$2 EXTRA_OUT=$3; shift 3 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ -n "$RUNS" ] || { [ $UPDATE = 1 ] && RUNS=2 || RUNS=1; }
if [ $# -eq 0 ]; then set -- "$HERE"/scripts/*.lab; fi
EXTRA=()
if [ -n "$EXTRA_IN" ]; then
    EXTRA=("$EXTRA_IN"/*.lab)
    [ -e "${EXTRA[0]}" ] || { echo "check.sh: no scripts in $EXTRA_IN" >&2; exit 1; }
    mkdir -p "$EXTRA_OUT"
fi
T0=$(date +%s)
TMP=$(mktemp -d /tmp/lvsvm-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
"$HERE/build-initramfs.sh" "${LVSVM_BUILD:-/var/tmp/lvslab-vm}" || exit 1

HARNESS=0
for r in $(seq 1 "$RUNS"); do
    mkdir -p "$TMP/raw$r" "$TMP/n$r"
    pids=()
    for j in $(seq 0 $((JOBS - 1))); do
        group=()
        i=0
        for s in "$@" "${EXTRA[@]}"; do
            [ $((i % JOBS)) = "$j" ] && group+=("$s")
            i=$((i + 1))
        done
        [ ${#group[@]} -gt 0 ] || continue
        "$HERE/run.sh" -o "$TMP/raw$r" "${group[@]}" > "$TMP/run$r.$j.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || HARNESS=1; done
    for j in $(seq 0 $((JOBS - 1))); do
        [ -f "$TMP/run$r.$j.log" ] && grep -E 'run.sh:|FAILED|lanrun:' "$TMP/run$r.$j.log" | sed "s/^/run $r vm $j: /"
    done
    for s in "$@"; do
        n=$(basename "$s" .lab)
        [ -f "$TMP/raw$r/$n.txt" ] && "$HERE/normalize" < "$TMP/raw$r/$n.txt" > "$TMP/n$r/$n.txt"
    done
done
for s in "${EXTRA[@]}"; do
    n=$(basename "$s" .lab)
    [ -f "$TMP/raw1/$n.txt" ] && cp "$TMP/raw1/$n.txt" "$EXTRA_OUT/"
done

. "$HERE/../lib/verdict.sh"
verdicts "$TMP" "$RUNS" "$UPDATE" "$@"
bad=$VERDICT_BAD
echo "$VERDICT_OK ok, $bad not ok, $(( $(date +%s) - T0 )) s wall time ($RUNS run(s), -j $JOBS)"
[ $bad = 0 ] && [ $HARNESS = 0 ]
