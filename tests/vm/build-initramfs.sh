#!/usr/bin/env bash
# build-initramfs.sh OUTDIR
#
# Builds the LVS Lab test VM: OUTDIR/vmlinuz (Debian's linux-image-amd64
# kernel, copied from /boot) and OUTDIR/initramfs.gz (gzip'ed newc cpio)
# holding: static busybox (applets in /opt/busybox/bin, last in PATH),
# bash, GNU coreutils, util-linux (nsenter, unshare, setsid, mount), grep,
# sed, the real iproute2 `ip`/`ss`, `ipvsadm`, `curl`, net-tools
# (`netstat`, `ifconfig`, `route`, `arp`), iputils `ping`/`arping`, procps
# (`sysctl`, `ps`), kmod; all their shared libraries (ldd) and the dynamic
# loader; the kernel modules for IPVS (all schedulers), conntrack, veth,
# bridge, dummy (dependencies resolved with `modprobe -S VER
# --show-depends`), ipip for `modprobe ipip` (copied, not loaded); the
# `yum`/`service` shims; /init and the guest runner.
# The lab scripts are NOT in it: run.sh appends them as a second small cpio
# (the kernel unpacks concatenated archives), so changing a script does not
# rebuild this image.
#
# Missing Debian packages are installed with apt-get (--no-install-recommends;
# `apt-get update` first when a package is unknown).  Needs root for that.
#
# Cached: OUTDIR/key holds a hash of every input (this script, guest/*,
# kernel version, versions of all packages used); when it matches, nothing
# is rebuilt.  LVSVM_KERNEL=VER picks a kernel (default: newest
# /boot/vmlinuz-* that has /lib/modules/VER).  -f forces a rebuild.
set -euo pipefail

FORCE=0
if [ "${1:-}" = -f ]; then FORCE=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [-f] OUTDIR" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
err() { echo "build-initramfs: $*" >&2; exit 1; }

PKGS=(qemu-system-x86 linux-image-amd64 busybox-static ipvsadm kmod iproute2
      cpio curl net-tools iputils-ping iputils-arping procps iptables tcpdump)
# Always present on Debian, but checked too because we copy from them.
BASE_PKGS=(bash coreutils util-linux mount grep sed gzip libc-bin)

missing=()
for p in "${PKGS[@]}" "${BASE_PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || err "missing packages ${missing[*]} and no apt-get (Debian/Ubuntu needed)"
    [ "$(id -u)" = 0 ] || err "missing packages: ${missing[*]}; run as root (apt-get install --no-install-recommends ${missing[*]})"
    echo "build-initramfs: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/lvsvm-apt.log 2>&1; then
        apt-get update >>/tmp/lvsvm-apt.log 2>&1 || err "apt-get update failed, see /tmp/lvsvm-apt.log"
        apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/lvsvm-apt.log 2>&1 \
            || err "apt-get install ${missing[*]} failed, see /tmp/lvsvm-apt.log"
    fi
fi

# Kernel: newest /boot/vmlinuz-VER with modules.
if [ -n "${LVSVM_KERNEL:-}" ]; then
    KVER=$LVSVM_KERNEL
else
    KVER=
    for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's#^/boot/vmlinuz-##' | sort -V); do
        [ -d "/lib/modules/$k/kernel" ] && KVER=$k
    done
fi
[ -n "$KVER" ] || err "no /boot/vmlinuz-VER with /lib/modules/VER (install linux-image-amd64)"
[ -r "/boot/vmlinuz-$KVER" ] || err "cannot read /boot/vmlinuz-$KVER (root needed)"
[ -d "/lib/modules/$KVER" ] || err "no /lib/modules/$KVER"

for t in busybox bash ipvsadm curl netstat ifconfig ping arping sysctl kmod ldd cpio gzip; do
    command -v "$t" >/dev/null || [ -x "/bin/$t" ] || [ -x "/sbin/$t" ] || err "prerequisite '$t' not found"
done
[ -x /bin/busybox ] || err "/bin/busybox missing (busybox-static)"
file_is_static=$(LC_ALL=C ldd /bin/busybox 2>&1 || true)
case "$file_is_static" in *"not a dynamic"*|*statically*) ;; *) err "/bin/busybox is not static (install busybox-static, not busybox)";; esac

# ---- cache key -----------------------------------------------------------
KEY=$( {
    echo "kernel $KVER"
    sha256sum "$0" "$HERE"/guest/* | sed 's#  .*/#  #'
    dpkg-query -W -f='${Package} ${Version}\n' "${PKGS[@]}" "${BASE_PKGS[@]}" \
        "linux-image-$KVER" 2>/dev/null | sort
} | sha256sum | cut -d' ' -f1)
if [ $FORCE = 0 ] && [ -f "$OUT/key" ] && [ "$(cat "$OUT/key")" = "$KEY" ] \
   && [ -s "$OUT/initramfs.gz" ] && [ -s "$OUT/vmlinuz" ]; then
    echo "build-initramfs: $OUT is up to date (kernel $KVER)" >&2
    exit 0
fi

echo "build-initramfs: building $OUT (kernel $KVER)" >&2
mkdir -p "$OUT"
ST=$(mktemp -d /tmp/lvsvm-stage.XXXXXX)
trap 'rm -rf "$ST"' EXIT

# Debian-like merged-/usr layout.
mkdir -p "$ST"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,tmp,root,var/www/html,var/log,opt/busybox/bin,lab/scripts,etc/lvslab,usr/lib/lvslab}
ln -s usr/bin "$ST/bin"; ln -s usr/sbin "$ST/sbin"; ln -s usr/lib "$ST/lib"; ln -s usr/lib64 "$ST/lib64"
ln -s /run "$ST/var/run"
chmod 1777 "$ST/tmp"; chmod 700 "$ST/root"

LIBS=$ST/.libs
: > "$LIBS"
add_bin() {   # add_bin SRC DESTDIR [NAME]
    local src dest name
    src=$(readlink -f "$1") || err "cannot resolve $1"
    [ -f "$src" ] || err "missing binary $1"
    name=${3:-$(basename "$1")}
    dest="$ST/$2/$name"
    cp "$src" "$dest"
    chmod 755 "$dest"
    LC_ALL=C ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}' >> "$LIBS" || true
}
pathof() { type -P "$1" 2>/dev/null || { [ -x "/sbin/$1" ] && echo "/sbin/$1"; } || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || err "command $1 not found"; }

# busybox: the binary + every applet as a symlink in /opt/busybox/bin (last
# in PATH, so only what nothing else provides, e.g. httpd, nc).  Debian's
# busybox-static prefers its own applets when it runs a shell, so the guest
# never runs busybox sh for lab commands (bash does).
cp /bin/busybox "$ST/usr/bin/busybox"
for a in $(/bin/busybox --list); do ln -s /usr/bin/busybox "$ST/opt/busybox/bin/$a"; done
# the httpd started by `service httpd start`: argv[0] /usr/sbin/httpd
ln -s /usr/bin/busybox "$ST/usr/sbin/httpd"

# coreutils: every program of the package (GNU messages, timeout, stdbuf)
for f in $(dpkg -L coreutils | grep -E '^(/usr)?/s?bin/[^/]+$'); do
    [ -f "$f" ] && [ ! -L "$f" ] && add_bin "$f" usr/bin
done
mkdir -p "$ST/usr/libexec/coreutils"
cp /usr/libexec/coreutils/libstdbuf.so "$ST/usr/libexec/coreutils/"

for b in bash grep sed mawk nsenter unshare setsid flock mount umount ps kill pgrep pkill \
         curl ip ss bridge netstat ping arping base64 md5sum; do
    add_bin "$(pathof $b)" usr/bin
done
ln -s mawk "$ST/usr/bin/awk"; ln -s bash "$ST/usr/bin/sh"
ln -s /bin/ip "$ST/usr/sbin/ip"            # as on Debian
for b in ipvsadm ifconfig route arp sysctl tcpdump; do add_bin "$(pathof $b)" usr/sbin; done
# iptables (legacy x_tables back end: the mangle table's MARK rules that
# fwmark services need); extensions are dlopen()ed, so copied by name.
add_bin /usr/sbin/xtables-legacy-multi usr/sbin
for b in iptables iptables-save iptables-restore; do ln -s xtables-legacy-multi "$ST/usr/sbin/$b"; done
XT=/usr/lib/x86_64-linux-gnu/xtables
mkdir -p "$ST$XT"
for x in libxt_standard libxt_MARK libxt_mark libxt_tcp libxt_udp libxt_multiport libipt_icmp libxt_comment; do
    add_bin "$XT/$x.so" "${XT#/}"
done
add_bin "$(readlink -f "$(pathof kmod)")" usr/bin kmod
for b in insmod modprobe lsmod rmmod depmod modinfo; do ln -s /usr/bin/kmod "$ST/usr/sbin/$b"; done
cp "$HERE/guest/yum" "$ST/usr/bin/yum"; cp "$HERE/guest/service" "$ST/usr/sbin/service"
cp "$HERE/guest/lanrun" "$ST/usr/lib/lvslab/lanrun"
cp "$HERE/guest/init" "$ST/init"
chmod 755 "$ST/usr/bin/yum" "$ST/usr/sbin/service" "$ST/usr/lib/lvslab/lanrun" "$ST/init"

# shared libraries (+ what they pull in: ldd lists the whole closure)
for l in $(sort -u "$LIBS"); do
    r=$(readlink -f "$l")
    case "$l" in
        /lib64/*) d="$ST/usr/lib64" ;;
        *) d="$ST/usr/$(dirname "${l#/usr}" | sed 's#^/##')" ;;
    esac
    mkdir -p "$d"
    # the real file under its own name plus the soname link, as installed
    # (iproute2 prints libbpf's version from the file name: "libbpf 1.1.2")
    cp "$r" "$d/$(basename "$r")"
    [ "$(basename "$r")" = "$(basename "$l")" ] || ln -sf "$(basename "$r")" "$d/$(basename "$l")"
done
rm -f "$LIBS"
[ -e "$ST/usr/lib64/ld-linux-x86-64.so.2" ] || err "dynamic loader not collected"

# /etc
cat > "$ST/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
tcpdump:x:104:109::/nonexistent:/usr/sbin/nologin
EOF
# tcpdump drops its privileges to the user "tcpdump" (Debian's package
# creates it), as it does on a real Debian host.
printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\ntcpdump:x:109:\n' > "$ST/etc/group"
printf '127.0.0.1\tlocalhost\n' > "$ST/etc/hosts"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n' > "$ST/etc/nsswitch.conf"
cp /etc/services /etc/protocols "$ST/etc/"
[ -f /etc/networks ] && cp /etc/networks "$ST/etc/"
echo lvslab > "$ST/etc/hostname"
: > "$ST/etc/fstab"; : > "$ST/etc/mtab"

# kernel modules
MODS="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed
      ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf ip_vs_lblc ip_vs_lblcr veth bridge dummy
      ip_tables iptable_mangle xt_mark xt_tcpudp xt_multiport"
# On demand only: copied (with their dependencies) but NOT loaded at boot, a
# script loads them with `modprobe` like the tutorial does.  ipip (+ tunnel4,
# ip_tunnel) creates the fallback device tunl0 in EVERY network namespace
# when it loads, so loading it at boot would add tunl0 to every host of every
# script; lanrun unloads it again after each script (modprobe -r).
MODS_ONDEMAND="ipip"
: > "$ST/etc/lvslab/modules.load"
: > "$ST/.ondemand"
for m in $MODS $MODS_ONDEMAND; do
    case " $MODS_ONDEMAND " in *" $m "*) list="$ST/.ondemand" ;; *) list="$ST/etc/lvslab/modules.load" ;; esac
    modprobe -S "$KVER" --show-depends "$m" > "$ST/.dep" 2>&1 || err "module $m: $(cat "$ST/.dep")"
    while read -r kw path args; do
        [ "$kw" = insmod ] || continue
        grep -q "^$path\( \|$\)" "$ST/etc/lvslab/modules.load" "$ST/.ondemand" && continue
        mkdir -p "$ST$(dirname "$path")"
        cp "$path" "$ST$path"
        echo "$path $args" | sed 's/ *$//' >> "$list"
    done < "$ST/.dep"
done
rm -f "$ST/.ondemand"
rm -f "$ST/.dep"
cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$ST/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$ST" "$KVER" 2>/dev/null || true

mknod -m 600 "$ST/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ST/dev/null" c 1 3 2>/dev/null || true

# smoke test of the copied binaries (same loader and libs as in the guest)
for b in bash ip ipvsadm curl netstat; do
    p=$(ls "$ST"/usr/*bin/$b 2>/dev/null | head -1)
    "$ST/usr/lib64/ld-linux-x86-64.so.2" --library-path "$ST/usr/lib/x86_64-linux-gnu:$ST/usr/lib" --list "$p" \
        | grep -q 'not found' && err "$b: unresolved library"
done

( cd "$ST" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 ) | gzip -6 > "$OUT/initramfs.gz.new"
cp "/boot/vmlinuz-$KVER" "$OUT/vmlinuz.new"
mv "$OUT/initramfs.gz.new" "$OUT/initramfs.gz"
mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
echo "$KVER" > "$OUT/kernel-version"
echo "$KEY" > "$OUT/key"
echo "build-initramfs: $OUT/initramfs.gz $(du -k "$OUT/initramfs.gz" | cut -f1) KiB, kernel $KVER" >&2
