#!/usr/bin/env bash
# Conformance: every lab script in tests/conformance/scripts runs
#  1. on the real kernel (network namespaces, real iproute2/iputils/net-tools;
#     needs root) and must print the recorded transcript expected/NAME.txt;
#  2. in the simulator (`lvslab sim`) and must print the same transcript.
# Both sides go through the same documented normaliser. A difference on the
# simulator side is an engine bug; on the real side, a changed kernel or
# tool (update expected/ with run-real.sh --update after checking why).
set -uo pipefail
cd "$(dirname "$0")/conformance"
BIN=${LVSLAB_BIN:?LVSLAB_BIN must point at the lvslab binary}
OUT=${LVSLAB_TEST_OUT:-/tmp}/conformance
mkdir -p "$OUT"
pass=0 fail=0
for s in scripts/*.lab; do
  n=$(basename "$s" .lab)
  "$BIN" sim --scenario bare --script "$s" 2>&1 | ./normalize > "$OUT/$n.sim.txt"
  if cmp -s "expected/$n.txt" "$OUT/$n.sim.txt"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "SIM-DIFF $n"
    diff -u "expected/$n.txt" "$OUT/$n.sim.txt" | head -40
  fi
done
echo "simulator vs recorded kernel transcripts: $pass passed, $fail failed"
sim_fail=$fail

if [[ ${LVSLAB_SKIP_REAL:-0} == 1 ]]; then
  echo "REAL-KERNEL CONFORMANCE SKIPPED (LVSLAB_SKIP_REAL=1)"
  real_fail=0
elif [[ $(id -u) -ne 0 ]]; then
  echo "FAILED: the real-kernel conformance needs root (ip netns); run as root or set LVSLAB_SKIP_REAL=1 to skip it knowingly" >&2
  real_fail=1
else
  ./run-real.sh -j 2 | tee "$OUT/real.txt"
  real_fail=${PIPESTATUS[0]}
fi
if (( sim_fail != 0 || real_fail != 0 )); then
  exit 1
fi
