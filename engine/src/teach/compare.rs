//! Two labs given the same commands: the first step where their traces part,
//! and why, for the page's side-by-side compare mode.
//!
//! Two events are the same step when the same host did the same thing with
//! the same packet. What Linux picks per connection from the clock — the TCP
//! initial sequence number (`secure_tcp_seq()`, here `net::ipv4::tcp::isn` of the
//! simulated time), hence every seq/ack after it, the IPv4 ID and the
//! checksums over them — is not compared: two labs loaded at different
//! times would otherwise "differ" on the first SYN for no reason a student
//! could act on; so is the `Date:` header of the lab's httpd (its clock).
//! Everything else of a frame is compared field by field, and
//! non-frame events (route lookups, ARP decisions, IPVS, drops) as they are.
//!
//! The explanation names the two events (their own `explain`) and, when the
//! doctor finds a problem on that host in one lab and not in the other, that
//! finding: the configuration difference that made the packets part.

use crate::doctor::{self, Options};
use crate::trace::{Event, EventKind, Lang};
use crate::wire::{FrameRepr, IcmpRepr, Payload, L4};
use crate::World;

/// Where two traces part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the first differing event in each trace slice; `None` when
    /// that trace ended before it.
    pub a: Option<usize>,
    pub b: Option<usize>,
    /// The host where it happened.
    pub host: String,
    pub en: String,
    pub zh: String,
}

impl Divergence {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// A frame with what the clock chooses blanked out.
fn normalised(bytes: &[u8]) -> Option<FrameRepr> {
    let mut f = FrameRepr::parse(bytes).ok()?;
    if let Payload::Ipv4(ip) = &mut f.payload {
        ip.ident = 0;
        match &mut ip.l4 {
            L4::Tcp(t) => {
                t.seq = 0;
                t.ack = 0;
                // TCP options carry the timestamps (TSval/TSecr).
                t.options.clear();
                blank_date(&mut t.payload);
            }
            L4::Icmp(IcmpRepr::DestUnreachable { original, .. }) => original.clear(),
            _ => {}
        }
    }
    Some(f)
}

/// The httpd's `Date:` header (the server's clock, `net::ipv4::tcp::http_response`).
fn blank_date(payload: &mut [u8]) {
    const KEY: &[u8] = b"\r\nDate: ";
    let Some(at) = payload.windows(KEY.len()).position(|w| w == KEY) else {
        return;
    };
    for b in payload[at + KEY.len()..]
        .iter_mut()
        .take_while(|b| **b != b'\r')
    {
        *b = b'-';
    }
}

/// Do two events record the same step?
pub fn same_step(a: &Event, b: &Event) -> bool {
    if a.host != b.host {
        return false;
    }
    match (&a.kind, &b.kind) {
        (EventKind::FrameTx { dev: da, frame: fa }, EventKind::FrameTx { dev: db, frame: fb })
        | (EventKind::FrameRx { dev: da, frame: fa }, EventKind::FrameRx { dev: db, frame: fb }) => {
            da == db && (fa == fb || normalised(fa).is_some_and(|x| normalised(fb) == Some(x)))
        }
        (x, y) => x == y,
    }
}

/// Where one host's steps part: (time, position in the traces, host,
/// index in a, index in b).
type Part<'h> = (u64, usize, &'h str, Option<usize>, Option<usize>);

/// The first step where `a` and `b` (the events each lab recorded for the
/// same commands) differ; `None` if they are the same step for step.
///
/// Each host's own events are compared in order (a host's steps depend
/// only on its state and what reached it); of the hosts whose steps part,
/// the one that parts first in simulated time is where the labs diverge
/// (anything later elsewhere follows from it). Events of different hosts at
/// the same instant may interleave differently without meaning anything.
/// `name_a`/`name_b` name the labs in the explanation; `wa`/`wb` are the
/// labs' worlds (for the doctor).
pub fn first_divergence(
    a: &[Event],
    b: &[Event],
    name_a: &str,
    name_b: &str,
    wa: &World,
    wb: &World,
) -> Option<Divergence> {
    let mut hosts: Vec<&str> = a.iter().chain(b).map(|e| e.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let mut first: Option<Part<'_>> = None;
    for h in hosts {
        let ia: Vec<usize> = (0..a.len()).filter(|&i| a[i].host == h).collect();
        let ib: Vec<usize> = (0..b.len()).filter(|&i| b[i].host == h).collect();
        let Some(k) = (0..ia.len().max(ib.len())).find(
            |&k| !matches!((ia.get(k), ib.get(k)), (Some(&x), Some(&y)) if same_step(&a[x], &b[y])),
        ) else {
            continue;
        };
        let (xa, xb) = (ia.get(k).copied(), ib.get(k).copied());
        let time = xa
            .map(|i| a[i].time.0)
            .into_iter()
            .chain(xb.map(|i| b[i].time.0))
            .min()
            .unwrap_or(u64::MAX);
        let pos = xa.into_iter().chain(xb).min().unwrap_or(usize::MAX);
        if first.is_none_or(|(t, p, ..)| (time, pos) < (t, p)) {
            first = Some((time, pos, h, xa, xb));
        }
    }
    let (_, _, host, xa, xb) = first?;
    let (ea, eb) = (xa.map(|i| &a[i]), xb.map(|i| &b[i]));
    let side = |e: Option<&Event>, lang: Lang| match (e, lang) {
        (Some(e), l) => e.explain(l),
        (None, Lang::En) => format!("{host} does nothing more"),
        (None, Lang::Zh) => format!("{host} 之后什么也没有做"),
    };
    let step = |x: Option<usize>| x.map(|i| (i + 1).to_string()).unwrap_or_else(|| "–".into());
    let mut en = format!(
        "The labs part on {host}. In {name_a} (step {}): {}. In {name_b} (step {}): {}.",
        step(xa),
        side(ea, Lang::En),
        step(xb),
        side(eb, Lang::En)
    );
    let mut zh = format!(
        "两个实验在 {host} 上分道扬镳。{name_a}（第 {} 步）：{}。{name_b}（第 {} 步）：{}。",
        step(xa),
        side(ea, Lang::Zh),
        step(xb),
        side(eb, Lang::Zh)
    );
    for (name, cause) in causes(host, name_a, wa, name_b, wb) {
        en.push_str(&format!(" Why, in {name}: {}", cause.en));
        zh.push_str(&format!(" 原因（{name}）：{}", cause.zh));
    }
    Some(Divergence {
        a: xa,
        b: xb,
        host: host.to_string(),
        en,
        zh,
    })
}

/// The doctor's findings on `host` that one lab has and the other has not.
fn causes<'n>(
    host: &str,
    name_a: &'n str,
    wa: &World,
    name_b: &'n str,
    wb: &World,
) -> Vec<(&'n str, doctor::Finding)> {
    let findings = |w: &World| {
        w.host(host)
            .map(|h| doctor::examine_host(h, &Options::default()).findings)
            .unwrap_or_default()
    };
    let (fa, fb) = (findings(wa), findings(wb));
    let key = |f: &doctor::Finding| (f.check.clone(), f.subject.clone());
    let mut out: Vec<(&str, doctor::Finding)> = Vec::new();
    for f in &fb {
        if !fa.iter().any(|g| key(g) == key(f)) {
            out.push((name_b, f.clone()));
        }
    }
    for f in &fa {
        if !fb.iter().any(|g| key(g) == key(f)) {
            out.push((name_a, f.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use crate::shell::Lab;

    fn run(name: &str, cmds: &[(&str, &str)]) -> Lab {
        let mut lab = Lab::new(scenario::load(name).unwrap());
        for (h, c) in cmds {
            lab.run(h, c);
        }
        lab
    }

    const CURL: &[(&str, &str)] = &[("client", "curl -s -m 2 http://192.168.150.100/")];

    #[test]
    fn the_same_lab_does_not_diverge() {
        let (a, b) = (run("seed", CURL), run("seed", CURL));
        assert!(
            first_divergence(&a.world.trace, &b.world.trace, "a", "b", &a.world, &b.world)
                .is_none()
        );
    }

    #[test]
    fn a_lab_started_later_differs_only_in_what_the_clock_picks() {
        let a = run("seed", CURL);
        let mut b = Lab::new(scenario::load("seed").unwrap());
        b.run("client", "sleep 7");
        let from = b.world.trace.len();
        b.run("client", CURL[0].1);
        let tb = &b.world.trace[from..];
        // Not byte-identical (the SYN's sequence number comes from the clock) ...
        assert_ne!(
            a.world.trace.iter().map(|e| &e.kind).collect::<Vec<_>>(),
            tb.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
        // ... but the same steps.
        let d = first_divergence(&a.world.trace, tb, "a", "b", &a.world, &b.world);
        assert!(d.is_none(), "{d:?}");
    }

    #[test]
    fn seed_and_lo_mask_24_part_on_node02_and_the_doctor_names_the_mask() {
        let a = run("seed", CURL);
        let b = run("pitfall-lo-mask-24", CURL);
        let d = first_divergence(
            &a.world.trace,
            &b.world.trace,
            "seed",
            "pitfall-lo-mask-24",
            &a.world,
            &b.world,
        )
        .expect("they differ");
        assert_eq!(d.host, "node02", "{d:?}");
        // Up to there node02 did the same in both labs.
        let (i, j) = (d.a.unwrap(), d.b.unwrap());
        let before = |t: &[Event], i: usize| {
            t[..i]
                .iter()
                .filter(|e| e.host == "node02")
                .cloned()
                .collect::<Vec<_>>()
        };
        let (pa, pb) = (before(&a.world.trace, i), before(&b.world.trace, j));
        assert_eq!(pa.len(), pb.len());
        assert!(pa.iter().zip(&pb).all(|(x, y)| same_step(x, y)));
        assert!(d.en.contains("pitfall-lo-mask-24"), "{}", d.en);
        assert!(
            d.en.contains("Why, in pitfall-lo-mask-24:"),
            "the doctor's finding: {}",
            d.en
        );
        assert!(
            d.en.contains("/24") || d.en.contains("255.255.255.0") || d.en.contains("32"),
            "{}",
            d.en
        );
        assert!(!d.zh.is_empty());
    }
}
