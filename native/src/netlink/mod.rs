//! The native director: the kernel's IPVS driven over generic netlink
//! (net/netfilter/ipvs/ip_vs_ctl.c, the "IPVS" genl family), as the
//! engine's [`IpvsBackend`], so `lvslab ipvsadm ARGS…` runs the same
//! typed ipvsadm commands ([`lvslab_engine::ipvsadm`]) the simulator runs.
//!
//! - `attrs`: the family's commands and attributes as typed neli enums;
//! - `msg`: building request bytes and decoding replies (no I/O);
//! - `transport`: the socket ([`Transport`]; `replay` plays captures back
//!   in tests);
//! - `errors`: `-errno` → [`IpvsError`] per operation, as libipvs's
//!   `ipvs_strerror()`, plus advice for the unclear cases;
//! - `conn`: `/proc/net/ip_vs_conn`, which `-c` reads (no netlink for it);
//! - `table`: `/proc/net/ip_vs`, the destinations of a plain `-L` in one
//!   read instead of one netlink dump per service.
//!
//! Like ipvsadm 1.31 (`ipvs_init`), a run resolves the family by name
//! (the id is dynamic) and asks GET_INFO first; unlike it, one socket
//! serves the whole run. Requests are byte-identical to ipvsadm's
//! (`tests/netlink_golden.rs`). Left out: the sync daemon, tunnel options
//! (`--tun-*`), persistence engines and one-packet scheduling, which the
//! engine's command grammar does not carry. Destination counters are read
//! as the kernel's full 64-bit values (libipvs reads the low 32 bits of
//! some; the two differ only past 2^32).

pub mod attrs;
pub mod conn;
pub mod errors;
pub mod msg;
/// Test support: plays captured kernel answers back (the goldens).
#[doc(hidden)]
pub mod replay;
pub mod table;
pub mod transport;

use errors::{errno, Op};
use lvslab_engine::ipvs::{
    Change, ConnEntry, DestEntry, DestSpec, Info, IpvsBackend, IpvsError, ServiceEntry, ServiceKey,
    ServiceSpec, Timeouts,
};
use lvslab_engine::ipvsadm;
use msg::{Message, Request};
use neli::types::{Buffer, GenlBuffer};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
pub use transport::{SocketTransport, Transport};

/// A genl message of an answer: its command and attributes.
type Reply = (u8, GenlBuffer<u16, Buffer>);

/// The kernel's IPVS through a [`Transport`].
pub struct NetlinkBackend<T: Transport> {
    t: T,
    family: u16,
    seq: u32,
    info: Info,
    proc_conn: PathBuf,
    /// `/proc/net/ip_vs`, next to `proc_conn`.
    proc_table: PathBuf,
    hints: Vec<String>,
}

fn io_error(e: std::io::Error) -> IpvsError {
    IpvsError::Other(format!("netlink: {e}"))
}

fn msg_error(e: msg::MsgError) -> IpvsError {
    IpvsError::Other(format!("netlink: {e}"))
}

impl NetlinkBackend<SocketTransport> {
    /// Open a socket, resolve "IPVS" (after `modprobe ip_vs` if it is
    /// missing, as ipvsadm does) and ask GET_INFO.
    pub fn new() -> Result<Self, IpvsError> {
        let open = || -> Result<Self, IpvsError> {
            let t = SocketTransport::open().map_err(io_error)?;
            Self::with_transport(t, conn::PROC_IP_VS_CONN)
        };
        match open() {
            Err(IpvsError::NotAvailable) => {
                // By absolute path with a fixed environment, never `$PATH`.
                for m in ["/sbin/modprobe", "/usr/sbin/modprobe", "/usr/bin/modprobe"] {
                    let st = std::process::Command::new(m)
                        .args(["-q", "--", "ip_vs"])
                        .env_clear()
                        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status();
                    if st.is_ok() {
                        break;
                    }
                }
                open()
            }
            r => r,
        }
    }
}

impl<T: Transport> NetlinkBackend<T> {
    /// Resolve the family and ask GET_INFO over `t`; `-c` reads `proc_conn`.
    pub fn with_transport(t: T, proc_conn: impl Into<PathBuf>) -> Result<Self, IpvsError> {
        let proc_conn: PathBuf = proc_conn.into();
        let proc_table = proc_conn.with_file_name("ip_vs");
        let mut b = NetlinkBackend {
            t,
            family: 0,
            seq: 0,
            info: Info {
                version: (0, 0, 0),
                conn_tab_size: 0,
            },
            proc_conn,
            proc_table,
            hints: Vec::new(),
        };
        b.family = b.resolve_family()?;
        let replies = b.request(&Op::Init, &Request::GetInfo)?;
        b.info = replies
            .iter()
            .find(|(cmd, _)| *cmd == u8::from(attrs::IpvsCmd::SetInfo))
            .ok_or_else(|| IpvsError::Other("netlink: GET_INFO got no answer".into()))
            .and_then(|(_, a)| msg::decode_info(a).map_err(msg_error))?;
        Ok(b)
    }

    /// The dynamic id of the "IPVS" family.
    pub fn family(&self) -> u16 {
        self.family
    }

    /// Advice for the errors of this run (see [`errors::hint`]), once each.
    pub fn take_hints(&mut self) -> Vec<String> {
        std::mem::take(&mut self.hints)
    }

    /// The transport, e.g. to inspect a replay after a run.
    pub fn transport(&self) -> &T {
        &self.t
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// CTRL_CMD_GETFAMILY "IPVS": ENOENT means no IPVS in this kernel.
    fn resolve_family(&mut self) -> Result<u16, IpvsError> {
        let seq = self.next_seq();
        let req = msg::encode_getfamily(seq).map_err(msg_error)?;
        let replies = self.exchange(&req, seq, false).map_err(|e| match e {
            Exchange::Errno(errno::ENOENT) => IpvsError::NotAvailable,
            Exchange::Errno(n) => errors::map(&Op::Init, n),
            Exchange::Failed(e) => e,
        })?;
        replies
            .iter()
            .find(|(cmd, _)| *cmd == u8::from(neli::consts::genl::CtrlCmd::Newfamily))
            .ok_or_else(|| IpvsError::Other("netlink: nlctrl did not describe \"IPVS\"".into()))
            .and_then(|(_, a)| msg::decode_family(a).map_err(msg_error))
    }

    /// Send `r` and collect the genl messages of the answer.
    fn request(&mut self, op: &Op, r: &Request) -> Result<Vec<Reply>, IpvsError> {
        let seq = self.next_seq();
        let req = msg::encode(self.family, seq, r).map_err(msg_error)?;
        self.exchange(&req, seq, r.is_dump()).map_err(|e| {
            let e = match e {
                Exchange::Errno(n) => errors::map(op, n),
                Exchange::Failed(e) => e,
            };
            if let Some(h) = errors::hint(op, &e) {
                if !self.hints.contains(&h) {
                    self.hints.push(h);
                }
            }
            e
        })
    }

    /// One request/answer: until the ACK (or error) for `seq`, or for a
    /// dump until NLMSG_DONE. Messages of other sequence numbers (a late
    /// ACK of an earlier request) are skipped.
    fn exchange(&mut self, req: &[u8], seq: u32, dump: bool) -> Result<Vec<Reply>, Exchange> {
        self.t
            .send(req)
            .map_err(|e| Exchange::Failed(io_error(e)))?;
        let mut out = Vec::new();
        loop {
            let buf = self.t.recv().map_err(|e| Exchange::Failed(io_error(e)))?;
            let msgs = msg::parse_messages(&buf).map_err(|e| Exchange::Failed(msg_error(e)))?;
            for m in msgs {
                if m.seq() != seq {
                    continue;
                }
                match m {
                    Message::Ack { .. } if !dump => return Ok(out),
                    Message::Ack { .. } | Message::Other { .. } => {}
                    Message::Error { errno, .. } => return Err(Exchange::Errno(errno)),
                    Message::Done { errno: 0, .. } => return Ok(out),
                    Message::Done { errno, .. } => return Err(Exchange::Errno(errno)),
                    Message::Genl { cmd, attrs, .. } => out.push((cmd, attrs)),
                }
            }
        }
    }

    /// IPVS_CMD_GET_SERVICE as a dump: every service, no destinations.
    fn dump_services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        let new_service = u8::from(attrs::IpvsCmd::NewService);
        self.request(&Op::GetServices, &Request::DumpServices)?
            .iter()
            .filter(|(cmd, _)| *cmd == new_service)
            .map(|(_, a)| msg::decode_service(a).map_err(msg_error))
            .collect()
    }

    /// IPVS_CMD_GET_DEST as a dump: one service's destinations.
    fn dump_dests(&mut self, k: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let new_dest = u8::from(attrs::IpvsCmd::NewDest);
        let af = msg::service_af(k);
        self.request(&Op::GetDests, &Request::DumpDests(*k))?
            .iter()
            .filter(|(cmd, _)| *cmd == new_dest)
            .map(|(_, a)| msg::decode_dest(a, af).map_err(msg_error))
            .collect()
    }

    fn command(&mut self, op: Op, r: Request) -> Result<(), IpvsError> {
        self.request(&op, &r).map(|_| ())
    }

    fn note_hint(&mut self, op: &Op, e: &IpvsError) {
        if let Some(h) = errors::hint(op, e) {
            if !self.hints.contains(&h) {
                self.hints.push(h);
            }
        }
    }
}

/// The operation (for its errno mapping) and the request of a change.
fn change_request(c: &Change) -> (Op, Request) {
    let op = match c {
        Change::AddService(s) => Op::AddService(s.scheduler.clone()),
        Change::EditService(s) => Op::EditService(s.scheduler.clone()),
        Change::DelService(_) => Op::DelService,
        Change::Flush => Op::Flush,
        Change::AddDest(..) => Op::AddDest,
        Change::EditDest(..) => Op::EditDest,
        Change::DelDest(..) => Op::DelDest,
        Change::Zero(_) => Op::Zero,
        Change::SetTimeouts(_) => Op::SetTimeout,
    };
    (op, Request::from(c.clone()))
}

/// Requests per datagram in `run_changes`: the kernel answers the failed
/// ones (an error echoes the request) and the last; 64 of them stay far
/// below the socket's default receive buffer, so none is dropped.
const BATCH: usize = 64;

/// How an exchange failed: a kernel errno (mapped per operation by the
/// caller) or anything else.
enum Exchange {
    Errno(i32),
    Failed(IpvsError),
}

impl<T: Transport> IpvsBackend for NetlinkBackend<T> {
    fn info(&mut self) -> Result<Info, IpvsError> {
        // Asked once, in with_transport (ipvs_init); ipvsadm reuses it too.
        Ok(self.info)
    }

    fn add_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        self.command(
            Op::AddService(s.scheduler.clone()),
            Request::NewService(s.clone()),
        )
    }

    fn edit_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        self.command(
            Op::EditService(s.scheduler.clone()),
            Request::SetService(s.clone()),
        )
    }

    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError> {
        self.command(Op::DelService, Request::DelService(*k))
    }

    fn flush(&mut self) -> Result<(), IpvsError> {
        self.command(Op::Flush, Request::Flush)
    }

    fn add_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        self.command(Op::AddDest, Request::NewDest(*k, d.clone()))
    }

    fn edit_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        self.command(Op::EditDest, Request::SetDest(*k, d.clone()))
    }

    fn del_dest(&mut self, k: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        self.command(Op::DelDest, Request::DelDest(*k, addr, port))
    }

    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError> {
        self.command(Op::Zero, Request::Zero(k.copied()))
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError> {
        self.command(Op::SetTimeout, Request::SetConfig(*t))
    }

    /// Many changes per datagram: the kernel's `netlink_rcv_skb()` runs
    /// every message of a datagram in turn and acknowledges each, so the
    /// requests are the same bytes as one by one, with a system call per 64
    /// instead of two per change.
    fn run_changes(&mut self, changes: &[Change]) -> Vec<Result<(), IpvsError>> {
        let mut out = Vec::with_capacity(changes.len());
        for chunk in changes.chunks(BATCH) {
            let mut results: Vec<Option<Result<(), IpvsError>>> = vec![None; chunk.len()];
            let mut buf = Vec::new();
            let mut waiting: Vec<(u32, usize, Op)> = Vec::new();
            // Only the datagram's last request asks for an ACK: the kernel
            // runs the requests in order and answers the others only when
            // they fail (with their sequence numbers), so once the last one
            // is answered, every request without an error succeeded.
            let mut encoded: Vec<Vec<u8>> = Vec::new();
            for (i, c) in chunk.iter().enumerate() {
                let (op, req) = change_request(c);
                let seq = self.next_seq();
                match msg::encode(self.family, seq, &req) {
                    Ok(b) => {
                        encoded.push(b);
                        waiting.push((seq, i, op));
                    }
                    Err(e) => results[i] = Some(Err(msg_error(e))),
                }
            }
            let last = waiting.last().map(|(_, i, _)| *i);
            let n = encoded.len();
            for (k, b) in encoded.into_iter().enumerate() {
                let b = if k + 1 == n { b } else { msg::without_ack(b) };
                buf.extend_from_slice(&b);
            }
            if !buf.is_empty() {
                if let Err(e) = self.t.send(&buf) {
                    for (_, i, _) in waiting.drain(..) {
                        results[i] =
                            Some(Err(io_error(std::io::Error::new(e.kind(), e.to_string()))));
                    }
                }
            }
            while !waiting.is_empty() {
                let msgs = match self
                    .t
                    .recv()
                    .map_err(io_error)
                    .and_then(|b| msg::parse_messages(&b).map_err(msg_error))
                {
                    Ok(m) => m,
                    Err(e) => {
                        for (_, i, _) in waiting.drain(..) {
                            results[i] = Some(Err(e.clone()));
                        }
                        break;
                    }
                };
                for m in msgs {
                    let Some(pos) = waiting.iter().position(|(s, _, _)| *s == m.seq()) else {
                        continue;
                    };
                    let r = match m {
                        Message::Ack { .. } => Ok(()),
                        Message::Error { errno, .. } => Err(errno),
                        _ => continue,
                    };
                    let (_, i, op) = waiting.remove(pos);
                    let is_last = Some(i) == last;
                    results[i] = Some(r.map_err(|n| {
                        let e = errors::map(&op, n);
                        self.note_hint(&op, &e);
                        e
                    }));
                    if is_last {
                        // Everything before it that did not fail succeeded.
                        for (_, j, _) in waiting.drain(..) {
                            results[j] = Some(Ok(()));
                        }
                    }
                }
            }
            out.extend(
                results.into_iter().map(|r| {
                    r.unwrap_or_else(|| Err(IpvsError::Other("netlink: no answer".into())))
                }),
            );
        }
        out
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        let replies = self.request(&Op::GetTimeout, &Request::GetConfig)?;
        replies
            .iter()
            .find(|(cmd, _)| *cmd == u8::from(attrs::IpvsCmd::SetConfig))
            .ok_or_else(|| IpvsError::Other("netlink: GET_CONFIG got no answer".into()))
            .and_then(|(_, a)| msg::decode_timeouts(a).map_err(msg_error))
    }

    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        let mut services = self.dump_services()?;
        for s in &mut services {
            s.dests = self.dump_dests(&s.spec.key)?;
        }
        Ok(services)
    }

    /// One service dump plus one read of `/proc/net/ip_vs` (see
    /// [`table`]) instead of a dest dump per service. A service the file
    /// cannot answer for (missing from it, added between the two reads, or
    /// a fwmark used by both address families) gets its own dest dump, and
    /// so does every service when the file cannot be read or parsed.
    fn services_for_listing(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        let mut services = self.dump_services()?;
        let table = std::fs::read_to_string(&self.proc_table)
            .ok()
            .and_then(|text| table::parse(&text).ok())
            .unwrap_or_default();
        // None: the key is ambiguous in the file.
        let mut by_key: HashMap<table::TableKey, Option<Vec<DestEntry>>> =
            HashMap::with_capacity(table.len());
        for (k, dests) in table {
            by_key
                .entry(k)
                .and_modify(|v| *v = None)
                .or_insert(Some(dests));
        }
        for s in &mut services {
            let key = table::TableKey::of(&s.spec.key);
            s.dests = match by_key.get_mut(&key).and_then(Option::take) {
                Some(dests) => dests,
                None => self.dump_dests(&s.spec.key)?,
            };
        }
        Ok(services)
    }

    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError> {
        let text = std::fs::read_to_string(&self.proc_conn).map_err(|_| {
            IpvsError::Other(format!("cannot open file {}", self.proc_conn.display()))
        })?;
        conn::parse(&text).map_err(IpvsError::Other)
    }
}

/// What to print when the kernel cannot be driven at all.
pub fn init_error_text(e: &IpvsError) -> String {
    match e {
        IpvsError::NotAvailable => errors::not_available_text(),
        IpvsError::Permission => "permission denied: driving IPVS needs CAP_NET_ADMIN; \
             run `lvslab ipvsadm` as root (sudo)"
            .to_string(),
        e => format!(
            "can't initialize ipvs: {e}\nAre you sure that IP Virtual Server is built in the \
             kernel or as module?"
        ),
    }
}

/// `lvslab ipvsadm ARGS…`: ipvsadm 1.31 against this machine's kernel.
/// Prints what ipvsadm prints (then, prefixed `lvslab:`, advice for the
/// unclear kernel errors) and returns its exit status.
pub fn ipvsadm_main(args: &[String]) -> i32 {
    // The help text needs no kernel (ipvsadm itself opens IPVS first and
    // fails there; an operator reading the help on a host without ip_vs
    // deserves the text).
    if matches!(ipvsadm::parse(args), Ok(ipvsadm::Command::Help)) {
        let mut ipvs = lvslab_engine::ipvs::Ipvs::default();
        let mut sim = lvslab_engine::ipvs::SimBackend {
            ipvs: &mut ipvs,
            now: lvslab_engine::SimTime(0),
        };
        let r = ipvsadm::run(&mut sim, args, "");
        print!("{}", r.stdout);
        eprint!("{}", r.stderr);
        return r.status;
    }
    let mut backend = match NetlinkBackend::new() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("lvslab ipvsadm: {}", init_error_text(&e));
            return 2;
        }
    };
    let mut stdin = String::new();
    if matches!(ipvsadm::parse(args), Ok(ipvsadm::Command::Restore)) {
        if let Err(e) = std::io::stdin().read_to_string(&mut stdin) {
            eprintln!("lvslab ipvsadm: reading the rules from stdin: {e}");
            return 2;
        }
    }
    let r = ipvsadm::run(&mut backend, args, &stdin);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(r.stdout.as_bytes());
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(r.stderr.as_bytes());
    for h in backend.take_hints() {
        let _ = writeln!(err, "lvslab: {h}");
    }
    let _ = err.flush();
    r.status
}

#[cfg(test)]
mod tests {
    use super::errors::errno::*;
    use super::replay::{error_reply, parse_hex, Exchange, ReplayTransport};
    use super::*;

    const A_SERVICE: &str = include_str!("../../tests/fixtures/ipvs-golden/A_service.hex");

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    /// The start of a run from a golden (GETFAMILY, GET_INFO), then the
    /// request of `argv` answered with `errno`.
    fn failing(argv: &str, errno: i32) -> (ipvsadm::Run, Vec<String>) {
        let cmd = ipvsadm::parse(&args(argv)).unwrap();
        let r = match cmd {
            ipvsadm::Command::Change(c) => Request::from(c),
            c => panic!("not scripted: {c:?}"),
        };
        // Sequence number and family id do not matter: the replay masks them.
        let req = msg::encode(0x20, 0, &r).unwrap();
        let mut ex: Vec<Exchange> = parse_hex(A_SERVICE).unwrap();
        ex.truncate(3); // GETFAMILY, GETFAMILY (left unused), GET_INFO
        ex.push(Exchange {
            sent: req.clone(),
            received: vec![error_reply(&req, errno)],
        });
        let mut b =
            NetlinkBackend::with_transport(ReplayTransport::new(ex), "/nonexistent").unwrap();
        assert_eq!(b.family(), 0x20);
        let run = ipvsadm::run(&mut b, &args(argv), "");
        assert!(b.transport().unmatched.is_empty(), "unexpected request");
        assert_eq!(
            b.transport().unused().len(),
            1,
            "only the second GETFAMILY is left"
        );
        (run, b.take_hints())
    }

    #[test]
    fn kernel_errors_print_ipvsadm_messages() {
        let (r, h) = failing("-A -t 10.0.0.1:80 -s rr", EEXIST);
        assert_eq!(
            (r.stderr.as_str(), r.status),
            ("Service already exists\n", 255)
        );
        assert!(h.is_empty());
        let (r, h) = failing("-A -t 10.0.0.1:80 -s foo", ENOENT);
        assert_eq!(r.stderr, "Scheduler or persistence engine not found\n");
        assert!(h[0].contains("ip_vs_foo"), "{h:?}");
        let (r, _) = failing("-E -t 10.0.0.1:80 -s rr", ESRCH);
        assert_eq!(r.stderr, "No such service\n");
        let (r, _) = failing("-D -t 10.0.0.1:80", ESRCH);
        assert_eq!(r.stderr, "No such service\n");
        let (r, _) = failing("-a -t 10.0.0.1:80 -r 10.0.0.2", ESRCH);
        assert_eq!(r.stderr, "Service not defined\n");
        let (r, _) = failing("-a -t 10.0.0.1:80 -r 10.0.0.2", EEXIST);
        assert_eq!(r.stderr, "Destination already exists\n");
        let (r, _) = failing("-e -t 10.0.0.1:80 -r 10.0.0.2", ENOENT);
        assert_eq!(r.stderr, "No such destination\n");
        let (r, _) = failing("-d -t 10.0.0.1:80 -r 10.0.0.2", ENOENT);
        assert_eq!(r.stderr, "No such destination\n");
        let (r, h) = failing("-a -t 10.0.0.1:80 -r 10.0.0.2 -x 10 -y 20", ERANGE);
        assert_eq!(r.stderr, "Numerical result out of range\n");
        assert!(h[0].contains("threshold"), "{h:?}");
        let (r, _) = failing("-a -t 10.0.0.1:80 -r 224.0.0.5", EINVAL);
        assert_eq!(
            r.stderr,
            "Invalid operation.  Possibly wrong module version, address not unicast, ...\n"
        );
        let (r, h) = failing("-C", EPERM);
        assert_eq!(r.stderr, "Permission denied (you must be root)\n");
        assert!(h[0].contains("CAP_NET_ADMIN"));
        let (r, _) = failing("-C", ENOENT);
        assert_eq!(r.stderr, "No such file or directory\n");
    }

    /// The real socket against this machine's kernel: IPVS is there (and
    /// we may drive it), or it is reported as missing or forbidden.
    #[test]
    fn the_real_kernel_answers() {
        let Ok(t) = SocketTransport::open() else {
            eprintln!("no netlink socket here: skipped");
            return;
        };
        match NetlinkBackend::with_transport(t, conn::PROC_IP_VS_CONN) {
            Ok(mut b) => {
                assert_eq!(b.info().unwrap().version.0, 1);
                b.services().unwrap();
            }
            Err(e) => assert!(
                matches!(e, IpvsError::NotAvailable | IpvsError::Permission),
                "{e:?}"
            ),
        }
    }

    #[test]
    fn a_kernel_without_ipvs_or_root_is_reported_clearly() {
        let getfamily = msg::encode_getfamily(1).unwrap();
        let t = ReplayTransport::new(vec![Exchange {
            sent: getfamily.clone(),
            received: vec![error_reply(&getfamily, ENOENT)],
        }]);
        let e = NetlinkBackend::with_transport(t, "/x").err().unwrap();
        assert_eq!(e, IpvsError::NotAvailable);
        assert!(init_error_text(&e).starts_with("IPVS is not available in this kernel"));

        let mut ex = parse_hex(A_SERVICE).unwrap();
        ex.truncate(1);
        let info = msg::encode(0x20, 2, &Request::GetInfo).unwrap();
        ex.push(Exchange {
            sent: info.clone(),
            received: vec![error_reply(&info, EPERM)],
        });
        let e = NetlinkBackend::with_transport(ReplayTransport::new(ex), "/x")
            .err()
            .unwrap();
        assert_eq!(e, IpvsError::Permission);
        assert!(init_error_text(&e).contains("CAP_NET_ADMIN"));
    }
}
