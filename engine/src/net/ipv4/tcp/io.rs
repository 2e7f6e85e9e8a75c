//! TCP segment processing on a host, and the servers that sit on sockets.
//! The socket table and protocol constants are in `tcp`; here the world
//! sends and receives segments and runs timers (see `tcp` for what Linux
//! does and what we leave out).

use crate::net::ipv4::tcp::{self, Owner, Service, Sock, TcpState};
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::{Pending, World};
use crate::time::SimTime;
use crate::wire::{tcp_flags as F, Ipv4Repr, TcpRepr, L4};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Why a connection ended, as the socket API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnError {
    Refused,
    TimedOut,
    Reset,
    /// ICMP host/net unreachable during connect.
    Unreachable,
}

impl World {
    fn tcp_sock(&self, host: &str, id: u32) -> Option<&Sock> {
        self.hosts.get(host)?.tcp.get(id)
    }

    fn tcp_sock_mut(&mut self, host: &str, id: u32) -> Option<&mut Sock> {
        self.hosts.get_mut(host)?.tcp.get_mut(id)
    }

    /// Send a segment from socket `id` with the given flags and payload.
    pub(crate) fn tcp_output(&mut self, host: &str, id: u32, flags: u8, payload: Vec<u8>) {
        let now = self.now;
        let Some(s) = self.tcp_sock_mut(host, id) else {
            return;
        };
        let seq = if flags & F::SYN != 0 {
            s.iss
        } else {
            s.snd_nxt
        };
        let options = if flags & F::SYN != 0 {
            tcp::syn_options(tcp::tsval(now), s.ts_recent)
        } else if flags & F::RST != 0 {
            Vec::new()
        } else {
            tcp::ts_options(tcp::tsval(now), s.ts_recent)
        };
        let seg = TcpRepr {
            src_port: s.local.port(),
            dst_port: s.remote.port(),
            seq,
            ack: if flags & F::ACK != 0 { s.rcv_nxt } else { 0 },
            flags,
            window: if flags & (F::SYN | F::ACK) == F::SYN | F::ACK {
                tcp::SYNACK_WINDOW
            } else {
                tcp::WINDOW
            },
            options,
            payload,
        };
        let adv = seg.seq_len();
        if flags & F::SYN != 0 {
            s.snd_nxt = s.iss.wrapping_add(1);
        } else {
            s.snd_nxt = s.snd_nxt.wrapping_add(adv);
            s.unacked = s.unacked.saturating_add(seg.payload.len() as u32);
        }
        let ip = Ipv4Repr {
            src: *s.local.ip(),
            dst: *s.remote.ip(),
            ttl: crate::net::ipv4::output::DEFAULT_TTL,
            ident: 0,
            dont_frag: true,
            tos: 0,
            l4: L4::Tcp(seg),
        };
        self.ip_send_own(host, ip);
    }

    /// `tcp_v4_send_reset()`: answer a segment that has no socket.
    fn tcp_send_reset(&mut self, host: &str, ip: &Ipv4Repr, t: &TcpRepr) {
        if t.has(F::RST) {
            return;
        }
        let (seq, ack, flags) = if t.has(F::ACK) {
            (t.ack, 0, F::RST)
        } else {
            (0, t.seq.wrapping_add(t.seq_len()), F::RST | F::ACK)
        };
        let rst = Ipv4Repr {
            src: ip.dst,
            dst: ip.src,
            ttl: crate::net::ipv4::output::DEFAULT_TTL,
            ident: 0,
            dont_frag: false,
            tos: 0,
            l4: L4::Tcp(TcpRepr {
                src_port: t.dst_port,
                dst_port: t.src_port,
                seq,
                ack,
                flags,
                window: 0,
                options: vec![],
                payload: vec![],
            }),
        };
        self.ip_send_own(host, rst);
    }

    fn tcp_arm(&mut self, host: &str, id: u32, after_us: u64) {
        let at = self.now.plus(after_us);
        if let Some(h) = self.hosts.get_mut(host) {
            h.tcp.set_timer(id, Some(at));
        }
        self.schedule(
            at,
            Pending::TcpTimer {
                host: host.to_string(),
            },
        );
    }

    /// Active open (`connect()`): returns the socket id; the SYN leaves now.
    pub fn tcp_connect(
        &mut self,
        host: &str,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        owner: Owner,
    ) -> u32 {
        let now = self.now;
        let h = self.hosts.get_mut(host).expect("caller checked the host");
        let iss = tcp::isn(local, remote, now);
        let id = h.tcp.insert(Sock {
            iss,
            snd_una: iss,
            snd_nxt: iss,
            owner: Some(owner),
            ..Sock::new(local, remote, TcpState::SynSent)
        });
        self.tcp_output(host, id, F::SYN, vec![]);
        self.tcp_arm(host, id, tcp::INITIAL_RTO_US);
        id
    }

    /// Start listening (`listen()`), owned by `owner`, served by `service`.
    pub fn tcp_listen(
        &mut self,
        host: &str,
        local: SocketAddrV4,
        owner: Owner,
        service: Service,
    ) -> Option<u32> {
        let h = self.hosts.get_mut(host)?;
        if h.tcp.listening_on(local.port()) {
            return None;
        }
        Some(h.tcp.insert(Sock {
            owner: Some(owner),
            service: Some(service),
            rto: 0,
            ..Sock::new(
                local,
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                TcpState::Listen,
            )
        }))
    }

    /// Send data on an established socket.
    pub fn tcp_send(&mut self, host: &str, id: u32, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        for chunk in data.chunks(usize::from(tcp::MSS) - 12) {
            self.tcp_output(host, id, F::PSH | F::ACK, chunk.to_vec());
        }
    }

    /// `close()`: FIN (or RST if data is unread); the socket becomes an orphan.
    pub fn tcp_close(&mut self, host: &str, id: u32) {
        let Some(s) = self.tcp_sock(host, id) else {
            return;
        };
        let state = s.state;
        let unread = !s.rx.is_empty();
        match state {
            TcpState::Listen | TcpState::SynSent | TcpState::Close => {
                let tcp = &mut self.hosts.get_mut(host).expect("host").tcp;
                tcp.remove(id);
                // Closing a listener drops its pending request sockets too.
                if state == TcpState::Listen {
                    tcp.retain(|c| c.parent != Some(id) || c.state != TcpState::SynRecv);
                }
                return;
            }
            _ => {}
        }
        if unread
            && matches!(
                state,
                TcpState::Established | TcpState::CloseWait | TcpState::SynRecv
            )
        {
            self.tcp_output(host, id, F::RST | F::ACK, vec![]);
            self.hosts.get_mut(host).expect("host").tcp.remove(id);
            return;
        }
        let next = match state {
            TcpState::Established | TcpState::SynRecv => Some(TcpState::FinWait1),
            TcpState::CloseWait => Some(TcpState::LastAck),
            _ => None,
        };
        if let Some(h) = self.hosts.get_mut(host) {
            if let Some(s) = h.tcp.get_mut(id) {
                s.orphan = true;
                s.owner = None;
            }
            if let Some(n) = next {
                h.tcp.set_state(id, n);
            }
        }
        if next.is_some() {
            self.tcp_output(host, id, F::FIN | F::ACK, vec![]);
        }
    }

    /// Take the data received on a socket.
    pub fn tcp_read(&mut self, host: &str, id: u32) -> Vec<u8> {
        self.tcp_sock_mut(host, id)
            .map(|s| std::mem::take(&mut s.rx))
            .unwrap_or_default()
    }

    /// Take at most `n` bytes of the data received (a reader that stops
    /// early: the rest stays unread, so close() resets the connection).
    pub fn tcp_read_upto(&mut self, host: &str, id: u32, n: usize) -> Vec<u8> {
        self.tcp_sock_mut(host, id)
            .map(|s| {
                let n = n.min(s.rx.len());
                s.rx.drain(..n).collect()
            })
            .unwrap_or_default()
    }

    /// Kill a socket without a packet (process killed while SYN_SENT).
    pub fn tcp_abort(&mut self, host: &str, id: u32) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.tcp.remove(id);
        }
    }

    /// `tcp_v4_rcv()` for a locally delivered segment.
    pub(crate) fn tcp_rcv(&mut self, host: &str, ip: &Ipv4Repr, t: &TcpRepr) {
        let now = self.now;
        let local = SocketAddrV4::new(ip.dst, t.dst_port);
        let remote = SocketAddrV4::new(ip.src, t.src_port);
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(id) = h.tcp.lookup(local, remote) else {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::NoSocket,
                    what: crate::sim::trace::Dropped::TcpSegmentFor { local },
                },
            );
            self.tcp_send_reset(host, ip, t);
            return;
        };
        let s = h.tcp.get(id).expect("id from lookup").clone();
        if let Some(ts) = tcp::parse_tsval(&t.options) {
            if let Some(sm) = self.tcp_sock_mut(host, id) {
                if sm.state != TcpState::Listen {
                    sm.ts_recent = ts;
                }
            }
        }
        match s.state {
            TcpState::Listen => {
                if t.has(F::RST) {
                    return;
                }
                if t.has(F::ACK) {
                    self.tcp_send_reset(host, ip, t);
                    return;
                }
                if !t.has(F::SYN) {
                    return;
                }
                // A request socket in SYN_RECV answers with SYN-ACK.
                let iss = tcp::isn(local, remote, now);
                let child = Sock {
                    iss,
                    snd_una: iss,
                    snd_nxt: iss,
                    irs: t.seq,
                    rcv_nxt: t.seq.wrapping_add(1),
                    parent: Some(id),
                    ts_recent: tcp::parse_tsval(&t.options).unwrap_or(0),
                    ..Sock::new(local, remote, TcpState::SynRecv)
                };
                let cid = self.hosts.get_mut(host).expect("host").tcp.insert(child);
                self.tcp_output(host, cid, F::SYN | F::ACK, vec![]);
                self.tcp_arm(host, cid, tcp::INITIAL_RTO_US);
            }
            TcpState::SynSent => {
                if t.has(F::ACK) && t.ack != s.iss.wrapping_add(1) {
                    if !t.has(F::RST) {
                        self.tcp_send_reset(host, ip, t);
                    }
                    return;
                }
                if t.has(F::RST) {
                    if t.has(F::ACK) {
                        self.tcp_fail(host, id, ConnError::Refused);
                    }
                    return;
                }
                if t.has(F::SYN) && t.has(F::ACK) {
                    self.set_state(host, id, TcpState::Established);
                    if let Some(sm) = self.tcp_sock_mut(host, id) {
                        sm.irs = t.seq;
                        sm.rcv_nxt = t.seq.wrapping_add(1);
                        sm.snd_una = t.ack;
                        sm.retries = 0;
                    }
                    self.tcp_output(host, id, F::ACK, vec![]);
                    self.apps_tcp_event(host, id);
                }
            }
            _ => self.tcp_rcv_synchronised(host, id, ip, t),
        }
    }

    pub(crate) fn tcp_fail_pub(&mut self, host: &str, id: u32, err: ConnError) {
        self.tcp_fail(host, id, err);
    }

    fn tcp_fail(&mut self, host: &str, id: u32, err: ConnError) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.tcp.remove(id);
        }
        self.apps_tcp_error(host, id, err);
    }

    fn tcp_rcv_synchronised(&mut self, host: &str, id: u32, ip: &Ipv4Repr, t: &TcpRepr) {
        let Some(s) = self.tcp_sock(host, id).cloned() else {
            return;
        };
        if t.has(F::RST) {
            // In-window RST: the connection is gone.
            self.tcp_fail(host, id, ConnError::Reset);
            return;
        }
        if t.has(F::SYN) {
            // A retransmitted SYN for a request socket: resend the SYN-ACK.
            if s.state == TcpState::SynRecv && t.seq.wrapping_add(1) == s.rcv_nxt {
                if let Some(sm) = self.tcp_sock_mut(host, id) {
                    sm.snd_nxt = sm.iss;
                }
                self.tcp_output(host, id, F::SYN | F::ACK, vec![]);
            } else if s.state == TcpState::TimeWait {
                self.tcp_output(host, id, F::ACK, vec![]);
            }
            return;
        }
        if t.seq != s.rcv_nxt && s.state != TcpState::SynRecv {
            // Out of window / duplicate: re-ACK (tcp_send_dupack).
            if t.seq_len() > 0 {
                self.tcp_output(host, id, F::ACK, vec![]);
            }
            return;
        }
        let mut state = s.state;
        let acks_our_fin = t.has(F::ACK) && t.ack == s.snd_nxt;
        if t.has(F::ACK) {
            if let Some(sm) = self.tcp_sock_mut(host, id) {
                let acked = t.ack.wrapping_sub(sm.snd_una);
                if acked <= sm.snd_nxt.wrapping_sub(sm.snd_una) {
                    sm.unacked = sm.unacked.saturating_sub(acked);
                    sm.snd_una = t.ack;
                }
            }
            match state {
                TcpState::SynRecv if t.ack == s.iss.wrapping_add(1) => {
                    state = TcpState::Established;
                    self.set_state(host, id, state);
                    if let Some(sm) = self.tcp_sock_mut(host, id) {
                        sm.retries = 0;
                    }
                }
                TcpState::SynRecv => {
                    self.tcp_send_reset(host, ip, t);
                    return;
                }
                TcpState::FinWait1 if acks_our_fin => {
                    state = TcpState::FinWait2;
                    self.set_state(host, id, state);
                    self.tcp_arm(host, id, tcp::FIN_TIMEOUT_US);
                }
                TcpState::Closing if acks_our_fin => {
                    state = TcpState::TimeWait;
                    self.set_state(host, id, state);
                    self.tcp_arm(host, id, tcp::TIME_WAIT_US);
                }
                TcpState::LastAck if acks_our_fin => {
                    self.hosts.get_mut(host).expect("host").tcp.remove(id);
                    return;
                }
                _ => {}
            }
        }
        let mut need_ack = false;
        if !t.payload.is_empty()
            && matches!(
                state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            if let Some(sm) = self.tcp_sock_mut(host, id) {
                sm.rx.extend_from_slice(&t.payload);
                sm.rcv_nxt = sm.rcv_nxt.wrapping_add(t.payload.len() as u32);
            }
            need_ack = true;
        }
        if t.has(F::FIN) {
            if let Some(sm) = self.tcp_sock_mut(host, id) {
                sm.rcv_nxt = sm.rcv_nxt.wrapping_add(1);
                sm.fin_rcvd = true;
            }
            need_ack = true;
            let next = match state {
                TcpState::Established => TcpState::CloseWait,
                TcpState::FinWait1 => TcpState::Closing,
                TcpState::FinWait2 => TcpState::TimeWait,
                other => other,
            };
            if next != state {
                state = next;
                self.set_state(host, id, state);
                if state == TcpState::TimeWait {
                    self.tcp_arm(host, id, tcp::TIME_WAIT_US);
                }
            }
        }
        if need_ack {
            self.tcp_output(host, id, F::ACK, vec![]);
        }
        self.serve(host, id);
        self.apps_tcp_event(host, id);
    }

    fn set_state(&mut self, host: &str, id: u32, st: TcpState) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.tcp.set_state(id, st);
            h.tcp.set_timer(id, None);
        }
    }

    /// A server on a listening socket handles its connection (httpd).
    fn serve(&mut self, host: &str, id: u32) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(s) = h.tcp.get(id) else {
            return;
        };
        let Some(parent) = s.parent else { return };
        let Some(Service::Http { docroot }) = h.tcp.get(parent).and_then(|p| p.service.clone())
        else {
            return;
        };
        if s.orphan {
            return;
        }
        let complete = s.rx.windows(4).any(|w| w == b"\r\n\r\n");
        if complete {
            let req = s.rx.clone();
            let resp = tcp::http_response(&req, &h.files, &docroot, &tcp::http_date(self.now));
            if let Some(sm) = self.tcp_sock_mut(host, id) {
                sm.rx.clear();
            }
            self.tcp_send(host, id, resp);
            self.tcp_close(host, id);
        } else if s.fin_rcvd {
            self.tcp_close(host, id);
        }
    }

    /// Retransmission and state timers of a host's sockets.
    pub(crate) fn tcp_timers(&mut self, host: &str) {
        let now = self.now;
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        debug_assert_eq!(h.tcp.check_indexes(), Ok(()));
        let due = h.tcp.due(now);
        for id in due {
            let Some(s) = self.tcp_sock(host, id).cloned() else {
                continue;
            };
            match s.state {
                TcpState::SynSent | TcpState::SynRecv => {
                    let max = if s.state == TcpState::SynSent {
                        tcp::SYN_RETRIES
                    } else {
                        tcp::SYNACK_RETRIES
                    };
                    if s.retries >= max {
                        if s.state == TcpState::SynSent {
                            self.tcp_fail(host, id, ConnError::TimedOut);
                        } else {
                            self.hosts.get_mut(host).expect("host").tcp.remove(id);
                        }
                        continue;
                    }
                    let rto = s.rto * 2;
                    if let Some(sm) = self.tcp_sock_mut(host, id) {
                        sm.retries += 1;
                        sm.rto = rto;
                        sm.snd_nxt = sm.iss;
                    }
                    let flags = if s.state == TcpState::SynSent {
                        F::SYN
                    } else {
                        F::SYN | F::ACK
                    };
                    self.tcp_output(host, id, flags, vec![]);
                    // The last retry waits for the full backed-off RTO before giving up.
                    self.tcp_arm(host, id, rto.min(120_000_000));
                }
                TcpState::TimeWait | TcpState::FinWait2 => {
                    self.hosts.get_mut(host).expect("host").tcp.remove(id);
                }
                _ => {
                    if let Some(h) = self.hosts.get_mut(host) {
                        h.tcp.set_timer(id, None);
                    }
                }
            }
        }
    }

    /// The time the simulated clock reads, for programs.
    pub fn clock(&self) -> SimTime {
        self.now
    }
}
