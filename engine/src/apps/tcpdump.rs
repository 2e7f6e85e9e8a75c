//! tcpdump's capture: a packet socket bound to one device (`packet_rcv()`
//! via `dev_queue_xmit_nit()` for what the device sends and
//! `__netif_receive_skb_core()`'s `ptype_all` walk for what it receives),
//! with the device in promiscuous mode, so frames for other MACs that the
//! switch floods are seen too. Each frame that passes the filter is
//! decoded at once (or kept for `-w`); `-c N` ends the capture after N.
//!
//! `-i any` is a packet socket bound to ifindex 0: it sees every device's
//! frames, and libpcap writes them as LINUX_SLL2 records (the device's
//! index, the packet type `In`/`B`/`M`/`P`/`Out`, the link-layer source
//! address). On `lo` the socket sees each packet twice, as loopback_xmit()
//! sends it and as it comes back in; libpcap drops the outgoing copy after
//! the filter (it is counted as received by the filter, not captured), so
//! `-i lo` and `-i any` show a loopback packet once, as `In`.
//! See `crate::tools::tcpdump` for the command line and the decode.

use crate::apps::{App, AppKind};
use crate::sim::world::World;
use crate::time::SimTime;
use crate::tools::tcpdump::{Filter, Printer};
use crate::wire::FrameRepr;

/// A frame as a capture file holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Captured {
    pub time: SimTime,
    /// The frame as an Ethernet frame (a loopback packet behind an
    /// all-zero Ethernet header, as `lo` carries it).
    pub frame: Vec<u8>,
    /// For a capture on `any`: the SLL2 record's device and packet type.
    #[serde(default)]
    pub cooked: Option<Cooked>,
}

/// The fields of a LINUX_SLL2 record besides the frame's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cooked {
    pub ifindex: u32,
    pub pkttype: PktType,
    /// The device is `lo` (ARPHRD_LOOPBACK) rather than Ethernet.
    pub loopback: bool,
}

/// `skb->pkt_type` as a packet socket reports it (`sll_pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PktType {
    Host,
    Broadcast,
    Multicast,
    OtherHost,
    Outgoing,
}

impl PktType {
    /// tcpdump's `sll_pkttype_values`.
    pub fn name(self) -> &'static str {
        match self {
            PktType::Host => "In",
            PktType::Broadcast => "B",
            PktType::Multicast => "M",
            PktType::OtherHost => "P",
            PktType::Outgoing => "Out",
        }
    }
}

/// Which way a frame crosses a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
}

/// `lo`'s Ethernet header: all-zero addresses, IPv4.
pub fn loopback_frame(packet: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(packet);
    f
}

#[derive(Debug, Clone)]
pub struct TcpdumpApp {
    pub host: String,
    pub ifindex: u32,
    pub filter: Option<Filter>,
    pub count: Option<u32>,
    /// `-w`: the file the capture is written to when it ends.
    pub write: Option<String>,
    pub frames: Vec<Captured>,
    pub captured: u32,
    /// Frames the filter passed ("packets received by filter").
    pub received: u32,
    pub printer: Printer,
}

impl PartialEq for TcpdumpApp {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host
            && self.ifindex == other.ifindex
            && self.filter == other.filter
            && self.count == other.count
            && self.write == other.write
            && self.frames == other.frames
            && self.captured == other.captured
    }
}

impl TcpdumpApp {
    /// What tcpdump prints on stderr when the capture ends.
    pub fn summary(&self) -> String {
        let s = |n: u32| if n == 1 { "" } else { "s" };
        format!(
            "{} packet{} captured\n{} packet{} received by filter\n0 packets dropped by kernel\n",
            self.captured,
            s(self.captured),
            self.received,
            s(self.received)
        )
    }
}

impl World {
    /// Show a frame that `host`'s device `ifindex` sends or receives to
    /// every capture on that device.
    pub(crate) fn packet_taps(&mut self, host: &str, ifindex: u32, frame: &[u8], dir: Dir) {
        let listening = |app: &App| {
            matches!(&app.kind, AppKind::Tcpdump(t)
                if !app.done && (t.ifindex == 0 || t.ifindex == ifindex) && t.host == host)
        };
        if !self.apps.values().any(listening) {
            return;
        }
        let now = self.now;
        let Some((_, mac, kind)) = self.host_dev(host, ifindex) else {
            return;
        };
        let loopback = kind == crate::net::core::dev::DeviceKind::Loopback;
        let dst = frame.get(..6).unwrap_or(&[]);
        let pkttype = match dir {
            Dir::Out => PktType::Outgoing,
            Dir::In if loopback || dst == mac.0 => PktType::Host,
            Dir::In if dst == [0xff; 6] => PktType::Broadcast,
            Dir::In if dst.first().is_some_and(|b| b & 1 == 1) => PktType::Multicast,
            Dir::In => PktType::OtherHost,
        };
        let mut parsed: Option<Option<FrameRepr>> = None;
        let hosts = &mut self.hosts;
        for (_, app) in self.apps.iter_mut() {
            let App {
                kind: AppKind::Tcpdump(t),
                output,
                done,
                ..
            } = app
            else {
                continue;
            };
            if *done || (t.ifindex != 0 && t.ifindex != ifindex) || t.host != host {
                continue;
            }
            let f = parsed.get_or_insert_with(|| FrameRepr::parse(frame).ok());
            if let Some(filter) = &t.filter {
                if !f.as_ref().is_some_and(|f| filter.matches(f)) {
                    continue;
                }
            }
            t.received += 1;
            if loopback && dir == Dir::Out {
                continue; // libpcap drops lo's outgoing copy
            }
            t.captured += 1;
            let cooked = (t.ifindex == 0).then_some(Cooked {
                ifindex,
                pkttype,
                loopback,
            });
            if t.write.is_some() {
                t.frames.push(Captured {
                    time: now,
                    frame: frame.to_vec(),
                    cooked,
                });
            } else {
                let name = hosts
                    .get(host)
                    .and_then(|h| h.device(ifindex))
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                output.push(match cooked {
                    Some(c) => {
                        t.printer
                            .cooked_line(now, frame, &name, c.ifindex, c.pkttype.name())
                    }
                    None => t.printer.line(now, frame),
                });
            }
            if t.count.is_some_and(|c| t.captured >= c) {
                *done = true;
                // tcpdump exits: its file is complete.
                if let Some(path) = t.write.clone() {
                    if let Some(h) = hosts.get_mut(host) {
                        h.captures.insert(path, std::mem::take(&mut t.frames));
                    }
                }
            }
        }
    }

    /// End a capture: its `-w` file is written; returns the program.
    pub fn stop_tcpdump(&mut self, id: u32) -> Option<App> {
        let mut app = self.apps.remove(&id)?;
        if let (false, AppKind::Tcpdump(t)) = (app.done, &mut app.kind) {
            if let Some(path) = t.write.clone() {
                let frames = std::mem::take(&mut t.frames);
                if let Some(h) = self.hosts.get_mut(&t.host) {
                    h.captures.insert(path, frames);
                }
            }
        }
        app.done = true;
        Some(app)
    }
}
