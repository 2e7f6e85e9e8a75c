//! Network devices (`struct net_device`).
//!
//! Linux gives each device an ifindex, a name, a hardware address, an MTU and
//! flags; `IFF_UP` is the administrative state (`ip link set DEV up`) and
//! `IFF_RUNNING`/`LOWER_UP` the operational one (carrier). We model the three
//! kinds the lab needs: the loopback device (`loopback_dev`, always carrier),
//! Ethernet ports joined to the lab's one segment (a veth to the switch), and
//! `dummy` devices (`drivers/net/dummy.c`, carrier always on, transmit drops),
//! and `tunl0`, the fallback IPIP tunnel that loading the `ipip` module
//! creates in every network namespace (`ipip_init_net()` →
//! `ip_tunnel_init_net()`: `IFF_NOARP`, MTU 1500 − 20 = 1480, hardware
//! address = the tunnel's local address 0.0.0.0, remote and local "any").
//! Left out on purpose: queues/qdiscs (we print `noqueue` like veth/lo do),
//! multicast lists, offloads, VLANs.

use crate::wire::mac::Mac;
use serde::{Deserialize, Serialize};

/// What kind of device this is; decides flags, ARP and how frames leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// `lo`: `IFF_LOOPBACK`, no ARP, frames come straight back.
    Loopback,
    /// An Ethernet port on the lab segment.
    Ether,
    /// `ip link add NAME type dummy`: `IFF_NOARP`, packets sent to it vanish.
    Dummy,
    /// `tunl0` (`modprobe ipip`): receives IPv4-in-IPv4 packets
    /// (`ipip_rcv()`); the fallback tunnel has no remote, so nothing is
    /// modelled as leaving through it.
    Ipip,
}

/// Per-device packet counters (`struct rtnl_link_stats64`, the subset ifconfig prints).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub ifindex: u32,
    pub name: String,
    pub kind: DeviceKind,
    pub mac: Mac,
    /// `IFF_UP`: administratively up.
    pub up: bool,
    pub mtu: u32,
    pub txqueuelen: u32,
    #[serde(default)]
    pub stats: DevStats,
    /// Set on the first `up`: a device gets its default qdisc (noqueue for
    /// these queue-less devices) then, and keeps it ("noop" before).
    #[serde(default)]
    pub qdisc_attached: bool,
}

impl Device {
    pub fn loopback() -> Device {
        Device {
            ifindex: 1,
            name: "lo".into(),
            kind: DeviceKind::Loopback,
            mac: Mac::ZERO,
            up: false,
            mtu: 65536,
            txqueuelen: 1000,
            stats: DevStats::default(),
            qdisc_attached: false,
        }
    }

    pub fn ether(ifindex: u32, name: &str, mac: Mac) -> Device {
        Device {
            ifindex,
            name: name.into(),
            kind: DeviceKind::Ether,
            mac,
            up: false,
            mtu: 1500,
            txqueuelen: 1000,
            stats: DevStats::default(),
            qdisc_attached: false,
        }
    }

    pub fn dummy(ifindex: u32, name: &str, mac: Mac) -> Device {
        Device {
            ifindex,
            name: name.into(),
            kind: DeviceKind::Dummy,
            mac,
            up: false,
            mtu: 1500,
            txqueuelen: 1000,
            stats: DevStats::default(),
            qdisc_attached: false,
        }
    }

    /// The fallback IPIP device `tunl0` of `modprobe ipip`.
    pub fn ipip_fallback(ifindex: u32) -> Device {
        Device {
            ifindex,
            name: "tunl0".into(),
            kind: DeviceKind::Ipip,
            mac: Mac::ZERO,
            up: false,
            mtu: 1480,
            txqueuelen: 1000,
            stats: DevStats::default(),
            qdisc_attached: false,
        }
    }

    pub fn is_loopback(&self) -> bool {
        self.kind == DeviceKind::Loopback
    }

    /// `IFF_NOARP`: no neighbour resolution on this device.
    pub fn noarp(&self) -> bool {
        matches!(
            self.kind,
            DeviceKind::Loopback | DeviceKind::Dummy | DeviceKind::Ipip
        )
    }

    /// `IFF_BROADCAST`: Ethernet-like devices have a broadcast address.
    pub fn has_broadcast(&self) -> bool {
        matches!(self.kind, DeviceKind::Ether | DeviceKind::Dummy)
    }

    /// Carrier: loopback and dummy always have it; a lab port has it while up
    /// (its peer on the switch is always up).
    pub fn lower_up(&self) -> bool {
        self.up
    }

    /// `IFF_RUNNING` as userspace sees it: up with carrier.
    pub fn running(&self) -> bool {
        self.up && self.lower_up()
    }

    /// The `IFF_*` flag word as `SIOCGIFFLAGS` reports it (ifconfig's `flags=N`).
    pub fn iff_flags(&self) -> u32 {
        const IFF_UP: u32 = 0x1;
        const IFF_BROADCAST: u32 = 0x2;
        const IFF_LOOPBACK: u32 = 0x8;
        const IFF_RUNNING: u32 = 0x40;
        const IFF_NOARP: u32 = 0x80;
        const IFF_MULTICAST: u32 = 0x1000;
        let mut f = 0;
        if self.up {
            f |= IFF_UP;
        }
        if self.running() {
            f |= IFF_RUNNING;
        }
        match self.kind {
            DeviceKind::Loopback => f |= IFF_LOOPBACK,
            DeviceKind::Ether => f |= IFF_BROADCAST | IFF_MULTICAST,
            DeviceKind::Dummy => f |= IFF_BROADCAST | IFF_NOARP,
            DeviceKind::Ipip => f |= IFF_NOARP,
        }
        f
    }
}
