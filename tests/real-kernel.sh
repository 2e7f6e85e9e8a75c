#!/usr/bin/env bash
# The real-kernel halves of the conformance suites (the engine's halves run
# under `cargo test`: engine/tests/transcripts.rs, the same scripts through
# the same normalisers):
#  1. tests/conformance/scripts on this machine's kernel, in network
#     namespaces with the real iproute2/iputils/net-tools (run-real.sh);
#  2. tests/vm/scripts and tests/vm/native/scripts on a Debian 6.1 kernel
#     with IPVS under qemu, in one VM boot (vm/check.sh);
#  3. the differential tester's pinned seeds: generated LAN scripts
#     (difftest/seeds-lan.txt) on this kernel, generated IPVS scripts
#     (difftest/seeds-ipvs.txt) in the VM suite's boot, each against the
#     lab, zero divergences.
# Each must print its recorded expected/NAME.txt. Needs root;
# LVSLAB_SKIP_REAL=1 / LVSLAB_SKIP_VM=1 skip a half knowingly (printed).
set -uo pipefail
cd "$(dirname "$0")"
BIN=${LVSLAB_BIN:?LVSLAB_BIN must point at the lvslab binary}
OUT=${LVSLAB_TEST_OUT:-/tmp}
mkdir -p "$OUT/conformance" "$OUT/vm"
need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "FAILED: $1 needs root; run as root or set $2=1 to skip it knowingly" >&2
    return 1
  fi
}
lan=0 vm=0
if [[ ${LVSLAB_SKIP_REAL:-0} == 1 ]]; then
  echo "REAL-KERNEL LAN CONFORMANCE SKIPPED (LVSLAB_SKIP_REAL=1)"
elif need_root "the host-kernel conformance (ip netns)" LVSLAB_SKIP_REAL; then
  conformance/run-real.sh -j 2 | tee "$OUT/conformance/real.txt"
  lan=${PIPESTATUS[0]}
  LVSLAB_BIN="$BIN" node difftest/run.mjs --pinned -j 4 | tee "$OUT/conformance/difftest.txt"
  (( ${PIPESTATUS[0]} == 0 )) || lan=1
else
  lan=1
fi
if [[ ${LVSLAB_SKIP_VM:-0} == 1 ]]; then
  echo "REAL-KERNEL (VM) IPVS CONFORMANCE SKIPPED (LVSLAB_SKIP_VM=1)"
elif need_root "the VM conformance (apt packages, qemu, netns in the guest)" LVSLAB_SKIP_VM; then
  start=$(date +%s)
  # vm/native: lvslab itself (ipvsadm over netlink, apply, doctor,
  # sim --from-host) against the real kernel; VM only.
  rm -rf "$OUT/vm/difftest-ipvs" "$OUT/vm/difftest-raw"
  node difftest/run.mjs --ipvs-pinned --write "$OUT/vm/difftest-ipvs" || vm=1
  (cd vm && LVSVM_LVSLAB="$BIN" ./check.sh --extra "$OUT/vm/difftest-ipvs" "$OUT/vm/difftest-raw" \
      scripts/*.lab native/scripts/*.lab) 2>&1 | tee "$OUT/vm/real.txt"
  (( ${PIPESTATUS[0]} == 0 )) || vm=1
  LVSLAB_BIN="$BIN" node difftest/run.mjs --ipvs-pinned --from-raw "$OUT/vm/difftest-raw" | tee "$OUT/vm/difftest.txt"
  (( ${PIPESTATUS[0]} == 0 )) || vm=1
  echo "VM suite wall time: $(( $(date +%s) - start )) s"
else
  vm=1
fi
(( lan == 0 && vm == 0 ))
