//! TCP endpoints (net/ipv4/tcp_input.c, tcp_output.c, tcp_ipv4.c,
//! tcp_minisocks.c, tcp_timer.c).
//!
//! Linux does, and we model: the RFC 793 state machine as Linux names it
//! (LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1/2, CLOSE_WAIT,
//! CLOSING, LAST_ACK, TIME_WAIT); a listener answers a SYN with a SYN-ACK
//! from a request socket (shown as SYN_RECV) that becomes ESTABLISHED on the
//! final ACK; segments for no socket are answered with RST
//! (`tcp_v4_send_reset`); closing a socket with unread data sends RST instead
//! of FIN (`tcp_close`); SYNs are retransmitted after 1 s with exponential
//! backoff, `tcp_syn_retries`=6 times, SYN-ACKs `tcp_synack_retries`=5 times;
//! TIME_WAIT and orphaned FIN_WAIT2 last 60 s. Segments carry the options
//! Linux sends (SYN: MSS, SACK-permitted, timestamps, window scale; others:
//! timestamps), so byte counters match a real kernel's.
//! Left out on purpose: congestion control, retransmission of data (the lab
//! segment never loses frames), delayed ACKs (every data segment is acked at
//! once, as Linux does in quick-ack mode at the start of a connection),
//! window scaling arithmetic, urgent data, SACK blocks.

pub mod err;
pub mod io;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TcpState {
    Listen,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
    Close,
}

impl TcpState {
    /// As `netstat` prints it.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
        }
    }
}

/// What serves a listening socket's connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Service {
    /// An HTTP server answering GETs from files under `docroot`, closing
    /// after each response.
    Http { docroot: String },
}

/// The process that owns a socket (netstat's PID/Program name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: u32,
    pub program: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sock {
    pub id: u32,
    pub local: SocketAddrV4,
    /// `0.0.0.0:0` for a listener.
    pub remote: SocketAddrV4,
    pub state: TcpState,
    pub iss: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    pub irs: u32,
    pub rcv_nxt: u32,
    /// Received, not yet read by the owner.
    pub rx: Vec<u8>,
    /// Bytes sent and not yet acknowledged (netstat's Send-Q).
    pub unacked: u32,
    pub fin_rcvd: bool,
    pub owner: Option<Owner>,
    /// The listener a connection came from.
    pub parent: Option<u32>,
    /// For listeners: what serves their connections.
    pub service: Option<Service>,
    /// Orphaned: no process holds it any more (after close()).
    pub orphan: bool,
    /// Retransmission / state timer.
    pub timer: Option<SimTime>,
    pub retries: u32,
    pub rto: u64,
    /// Timestamp value we last received (echoed in TSecr).
    pub ts_recent: u32,
}

impl Sock {
    /// A socket in `state` with nothing sent or received yet.
    pub fn new(local: SocketAddrV4, remote: SocketAddrV4, state: TcpState) -> Sock {
        Sock {
            id: 0,
            local,
            remote,
            state,
            iss: 0,
            snd_una: 0,
            snd_nxt: 0,
            irs: 0,
            rcv_nxt: 0,
            rx: vec![],
            unacked: 0,
            fin_rcvd: false,
            owner: None,
            parent: None,
            service: None,
            orphan: false,
            timer: None,
            retries: 0,
            rto: INITIAL_RTO_US,
            ts_recent: 0,
        }
    }
}

/// A host's TCP sockets.
///
/// Linux finds a socket through hash tables (`inet_hashinfo`: established by
/// 4-tuple, listeners by port) and keeps a timer per socket. We keep the
/// sockets ordered by id (so every walk over them is deterministic) plus
/// three indexes derived from them, so that a segment, a timer tick or a
/// port choice never walks every socket (a host that served thousands of
/// connections holds thousands of TIME_WAIT sockets): connected sockets by
/// (local, remote), listeners, and pending timers. The indexes are not
/// serialised; a loaded table rebuilds them. Change sockets only through
/// [`TcpTable::insert`], [`TcpTable::remove`], [`TcpTable::retain`],
/// [`TcpTable::set_timer`] and [`TcpTable::get_mut`] (which must not touch
/// `timer`, `state`, `local` or `remote`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "TcpTableData")]
pub struct TcpTable {
    socks: BTreeMap<u32, Sock>,
    pub next_id: u32,
    /// Next ephemeral port candidate (ip_local_port_range 32768-60999).
    pub next_port: u16,
    /// Next process id handed to a program.
    pub next_pid: u32,
    /// (local, remote) → a connected (non-listening) socket with that tuple:
    /// the newest one inserted while it lives, else the oldest one left.
    /// Every connected socket's tuple has an entry.
    #[serde(skip)]
    index: BTreeMap<(SocketAddrV4, SocketAddrV4), u32>,
    /// Whether two connected sockets ever shared a tuple (`curl
    /// --local-port` can do that); only then does a removal look for
    /// another socket to index.
    #[serde(skip)]
    shared_tuples: bool,
    /// Listening sockets, in id order.
    #[serde(skip)]
    listeners: Vec<u32>,
    /// (expiry, socket id) of every socket whose `timer` is set.
    #[serde(skip)]
    timers: BTreeSet<(SimTime, u64)>,
}

/// What a [`TcpTable`] serialises: the sockets and counters, not the indexes.
#[derive(Deserialize)]
struct TcpTableData {
    socks: BTreeMap<u32, Sock>,
    next_id: u32,
    next_port: u16,
    next_pid: u32,
}

impl From<TcpTableData> for TcpTable {
    fn from(d: TcpTableData) -> TcpTable {
        let mut t = TcpTable {
            socks: BTreeMap::new(),
            next_id: d.next_id,
            next_port: d.next_port,
            next_pid: d.next_pid,
            ..TcpTable::default()
        };
        for (id, s) in d.socks {
            t.add(id, s, false);
        }
        t
    }
}

/// Two tables are equal when their sockets and counters are (the indexes
/// follow from the sockets).
impl PartialEq for TcpTable {
    fn eq(&self, o: &TcpTable) -> bool {
        self.socks == o.socks
            && self.next_id == o.next_id
            && self.next_port == o.next_port
            && self.next_pid == o.next_pid
    }
}

impl Eq for TcpTable {}

pub const SYN_RETRIES: u32 = 6;
pub const SYNACK_RETRIES: u32 = 5;
pub const TIME_WAIT_US: u64 = 60_000_000;
pub const FIN_TIMEOUT_US: u64 = 60_000_000;
pub const INITIAL_RTO_US: u64 = 1_000_000;
/// The window of an active open's SYN: `tcp_select_initial_window()`
/// rounds the 65535-byte space down to a multiple of the MSS it sends
/// (1460; timestamps are not agreed yet): 44 × 1460.
pub const WINDOW: u16 = 64240;
/// The window of a SYN-ACK (`tcp_openreq_init_rwin()`): the MSS less the
/// timestamp option the SYN offered (1460 − 12 = 1448), so 45 × 1448.
pub const SYNACK_WINDOW: u16 = 65160;
pub const MSS: u16 = 1460;

impl TcpTable {
    pub fn new(seed: u16) -> TcpTable {
        TcpTable {
            socks: BTreeMap::new(),
            next_id: 1,
            next_port: 32768 + (seed % 28000),
            next_pid: 1000 + u32::from(seed % 900),
            ..TcpTable::default()
        }
    }

    pub fn alloc_pid(&mut self) -> u32 {
        self.next_pid += 1 + self.next_pid % 7;
        self.next_pid
    }

    /// A free ephemeral port for connections from `local_ip`.
    pub fn ephemeral_port(&mut self, local_ip: Ipv4Addr, remote: SocketAddrV4) -> Option<u16> {
        for _ in 0..28232 {
            let p = self.next_port;
            self.next_port = if self.next_port >= 60999 {
                32768
            } else {
                self.next_port + 1 + (self.next_port % 5)
            };
            // Busy: a listener on the port (that address or any), or a
            // connection from (local_ip or any):p to `remote`.
            let listener = self.listeners.iter().any(|id| {
                self.socks.get(id).is_some_and(|s| {
                    s.local.port() == p
                        && (s.local.ip() == &local_ip || s.local.ip().is_unspecified())
                })
            });
            let busy = listener
                || [local_ip, Ipv4Addr::UNSPECIFIED]
                    .into_iter()
                    .any(|ip| self.connected(SocketAddrV4::new(ip, p), remote).is_some());
            if !busy {
                return Some(p);
            }
        }
        None
    }

    pub fn insert(&mut self, mut s: Sock) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        s.id = id;
        self.add(id, s, true);
        id
    }

    /// Put `s` under `id` and index it; `newest`: an entry for its tuple
    /// moves to it (else the existing one stays, as for a loaded table,
    /// where the oldest socket of a tuple is found first).
    fn add(&mut self, id: u32, s: Sock, newest: bool) {
        if s.state == TcpState::Listen {
            let at = self.listeners.partition_point(|&l| l < id);
            self.listeners.insert(at, id);
        } else {
            let key = (s.local, s.remote);
            if self.connected(s.local, s.remote).is_some() {
                self.shared_tuples = true;
            }
            if newest || !self.index.contains_key(&key) {
                self.index.insert(key, id);
            }
        }
        if let Some(t) = s.timer {
            self.timers.insert((t, u64::from(id)));
        }
        if let Some(old) = self.socks.insert(id, s) {
            self.unindex(id, &old);
        }
    }

    /// Drop `old` (no longer stored under `id`) from the indexes.
    fn unindex(&mut self, id: u32, old: &Sock) {
        if let Some(t) = old.timer {
            self.timers.remove(&(t, u64::from(id)));
        }
        if old.state == TcpState::Listen {
            self.listeners.retain(|&l| l != id);
            return;
        }
        let key = (old.local, old.remote);
        if self.index.get(&key) == Some(&id) {
            self.index.remove(&key);
            if self.shared_tuples {
                // The oldest other socket with the tuple takes over.
                if let Some(other) = self.socks.values().find(|s| {
                    s.state != TcpState::Listen && s.local == old.local && s.remote == old.remote
                }) {
                    self.index.insert(key, other.id);
                }
            }
        }
    }

    /// Remove a socket (and its index entries).
    pub fn remove(&mut self, id: u32) -> Option<Sock> {
        let s = self.socks.remove(&id)?;
        self.unindex(id, &s);
        Some(s)
    }

    /// Keep only the sockets for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Sock) -> bool) {
        let gone: Vec<u32> = self
            .socks
            .values()
            .filter(|s| !keep(s))
            .map(|s| s.id)
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// The sockets, by id.
    pub fn socks(&self) -> &BTreeMap<u32, Sock> {
        &self.socks
    }

    pub fn get(&self, id: u32) -> Option<&Sock> {
        self.socks.get(&id)
    }

    /// A socket to change; not its `timer` (see [`TcpTable::set_timer`]),
    /// `state`, `local` or `remote` (see [`TcpTable::set_state`]).
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Sock> {
        self.socks.get_mut(&id)
    }

    /// Set or clear a socket's timer.
    pub fn set_timer(&mut self, id: u32, at: Option<SimTime>) {
        let Some(s) = self.socks.get_mut(&id) else {
            return;
        };
        if let Some(t) = std::mem::replace(&mut s.timer, at) {
            self.timers.remove(&(t, u64::from(id)));
        }
        if let Some(t) = at {
            self.timers.insert((t, u64::from(id)));
        }
    }

    /// Change the state of a connected socket (never to or from LISTEN).
    pub fn set_state(&mut self, id: u32, state: TcpState) {
        if let Some(s) = self.socks.get_mut(&id) {
            debug_assert!(s.state != TcpState::Listen && state != TcpState::Listen);
            s.state = state;
        }
    }

    /// The sockets whose timer is due at `now`, in id order.
    pub fn due(&self, now: SimTime) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .timers
            .range(..=(now, u64::MAX))
            .map(|&(_, id)| id as u32)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The connected socket for (local, remote), if any.
    fn connected(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<u32> {
        let &id = self.index.get(&(local, remote))?;
        self.socks
            .get(&id)
            .is_some_and(|s| s.state != TcpState::Listen && s.local == local && s.remote == remote)
            .then_some(id)
    }

    /// `__inet_lookup`: an established (non-listening) socket first, then a listener.
    pub fn lookup(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<u32> {
        if let Some(id) = self.connected(local, remote) {
            return Some(id);
        }
        self.listeners.iter().copied().find(|id| {
            self.socks.get(id).is_some_and(|s| {
                s.local.port() == local.port()
                    && (s.local.ip() == local.ip() || s.local.ip().is_unspecified())
            })
        })
    }

    /// Is a listener bound to `port` (any address)?
    pub fn listening_on(&self, port: u16) -> bool {
        self.listeners
            .iter()
            .any(|id| self.socks.get(id).is_some_and(|s| s.local.port() == port))
    }

    pub fn next_timer(&self) -> Option<SimTime> {
        self.timers.first().map(|&(t, _)| t)
    }

    /// The indexes agree with the sockets (tests and debug builds).
    pub fn check_indexes(&self) -> Result<(), String> {
        let mut rebuilt = TcpTable::default();
        for (&id, s) in &self.socks {
            rebuilt.add(id, s.clone(), true);
        }
        if rebuilt.listeners != self.listeners {
            return Err(format!(
                "listeners {:?} != {:?}",
                self.listeners, rebuilt.listeners
            ));
        }
        if rebuilt.timers != self.timers {
            return Err(format!("timers {:?} != {:?}", self.timers, rebuilt.timers));
        }
        // Every connected socket's tuple leads to a live socket with it.
        for s in self.socks.values().filter(|s| s.state != TcpState::Listen) {
            if self.connected(s.local, s.remote).is_none() {
                return Err(format!(
                    "socket {} ({} -> {}) is not indexed",
                    s.id, s.local, s.remote
                ));
            }
        }
        if self.index.len() != rebuilt.index.len() {
            return Err(format!(
                "{} index entries for {} tuples",
                self.index.len(),
                rebuilt.index.len()
            ));
        }
        Ok(())
    }
}

/// A deterministic initial sequence number (Linux: `secure_tcp_seq`, a keyed
/// hash of the 4-tuple plus a clock). Ours: FNV of the tuple and the time.
pub fn isn(local: SocketAddrV4, remote: SocketAddrV4, now: SimTime) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in local
        .ip()
        .octets()
        .iter()
        .chain(remote.ip().octets().iter())
    {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    for b in local
        .port()
        .to_be_bytes()
        .iter()
        .chain(remote.port().to_be_bytes().iter())
    {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    h.wrapping_add((now.0 / 4) as u32)
}

/// TCP options Linux puts on a SYN (MSS, SACK-permitted, timestamps, NOP,
/// window scale 7): 20 bytes.
pub fn syn_options(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![2, 4];
    o.extend_from_slice(&MSS.to_be_bytes());
    o.extend_from_slice(&[4, 2, 8, 10]);
    o.extend_from_slice(&tsval.to_be_bytes());
    o.extend_from_slice(&tsecr.to_be_bytes());
    o.extend_from_slice(&[1, 3, 3, 7]);
    o
}

/// Timestamps option on every other segment (NOP, NOP, TS): 12 bytes.
pub fn ts_options(tsval: u32, tsecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend_from_slice(&tsval.to_be_bytes());
    o.extend_from_slice(&tsecr.to_be_bytes());
    o
}

/// TSval from a host's clock in milliseconds (Linux uses a ms clock).
pub fn tsval(now: SimTime) -> u32 {
    (now.0 / 1000) as u32
}

/// The timestamp value carried in a segment's options, if any.
pub fn parse_tsval(options: &[u8]) -> Option<u32> {
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => break,
            1 => i += 1,
            8 if i + 10 <= options.len() => {
                return Some(u32::from_be_bytes(options[i + 2..i + 6].try_into().ok()?))
            }
            _ => {
                let l = *options.get(i + 1)? as usize;
                if l < 2 {
                    break;
                }
                i += l;
            }
        }
    }
    None
}

/// Build the HTTP response the lab's httpd sends for `request`.
pub fn http_response(
    request: &[u8],
    files: &crate::util::vecmap::VecMap<String, String>,
    docroot: &str,
    date: &str,
) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let first = text.lines().next().unwrap_or("");
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("/");
    let (status, body) = if method != "GET" && method != "HEAD" {
        (
            "501 Not Implemented",
            "<html><body><h1>501 Not Implemented</h1></body></html>\n".to_string(),
        )
    } else {
        let path = path.split('?').next().unwrap_or("/");
        let mut file = format!("{docroot}{path}");
        if file.ends_with('/') {
            file.push_str("index.html");
        }
        match files.get(&file) {
            Some(b) => ("200 OK", b.clone()),
            None => ("404 Not Found", format!("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL {path} was not found on this server.</p>\n</body></html>\n")),
        }
    };
    let mut r = format!(
        "HTTP/1.1 {status}\r\nDate: {date}\r\nServer: Apache/2.4.6 (CentOS)\r\nContent-Length: {}\r\nConnection: close\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        r.extend_from_slice(body.as_bytes());
    }
    r
}

/// RFC 7231 date for simulated time: the lab starts on the tutorial's date,
/// Fri, 12 Mar 2021 09:00:00 GMT.
pub fn http_date(now: SimTime) -> String {
    const DAYS: [&str; 7] = ["Fri", "Sat", "Sun", "Mon", "Tue", "Wed", "Thu"];
    let secs = 9 * 3600 + now.0 / 1_000_000;
    let day = secs / 86400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    // Good for the first weeks of a lab, which is all a session lasts.
    let dom = 12 + day;
    format!(
        "{}, {:02} Mar 2021 {:02}:{:02}:{:02} GMT",
        DAYS[(day % 7) as usize],
        dom.min(31),
        h,
        m,
        s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_have_linux_sizes() {
        assert_eq!(syn_options(1, 0).len(), 20);
        assert_eq!(ts_options(1, 2).len(), 12);
        assert_eq!(parse_tsval(&ts_options(77, 2)), Some(77));
        assert_eq!(parse_tsval(&syn_options(78, 0)), Some(78));
    }

    #[test]
    fn http_serves_index_and_404() {
        let mut files = crate::util::vecmap::VecMap::new();
        files.insert(
            "/var/www/html/index.html".to_string(),
            "<h1>from 192.168.150.12</h1>\n".to_string(),
        );
        let r = http_response(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            &files,
            "/var/www/html",
            &http_date(SimTime(0)),
        );
        let t = String::from_utf8(r).unwrap();
        assert!(t.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(t.ends_with("\r\n\r\n<h1>from 192.168.150.12</h1>\n"));
        assert!(t.contains("Date: Fri, 12 Mar 2021 09:00:00 GMT"));
        let r = http_response(b"GET /nope HTTP/1.1\r\n\r\n", &files, "/var/www/html", "d");
        assert!(String::from_utf8(r).unwrap().starts_with("HTTP/1.1 404"));
    }
}
