//! What curl 7.88.1 writes for a transfer, given how it went: the body (to
//! the terminal or the `-o` file), headers for `-i`/`-I`, the `-v` trace
//! (`* `, `> `, `< ` lines on stderr, `lib/curl_trc.c` and the connect
//! filters' infof/failf), the progress meter (`lib/progress.c`), the error
//! line (`curl: (N) …`, shown unless `-s` without `-S`) and `-w`.
//!
//! The lab's terminal is a terminal: as curl does (`tool_operate.c`), the
//! progress meter is left out when the body goes to it, and `-v` writes no
//! `{ [N bytes data]` marker there. The meter's `\r` redraws are left out:
//! what is printed is what the terminal shows once they are done. Headers
//! are not set in bold (curl's `--styled-output` on a terminal).

use super::writeout::{write_out, Chunk, Transfer};
use super::{Invocation, Url};
use std::net::SocketAddrV4;

/// How a transfer ended, short of success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// connect(): ECONNREFUSED, EHOSTUNREACH/ENETUNREACH, ETIMEDOUT.
    Refused,
    Unreachable,
    SynTimedOut,
    /// `--connect-timeout` ran out while connecting.
    ConnectTimeout,
    /// `-m` ran out while connecting, or later with this much received.
    MaxTimeConnecting,
    MaxTime {
        received: u64,
    },
    MaxFilesize,
    EmptyReply,
    Reset,
    /// `--local-port` or an ephemeral port: nothing free.
    BindInUse,
    /// `-f` and a status of 400 or more.
    HttpError(u16),
}

impl Failure {
    fn code(self) -> i32 {
        match self {
            Failure::Refused | Failure::Unreachable => 7,
            Failure::SynTimedOut
            | Failure::ConnectTimeout
            | Failure::MaxTimeConnecting
            | Failure::MaxTime { .. } => 28,
            Failure::MaxFilesize => 63,
            Failure::EmptyReply => 52,
            Failure::Reset => 56,
            Failure::BindInUse => 45,
            Failure::HttpError(_) => 22,
        }
    }

    fn message(self, url: &Url, ms: u64) -> String {
        let failed = |why: &str| {
            format!(
                "Failed to connect to {} port {} after {ms} ms: {why}",
                url.host, url.port
            )
        };
        match self {
            Failure::Refused | Failure::Unreachable | Failure::SynTimedOut => {
                failed("Couldn't connect to server")
            }
            Failure::ConnectTimeout => failed("Timeout was reached"),
            Failure::MaxTimeConnecting => format!("Connection timed out after {ms} milliseconds"),
            Failure::MaxTime { received } => format!(
                "Operation timed out after {ms} milliseconds with {received} bytes received"
            ),
            Failure::MaxFilesize => "Maximum file size exceeded".into(),
            Failure::EmptyReply => "Empty reply from server".into(),
            Failure::Reset => "Recv failure: Connection reset by peer".into(),
            Failure::BindInUse => "bind failed with errno 98: Address already in use".into(),
            Failure::HttpError(s) => format!("The requested URL returned error: {s}"),
        }
    }

    /// The socket's own complaint that `-v` shows first.
    fn errno(self) -> Option<&'static str> {
        match self {
            Failure::Refused => Some("Connection refused"),
            Failure::Unreachable => Some("No route to host"),
            Failure::SynTimedOut => Some("Connection timed out"),
            _ => None,
        }
    }
}

/// What the network side of a transfer saw (`apps::curl`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub failure: Option<Failure>,
    /// Once connected: our address and port.
    pub local: Option<SocketAddrV4>,
    pub remote_ip: String,
    pub request: Vec<u8>,
    /// Everything received, headers and body.
    pub response: Vec<u8>,
    pub connected_us: Option<u64>,
    pub first_byte_us: Option<u64>,
    pub elapsed_us: u64,
}

/// What the shell does with a finished curl: write `chunks` in order, put
/// `file` (path, body) where `-o`/`-O` said, exit with `status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Printed {
    pub chunks: Vec<Chunk>,
    pub file: Option<(String, Vec<u8>)>,
    pub status: i32,
    /// A `-w` form the lab does not model.
    pub not_modelled: Option<String>,
}

/// Split a response into its header block (through the blank line) and
/// the body.
pub fn split_response(r: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = r.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((&r[..end], &r[end..]))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn status_code(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `max5data()`: a byte count or speed in five columns.
fn max5(n: u64) -> String {
    const K: u64 = 1024;
    const M: u64 = K * K;
    if n < 100_000 {
        format!("{n:5}")
    } else if n < 10_000 * K {
        format!("{:4}k", n / K)
    } else if n < 100 * M {
        format!("{:2}.{}M", n / M, (n % M) / (M / 10))
    } else {
        format!("{:4}M", n / M)
    }
}

/// `time2str()`: `--:--:--` for nothing, else h:mm:ss.
fn time2str(secs: u64) -> String {
    if secs == 0 {
        return "--:--:--".into();
    }
    let h = secs / 3600;
    if h <= 99 {
        format!("{h:2}:{:02}:{:02}", (secs / 60) % 60, secs % 60)
    } else if h / 24 <= 999 {
        format!("{:3}d {:02}h", h / 24, h % 24)
    } else {
        format!("{:7}d", h / 24)
    }
}

/// The meter's line as it stands when the transfer ends.
fn meter_line(total: Option<u64>, received: u64, elapsed_us: u64) -> String {
    let pct = |part: u64, whole: Option<u64>| match whole {
        Some(w) if w > 0 => part * 100 / w,
        _ => 0,
    };
    let speed = (received * 1_000_000).checked_div(elapsed_us).unwrap_or(0);
    let spent = elapsed_us / 1_000_000;
    let (total_t, left) = match (total, speed) {
        (Some(t), s) if s > 0 => {
            let whole = t / s;
            (whole, whole.saturating_sub(spent))
        }
        _ => (0, 0),
    };
    let shown_total = total.unwrap_or(received);
    format!(
        "{:3} {}  {:3} {}  {:3} {}  {} {} {} {} {} {}",
        if total.is_some() {
            pct(received, total)
        } else {
            0
        },
        max5(shown_total),
        pct(received, total),
        max5(received),
        0,
        max5(0),
        max5(speed),
        max5(0),
        time2str(total_t),
        time2str(spent),
        time2str(left),
        max5(speed),
    )
}

const METER_HEAD: &str = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n";

/// Lines of a header block, each with the prefix (`< `/`> `) and curl's
/// own line ends kept.
fn traced(prefix: &str, block: &[u8]) -> String {
    let text = String::from_utf8_lossy(block);
    let mut s = String::new();
    for l in text.split_inclusive('\n') {
        s.push_str(prefix);
        s.push_str(l);
    }
    s
}

/// Everything curl prints for `inv` after `out`; `tty` when its stdout is
/// the terminal.
pub fn print(inv: &Invocation, url: &Url, out: &Outcome, tty: bool) -> Printed {
    let mut p = Printed::default();
    let err = |p: &mut Printed, s: String| p.chunks.push((true, s));
    let ms = out.elapsed_us / 1000;
    let split = split_response(&out.response);
    let head = split.map(|(h, _)| String::from_utf8_lossy(h).into_owned());
    let body: &[u8] = split.map_or(&[], |(_, b)| b);
    let to_file = inv.output.clone().or_else(|| {
        inv.remote_name
            .then(|| url.path.rsplit('/').next().unwrap_or("").to_string())
    });
    let body_to_terminal = tty && to_file.is_none();
    let meter = !inv.silent && !inv.no_progress_meter && !body_to_terminal;
    if inv.remote_name && to_file.as_deref() == Some("") {
        if !inv.silent {
            err(&mut p, "curl: Remote file name has no length!\n".into());
        }
        if inv.shows_errors() {
            err(
                &mut p,
                "curl: (23) Failed writing received data to disk/application\n".into(),
            );
        }
        p.status = 23;
        return p;
    }
    if meter {
        err(&mut p, METER_HEAD.into());
    }
    let zero = meter_line(None, 0, 0);
    if inv.verbose {
        if meter {
            err(&mut p, zero.clone());
        }
        err(&mut p, format!("*   Trying {}:{}...\n", url.host, url.port));
        if let Some(lp) = inv.local_port {
            if out.local.is_some() || out.failure.is_some_and(|f| f.errno().is_some()) {
                let port = out.local.map_or(lp.first, |l| l.port());
                err(&mut p, format!("* Local port: {port}\n"));
            }
        }
        if out.connected_us.is_some() {
            err(
                &mut p,
                format!(
                    "* Connected to {} ({}) port {} (#0)\n",
                    url.host, out.remote_ip, url.port
                ),
            );
            err(&mut p, traced("> ", &out.request));
        }
        if let Some(h) = &head {
            err(&mut p, traced("< ", h.as_bytes()));
        }
    }
    let code = head.as_deref().map_or(0, status_code);
    let failed_http = matches!(out.failure, Some(Failure::HttpError(_)));
    // Headers to stdout for -i/-I; then the body, unless -f stopped it.
    let mut stdout_data: Vec<u8> = Vec::new();
    if let Some(h) = &head {
        if inv.include || inv.head {
            stdout_data.extend_from_slice(h.as_bytes());
        }
    }
    if !inv.head
        && !failed_http
        && out
            .failure
            .is_none_or(|f| matches!(f, Failure::MaxTime { .. } | Failure::MaxFilesize))
    {
        stdout_data.extend_from_slice(body);
    }
    let mut file = None;
    if !stdout_data.is_empty() || (to_file.is_some() && out.connected_us.is_some() && !failed_http)
    {
        match &to_file {
            Some(path) => file = Some((path.clone(), stdout_data.clone())),
            None => {
                if inv.verbose && !tty && !body.is_empty() && !inv.head {
                    err(&mut p, format!("{{ [{} bytes data]\n", body.len()));
                }
                p.chunks
                    .push((false, String::from_utf8_lossy(&stdout_data).into_owned()));
            }
        }
        if to_file.is_some() && inv.verbose && !body.is_empty() && !inv.head {
            err(&mut p, format!("{{ [{} bytes data]\n", body.len()));
        }
    }
    let total = head
        .as_deref()
        .and_then(|h| header(h, "content-length"))
        .and_then(|v| v.parse().ok());
    if meter {
        let received = if inv.head || failed_http {
            0
        } else {
            body.len() as u64
        };
        err(
            &mut p,
            format!("{}\n", meter_line(total, received, out.elapsed_us)),
        );
    }
    let msg = out.failure.map(|f| f.message(url, ms));
    if inv.verbose {
        if let Some(f) = out.failure {
            if let Some(e) = f.errno() {
                err(
                    &mut p,
                    format!(
                        "* connect to {} port {} failed: {e}\n",
                        out.remote_ip, url.port
                    ),
                );
            }
            err(&mut p, format!("* {}\n", msg.clone().unwrap_or_default()));
        }
        err(&mut p, "* Closing connection 0\n".into());
    }
    let status = out.failure.map_or(0, Failure::code);
    p.status = status;
    if let (Some(m), true) = (&msg, inv.shows_errors()) {
        err(&mut p, format!("curl: ({status}) {m}\n"));
    }
    if let Some(fmt) = &inv.write_out {
        let t = Transfer {
            url: inv.url.clone(),
            url_effective: format!(
                "{}://{}{}{}",
                if url.telnet { "telnet" } else { "http" },
                url.host,
                if url.port == 80 && !url.telnet {
                    String::new()
                } else {
                    format!(":{}", url.port)
                },
                if url.telnet { "" } else { url.path.as_str() }
            ),
            exitcode: p.status,
            errormsg: msg.unwrap_or_default(),
            response_code: code,
            content_type: head
                .as_deref()
                .and_then(|h| header(h, "content-type"))
                .map(str::to_string),
            method: if inv.head { "HEAD" } else { "GET" },
            remote: out.connected_us.map(|_| (out.remote_ip.clone(), url.port)),
            local: out.local.map(|l| (l.ip().to_string(), l.port())),
            size_download: if inv.head { 0 } else { body.len() as u64 },
            size_header: head.as_ref().map_or(0, |h| h.len() as u64),
            size_request: out.request.len() as u64,
            num_headers: head.as_deref().map_or(0, |h| {
                h.lines().skip(1).filter(|l| !l.trim().is_empty()).count() as u64
            }),
            filename_effective: to_file.clone(),
            time_connect_us: out.connected_us.unwrap_or(0),
            time_starttransfer_us: out.first_byte_us.unwrap_or(0),
            time_total_us: out.elapsed_us,
        };
        let (chunks, nm) = write_out(fmt, &t);
        p.chunks.extend(chunks);
        p.not_modelled = nm;
    }
    p.file = file;
    p
}
