//! A [`Transport`] that plays back recorded kernel answers: the goldens in
//! `native/tests/fixtures/ipvs-golden/` (captured from the real ipvsadm
//! 1.31 on Linux 6.1), or exchanges a test writes itself.
//!
//! Each request the driver sends is matched against the first unused
//! recorded request that is equal to it byte for byte, with `nlmsg_seq`,
//! `nlmsg_pid` and the IPVS family id masked; its recorded answers are then
//! received, renumbered to the driver's sequence number. A request nobody
//! recorded is an error (and kept in [`ReplayTransport::unmatched`]).
//!
//! libnl reads only the first answer of GET_INFO/GET_CONFIG and closes the
//! socket, so the captures lack the ACK the kernel queues after them; the
//! driver keeps its socket and waits for that ACK, so the replay supplies it.

use super::msg::{GENL_ID_CTRL, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN};
use super::transport::Transport;
use std::collections::VecDeque;
use std::io;

const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;

/// One request and the datagrams the kernel answered it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub sent: Vec<u8>,
    pub received: Vec<Vec<u8>>,
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex line ({} digits)", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex: {e}")))
        .collect()
}

/// Parse a `NAME.hex` capture: `> HEX` sent, `< HEX` received, a line per
/// syscall buffer.
pub fn parse_hex(text: &str) -> Result<Vec<Exchange>, String> {
    let mut out: Vec<Exchange> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(h) = line.strip_prefix("> ") {
            out.push(Exchange {
                sent: hex(h).map_err(|e| format!("line {}: {e}", n + 1))?,
                received: vec![],
            });
        } else if let Some(h) = line.strip_prefix("< ") {
            let ex = out
                .last_mut()
                .ok_or_else(|| format!("line {}: an answer before any request", n + 1))?;
            ex.received
                .push(hex(h).map_err(|e| format!("line {}: {e}", n + 1))?);
        } else if !line.trim().is_empty() {
            return Err(format!("line {}: neither `> ` nor `< `", n + 1));
        }
    }
    Ok(out)
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_ne_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Offsets of the messages in a datagram.
fn message_offsets(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut off = 0;
    while buf.len() >= off + NLMSG_HDRLEN {
        let len = u32_at(buf, off) as usize;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            break;
        }
        v.push((off, len));
        off += (len + 3) & !3;
    }
    v
}

/// The datagram with `nlmsg_seq` and `nlmsg_pid` zeroed in every message,
/// and the type zeroed in messages of a dynamic genl family (IPVS).
pub fn mask(buf: &[u8]) -> Vec<u8> {
    let mut b = buf.to_vec();
    for (off, _) in message_offsets(buf) {
        b[off + 8..off + 16].fill(0);
        if u16_at(buf, off + 4) > GENL_ID_CTRL {
            b[off + 4..off + 6].fill(0);
        }
    }
    b
}

/// `buf` with every message's `nlmsg_seq` set to `seq`.
fn renumber(buf: &[u8], seq: u32) -> Vec<u8> {
    let mut b = buf.to_vec();
    for (off, _) in message_offsets(buf) {
        b[off + 8..off + 12].copy_from_slice(&seq.to_ne_bytes());
    }
    b
}

/// An NLMSG_ERROR answering `req`: an ACK (`errno` 0, header only, as the
/// kernel caps it) or an error (`-errno`, the whole request echoed).
pub fn error_reply(req: &[u8], errno: i32) -> Vec<u8> {
    let echoed = if errno == 0 {
        &req[..NLMSG_HDRLEN]
    } else {
        req
    };
    let len = NLMSG_HDRLEN + 4 + echoed.len();
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
    let flags: u16 = if errno == 0 { 0x100 } else { 0 };
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&req[8..16]);
    b.extend_from_slice(&(-errno).to_ne_bytes());
    b.extend_from_slice(echoed);
    b
}

/// Plays recorded exchanges back.
#[derive(Debug, Default)]
pub struct ReplayTransport {
    exchanges: Vec<Exchange>,
    used: Vec<bool>,
    queue: VecDeque<Vec<u8>>,
    /// Every request sent, in order.
    pub sent: Vec<Vec<u8>>,
    /// Requests that matched no recorded exchange.
    pub unmatched: Vec<Vec<u8>>,
}

impl ReplayTransport {
    pub fn new(exchanges: Vec<Exchange>) -> Self {
        let used = vec![false; exchanges.len()];
        ReplayTransport {
            exchanges,
            used,
            ..Default::default()
        }
    }

    /// Recorded exchanges no request matched.
    pub fn unused(&self) -> Vec<&Exchange> {
        self.exchanges
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| !**u)
            .map(|(e, _)| e)
            .collect()
    }
}

impl Transport for ReplayTransport {
    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        self.sent.push(buf.to_vec());
        let m = mask(buf);
        let Some(i) = (0..self.exchanges.len())
            .find(|&i| !self.used[i] && mask(&self.exchanges[i].sent) == m)
        else {
            self.unmatched.push(buf.to_vec());
            return Err(io::Error::other(format!(
                "replay: no recorded exchange for the request {}",
                buf.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )));
        };
        self.used[i] = true;
        let seq = u32_at(buf, 8);
        let flags = u16_at(buf, 6);
        let mut terminated = false;
        for r in &self.exchanges[i].received {
            for (off, _) in message_offsets(r) {
                let t = u16_at(r, off + 4);
                terminated |= t == NLMSG_ERROR || t == NLMSG_DONE;
            }
            self.queue.push_back(renumber(r, seq));
        }
        if !terminated && flags & NLM_F_ACK != 0 && flags & NLM_F_DUMP == 0 {
            self.queue.push_back(error_reply(buf, 0));
        }
        Ok(())
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.queue
            .pop_front()
            .ok_or_else(|| io::Error::other("replay: no more recorded answers"))
    }
}
