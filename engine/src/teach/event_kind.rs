//! Every trace event kind's name (its serde variant name, used as a CSS
//! class and a stable key) and its short label in English and Chinese, from
//! one exhaustive `match`: a new kind cannot be added to `EventKind`
//! without its label.

use crate::trace::{EventKind, Lang};

/// An event kind's stable name and its label in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindText {
    /// The serde variant name ("FrameTx", …).
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

impl KindText {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

const fn k(name: &'static str, en: &'static str, zh: &'static str) -> KindText {
    KindText { name, en, zh }
}

impl EventKind {
    /// This kind's name and labels.
    pub fn text(&self) -> KindText {
        use EventKind::*;
        match self {
            FrameTx { .. } => k("FrameTx", "sends", "发送"),
            FrameRx { .. } => k("FrameRx", "receives", "接收"),
            Switch { .. } => k("Switch", "switch", "交换"),
            ArpReply { .. } => k("ArpReply", "ARP answer", "ARP 应答"),
            ArpIgnored { .. } => k("ArpIgnored", "ARP ignored", "ARP 不应答"),
            ArpSolicit { .. } => k("ArpSolicit", "ARP solicit", "ARP 请求"),
            NeighUpdate { .. } => k("NeighUpdate", "neighbour", "邻居表"),
            RouteLookup { .. } => k("RouteLookup", "route lookup", "查路由"),
            LocalDeliver { .. } => k("LocalDeliver", "delivered", "本机接收"),
            Drop { .. } => k("Drop", "DROP", "丢弃"),
            Ipvs { .. } => k("Ipvs", "IPVS", "IPVS"),
            IpvsNoDest { .. } => k("IpvsNoDest", "IPVS: no server", "IPVS：无可用服务器"),
            NfMark { .. } => k("NfMark", "iptables MARK", "iptables 打标记"),
            IpipEncap { .. } => k("IpipEncap", "IPIP encapsulate", "IPIP 封装"),
            IpipDecap { .. } => k("IpipDecap", "IPIP decapsulate", "IPIP 解封装"),
            IpipNoTunnel { .. } => k("IpipNoTunnel", "IPIP: no tunnel", "IPIP：无隧道设备"),
            IpvsIcmpRelay { .. } => k("IpvsIcmpRelay", "IPVS ICMP relay", "IPVS 转发 ICMP 差错"),
        }
    }

    /// Does this event put a frame on or take it off the wire, or decide a
    /// received packet's fate on the data path (the page's "frames only"
    /// filter)?
    pub fn is_wire(&self) -> bool {
        use EventKind::*;
        match self {
            FrameTx { .. }
            | FrameRx { .. }
            | Switch { .. }
            | Drop { .. }
            | Ipvs { .. }
            | IpvsNoDest { .. }
            | IpipEncap { .. }
            | IpipDecap { .. }
            | IpipNoTunnel { .. }
            | IpvsIcmpRelay { .. } => true,
            ArpReply { .. }
            | ArpIgnored { .. }
            | ArpSolicit { .. }
            | NeighUpdate { .. }
            | RouteLookup { .. }
            | LocalDeliver { .. }
            | NfMark { .. } => false,
        }
    }

    /// Is this a host's decision about a frame it has just received (so the
    /// page can show that frame next to it)?
    pub fn about_input(&self) -> bool {
        use EventKind::*;
        match self {
            Drop { .. }
            | ArpReply { .. }
            | ArpIgnored { .. }
            | LocalDeliver { .. }
            | Ipvs { .. }
            | IpvsNoDest { .. }
            | IpipDecap { .. }
            | IpipNoTunnel { .. }
            | IpvsIcmpRelay { .. } => true,
            FrameTx { .. }
            | FrameRx { .. }
            | Switch { .. }
            | ArpSolicit { .. }
            | NeighUpdate { .. }
            | RouteLookup { .. }
            | IpipEncap { .. }
            | NfMark { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario;
    use crate::shell::Lab;

    #[test]
    fn every_kind_of_a_real_trace_has_its_serde_name_and_two_labels() {
        let mut lab = Lab::new(scenario::load("seed").unwrap());
        lab.run("client", "curl -s http://192.168.150.100/");
        lab.run("client", "ping -c 1 192.168.150.12");
        assert!(!lab.world.trace.is_empty());
        for e in &lab.world.trace {
            let t = e.kind.text();
            let json = serde_json::to_string(&e.kind).unwrap();
            assert!(
                json.starts_with(&format!("{{\"{}\"", t.name)),
                "{json} vs {}",
                t.name
            );
            assert!(!t.en.is_empty() && !t.zh.is_empty());
        }
    }
}
