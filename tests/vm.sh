#!/usr/bin/env bash
# IPVS conformance: every script in tests/vm/scripts runs
#  1. on a real Linux 6.1 kernel with ip_vs (Debian linux-image-amd64 under
#     qemu, real ipvsadm/curl/httpd in network namespaces; needs root) and
#     must print the recorded transcript expected/NAME.txt;
#  2. in the simulator (`lvslab sim`) and must print the same transcript.
# Both go through tests/vm/normalize (documented rules). A simulator
# difference is an engine bug.
set -uo pipefail
cd "$(dirname "$0")/vm"
BIN=${LVSLAB_BIN:?LVSLAB_BIN must point at the lvslab binary}
OUT=${LVSLAB_TEST_OUT:-/tmp}/vm
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
echo "simulator vs recorded real-IPVS transcripts: $pass passed, $fail failed"
sim_fail=$fail

if [[ ${LVSLAB_SKIP_VM:-0} == 1 ]]; then
  echo "REAL-KERNEL (VM) IPVS CONFORMANCE SKIPPED (LVSLAB_SKIP_VM=1)"
  real_fail=0
elif [[ $(id -u) -ne 0 ]]; then
  echo "FAILED: the VM conformance needs root (apt packages, qemu, netns in the guest); run as root or set LVSLAB_SKIP_VM=1 to skip it knowingly" >&2
  real_fail=1
else
  start=$(date +%s)
  # tests/vm/native: lvslab itself (ipvsadm over netlink, apply, doctor,
  # sim --from-host) against the real kernel; VM only (the simulator has no
  # lvslab binary inside).
  LVSVM_LVSLAB="$BIN" ./check.sh scripts/*.lab native/scripts/*.lab 2>&1 | tee "$OUT/real.txt"
  real_fail=${PIPESTATUS[0]}
  echo "VM suite wall time: $(( $(date +%s) - start )) s"
fi
(( sim_fail == 0 && real_fail == 0 ))
