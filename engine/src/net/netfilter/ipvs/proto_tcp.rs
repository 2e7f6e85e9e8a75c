//! IPVS's TCP protocol handler (net/netfilter/ipvs/ip_vs_proto_tcp.c).
//!
//! Linux does, and we model: `tcp_state_transition()` over the kernel's
//! state tables — INPUT (client → director), OUTPUT (real server → client,
//! through a NAT director) and INPUT-ONLY (DR/TUN destinations:
//! `IP_VS_CONN_F_NOOUTPUT`, the director never sees replies) — with the
//! per-state timeouts of `tcp_timeouts`; `tcp_conn_schedule()` schedules
//! only a SYN; `ip_vs_set_state()` moves a destination's active/inactive
//! counts when an entry enters or leaves ESTABLISHED.
//!
//! Left out: the secure_tcp defence tables (`/proc/sys/net/ipv4/vs/secure_tcp`).

use super::*;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// TCP connection states of IPVS (`IP_VS_TCP_S_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnState {
    None,
    Established,
    SynSent,
    SynRecv,
    FinWait,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    SynAck,
    /// UDP entries (`UDP` state) and templates show as `NONE`/`UDP`.
    Udp,
    /// A persistence template whose controlled connection got established.
    Assured,
}

impl ConnState {
    pub fn name(self) -> &'static str {
        match self {
            ConnState::None => "NONE",
            ConnState::Established => "ESTABLISHED",
            ConnState::SynSent => "SYN_SENT",
            ConnState::SynRecv => "SYN_RECV",
            ConnState::FinWait => "FIN_WAIT",
            ConnState::TimeWait => "TIME_WAIT",
            ConnState::Close => "CLOSE",
            ConnState::CloseWait => "CLOSE_WAIT",
            ConnState::LastAck => "LAST_ACK",
            ConnState::Listen => "LISTEN",
            ConnState::SynAck => "SYNACK",
            ConnState::Udp => "UDP",
            ConnState::Assured => "ASSURED",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            ConnState::None => 0,
            ConnState::Established => 1,
            ConnState::SynSent => 2,
            ConnState::SynRecv => 3,
            ConnState::FinWait => 4,
            ConnState::TimeWait => 5,
            ConnState::Close => 6,
            ConnState::CloseWait => 7,
            ConnState::LastAck => 8,
            ConnState::Listen => 9,
            ConnState::SynAck => 10,
            ConnState::Udp | ConnState::Assured => 0,
        }
    }
}

/// Per-state timeouts in seconds (`tcp_timeouts[]`), and the UDP one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// ESTABLISHED (`--set tcp`), default 900.
    pub tcp: u32,
    /// FIN_WAIT (`--set tcpfin`), default 120.
    pub tcp_fin: u32,
    /// UDP (`--set udp`), default 300.
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }
    }
}

impl Timeouts {
    /// Seconds an entry in `state` lives without traffic.
    pub fn for_state(&self, s: ConnState) -> u32 {
        match s {
            ConnState::None => 2,
            ConnState::Established => self.tcp,
            ConnState::SynSent => 120,
            ConnState::SynRecv => 60,
            ConnState::FinWait => self.tcp_fin,
            ConnState::TimeWait => 120,
            ConnState::Close => 10,
            ConnState::CloseWait => 60,
            ConnState::LastAck => 30,
            ConnState::Listen => 120,
            ConnState::SynAck => 120,
            ConnState::Udp => self.udp,
            ConnState::Assured => 0,
        }
    }
}

/// TCP flags a packet carries, as the state tables see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent {
    Syn,
    Fin,
    Ack,
    Rst,
}

impl TcpEvent {
    /// The event a segment is for the state tables (`set_tcp_state`): RST
    /// first, then SYN, FIN, else ACK.
    pub fn of(t: &crate::wire::TcpRepr) -> TcpEvent {
        use crate::wire::tcp_flags as F;
        if t.has(F::RST) {
            TcpEvent::Rst
        } else if t.has(F::SYN) {
            TcpEvent::Syn
        } else if t.has(F::FIN) {
            TcpEvent::Fin
        } else {
            TcpEvent::Ack
        }
    }
}

/// Which table: INPUT (client → server), OUTPUT (server → client), or
/// INPUT-ONLY (DR/TUN: replies bypass the director).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Input,
    Output,
    InputOnly,
}

/// `tcp_states[]` of ip_vs_proto_tcp.c: [dir][event][state] → state.
/// Columns: sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA.
pub fn tcp_transition(dir: Dir, ev: TcpEvent, cur: ConnState) -> ConnState {
    use ConnState::*;
    const NO: ConnState = None;
    const ES: ConnState = Established;
    const SS: ConnState = SynSent;
    const SR: ConnState = SynRecv;
    const FW: ConnState = FinWait;
    const TW: ConnState = TimeWait;
    const CL: ConnState = Close;
    const CW: ConnState = CloseWait;
    const LA: ConnState = LastAck;
    const LI: ConnState = Listen;
    const SA: ConnState = SynAck;
    let _ = (NO, SA);
    let table: [[ConnState; 11]; 4] = match dir {
        Dir::Input => [
            [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
            [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
            [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
        ],
        Dir::Output => [
            [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
            [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
            [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
        ],
        Dir::InputOnly => [
            [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
            [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
            [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
        ],
    };
    let row = match ev {
        TcpEvent::Syn => 0,
        TcpEvent::Fin => 1,
        TcpEvent::Ack => 2,
        TcpEvent::Rst => 3,
    };
    table[row][cur.index()]
}

/// What `ip_vs_in` decided for a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not for IPVS: deliver locally as usual.
    Accept,
    /// Forward to this real server by this method.
    Forward {
        daddr: IpAddr,
        dport: u16,
        fwd: Fwd,
        new_conn: bool,
        state: ConnState,
    },
    /// A service exists but no real server is available.
    NoDest,
    /// The entry's real server was deleted: the packet is dropped.
    Drop,
}

impl Ipvs {
    /// `ip_vs_in()` for a TCP segment from `c` to `v`.
    pub fn tcp_in(
        &mut self,
        now: SimTime,
        p: &ConnParam,
        ev: TcpEvent,
        syn_only: bool,
        bytes: u64,
        mark: u32,
    ) -> Verdict {
        let ConnParam {
            caddr,
            cport,
            vaddr,
            vport,
            ..
        } = *p;
        self.expire(now);
        let mut idx = self.conns.find(Proto::Tcp, caddr, cport, vaddr, vport);
        // conn_reuse_mode=1: a SYN reusing the ports of an entry in
        // TIME_WAIT or CLOSE is scheduled afresh.
        if let Some(i) = idx {
            if ev == TcpEvent::Syn
                && self
                    .conns
                    .get(i)
                    .is_some_and(|c| matches!(c.state, ConnState::TimeWait | ConnState::Close))
            {
                if let Some(old) = self.conns.remove(i) {
                    self.unaccount(&old);
                }
                idx = None;
            }
        }
        // A connection whose real server is gone (deleted): dropped
        // (expire_nodest_conn=0), its timer not re-armed.
        if let Some(i) = idx {
            if !self.dest_alive(self.conns.get(i).expect("found above")) {
                return Verdict::Drop;
            }
        }
        let (idx, new_conn) = match idx {
            Some(i) => (i, false),
            None => {
                if !syn_only {
                    return Verdict::Accept;
                }
                let Some(svc) = self.find_service(Proto::Tcp, vaddr, vport, mark) else {
                    return Verdict::Accept;
                };
                let key = svc.spec.key;
                match self.schedule(now, key, p) {
                    Some(i) => (i, true),
                    None => return Verdict::NoDest,
                }
            }
        };
        let dir = if self.conns.get(idx).is_some_and(|c| c.no_output) {
            Dir::InputOnly
        } else {
            Dir::Input
        };
        let Some(c) = self.set_state(now, idx, dir, ev, Some(bytes)) else {
            return Verdict::Drop;
        };
        let new = c.state;
        Verdict::Forward {
            daddr: c.daddr,
            dport: c.dport,
            fwd: c.fwd,
            new_conn,
            state: new,
        }
    }

    /// `ip_vs_out()` for a TCP segment the director itself sends (a real
    /// server on the director answering through LOCAL_OUT): the reply
    /// direction of an entry; the first one clears NOOUTPUT.
    pub fn tcp_out(
        &mut self,
        now: SimTime,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        ev: TcpEvent,
    ) {
        let Some(id) = self.conns.find(Proto::Tcp, dst, dport, src, sport) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(id) {
            c.no_output = false;
        }
        self.set_state(now, id, Dir::Output, ev, None);
    }

    /// `set_tcp_state()` and what follows it for one packet of entry `id`:
    /// the state table for `dir`, the timer re-armed to the new state's
    /// timeout, the destination's active/inactive counters
    /// (`tcp_state_active`: SYN_SENT, SYN_RECV, ESTABLISHED, SYNACK are
    /// active), the controlling template ASSURED on ESTABLISHED, and the
    /// packet counted (`bytes`: in for INPUT tables, out for OUTPUT).
    pub(crate) fn set_state(
        &mut self,
        now: SimTime,
        id: u64,
        dir: Dir,
        ev: TcpEvent,
        bytes: Option<u64>,
    ) -> Option<Conn> {
        let timeouts = self.timeouts;
        let c = self.conns.get_mut(id)?;
        let new = tcp_transition(dir, ev, c.state);
        c.state = new;
        let active_state = matches!(
            new,
            ConnState::Established | ConnState::SynSent | ConnState::SynRecv | ConnState::SynAck
        );
        let (becomes_active, becomes_inactive) =
            (c.inactive && active_state, !c.inactive && !active_state);
        if becomes_active || becomes_inactive {
            c.inactive = becomes_inactive;
        }
        let c = c.clone();
        self.conns
            .set_expires(id, now.plus(u64::from(timeouts.for_state(new)) * 1_000_000));
        if new == ConnState::Established {
            if let Some(tid) = c.ctl_key.and_then(|k| self.conns.template(c.service, k)) {
                if let Some(t) = self.conns.get_mut(tid) {
                    if t.state == ConnState::None {
                        t.state = ConnState::Assured;
                    }
                }
            }
        }
        let out = dir == Dir::Output;
        let count = |st: &mut Stats, b: u64| {
            if out {
                st.outpkts += 1;
                st.outbytes += b;
            } else {
                st.inpkts += 1;
                st.inbytes += b;
            }
        };
        if let Some(s) = self.services.iter_mut().find(|s| s.spec.key == c.service) {
            if let Some(b) = bytes {
                count(&mut s.stats, b);
            }
            if let Some(d) = s.dests.iter_mut().find(|d| d.serves(c.daddr, c.dport)) {
                if let Some(b) = bytes {
                    count(&mut d.stats, b);
                }
                if becomes_active {
                    d.inactive = d.inactive.saturating_sub(1);
                    d.active += 1;
                } else if becomes_inactive {
                    d.active = d.active.saturating_sub(1);
                    d.inactive += 1;
                }
            }
        }
        if let Some(b) = bytes {
            count(&mut self.total, b);
        }
        Some(c)
    }

    /// `ip_vs_out()` for a NAT reply (real server → client): OUTPUT state
    /// table, out counters; returns the VIP and port to put back as source.
    pub fn nat_out(
        &mut self,
        now: SimTime,
        p: &ConnParam,
        ev: TcpEvent,
        bytes: u64,
    ) -> Option<(IpAddr, u16)> {
        // The reply's source is the real server (the param's "virtual"
        // pair), its destination the client.
        let (saddr, sport, daddr, dport) = (p.vaddr, p.vport, p.caddr, p.cport);
        let id = self
            .conns
            .find_out(Proto::Tcp, saddr, sport, daddr, dport)?;
        if self.conns.get(id)?.fwd != Fwd::Masq {
            return None;
        }
        let c = self.set_state(now, id, Dir::Output, ev, Some(bytes))?;
        Some((c.vaddr, c.vport))
    }
}
