#!/usr/bin/env bash
# bench.sh -- the native director's benchmark on the real kernel (issue
# "Native director", Benchmarks): in the VM (qemu TCG, Debian 6.1 kernel),
# 10 000 services with 2 real servers each:
#   restore   `lvslab ipvsadm -R`  vs `ipvsadm -R`  (same input)   target >= 5x
#   listing   `lvslab ipvsadm -Ln` vs `ipvsadm -Ln` (best of 3)    target >= 3x
#   no-op     `lvslab apply FILE` (best of 3) vs one `ipvsadm -Ln` target <= 1x
# Prints the raw transcript, then the figures and ratios. Needs root (qemu,
# the VM image of build-initramfs.sh) and LVSLAB_BIN (default
# target/release/lvslab, which it builds: timings of a debug build mean little).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${LVSLAB_BIN:-}" ]; then
    cargo build --release -p lvslab >&2
    LVSLAB_BIN=${CARGO_TARGET_DIR:-target}/release/lvslab
fi
OUT=$(mktemp -d /tmp/lvslab-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
LVSVM_LVSLAB=$LVSLAB_BIN LVSVM_TIMEOUT=900 LVSVM_QEMU_TIMEOUT=3600 LVSVM_MEM=1536 \
    tests/vm/run.sh -o "$OUT" tests/vm/native/bench/n-bench-10k.lab >&2
T=$OUT/n-bench-10k.txt
cat "$T"
awk -F= '
    /^restore ipvsadm_ms=/ { ri = $2 }
    /^restore lvslab_ms=/  { rl = $2 }
    /^list ipvsadm_ms=/    { if (li == "" || $2 < li) li = $2 }
    /^list lvslab_ms=/     { if (ll == "" || $2 < ll) ll = $2 }
    /^noop-apply lvslab_ms=/ { if (na == "" || $2 < na) na = $2 }
    END {
        if (ri == "" || rl == "" || li == "" || ll == "" || na == "") { print "bench: figures missing" > "/dev/stderr"; exit 1 }
        printf "\n10 000 services x 2 real servers, real kernel (qemu TCG):\n"
        printf "  restore  ipvsadm -R %6d ms   lvslab ipvsadm -R %6d ms   %.1fx faster (target >= 5x)\n", ri, rl, ri / (rl > 0 ? rl : 1)
        printf "  listing  ipvsadm -Ln %5d ms   lvslab ipvsadm -Ln %5d ms   %.1fx faster (target >= 3x)\n", li, ll, li / (ll > 0 ? ll : 1)
        printf "  no-op    lvslab apply %4d ms   vs one ipvsadm -Ln %5d ms   %.2fx of it (target <= 1x)\n", na, li, na / li
    }' "$T"
grep -q "same table" "$T" && grep -q "same listing" "$T" || { echo "bench: lvslab and ipvsadm disagree (see transcript)" >&2; exit 1; }
