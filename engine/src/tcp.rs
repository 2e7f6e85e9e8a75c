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

use crate::world::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpTable {
    pub socks: BTreeMap<u32, Sock>,
    pub next_id: u32,
    /// Next ephemeral port candidate (ip_local_port_range 32768-60999).
    pub next_port: u16,
    /// Next process id handed to a program.
    pub next_pid: u32,
    /// (local, remote) → socket, for connected sockets (a hint: checked on
    /// use, rebuilt by inserts; the full scan stays the fallback).
    #[serde(skip)]
    index: BTreeMap<(SocketAddrV4, SocketAddrV4), u32>,
}

pub const SYN_RETRIES: u32 = 6;
pub const SYNACK_RETRIES: u32 = 5;
pub const TIME_WAIT_US: u64 = 60_000_000;
pub const FIN_TIMEOUT_US: u64 = 60_000_000;
pub const INITIAL_RTO_US: u64 = 1_000_000;
pub const WINDOW: u16 = 64240;
pub const MSS: u16 = 1460;

impl TcpTable {
    pub fn new(seed: u16) -> TcpTable {
        TcpTable {
            socks: BTreeMap::new(),
            next_id: 1,
            next_port: 32768 + (seed % 28000),
            next_pid: 1000 + u32::from(seed % 900),
            index: BTreeMap::new(),
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
            let busy = self.socks.values().any(|s| {
                s.local.port() == p
                    && (s.local.ip() == &local_ip || s.local.ip().is_unspecified())
                    && (s.remote == remote || s.state == TcpState::Listen)
            });
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
        if s.state != TcpState::Listen {
            self.index.insert((s.local, s.remote), id);
        }
        self.socks.insert(id, s);
        id
    }

    /// `__inet_lookup`: an established (non-listening) socket first, then a listener.
    pub fn lookup(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<u32> {
        if let Some(&id) = self.index.get(&(local, remote)) {
            if self.socks.get(&id).is_some_and(|s| {
                s.state != TcpState::Listen && s.local == local && s.remote == remote
            }) {
                return Some(id);
            }
        }
        if let Some(s) = self
            .socks
            .values()
            .find(|s| s.state != TcpState::Listen && s.local == local && s.remote == remote)
        {
            return Some(s.id);
        }
        self.socks
            .values()
            .filter(|s| s.state == TcpState::Listen && s.local.port() == local.port())
            .find(|s| s.local.ip() == local.ip() || s.local.ip().is_unspecified())
            .map(|s| s.id)
    }

    /// Is a listener bound to `port` (any address)?
    pub fn listening_on(&self, port: u16) -> bool {
        self.socks
            .values()
            .any(|s| s.state == TcpState::Listen && s.local.port() == port)
    }

    pub fn next_timer(&self) -> Option<SimTime> {
        self.socks.values().filter_map(|s| s.timer).min()
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
    files: &crate::vecmap::VecMap<String, String>,
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
        let mut files = crate::vecmap::VecMap::new();
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
