//! Programs that run over simulated time: `ping` (iputils 20221126) and
//! `arping` (iputils 20221126).
//!
//! A program is a state machine driven by its timers and by the packets its
//! socket sees (a raw ICMP socket for ping, a packet socket bound to the
//! device for arping). It writes its output lines as the real tool does; the
//! shell runs the world until the program finishes. Timing rules follow the
//! tools' main loops: ping sends every second and, once `-c` packets are
//! out, waits `max(2·tmax, 1 s)` after a reply or the `-W` linger time (10 s
//! by default) without one; arping sends once a second and stops after `-c`
//! probes, at the `-w` deadline, or (with `-w`) once `-c` replies came.

pub mod curl;
pub mod tcpdump;

use crate::sim::trace::EventKind;
use crate::sim::world::{Pending, World};
use crate::time::SimTime;
use crate::wire::mac::Mac;
use crate::wire::{ArpOp, ArpRepr, FrameRepr, IcmpRepr, Ipv4Repr, Payload, L4};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq)]
pub struct PingApp {
    pub host: String,
    pub dst: Ipv4Addr,
    pub src: Ipv4Addr,
    pub oif: Option<u32>,
    pub count: u32,
    /// `-i`: between two probes, in microseconds (iputils keeps whole ms).
    pub interval_us: u64,
    /// -W: seconds to wait for a reply after the last probe (linger).
    pub linger_s: f64,
    /// -w: overall deadline in seconds.
    pub deadline_s: Option<f64>,
    pub ident: u16,
    /// `-t`: the IP_TTL of ping's socket.
    pub ttl: Option<u8>,
    pub start: SimTime,
    pub sent: u32,
    pub received: u32,
    pub errors: u32,
    /// iputils' `pipesize`: the most probes that were outstanding when a
    /// reply or an ICMP error for one of them came back (`acknowledge()`).
    pub pipesize: u32,
    pub rtts: Vec<u64>,
    pub send_times: Vec<SimTime>,
    pub exit_at: Option<SimTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArpingApp {
    pub host: String,
    pub ifindex: u32,
    pub dev_mac: Mac,
    pub target: Ipv4Addr,
    pub src: Ipv4Addr,
    pub count: Option<u32>,
    pub deadline_s: Option<u32>,
    pub dad: bool,
    /// -U (request) or -A (reply) unsolicited announcements.
    pub unsolicited: Option<ArpOp>,
    pub sent: u32,
    pub broadcasts: u32,
    pub received: u32,
    pub ticks: u32,
    pub unicast_to: Option<Mac>,
    pub last_send: SimTime,
    pub start: SimTime,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AppKind {
    Ping(PingApp),
    Arping(ArpingApp),
    Curl(crate::apps::curl::CurlApp),
    Tcpdump(Box<crate::apps::tcpdump::TcpdumpApp>),
}

impl AppKind {
    /// The program's name, as `ps` would show it.
    pub fn name(&self) -> &str {
        match self {
            AppKind::Ping(_) => "ping",
            AppKind::Arping(_) => "arping",
            AppKind::Curl(c) => &c.program,
            AppKind::Tcpdump(_) => "tcpdump",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub kind: AppKind,
    pub output: Vec<String>,
    /// Raw output after the lines (a downloaded body is not line-based).
    pub text: String,
    pub done: bool,
    /// Exit status the real tool would return.
    pub status: i32,
}

/// `%g` as C prints it, for ping's packet loss percentage.
pub fn fmt_g(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let digits = 6 - (v.abs().log10().floor() as i32 + 1);
    let s = format!("{:.*}", digits.max(0) as usize, v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

impl World {
    /// Start a program; returns its id. Its first action happens now.
    pub fn spawn(&mut self, kind: AppKind) -> u32 {
        let id = self.next_app;
        self.next_app += 1;
        self.apps.insert(
            id,
            App {
                kind,
                output: vec![],
                text: String::new(),
                done: false,
                status: 0,
            },
        );
        let now = self.now;
        self.schedule(now, Pending::AppTimer { app: id });
        id
    }

    /// Run the world until program `id` finishes (or nothing is left to do);
    /// returns the program.
    pub fn run_app(&mut self, id: u32) -> Option<App> {
        loop {
            if self.apps.get(&id).is_none_or(|a| a.done) {
                break;
            }
            if !self.step() {
                break;
            }
        }
        self.apps.remove(&id)
    }

    pub(crate) fn app_timer(&mut self, id: u32) {
        let now = self.now;
        let Some(mut app) = self.apps.remove(&id) else {
            return;
        };
        if app.done {
            return;
        }
        match &mut app.kind {
            AppKind::Ping(p) => {
                if p.exit_at.is_some_and(|t| now >= t)
                    || p.deadline_s
                        .is_some_and(|d| now >= p.start.plus((d * 1e6) as u64))
                {
                    finish_ping(p, &mut app.output, now);
                    app.status = if p.received > 0 { 0 } else { 1 };
                    app.done = true;
                } else if p.sent < p.count {
                    let seq = (p.sent as u16).wrapping_add(1);
                    p.sent += 1;
                    p.send_times.push(now);
                    let data: Vec<u8> = (0..56u8).collect();
                    let pkt = Ipv4Repr {
                        src: p.src,
                        dst: p.dst,
                        ttl: p.ttl.unwrap_or(crate::net::ipv4::output::DEFAULT_TTL),
                        ident: 0,
                        dont_frag: true,
                        tos: 0,
                        l4: L4::Icmp(IcmpRepr::EchoRequest {
                            ident: p.ident,
                            seq,
                            data,
                        }),
                    };
                    let host = p.host.clone();
                    let oif = p.oif;
                    // The packet leaves through the stack; errors show as ping does.
                    self.apps.insert(id, app);
                    let r = self.ip_send(&host, pkt, oif);
                    let Some(mut app2) = self.apps.remove(&id) else {
                        return;
                    };
                    if let Err(e) = r {
                        app2.output.push(format!("ping: sendmsg: {e}"));
                    }
                    app = app2;
                    let AppKind::Ping(p) = &mut app.kind else {
                        unreachable!()
                    };
                    let next = if p.sent < p.count {
                        now.plus(p.interval_us)
                    } else {
                        // The last reply is awaited twice the longest
                        // round trip, at least one interval.
                        let wait = if p.received > 0 {
                            (2 * p.rtts.iter().max().copied().unwrap_or(0)).max(p.interval_us)
                        } else {
                            (p.linger_s * 1e6) as u64
                        };
                        let t = now.plus(wait);
                        p.exit_at = Some(t);
                        t
                    };
                    let next = match p.deadline_s {
                        Some(d) => next.min(p.start.plus((d * 1e6) as u64)),
                        None => next,
                    };
                    self.schedule(next, Pending::AppTimer { app: id });
                }
            }
            // A capture only reacts to frames (see `packet_taps`).
            AppKind::Tcpdump(_) => {}
            AppKind::Curl(_) => {
                let app = self.curl_timer(id, app);
                self.apps.insert(id, app);
                return;
            }
            AppKind::Arping(a) => {
                let deadline_hit = a.deadline_s.is_some_and(|d| d <= a.ticks);
                let count_hit = a
                    .count
                    .is_some_and(|c| a.deadline_s.is_none() && c <= a.ticks);
                if a.ticks > 0 && (deadline_hit || count_hit) {
                    finish_arping(a, &mut app.output);
                    // finish(): DAD fails on any reply, -U/-A always
                    // succeed, a probe needs one.
                    app.status = if a.dad {
                        i32::from(a.received > 0)
                    } else if a.unsolicited.is_some() {
                        0
                    } else {
                        i32::from(a.received == 0)
                    };
                    app.done = true;
                } else {
                    let (op, tha) = match a.unsolicited {
                        Some(ArpOp::Reply) => (ArpOp::Reply, a.dev_mac),
                        _ => (ArpOp::Request, Mac::BROADCAST),
                    };
                    let req = ArpRepr {
                        op,
                        sender_mac: a.dev_mac,
                        sender_ip: a.src,
                        target_mac: tha,
                        target_ip: a.target,
                    };
                    let dst = a.unicast_to.unwrap_or(Mac::BROADCAST);
                    a.sent += 1;
                    if dst.is_broadcast() {
                        a.broadcasts += 1;
                    }
                    a.last_send = now;
                    a.ticks += 1;
                    let (host, ifindex) = (a.host.clone(), a.ifindex);
                    self.apps.insert(id, app);
                    self.send_arp(&host, ifindex, dst, req);
                    self.schedule(now.plus(1_000_000), Pending::AppTimer { app: id });
                    return;
                }
            }
        }
        self.apps.insert(id, app);
    }

    /// ARP frames seen by packet sockets (arping) on a host's device.
    pub(crate) fn apps_frame_in(
        &mut self,
        host: &str,
        ifindex: u32,
        frame: &FrameRepr,
        to_us: bool,
    ) {
        let Payload::Arp(arp) = &frame.payload else {
            return;
        };
        let now = self.now;
        for app in self.apps.values_mut() {
            let AppKind::Arping(a) = &mut app.kind else {
                continue;
            };
            if app.done || a.host != host || a.ifindex != ifindex {
                continue;
            }
            // recv_pack(): a reply or request from the target, addressed to
            // us; with -U/-A too (a host that takes our address for its own
            // answers the announcement, and arping counts that).
            if arp.sender_ip != a.target {
                continue;
            }
            if !a.dad {
                if arp.target_ip != a.src || arp.target_mac != a.dev_mac {
                    continue;
                }
            } else if arp.sender_mac == a.dev_mac
                || (!a.src.is_unspecified() && a.src != arp.target_ip)
            {
                continue;
            }
            let kind = if to_us { "Unicast" } else { "Broadcast" };
            let op = if arp.op == ArpOp::Reply {
                "reply"
            } else {
                "request"
            };
            let mac = arp.sender_mac.to_string().to_ascii_uppercase();
            let dt = now.0.saturating_sub(a.last_send.0);
            app.output.push(format!(
                "{kind} {op} from {} [{mac}]  {}ms",
                arp.sender_ip,
                ms(dt)
            ));
            a.received += 1;
            if !a.dad {
                a.unicast_to = Some(arp.sender_mac);
            }
            let enough =
                a.dad || (a.deadline_s.is_some() && a.count.is_some_and(|c| a.received >= c));
            if enough {
                finish_arping(a, &mut app.output);
                app.status = if a.dad { 1 } else { 0 };
                app.done = true;
            }
        }
    }

    /// IPv4 packets delivered locally, seen by raw ICMP sockets (ping).
    pub(crate) fn apps_ip_in(&mut self, host: &str, _ifindex: u32, ip: &Ipv4Repr) {
        let now = self.now;
        for app in self.apps.values_mut() {
            let AppKind::Ping(p) = &mut app.kind else {
                continue;
            };
            if app.done || p.host != host {
                continue;
            }
            match &ip.l4 {
                L4::Icmp(IcmpRepr::EchoReply { ident, seq, .. })
                    if *ident == p.ident && ip.src == p.dst =>
                {
                    let sent_at = p
                        .send_times
                        .get(usize::from(*seq).wrapping_sub(1))
                        .copied()
                        .unwrap_or(now);
                    let rtt = now.0 - sent_at.0;
                    p.acknowledge(*seq);
                    p.rtts.push(rtt);
                    p.received += 1;
                    app.output.push(format!(
                        "64 bytes from {}: icmp_seq={} ttl={} time={} ms",
                        ip.src,
                        seq,
                        ip.ttl,
                        ms(rtt)
                    ));
                }
                L4::Icmp(
                    e @ (IcmpRepr::DestUnreachable { original, .. }
                    | IcmpRepr::TimeExceeded { original, .. }),
                ) => {
                    let Ok(orig) = parse_quoted(original) else {
                        continue;
                    };
                    if orig.0 != p.ident {
                        continue;
                    }
                    p.acknowledge(orig.1);
                    p.errors += 1;
                    // iputils' pr_icmph().
                    let what = match e {
                        IcmpRepr::TimeExceeded { .. } => "Time to live exceeded",
                        IcmpRepr::DestUnreachable { code: 0, .. } => "Destination Net Unreachable",
                        IcmpRepr::DestUnreachable { code: 1, .. } => "Destination Host Unreachable",
                        IcmpRepr::DestUnreachable { code: 3, .. } => "Destination Port Unreachable",
                        _ => "Destination Unreachable",
                    };
                    app.output
                        .push(format!("From {} icmp_seq={} {what}", ip.src, orig.1));
                }
                _ => continue,
            }
            if p.received + p.errors >= p.count {
                finish_ping(p, &mut app.output, now);
                app.status = if p.received > 0 { 0 } else { 1 };
                app.done = true;
            }
        }
        let _ = EventKind::LocalDeliver {
            dst: ip.dst,
            proto: 1,
        };
    }
}

/// (ident, seq) of the echo request quoted in an ICMP error.
fn parse_quoted(orig: &[u8]) -> Result<(u16, u16), ()> {
    if orig.len() < 28 || orig[9] != 1 || orig[20] != 8 {
        return Err(());
    }
    Ok((
        u16::from_be_bytes([orig[24], orig[25]]),
        u16::from_be_bytes([orig[26], orig[27]]),
    ))
}

pub(crate) fn finish_ping(p: &PingApp, out: &mut Vec<String>, now: SimTime) {
    out.push(String::new());
    out.push(format!("--- {} ping statistics ---", p.dst));
    let mut line = format!("{} packets transmitted, {} received", p.sent, p.received);
    if p.errors > 0 {
        line.push_str(&format!(", +{} errors", p.errors));
    }
    if p.sent > 0 {
        let loss = f64::from(p.sent - p.received) * 100.0 / f64::from(p.sent);
        let elapsed = p.send_times.last().map(|t| t.0 - p.start.0).unwrap_or(0) / 1000;
        line.push_str(&format!(
            ", {}% packet loss, time {}ms",
            fmt_g(loss),
            elapsed
        ));
    }
    out.push(line);
    if p.received > 0 {
        let min = *p.rtts.iter().min().expect("received > 0");
        let max = *p.rtts.iter().max().expect("received > 0");
        let n = p.rtts.len() as u64;
        let avg = p.rtts.iter().sum::<u64>() / n;
        let var = p
            .rtts
            .iter()
            .map(|r| (*r as f64 - avg as f64).powi(2))
            .sum::<f64>()
            / n as f64;
        let mdev = var.sqrt() as u64;
        out.push(format!(
            "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
            ms(min),
            ms(avg),
            ms(max),
            ms(mdev)
        ));
    }
    // finish(): ", pipe N" after the rtt line, or alone on the line that
    // is otherwise empty.
    if p.pipesize > 1 {
        let last = out.last_mut().filter(|_| p.received > 0);
        match last {
            Some(rtt) => rtt.push_str(&format!(", pipe {}", p.pipesize)),
            None => out.push(format!("pipe {}", p.pipesize)),
        }
    } else if p.received == 0 {
        out.push(String::new());
    }
    let _ = now;
}

impl PingApp {
    /// iputils' `acknowledge()`: a reply or an error for probe `seq`
    /// arrived while `sent` probes had gone out.
    fn acknowledge(&mut self, seq: u16) {
        let diff = (self.sent as u16).wrapping_sub(seq);
        if diff <= 0x7fff {
            self.pipesize = self.pipesize.max(u32::from(diff) + 1);
        }
    }
}

pub(crate) fn finish_arping(a: &ArpingApp, out: &mut Vec<String>) {
    out.push(format!(
        "Sent {} probes ({} broadcast(s))",
        a.sent, a.broadcasts
    ));
    out.push(format!("Received {} response(s)", a.received));
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn percent_like_printf_g() {
        assert_eq!(fmt_g(100.0), "100");
        assert_eq!(fmt_g(0.0), "0");
        assert_eq!(fmt_g(50.0), "50");
        assert_eq!(fmt_g(100.0 / 3.0), "33.3333");
        assert_eq!(fmt_g(200.0 / 3.0), "66.6667");
    }
}
