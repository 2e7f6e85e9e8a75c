#!/usr/bin/env bash
# realnet.sh SCRIPT.lab
#
# Real-kernel side of the LVS Lab conformance harness.
#
# Builds the "bare" LAN (192.168.150.0/24, one bridge + four hosts) out of
# fresh network namespaces and veth pairs, runs every `HOST# COMMAND` line of
# the lab script on that host with the real tools (iproute2, net-tools,
# iputils, procps sysctl, coreutils), prints the transcript on stdout and
# ALWAYS tears the namespaces down again (EXIT/INT/TERM/HUP trap).
#
# Nothing outside the namespaces created here is touched: no host interface,
# route or sysctl is read-modified-written.  All traffic stays on the private
# bridge living in its own namespace.
#
# Transcript format (what the simulator must reproduce, see README.md):
#   HOST# COMMAND           one line per command, exactly as in the script
#   <output>                stdout+stderr of COMMAND merged (2>&1), verbatim;
#                           if the output does not end in a newline, one is
#                           appended so the next prompt starts on its own line
# Exit status of commands is not printed.  Comment lines (`# ...`) and blank
# lines of the script are ignored.
#
# Environment knobs:
#   REALNET_TIMEOUT   per-command timeout in seconds (default 20)
#   REALNET_KEEP=1    don't tear down (debugging only; prints the prefix)
#
# The bare LAN (what the simulator's initial state must be):
#   bridge br0 in its own netns (stp off, forward_delay 0, no multicast
#   snooping, no IP traffic of its own), four hosts, each a netns with
#   lo (127.0.0.1/8, up) and eth0 (ifindex 2, veth, up):
#     client  192.168.150.1/24  brd 192.168.150.255  02:42:c0:a8:96:01  no default route
#     node01  192.168.150.11/24 brd 192.168.150.255  02:42:c0:a8:96:0b  default via .1
#     node02  192.168.150.12/24 brd 192.168.150.255  02:42:c0:a8:96:0c  default via .1
#     node03  192.168.150.13/24 brd 192.168.150.255  02:42:c0:a8:96:0d  default via .1
#   The address is added with "brd +" (broadcast 192.168.150.255) as a
#   distribution's network configuration (ifupdown, networkd, docker) does.
#   Kernel-default IPv4 sysctls, IPv6 disabled, empty neighbour tables, all
#   interface counters 0.
#
# Exit status: 0 ok, 2 usage/setup error, 3 a command timed out or a line
# could not be parsed (the transcript is still printed).

set -u

usage() { echo "usage: $0 SCRIPT.lab" >&2; exit 2; }
[ $# -eq 1 ] || usage
SCRIPT=$1
[ -r "$SCRIPT" ] || { echo "$0: cannot read $SCRIPT" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 2; }

TIMEOUT=${REALNET_TIMEOUT:-20}

# Unique per run so that several runs can go in parallel.
P="lvsc$$-"
BR="${P}br"
HOSTS=(client node01 node02 node03)
declare -A IP=([client]=192.168.150.1  [node01]=192.168.150.11
               [node02]=192.168.150.12 [node03]=192.168.150.13)
declare -A MAC=([client]=02:42:c0:a8:96:01 [node01]=02:42:c0:a8:96:0b
                [node02]=02:42:c0:a8:96:0c [node03]=02:42:c0:a8:96:0d)
# MACs of the bridge-side veth ends (never visible to the hosts, but fixed
# anyway so nothing in a run depends on randomness).
declare -A PMAC=([client]=02:00:00:00:01:01 [node01]=02:00:00:00:01:0b
                 [node02]=02:00:00:00:01:0c [node03]=02:00:00:00:01:0d)

WORK=$(mktemp -d "/tmp/${P}XXXXXX") || exit 2
NAMESPACES=()
STATUS=0
CMDPID=

cleanup() {
    local ns pid
    trap - EXIT INT TERM HUP
    # A command still running: stop it (timeout passes the signal on to
    # the command's process group).
    if [ -n "${CMDPID:-}" ]; then
        kill -TERM "$CMDPID" 2>/dev/null
        wait "$CMDPID" 2>/dev/null
    fi
    if [ "${REALNET_KEEP:-0}" = 1 ]; then
        echo "realnet: keeping namespaces ${P}* and $WORK" >&2
        return
    fi
    for ns in "${NAMESPACES[@]}"; do
        # Kill leftovers we started inside the namespace (by pid only).
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        # Deleting a host namespace destroys its veth (and so the peer).
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

die() { echo "realnet: $*" >&2; exit 2; }

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --------------------------------------------------------------------------
# Host sysctls.
#
# A new netns INHERITS net.ipv4.conf.{all,default}.* from the init netns
# (net.core.devconf_inherit_init_net=0, the default), so whatever the machine
# running this harness has configured would leak into the lab.  We therefore
# reset, for conf/all, conf/default and conf/lo, the knobs the lab is about to
# the kernel's built-in defaults, as documented in
# Documentation/networking/ip-sysctl.rst (and net/ipv4/devinet.c
# ipv4_devconf/ipv4_devconf_dflt):
#   arp_ignore=0          "0 - (default): reply for any local target IP
#                          address, configured on any interface"
#   arp_announce=0        "0 - (default) Use any local address, configured on
#                          any interface"
#   arp_filter=0          "0 - (default) The kernel can respond to arp
#                          requests with addresses from other interfaces"
#   rp_filter=0           "Default value is 0. Note that some distributions
#                          enable it in startup scripts."
#   promote_secondaries=0 not set in ipv4_devconf{,_dflt} => 0 (secondaries
#                          are deleted together with their primary)
#   accept_local=0        "default FALSE"
#   arp_accept=0, arp_notify=0, proxy_arp=0, drop_gratuitous_arp=0,
#   route_localnet=0      all "default FALSE"/0; reset too because they
#                          change what ARP traffic is sent/learnt
#   net.ipv4.ip_forward=0 "0 - disabled (default)"
# Everything is written BEFORE eth0 is created so eth0 picks the values up
# from conf/default.
#
# IPv6 is disabled on every host and on the bridge
# (net.ipv6.conf.{all,default}.disable_ipv6=1) before any link is created.
# The lab is IPv4-only; with IPv6 on, `ip addr`/`ifconfig` would print inet6
# lines (::1, fe80::...) whose flags depend on DAD timing ("tentative"), and
# the links would emit ND/MLD/RS packets.  So the "bare" lab hosts have NO
# inet6 lines anywhere; the simulator must model this (IPv6 disabled) state.
# --------------------------------------------------------------------------
SYSCTL_SETUP='
set -e
for d in all default lo; do
    for k in arp_ignore arp_announce arp_filter rp_filter promote_secondaries \
             accept_local arp_accept arp_notify proxy_arp drop_gratuitous_arp \
             route_localnet; do
        echo 0 > /proc/sys/net/ipv4/conf/$d/$k
    done
done
echo 0 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
'

setup() {
    local h ns i
    ip netns add "$BR" || die "cannot create netns $BR"
    NAMESPACES+=("$BR")
    nsx "$BR" sh -c "$SYSCTL_SETUP" || die "sysctl setup failed in $BR"
    nsx "$BR" ip link set lo up
    # stp off + forward_delay 0: ports forward as soon as they are up.
    # multicast_snooping 0: with snooping on, br0 joins the all-snoopers
    # group 224.0.0.106 and sends an unsolicited IGMPv3 report about a second
    # after creation, which would show up (at a random moment) in the hosts'
    # RX counters.  A plain switch sends nothing.
    nsx "$BR" ip link add br0 address 02:00:00:00:01:ff type bridge \
        stp_state 0 forward_delay 0 mcast_snooping 0 \
        || die "cannot create bridge"
    nsx "$BR" ip link set br0 up

    for h in "${HOSTS[@]}"; do
        ns="${P}$h"
        ip netns add "$ns" || die "cannot create netns $ns"
        NAMESPACES+=("$ns")
        nsx "$ns" sh -c "$SYSCTL_SETUP" || die "sysctl setup failed in $ns"
        nsx "$ns" ip link set lo up || die "lo up failed in $ns"
        # Created from inside the bridge namespace, the host end placed
        # directly into the host netns: eth0 gets ifindex 2 (lo is 1).
        nsx "$BR" ip link add "v-$h" address "${PMAC[$h]}" type veth \
            peer name eth0 address "${MAC[$h]}" netns "$ns" \
            || die "cannot create veth for $h"
        nsx "$BR" ip link set "v-$h" master br0 || die "enslave v-$h"
        nsx "$BR" ip link set "v-$h" up
        nsx "$ns" ip addr add "${IP[$h]}/24" brd + dev eth0 || die "addr $h"
        nsx "$ns" ip link set eth0 up || die "eth0 up $h"
        if [ "$h" != client ]; then
            nsx "$ns" ip route add default via 192.168.150.1 \
                || die "default route $h"
        fi
    done

    # Wait until everything really forwards: eth0 LOWER_UP in every host,
    # every bridge port in state forwarding (3).
    for i in $(seq 1 100); do
        local ok=1
        for h in "${HOSTS[@]}"; do
            [ "$(nsx "${P}$h" cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] || ok=0
            [ "$(nsx "${P}$h" cat /sys/class/net/eth0/operstate 2>/dev/null)" = up ] || ok=0
            [ "$(nsx "$BR" cat /sys/class/net/v-$h/brport/state 2>/dev/null)" = 3 ] || ok=0
        done
        [ $ok = 1 ] && return 0
        sleep 0.05
    done
    die "links did not come up"
}

# --------------------------------------------------------------------------
# Command runner.
#
# Output goes to a file, stdout and stderr merged (2>&1).  `stdbuf -oL`
# makes stdout line buffered as on a terminal (it is inherited by every
# program the command line starts), so the interleaving of stdout and stderr
# is the one a user sees at the lab terminal and not the "stderr first"
# order of a fully buffered stdout.  LANG/LC_ALL=C: untranslated messages.
# Each host keeps its own working directory across commands (starts in
# /root): we run `cd DIR; eval COMMAND` in a fresh bash inside the namespace
# and save `pwd` afterwards.  Every command gets a private mount namespace
# (unshare --mount) for the two bind mounts described below.
# --------------------------------------------------------------------------
declare -A CWD
# One physical line, so shell errors of the eval'd command always read
# "bash: line 1: ..." (normalize maps that to the interactive "bash: ...").
RUNNER='cd -- "$1" 2>/dev/null || cd /root; eval "$2"; __rc=$?; pwd > "$3" 2>/dev/null; exit $__rc'

run_cmd() {
    local h=$1 cmd=$2 ns="${P}$1" out="$WORK/out" cwdf="$WORK/cwd.$1" rc t0 t1
    : > "$out"
    t0=$(date +%s%N)
    timeout -k 2 "$TIMEOUT" ip netns exec "$ns" \
        unshare --mount --propagation private \
        sh -c 'mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf &&
               mount --bind "$0/empty" /run/netns && exec "$@"' "$WORK" \
        env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            LANG=C LC_ALL=C TERM=dumb \
        stdbuf -oL \
        bash --norc --noprofile -c "$RUNNER" bash "${CWD[$h]}" "$cmd" "$cwdf" \
        < /dev/null > "$out" 2>&1 &
    # Run in the background and `wait`, so that a signal to the harness
    # (Ctrl-C, kill) is handled at once and not only when the command ends.
    CMDPID=$!
    wait "$CMDPID"
    rc=$?
    CMDPID=
    t1=$(date +%s%N)
    [ -n "${REALNET_TIMES:-}" ] && echo "realnet: $(( (t1 - t0) / 1000000 )) ms: $h# $cmd" >&2
    # 124/137 may also be the command's own status (e.g. `timeout 2 ...`
    # inside the script), so also check the elapsed time.
    if { [ $rc = 124 ] || [ $rc = 137 ]; } && [ $(( (t1 - t0) / 1000000000 )) -ge "$TIMEOUT" ]; then
        echo "realnet: TIMEOUT after ${TIMEOUT}s: $h# $cmd" >&2
        STATUS=3
    fi
    [ -s "$cwdf" ] && CWD[$h]=$(cat "$cwdf")
    cat "$out"
    if [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -tx1 | tr -d ' ')" != 0a ]; then
        echo
    fi
}

# /run/netns is hidden (an empty directory bind-mounted over it in the
# command's private mount namespace): otherwise `ip link/addr` scans all
# named namespaces to print "link-netns NAME", and with another harness run
# creating/deleting namespaces at the same moment it sporadically prints
# "Error: Peer netns reference is invalid.".  Without names it prints
# "link-netnsid N", which normalize removes.
mkdir "$WORK/empty"

# Name resolution: only /etc/hosts ("hosts: files"), bind-mounted over
# /etc/nsswitch.conf in a private mount namespace of each command.  The lab
# must never talk to a real DNS server (the namespaces have no route to it,
# and a node's default route would even send the query onto the lab LAN),
# and with "files" a bogus name fails at once with HOST_NOT_FOUND, which is
# what a lab VM with working DNS prints for an unknown name, e.g. the
# tutorial's `ifconfig eth0:8 192.168.150.100 netmask/24` ->
# "netmask: Unknown host".
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n' \
    > "$WORK/nsswitch.conf"

setup
for h in "${HOSTS[@]}"; do CWD[$h]=/root; done

lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=${line%$'\r'}
    case "$line" in
        ''|'#'*) continue ;;
    esac
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    if [[ "$line" =~ ^(client|node01|node02|node03)#\ (.*)$ ]]; then
        h=${BASH_REMATCH[1]}
        cmd=${BASH_REMATCH[2]}
        printf '%s# %s\n' "$h" "$cmd"
        run_cmd "$h" "$cmd"
    else
        echo "realnet: $SCRIPT:$lineno: cannot parse: $line" >&2
        STATUS=3
    fi
done < "$SCRIPT"

exit $STATUS
