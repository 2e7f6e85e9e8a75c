#!/usr/bin/env bash
# run.sh [-o OUTDIR] SCRIPT.lab...
#
# Boots the LVS Lab VM ONCE (Debian kernel with IPVS, under qemu), runs every
# given lab script in turn inside it, each on a fresh bare LAN, and writes the
# raw transcripts to OUTDIR/NAME.txt (default $TMPDIR/lvslab-vm-out).
# Transcript format = tests/conformance (`HOST# COMMAND`, then the merged
# stdout+stderr).  Normalise with tests/vm/normalize before comparing.
#
# Nothing leaves the VM: qemu runs with `-nic none`; the LAN is veth pairs
# and a bridge inside the guest.
#
# Environment:
#   LVSVM_BUILD=DIR      build/cache dir of build-initramfs.sh (/var/tmp/lvslab-vm)
#   LVSVM_ACCEL=auto|tcg|kvm
#                        auto (default): try KVM with a short watchdog (the
#                        kernel must reach /init within LVSVM_KVM_WATCHDOG
#                        s, default 15), fall back to TCG; the verdict is
#                        remembered in $LVSVM_BUILD/accel (delete to re-probe)
#   LVSVM_TIMEOUT=S      per-command timeout inside the guest (20)
#   LVSVM_QEMU_TIMEOUT=S overall qemu timeout (default 120 + 90 per script)
#   LVSVM_MEM=MB         guest memory (768)
#   LVSVM_CONSOLE=FILE   keep the guest console log there
#   LVSVM_TIMES=1        guest prints each command's duration (stderr files)
#   LVSVM_LVSLAB=FILE    put this lvslab binary (and the shared libraries
#                        it links) into the guest as /usr/local/bin/lvslab,
#                        for the scripts that drive the kernel with it
#
# Exit status: 0 all scripts ran (each transcript written); 1 harness
# failure (build, qemu, timeout, missing/corrupt transcript, a command timed
# out inside the guest, unparsable script line); 2 usage.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUTDIR=${TMPDIR:-/tmp}/lvslab-vm-out
while [ $# -gt 0 ]; do
    case "$1" in
        -o) OUTDIR=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-o OUTDIR] SCRIPT.lab..." >&2; exit 2; }

T0=$(date +%s.%N)
BUILD=${LVSVM_BUILD:-/var/tmp/lvslab-vm}
ACCEL=${LVSVM_ACCEL:-auto}
CMD_TIMEOUT=${LVSVM_TIMEOUT:-20}
MEM=${LVSVM_MEM:-768}
QT=${LVSVM_QEMU_TIMEOUT:-$((120 + 90 * $#))}
fail() { echo "run.sh: FAILED: $*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not found (build-initramfs.sh installs qemu-system-x86)"
"$HERE/build-initramfs.sh" "$BUILD" || fail "build-initramfs.sh failed"

TMP=$(mktemp -d /tmp/lvsvm-run.XXXXXX)
QPID=
cleanup() {
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the scripts layer (second cpio, appended to the cached initramfs) ----
mkdir -p "$TMP/layer/lab/scripts"
: > "$TMP/layer/lab/jobs"
NAMES=()
for s in "$@"; do
    [ -r "$s" ] || fail "cannot read $s"
    n=$(basename "$s" .lab)
    [[ "$n" =~ ^[A-Za-z0-9._-]+$ ]] || fail "bad script name: $n"
    [ -e "$TMP/layer/lab/scripts/$n.lab" ] && fail "two scripts named $n"
    cp "$s" "$TMP/layer/lab/scripts/$n.lab"
    echo "$n" >> "$TMP/layer/lab/jobs"
    NAMES+=("$n")
done
if [ -n "${LVSVM_LVSLAB:-}" ]; then
    [ -x "$LVSVM_LVSLAB" ] || fail "LVSVM_LVSLAB=$LVSVM_LVSLAB is not an executable"
    install -D -m755 "$LVSVM_LVSLAB" "$TMP/layer/usr/local/bin/lvslab"
    # Its libraries, at the same paths (the image has libc; libgcc_s is
    # typically missing).
    for l in $(LC_ALL=C ldd "$LVSVM_LVSLAB" | awk '/=> \//{print $3}'); do
        r=$(readlink -f "$l")
        # The image is merged-/usr: /lib and /lib64 are symlinks, which a
        # real directory in this layer would replace.
        d=$(dirname "$l"); case "$d" in /lib|/lib/*|/lib64|/lib64/*) d=/usr$d ;; esac
        install -D -m644 "$r" "$TMP/layer$d/$(basename "$l")"
    done
fi
( cd "$TMP/layer" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 ) | gzip -1 > "$TMP/layer.gz"
cat "$BUILD/initramfs.gz" "$TMP/layer.gz" > "$TMP/initrd.gz"

APPEND="console=ttyS0 quiet panic=-1 lvslab.timeout=$CMD_TIMEOUT"
[ "${LVSVM_TIMES:-}" = 1 ] && APPEND="$APPEND lvslab.times=1"
CON=$TMP/console.log
RES=$TMP/results.out

start_qemu() {   # start_qemu ACCEL TIMEOUT
    : > "$CON"; : > "$RES"
    timeout -k 5 "$2" qemu-system-x86_64 \
        -accel "$1" -m "$MEM" -smp 1 \
        -nodefaults -nographic -no-reboot -nic none \
        -kernel "$BUILD/vmlinuz" -initrd "$TMP/initrd.gz" -append "$APPEND" \
        -serial "file:$CON" -serial "file:$RES" -monitor none \
        < /dev/null > "$TMP/qemu.out" 2>&1 &
    QPID=$!
}

# ---- accelerator -------------------------------------------------------
USE=tcg
if [ "$ACCEL" = kvm ] || { [ "$ACCEL" = auto ] && [ -w /dev/kvm ] && [ "$(cat "$BUILD/accel" 2>/dev/null)" != tcg ]; }; then
    USE=kvm
fi
if [ $USE = kvm ]; then
    start_qemu kvm "$QT"
    wd=${LVSVM_KVM_WATCHDOG:-15}
    ok=0
    for i in $(seq 1 $((wd * 10))); do
        grep -q 'LVSVM: init' "$CON" 2>/dev/null && { ok=1; break; }
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ $ok = 1 ]; then
        echo "run.sh: using KVM" >&2
        echo kvm > "$BUILD/accel"
    else
        kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=
        echo "run.sh: KVM did not reach /init within ${wd}s; falling back to TCG" >&2
        [ "$ACCEL" = auto ] && echo tcg > "$BUILD/accel"
        USE=tcg
    fi
fi
[ $USE = tcg ] && start_qemu tcg "$QT"

# progress from the console
( tail -n +1 -F --pid="$QPID" "$CON" 2>/dev/null | grep --line-buffered 'LVSVM: ' | sed -u 's/\r$//; s/^.*LVSVM: /  vm: /' >&2 ) &
TAILPID=$!
wait "$QPID"
QRC=$?
QPID=
sleep 0.2; kill "$TAILPID" 2>/dev/null; wait "$TAILPID" 2>/dev/null

[ -n "${LVSVM_CONSOLE:-}" ] && cp "$CON" "$LVSVM_CONSOLE"
[ $QRC = 124 ] || [ $QRC = 137 ] && { tail -n 30 "$CON" >&2; fail "qemu timed out after ${QT}s (LVSVM_QEMU_TIMEOUT)"; }

# ---- extract the transcripts -------------------------------------------
mkdir -p "$OUTDIR"
mkdir -p "$TMP/x"
tr -d '\r' < "$RES" | awk -v dir="$TMP/x" '
    /^=== BEGIN /   { name = $3; f = dir "/" name ".b64"; mode = 1; printf "" > f; next }
    /^=== STDERR /  { close(f); f = dir "/" name ".err.b64"; printf "" > f; next }
    /^=== END /     { close(f); print $0 > (dir "/" name ".end"); close(dir "/" name ".end"); mode = 0; next }
    /^=== DONE /    { print $0 > (dir "/DONE"); next }
    mode            { print >> f }
'
BAD=0
for n in "${NAMES[@]}"; do
    if [ ! -f "$TMP/x/$n.end" ]; then
        echo "run.sh: no transcript for $n" >&2; BAD=1; continue
    fi
    base64 -d < "$TMP/x/$n.b64" > "$OUTDIR/$n.txt" 2>/dev/null || { echo "run.sh: $n: corrupt base64" >&2; BAD=1; }
    read -r _ _ _ rc bytes md5 < "$TMP/x/$n.end"
    rc=${rc#rc=}; bytes=${bytes#bytes=}; md5=${md5#md5=}
    if [ "$(md5sum < "$OUTDIR/$n.txt" | cut -d' ' -f1)" != "$md5" ]; then
        echo "run.sh: $n: transcript corrupted in transfer" >&2; BAD=1
    fi
    base64 -d < "$TMP/x/$n.err.b64" > "$TMP/x/$n.err" 2>/dev/null
    if [ -s "$TMP/x/$n.err" ]; then sed "s/^/  $n: /" "$TMP/x/$n.err" >&2; fi
    if [ "$rc" != 0 ]; then echo "run.sh: $n: guest harness exit status $rc" >&2; BAD=1; fi
done
if [ ! -f "$TMP/x/DONE" ]; then
    tail -n 30 "$CON" >&2
    echo "run.sh: the guest did not finish (no DONE marker; qemu exit $QRC)" >&2; BAD=1
fi
T1=$(date +%s.%N)
printf 'run.sh: %d script(s), %s, wall time %s s, transcripts in %s\n' \
    "${#NAMES[@]}" "$USE" "$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')" "$OUTDIR" >&2
[ $BAD = 0 ] || fail "see messages above"
exit 0
