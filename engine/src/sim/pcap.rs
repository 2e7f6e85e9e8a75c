//! Writing a trace as a classic pcap file (the format of libpcap/tcpdump,
//! `LINKTYPE_ETHERNET`), so Wireshark opens what the lab did.
//!
//! One record per frame put on a wire (`FrameTx` on an Ethernet port; a
//! frame is written once, when sent), timestamped with simulated time.

use crate::sim::trace::{Event, EventKind};

const MAGIC: u32 = 0xa1b2_c3d4; // microsecond timestamps
const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65535;

/// The pcap bytes of every frame transmitted in `events`, optionally only
/// those sent by `host`.
pub fn write(events: &[Event], host: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + events.len() * 100);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    for e in events {
        let EventKind::FrameTx { frame, .. } = &e.kind else {
            continue;
        };
        if host.is_some_and(|h| h != e.host) || frame.len() < 14 {
            continue;
        }
        let secs = (e.time.0 / 1_000_000) as u32;
        let usecs = (e.time.0 % 1_000_000) as u32;
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&usecs.to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// Number of records in a pcap produced by [`write`] (for tests and checks).
pub fn count_records(pcap: &[u8]) -> Option<usize> {
    if pcap.len() < 24 || pcap[..4] != MAGIC.to_le_bytes() {
        return None;
    }
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= pcap.len() {
        let incl = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().ok()?) as usize;
        at += 16 + incl;
        if at > pcap.len() {
            return None;
        }
        n += 1;
    }
    (at == pcap.len()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Lab;

    #[test]
    fn a_ping_makes_four_frames() {
        let mut lab = Lab::new(crate::sim::scenario::bare());
        let o = lab.run("client", "ping -c 1 -W 1 192.168.150.12");
        assert!(o.text.contains("1 received"), "{}", o.text);
        let p = write(&lab.world.trace, None);
        // ARP request, ARP reply, echo request, echo reply.
        assert_eq!(count_records(&p), Some(4));
        assert_eq!(
            count_records(&write(&lab.world.trace, Some("node02"))),
            Some(2)
        );
        assert_eq!(count_records(&p[..p.len() - 1]), None);
    }
}
