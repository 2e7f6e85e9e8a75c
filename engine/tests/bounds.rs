//! Lines that would take a lab's memory or time without bound (issue 14,
//! item 4) end within a budget with the lab's own message. Times are
//! guarded loosely (this machine is shared): each line must finish in
//! seconds where, unbounded, it ran for hours or until memory ran out.

use lvslab_engine::scenario;
use lvslab_engine::shell::{Lab, MAX_OUTPUT};
use std::time::{Duration, Instant};

fn lab() -> Lab {
    Lab::new(scenario::load("seed").expect("seed"))
}

/// Run `line` on `host` in a script (and at a terminal), within `secs`
/// of wall time; the output stays under 2 MiB.
fn bounded(host: &str, line: &str, secs: u64) -> String {
    let mut l = lab();
    let t = Instant::now();
    let out = l.run(host, line);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(secs), "{line}: {took:?}");
    assert!(out.text.len() < 2 << 20, "{line}: {} bytes", out.text.len());
    assert!(
        l.world.trace.len() < 3_000_000,
        "{line}: {} events",
        l.world.trace.len()
    );
    let mut l = lab();
    let t = Instant::now();
    let s = l.start(host, line);
    assert!(
        t.elapsed() < Duration::from_secs(secs),
        "{line} at a terminal"
    );
    if s.running {
        l.interrupt(host);
    }
    out.text
}

#[test]
fn seq_with_huge_or_overflowing_bounds() {
    let o = bounded("client", "seq -9223372036854775808 9223372036854775807", 5);
    assert!(o.contains("lvslab: seq stops at 100000 numbers"), "{o}");
    let o = bounded("client", "seq 1 100000 | wc -l", 5);
    assert_eq!(o, "100000\n");
}

#[test]
fn a_line_of_chained_loops_is_linear() {
    let one = "for i in 1 2; do true; done; ";
    let line = one.repeat(20_000);
    let o = bounded("client", &line, 20);
    assert_eq!(o, "");
}

#[test]
fn loop_output_stops_at_the_bound() {
    let items: Vec<String> = (1..=200).map(|i| i.to_string()).collect();
    let line = format!("for i in {}; do seq 1 10000; done", items.join(" "));
    let o = bounded("client", &line, 30);
    assert!(
        o.len() < MAX_OUTPUT + 100_000,
        "stopped soon after the bound"
    );
    let tail = &o[o.len().saturating_sub(200)..];
    assert!(
        tail.contains("the lab's bound on one command line"),
        "{tail}"
    );
}

#[test]
fn ping_and_arping_with_the_largest_counts() {
    let o = bounded("client", "ping -c 4294967295 192.168.150.12", 60);
    assert!(
        o.contains("lvslab: ping stopped after"),
        "{}",
        &o[o.len().saturating_sub(300)..]
    );
    assert!(
        o.contains("packets transmitted"),
        "ping's statistics as after Ctrl+C"
    );
    let o = bounded("client", "arping -c 4294967295 -I eth0 192.168.150.12", 60);
    assert!(
        o.contains("lvslab: arping stopped after"),
        "{}",
        &o[o.len().saturating_sub(300)..]
    );
}

#[test]
fn ping_linger_and_deadline_out_of_range() {
    assert_eq!(
        bounded("client", "ping -c 1 -W 1e300 192.168.150.12", 5),
        "ping: bad linger time: 1e300\n"
    );
    assert_eq!(
        bounded("client", "ping -c 1 -w 1e300 192.168.150.12", 5),
        "ping: invalid argument: '1e300': out of range: 0 <= value <= 2147483647\n"
    );
}

#[test]
fn a_forged_wait_step_is_bounded() {
    let mut l = lab();
    assert!(l.start("client", "ping 192.168.150.12").running);
    let t = Instant::now();
    l.pass_time(u64::MAX);
    assert!(t.elapsed() < Duration::from_secs(60));
    assert!(l.interrupt("client").is_some());
}

#[test]
fn the_trace_keeps_its_newest_events_between_commands() {
    use lvslab_engine::world::{TRACE_KEEP, TRACE_MAX};
    let mut l = lab();
    assert!(l.start("client", "ping 192.168.150.12").running);
    // A ping left running at a terminal for hours: some 8 events a second.
    let mut passes = 0;
    while l.world.trace_dropped == 0 && passes < 100 {
        l.pass_time(3_600_000_000);
        passes += 1;
    }
    assert!(l.world.trace_dropped > 0, "{} events", l.world.trace.len());
    l.pass_time(1_000_000);
    assert!(l.world.trace.len() <= TRACE_MAX, "{}", l.world.trace.len());
    assert!(l.world.trace.len() >= TRACE_KEEP);
    let out = l.interrupt("client").expect("ping ran");
    assert!(out.text.contains("packets transmitted"));
}

#[test]
fn grep_on_a_huge_line_ends_in_time() {
    // A pasted line of ~590 KB (echo and the numbers 1..100000), through
    // patterns that cost a pass per start position if nothing bounds them.
    let nums: Vec<String> = (1..=100_000).map(|n| n.to_string()).collect();
    let echo = format!("echo {}", nums.join(" "));
    for p in [
        "grep -c '.*x'",
        "grep -c '9.*9'",
        "grep -E -c '(1*)*2$'",
        "grep -c -x '1 2 3.*'",
    ] {
        let out = bounded("client", &format!("{echo} | {p}"), 20);
        assert!(out.ends_with("1\n") || out.ends_with("0\n"), "{p}: {out}");
    }
    let out = bounded("client", &format!("{echo} | grep -o 99999"), 20);
    assert!(out.contains("at most 16384 bytes"), "{out}");
}
