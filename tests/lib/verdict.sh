# verdict.sh -- sourced by tests/conformance/run-real.sh and tests/vm/check.sh:
# the one comparison both real-kernel suites make.
#
#   verdicts TMP RUNS UPDATE SCRIPT.lab ...
#
# TMP/nR/NAME.txt holds run R's normalised transcript of NAME (R = 1..RUNS);
# a script whose runs differ is FLAPPING (with the diff); with UPDATE=1 a
# stable transcript is written to the script's expected/NAME.txt (next to its
# scripts/ directory), otherwise it is compared with it (DIFF / NO-EXPECTED).
# Prints "STATUS NAME" per script, then the diffs; sets VERDICT_OK and
# VERDICT_BAD.
expected_of() { echo "$(cd "$(dirname "$1")/.." && pwd)/expected/$(basename "$1" .lab).txt"; }

verdicts() {
    local tmp=$1 runs=$2 update=$3 s n e st r f
    shift 3
    VERDICT_OK=0 VERDICT_BAD=0
    for s in "$@"; do
        n=$(basename "$s" .lab)
        e=$(expected_of "$s")
        st=OK
        for r in $(seq 1 "$runs"); do
            [ -f "$tmp/n$r/$n.txt" ] || { st=NO-TRANSCRIPT; break; }
            if [ "$r" -gt 1 ] && ! cmp -s "$tmp/n1/$n.txt" "$tmp/n$r/$n.txt"; then
                st=FLAPPING
                diff -u "$tmp/n1/$n.txt" "$tmp/n$r/$n.txt" > "$tmp/$n.flap"
            fi
        done
        if [ $st = OK ]; then
            if [ "$update" = 1 ]; then
                mkdir -p "$(dirname "$e")"
                cp "$tmp/n1/$n.txt" "$e"
            elif [ ! -f "$e" ]; then
                st=NO-EXPECTED
            elif ! cmp -s "$e" "$tmp/n1/$n.txt"; then
                st=DIFF
                diff -u "$e" "$tmp/n1/$n.txt" > "$tmp/$n.diff"
            fi
        fi
        echo "$st $n"
        if [ $st = OK ]; then VERDICT_OK=$((VERDICT_OK + 1)); else VERDICT_BAD=$((VERDICT_BAD + 1)); fi
    done
    for f in "$tmp"/*.flap "$tmp"/*.diff; do
        [ -f "$f" ] && { echo "==== $(basename "$f")"; cat "$f"; }
    done
    return 0
}
