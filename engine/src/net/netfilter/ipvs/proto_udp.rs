//! IPVS's UDP protocol handler (net/netfilter/ipvs/ip_vs_proto_udp.c).
//!
//! Linux does, and we model: every datagram of a new client address and
//! port is scheduled (no handshake), later ones follow the entry; UDP
//! entries have one state, `UDP`, re-armed to the `udp` timeout by every
//! datagram in either direction.
//!
//! Left out: the NAT reply path of UDP.

use super::*;
use crate::time::SimTime;

impl Ipvs {
    /// `ip_vs_in()` for a UDP datagram to a VIP (ip_vs_proto_udp.c): every
    /// datagram of a new client address and port is scheduled (no
    /// handshake), later ones follow the entry. UDP entries have one state,
    /// `UDP`, re-armed to the `udp` timeout (300 s) by every datagram in
    /// either direction, and count as inactive on their destination for
    /// their whole life (`IP_VS_CONN_F_INACTIVE` is never cleared for UDP).
    pub fn udp_in(&mut self, now: SimTime, p: &ConnParam, bytes: u64, mark: u32) -> Verdict {
        let ConnParam {
            caddr,
            cport,
            vaddr,
            vport,
            ..
        } = *p;
        self.expire(now);
        let idx = self.conns.find(Proto::Udp, caddr, cport, vaddr, vport);
        if let Some(i) = idx {
            if !self.dest_alive(self.conns.get(i).expect("found above")) {
                return Verdict::Drop;
            }
        }
        let (idx, new_conn) = match idx {
            Some(i) => (i, false),
            None => {
                let Some(svc) = self.find_service(Proto::Udp, vaddr, vport, mark) else {
                    return Verdict::Accept;
                };
                let key = svc.spec.key;
                match self.schedule(now, key, p) {
                    Some(i) => (i, true),
                    None => return Verdict::NoDest,
                }
            }
        };
        let timeout = u64::from(self.timeouts.udp) * 1_000_000;
        let Some(c) = self.conns.get_mut(idx) else {
            return Verdict::Drop;
        };
        c.state = ConnState::Udp;
        let c = c.clone();
        self.conns.set_expires(idx, now.plus(timeout));
        self.count_packet(&c, false, bytes);
        Verdict::Forward {
            daddr: c.daddr,
            dport: c.dport,
            fwd: c.fwd,
            new_conn,
            state: ConnState::Udp,
        }
    }
}
