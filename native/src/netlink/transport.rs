//! Moving message bytes: the half of the driver that touches the kernel.
//! [`Transport`] is what the backend talks through: the real netlink socket
//! here, or a replay of recorded kernel answers in tests (`replay.rs`).

use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};
use std::io;

/// Sends request datagrams and receives reply datagrams.
pub trait Transport {
    /// Send one datagram (one netlink message).
    fn send(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Receive one datagram (one or more netlink messages).
    fn recv(&mut self) -> io::Result<Vec<u8>>;
}

/// Receive buffer: a dump datagram is at most 32 KiB in Linux 6.1
/// (`netlink_dump`); MSG_TRUNC tells if one was bigger anyway.
const RECV_BUF: usize = 64 * 1024;

/// A `NETLINK_GENERIC` socket bound to a kernel-assigned port, reused for
/// every request of a run.
pub struct SocketTransport {
    sock: NlSocket,
}

impl SocketTransport {
    pub fn open() -> io::Result<Self> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        sock.block()?;
        Ok(SocketTransport { sock })
    }
}

impl Transport for SocketTransport {
    fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        let n = self.sock.send(buf, Msg::empty())?;
        if n != buf.len() {
            return Err(io::Error::other(format!(
                "netlink: sent {n} of {} bytes",
                buf.len()
            )));
        }
        Ok(())
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            match self.sock.recv(&mut buf[..], Msg::TRUNC) {
                Ok((n, _)) if n > RECV_BUF => {
                    return Err(io::Error::other(format!(
                        "netlink: a {n}-byte reply does not fit the {RECV_BUF}-byte buffer"
                    )))
                }
                Ok((n, _)) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}
