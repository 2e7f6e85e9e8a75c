// The differential tester's generator: a seeded grammar of what the lab's
// users type on the bare LAN (client, node01..node03 on 192.168.150.0/24),
// written from the real tools' grammars (iproute2 6.1 ip-address(8),
// ip-route(8), ip-neighbour(8), ip-link(8); net-tools ifconfig(8), route(8),
// arp(8); iputils ping(8)/arping(8); procps sysctl(8); the kernel's
// ip-sysctl.rst for the knobs). One seed gives one script, the same on
// every machine (mulberry32, no Math.random).
//
// Scripts must be reproducible on the real kernel, so the grammar leaves
// out what races there: neighbour states are only listed while they are
// stable (a ping's REACHABLE lasts 15..45 s; listings follow at once), no
// command waits for a timer that ends near another command, and arping
// and ping always carry a count and a deadline. What the lab does not
// model is left out on purpose and listed in README.md.
//
// `node gen.mjs SEED` prints the script for SEED.

const HOSTS = ["client", "node01", "node02", "node03"];
const OWN = { client: "192.168.150.1", node01: "192.168.150.11", node02: "192.168.150.12", node03: "192.168.150.13" };
const MACS = { client: "02:42:c0:a8:96:01", node01: "02:42:c0:a8:96:0b", node02: "02:42:c0:a8:96:0c", node03: "02:42:c0:a8:96:0d" };
const VIP = "192.168.150.100";

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    // [weight, value] pairs
    weighted: (pairs) => {
      const total = pairs.reduce((s, [w]) => s + w, 0);
      let x = next() * total;
      for (const [w, v] of pairs) {
        if ((x -= w) < 0) return v;
      }
      return pairs[pairs.length - 1][1];
    },
  };
  return r;
}

// Addresses a student types: the hosts' own, the VIP, an unused one on the
// LAN, other subnets, and now and then a malformed one.
function addr(r) {
  return r.weighted([
    [4, VIP],
    [3, r.pick(Object.values(OWN))],
    [2, `192.168.150.${r.int(2, 254)}`],
    [2, `10.${r.int(0, 3)}.${r.int(0, 3)}.${r.int(1, 9)}`],
    [1, `172.16.${r.int(0, 9)}.1`],
    [0.3, r.pick(["300.1.1.1", "192.168.150", "1.2.3.4.5", "abc"])],
  ]);
}

function plen(r) {
  return r.weighted([
    [4, 32],
    [4, 24],
    [1, r.int(8, 31)],
    [0.3, r.pick([0, 33, -1])],
  ]);
}

const MASKS = ["255.255.255.255", "255.255.255.0", "255.255.0.0", "255.0.0.0", "255.255.255.128", "255.255.255.252"];

function dev(r) {
  return r.weighted([
    [5, "eth0"],
    [3, "lo"],
    [0.3, "eth9"],
  ]);
}

const KNOBS = [
  ["arp_ignore", () => [0, 1, 2, 3, 8]],
  ["arp_announce", () => [0, 1, 2]],
  ["rp_filter", () => [0, 1, 2]],
  ["arp_accept", () => [0, 1]],
  ["accept_local", () => [0, 1]],
  ["arp_filter", () => [0, 1]],
  ["forwarding", () => [0, 1]],
];

function sysctlCmd(r) {
  const [knob, vals] = r.pick(KNOBS);
  const scope = r.pick(["all", "eth0", "lo", "default"]);
  const v = r.pick(vals());
  const key = `net.ipv4.conf.${scope}.${knob}`;
  return r.weighted([
    [3, `sysctl -w ${key}=${v}`],
    [2, `echo ${v} > /proc/sys/net/ipv4/conf/${scope}/${knob}`],
    [1, `sysctl ${key}`],
    [1, `cat /proc/sys/net/ipv4/conf/${scope}/${knob}`],
    [1, `sysctl -w ${key.replaceAll(".", "/")}=${v}`],
    [0.5, `sysctl -n ${key}`],
    [0.5, `sysctl -q -w ${key}=${v}`],
    [0.3, `sysctl -w net.ipv4.conf.eth9.${knob}=${v}`],
    [0.3, `sysctl -w ${key}=abc`],
  ]);
}

function ipAddr(r, host) {
  const d = dev(r);
  const a = addr(r);
  const p = plen(r);
  return r.weighted([
    [4, `ip addr add ${a}/${p} dev ${d}`],
    [2, `ip addr add ${a}/${p} dev ${d} label ${d}:${r.int(0, 9)}`],
    [1, `ip addr add ${a}/${p} brd + dev ${d}`],
    [1, `ip address add ${a} dev ${d}`],
    [2, `ip addr del ${a}/${p} dev ${d}`],
    [1, `ip addr del ${a} dev ${d}`],
    [2, r.pick(["ip addr", "ip a", "ip addr show", "ip address show"])],
    [2, `ip addr show dev ${d}`],
    [1, `ip -4 addr show dev ${d}`],
    [1, `ip -o addr show dev ${d}`],
    [1, `ip -4 -o addr`],
    [0.5, `ip addr show ${d}`],
    [0.5, `ip addr flush dev ${d === "lo" ? "eth0" : d}`],
    [0.3, `ip addr add ${OWN[host]}/24 dev eth0`],
  ]);
}

function ifconfigCmd(r) {
  const d = dev(r);
  const a = addr(r);
  const n = r.int(0, 9);
  return r.weighted([
    [3, `ifconfig ${d}:${n} ${a} netmask ${r.pick(MASKS)}`],
    [2, `ifconfig ${d}:${n} ${a}/${plen(r)}`],
    [1, `ifconfig ${d}:${n} ${a} netmask ${r.pick(MASKS)} broadcast ${a} up`],
    [2, `ifconfig ${d}:${n} down`],
    [2, r.pick(["ifconfig", "ifconfig -a"])],
    [2, `ifconfig ${d}`],
    [0.5, `ifconfig ${d}:${n}`],
  ]);
}

function routeCmd(r) {
  const net = `10.${r.int(0, 9)}.0.0/16`;
  const gw = r.pick([OWN.node01, OWN.node02, OWN.client, "10.0.0.1", VIP]);
  return r.weighted([
    [3, r.pick(["ip route", "ip r", "ip route show", "ip route show table local", "ip route show table main"])],
    [3, `ip route get ${addr(r)}`],
    [3, `ip route add ${net} via ${gw}`],
    [1, `ip route add ${net} dev ${r.pick(["eth0", "lo"])}`],
    [1, `ip route add ${r.pick(["blackhole", "unreachable", "prohibit"])} ${net}`],
    [2, `ip route del ${net}`],
    [1, `ip route replace ${net} via ${gw}`],
    [1, `ip route add default via ${gw}`],
    [1, r.pick(["route -n", "netstat -rn"])],
    [0.5, `route add -net 10.${r.int(0, 9)}.0.0 netmask 255.255.0.0 gw ${gw}`],
  ]);
}

function neighCmd(r, host) {
  const other = r.pick(HOSTS.filter((h) => h !== host));
  return r.weighted([
    [3, r.pick(["ip neigh", "ip neigh show", "ip n", "ip neigh show dev eth0"])],
    [1, `ip neigh show ${OWN[other]}`],
    [2, `ip neigh add ${addr(r)} lladdr ${MACS[other]} dev eth0 nud permanent`],
    [1, `ip neigh replace ${OWN[other]} lladdr ${MACS[other]} dev eth0`],
    [1, `ip neigh del ${OWN[other]} dev eth0`],
    [1, "ip neigh flush dev eth0"],
    [2, r.pick(["arp -n", "arp -an"])],
  ]);
}

function linkCmd(r) {
  return r.weighted([
    [2, r.pick(["ip link", "ip link show", "ip l"])],
    [2, `ip link show dev ${dev(r)}`],
    [1, `ip link set ${r.pick(["eth0", "lo"])} ${r.pick(["down", "up"])}`],
    // MTUs stay above the largest packet a script sends (ping's 84 bytes):
    // the lab records the MTU but does not fragment or drop for size.
    [1, `ip link set dev eth0 mtu ${r.pick([1500, 1400, 9000, 67, 65536, "abc"])}`],
    [0.5, "ip link set eth9 up"],
  ]);
}

function trafficCmd(r, host) {
  const dst = r.weighted([
    [3, VIP],
    [3, OWN[r.pick(HOSTS.filter((h) => h !== host))]],
    [1, `192.168.150.${r.int(2, 254)}`],
    [0.5, "127.0.0.1"],
  ]);
  return r.weighted([
    [4, `ping -c 1 -W 1 ${dst}`],
    [1, `ping -c 2 -i 0.2 -q ${dst}`],
    [1, `ping -c 1 -W 1 -I eth0 ${dst}`],
    [3, `arping -c 1 -w 1 -I eth0 ${dst}`],
    [1, `arping -c 1 -w 1 -I eth0 -s ${OWN[host]} ${dst}`],
    [0.5, `arping -c 1 -w 1 -D -I eth0 ${dst}`],
    [0.5, `arping -c 1 -U -I eth0 ${r.pick([VIP, OWN[host]])}`],
    // No httpd runs in the LAN harness: curl meets refused connects,
    // unanswered ARP (-m keeps it under ARP's 3 s), its own option and URL
    // errors. Only forms whose output is the same on a terminal (the lab)
    // and off one (the harness): -s, or nothing but an error.
    [1, `curl -sS -m 2${r.pick(CURL_EXTRA)} http://${dst}/`],
    [0.2, "curl -h"],
    [0.5, `curl -s -m 2 -w '${r.pick(CURL_W)}\\n' ${r.pick(["http://", ""])}${dst}${r.pick(["/", ":8080/", ""])}`],
    [0.5, `curl ${r.pick(CURL_BAD)}`.trimEnd()],
  ]);
}

// curl options whose effect on a refused or unanswered connect is nothing
// to see, and -v, whose trace of a failed connect is the same on a
// terminal.
const CURL_EXTRA = ["", "", "", " --connect-timeout 1", " -A lab", " -H 'X-Lab: 1'", " -L", " -k", " -4", " -N", " -g", " --no-progress-meter", " -v", " -i", " -I", " -f", " -O", " --max-filesize 1k"];
// curl -w formats and command lines curl refuses (tool_getparam.c).
const CURL_W = ["%{http_code} %{exitcode}", "%{remote_ip}:%{remote_port} %{num_connects}", "[%{errormsg}]", "%{url_effective} %{method}", "%{local_port} %{size_download}"];
const CURL_BAD = ["", "-s", "--foo", "--s x", "-m", "-sm", "-m abc x", "-m -1 x", "--no-max-time 3 x", "--max-time=3 x", "--local-port 70000 x", "--max-filesize 1.5k x", "-W", "http://", "htp://192.168.150.12/", "-sS http://192.168.150.12:99999/", "-sS http://node02/", "-sS --interface eth9 http://192.168.150.12/", "-sSf -m 1 http://127.0.0.1/"];

function line(r) {
  const host = r.pick(HOSTS);
  const family = r.weighted([
    [4, ipAddr],
    [2, ifconfigCmd],
    [3, sysctlCmd],
    [3, routeCmd],
    [2, neighCmd],
    [1, linkCmd],
    [4, trafficCmd],
  ]);
  let cmd = family(r, host);
  if (r.chance(0.15)) cmd += "; echo $?";
  return `${host}# ${cmd}`;
}

export function generate(seed) {
  const r = rng(seed);
  const n = r.int(4, 12);
  const lines = [`# difftest seed ${seed} (tests/difftest/gen.mjs)`];
  for (let i = 0; i < n; i++) lines.push(line(r));
  // End with a look at what the commands left behind.
  const host = r.pick(HOSTS);
  lines.push(`${host}# ${r.pick(["ip addr", "ip route show table local", "ip neigh", "ip route"])}`);
  return lines.join("\n") + "\n";
}

// IPVS scripts (for the VM: ipvsadm 1.31 on Debian's 6.1 kernel): the
// seed lab's DR setup, then random changes of the table across every
// scheduler, flag, persistence option, threshold and weight, edits and
// deletions, mistakes, listings and requests with pinned client ports
// (outside ip_local_port_range, so nothing is masked). Left out as racy:
// --rate (a 2 s estimator), --stats right after traffic, and -lnc more
// than a minute after a packet (tests/vm/normalize explains each).
const SCHEDS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"];
const SVCS = [`${VIP}:80`, `${VIP}:8080`, `${VIP}:http`];
const RIPS = ["192.168.150.12", "192.168.150.13"];

const IPVS_SETUP = [
  `node01# ifconfig eth0:8 ${VIP}/24`,
  "node02# cd /proc/sys/net/ipv4/conf/eth0; echo 1 > arp_ignore; echo 2 > arp_announce; cd ../all; echo 1 > arp_ignore; echo 2 > arp_announce",
  "node03# cd /proc/sys/net/ipv4/conf/eth0; echo 1 > arp_ignore; echo 2 > arp_announce; cd ../all; echo 1 > arp_ignore; echo 2 > arp_announce",
  `node02# service httpd start; echo '<h1>from 192.168.150.12</h1>' > /var/www/html/index.html; ifconfig lo:2 ${VIP} netmask 255.255.255.255`,
  `node03# service httpd start; echo '<h1>from 192.168.150.13</h1>' > /var/www/html/index.html; ifconfig lo:2 ${VIP} netmask 255.255.255.255`,
];

function ipvsLine(r, state) {
  const svc = r.weighted([[6, SVCS[0]], [1, SVCS[1]], [1, SVCS[2]], [0.3, "192.168.150.101:80"]]);
  const proto = r.weighted([[8, "-t"], [1, "-u"]]);
  const sched = r.weighted([[10, r.pick(SCHEDS)], [0.3, "nosuch"]]);
  const rip = r.pick(RIPS);
  const fwd = r.weighted([[8, "-g"], [1, "-m"], [1, "-i"]]);
  const w = r.weighted([[6, r.int(0, 5)], [0.5, 65535], [0.3, r.pick([-1, 65536, "x"])]]);
  const persist = r.weighted([[6, ""], [2, ` -p ${r.pick([60, 300, 1])}`], [1, " -p"], [0.5, " -p 60 -M 255.255.255.0"]]);
  const thr = r.weighted([[6, ""], [1, ` -x ${r.int(0, 10)} -y ${r.int(0, 5)}`]]);
  const port = r.weighted([[4, ""], [1, ":80"], [0.3, ":8080"]]);
  // /proc/net/ip_vs exists once ip_vs is loaded: on the lab's fresh hosts
  // that is the first ipvsadm, in the VM whatever an earlier script of the
  // same boot loaded, so it is listed only after an ipvsadm has run.
  const lists = ["ipvsadm -ln", "ipvsadm -Ln", "ipvsadm -L -n", "ipvsadm -Sn", "ipvsadm -ln --thresholds", "ipvsadm -ln --persistent-conn", "ipvsadm -ln --exact", "ipvsadm -ln --timeout", `ipvsadm -ln ${proto} ${svc}`, "cat /proc/net/ip_vs"];
  let list = r.pick(lists);
  if (list.startsWith("cat") && !state.loaded) list = "ipvsadm -ln";
  const cmd = r.weighted([
    [4, `ipvsadm -A ${proto} ${svc} -s ${sched}${persist}`],
    [1, `ipvsadm -E ${proto} ${svc} -s ${sched}${persist}`],
    [5, `ipvsadm -a ${proto} ${svc} -r ${rip}${port} ${fwd} -w ${w}${thr}`],
    [1, `ipvsadm -e ${proto} ${svc} -r ${rip}${port} ${fwd} -w ${w}${thr}`],
    [1, `ipvsadm -d ${proto} ${svc} -r ${rip}${port}`],
    [0.7, `ipvsadm -D ${proto} ${svc}`],
    [0.3, "ipvsadm -C"],
    [0.5, `ipvsadm -Z${r.chance(0.5) ? ` ${proto} ${svc}` : ""}`],
    [0.5, `ipvsadm --set ${r.int(0, 900)} ${r.int(0, 120)} ${r.int(0, 300)}`],
    [5, list],
    [3, "traffic"],
  ]);
  if (cmd === "traffic") {
    const ports = Array.from({ length: r.int(1, 4) }, () => state.port++);
    // curl forms whose output is the same on a terminal and off one, and
    // does not depend on the server's headers (the VM's httpd is busybox).
    const form = r.weighted([
      [6, "-s"],
      [1, "-sS"],
      [1, "-sf"],
      [1, `-s -o /dev/null -w '%{http_code} %{remote_ip} %{size_download}\\n'`],
      [0.5, `-sS -w '%{exitcode} %{local_port}\\n'`],
    ]);
    return `client# for p in ${ports.join(" ")}; do curl ${form} -m 3 --local-port $p http://${VIP}/; done`;
  }
  state.loaded = true;
  return `node01# ${cmd}${r.chance(0.2) ? "; echo $?" : ""}`;
}

export function generateIpvs(seed) {
  const r = rng(seed ^ 0x5eed1905);
  const state = { port: 20001, loaded: false };
  const lines = [`# difftest IPVS seed ${seed} (tests/difftest/gen.mjs)`, ...IPVS_SETUP];
  // Most scripts start from a working service, as students do.
  if (r.chance(0.7)) {
    state.loaded = true;
    lines.push(`node01# ipvsadm -A -t ${VIP}:80 -s ${r.pick(SCHEDS)}; ipvsadm -a -t ${VIP}:80 -r 192.168.150.12 -g -w ${r.int(1, 3)}; ipvsadm -a -t ${VIP}:80 -r 192.168.150.13 -g -w ${r.int(1, 3)}`);
  }
  const n = r.int(5, 12);
  for (let i = 0; i < n; i++) lines.push(ipvsLine(r, state));
  lines.push("node01# ipvsadm -Sn");
  return lines.join("\n") + "\n";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ipvs = process.argv[2] === "--ipvs";
  const seed = Number(process.argv[ipvs ? 3 : 2]);
  if (!Number.isInteger(seed) || seed < 0) {
    console.error("usage: node gen.mjs [--ipvs] SEED");
    process.exit(2);
  }
  process.stdout.write(ipvs ? generateIpvs(seed) : generate(seed));
}
