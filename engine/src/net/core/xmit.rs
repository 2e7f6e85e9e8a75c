//! Frames on and off the wire (net/core/dev.c: `dev_queue_xmit()`,
//! `netif_receive_skb()`).
//!
//! Linux does, and we model: a device that is up counts the frame and hands
//! it to its driver (Ethernet: the lab switch; dummy: counted and dropped,
//! like `dummy_xmit()`); a received frame is counted, parsed, filtered by
//! destination MAC (`eth_type_trans()`: PACKET_OTHERHOST frames are
//! dropped), shown to packet sockets (arping, ping) and passed to ARP or
//! IPv4 by ethertype.

use crate::apps::tcpdump::Dir;
use crate::net::core::dev::DeviceKind;
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::{Pending, World, HOP_DELAY};
use crate::util::shared::{FrameBytes, Name};
use crate::wire::mac::Mac;
use crate::wire::{FrameRepr, Payload};

impl World {
    /// A device's state: (up, MAC, kind).
    pub(crate) fn host_dev(&self, host: &str, ifindex: u32) -> Option<(bool, Mac, DeviceKind)> {
        let d = self.hosts.get(host)?.device(ifindex)?;
        Some((d.up, d.mac, d.kind))
    }

    /// Count a frame on a device (`dev->stats`) and name the device as
    /// events carry it.
    fn count_frame(&mut self, host: &str, ifindex: u32, len: usize, dir: Dir) -> Name {
        let Some(d) = self
            .hosts
            .get_mut(host)
            .and_then(|h| h.devices.get_mut(&ifindex))
        else {
            return Name::from("?");
        };
        let len = len as u64;
        match dir {
            Dir::Out => {
                d.stats.tx_packets += 1;
                d.stats.tx_bytes += len;
            }
            Dir::In => {
                d.stats.rx_packets += 1;
                d.stats.rx_bytes += len;
            }
        }
        self.names.get(&d.name)
    }

    /// Put a frame on a device: trace, count, and send it to the switch.
    pub(crate) fn transmit(&mut self, host: &str, ifindex: u32, frame: Vec<u8>) {
        let Some((up, _, kind)) = self.host_dev(host, ifindex) else {
            return;
        };
        if !up {
            return;
        }
        let dev = self.count_frame(host, ifindex, frame.len(), Dir::Out);
        let frame = FrameBytes::from(frame);
        self.record(
            host,
            EventKind::FrameTx {
                dev,
                frame: frame.clone(),
            },
        );
        self.packet_taps(host, ifindex, &frame, Dir::Out);
        if kind != DeviceKind::Ether {
            return; // dummy: dropped after counting, like dummy_xmit()
        }
        if let Some(port) = self.port_of(host, ifindex) {
            let at = self.now.plus(HOP_DELAY);
            self.schedule(at, Pending::SwitchIn { port, frame });
        }
    }

    /// A frame arrives at a host from the switch.
    pub(crate) fn host_in(&mut self, port: usize, frame: FrameBytes) {
        let Some(p) = self.ports.get(port).cloned() else {
            return;
        };
        let Some((up, mac, _)) = self.host_dev(&p.host, p.ifindex) else {
            return;
        };
        if !up {
            return; // a down port has no carrier: the frame is lost on the wire
        }
        let dev = self.count_frame(&p.host, p.ifindex, frame.len(), Dir::In);
        self.record(
            &p.host,
            EventKind::FrameRx {
                dev,
                frame: frame.clone(),
            },
        );
        // Packet sockets in promiscuous mode see the frame before the MAC
        // filter (`__netif_receive_skb_core()`'s `ptype_all`).
        self.packet_taps(&p.host, p.ifindex, &frame, Dir::In);
        let parsed = match FrameRepr::parse(&frame) {
            Ok(f) => f,
            Err(e) => {
                self.record(
                    &p.host,
                    EventKind::Drop {
                        reason: DropReason::Malformed(e.to_string()),
                        what: crate::sim::trace::Dropped::Frame,
                    },
                );
                return;
            }
        };
        let to_us = parsed.dst == mac;
        if !to_us && !parsed.dst.is_multicast() {
            self.record(
                &p.host,
                EventKind::Drop {
                    reason: DropReason::OtherHost,
                    what: crate::sim::trace::Dropped::Frame,
                },
            );
            return;
        }
        self.apps_frame_in(&p.host, p.ifindex, &parsed, to_us);
        match parsed.payload {
            Payload::Arp(a) => self.arp_rcv(&p.host, p.ifindex, a, to_us),
            Payload::Ipv4(ip) => {
                let bytes = frame[crate::wire::ETH_HLEN..].to_vec();
                self.ip_rcv(&p.host, p.ifindex, ip, bytes, !to_us)
            }
            Payload::Other { .. } => {}
        }
    }
}
