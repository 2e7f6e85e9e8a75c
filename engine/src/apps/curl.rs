//! TCP client programs: `curl` 7.88.1, `wget -qO-`, and `nc` kept open in
//! the background.
//!
//! A client connects, sends its request once established, collects the
//! response, and closes (FIN; RST when it aborts with unread data, as Linux
//! does on close()). `-m` bounds the whole transfer and `--connect-timeout`
//! the connect; `--max-filesize` aborts when the announced Content-Length
//! is larger; `-f` aborts on a status of 400 or more. What curl prints is
//! not decided here: the program records how the transfer went (an
//! [`Outcome`]) and `tools::curl::output` prints it as curl does.

use crate::apps::{App, AppKind};
use crate::net::ipv4::tcp::io::ConnError;
use crate::net::ipv4::tcp::{Owner, TcpState};
use crate::sim::world::{Pending, World};
use crate::time::SimTime;
use crate::tools::curl::output::{Failure, Outcome};
use crate::tools::curl::{Invocation, Url};
use std::net::{Ipv4Addr, SocketAddrV4};

/// How curl's output is printed once it ends: the command line, its URL,
/// and whether its stdout is the terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct CurlPrint {
    pub inv: Invocation,
    pub url: Url,
    pub tty: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurlApp {
    pub host: String,
    pub program: String,
    pub dst: SocketAddrV4,
    pub host_header: String,
    pub path: String,
    pub src: Ipv4Addr,
    pub local_port: Option<u16>,
    pub silent: bool,
    pub max_time_s: Option<f64>,
    pub max_filesize: Option<u64>,
    pub start: SimTime,
    pub sock: Option<u32>,
    pub sent: bool,
    pub response: Vec<u8>,
    /// Keep the connection open and send nothing (nc in the background).
    pub hold: bool,
    pub exit: i32,
    /// `--connect-timeout`, seconds.
    pub connect_timeout_s: Option<f64>,
    /// `-f`: a status of 400 or more ends the transfer.
    pub fail: bool,
    /// The request curl sends, when the command line shaped it.
    pub custom_request: Option<Vec<u8>>,
    /// curl: how to print the result (None for wget and nc).
    pub print: Option<Box<CurlPrint>>,
    /// What the network side saw.
    pub outcome: Box<Outcome>,
}

impl CurlApp {
    /// A client of `program` on `host` to `dst` from `src`, started `now`,
    /// with every option at its default.
    pub fn new(
        host: &str,
        program: &str,
        dst: SocketAddrV4,
        src: Ipv4Addr,
        now: SimTime,
    ) -> CurlApp {
        CurlApp {
            host: host.to_string(),
            program: program.to_string(),
            dst,
            host_header: dst.ip().to_string(),
            path: "/".into(),
            src,
            local_port: None,
            silent: false,
            max_time_s: None,
            max_filesize: None,
            start: now,
            sock: None,
            sent: false,
            response: vec![],
            hold: false,
            exit: 0,
            connect_timeout_s: None,
            fail: false,
            custom_request: None,
            print: None,
            outcome: Box::default(),
        }
    }

    /// The transfer ended (`failure` None: complete) `since` µs after it
    /// started.
    fn finish(&mut self, failure: Option<Failure>, since: u64) {
        self.outcome.failure = failure;
        self.outcome.response = self.response.clone();
        self.outcome.elapsed_us = since;
    }

    fn request(&self) -> Vec<u8> {
        if let Some(r) = &self.custom_request {
            return r.clone();
        }
        match self.program.as_str() {
            "wget" => format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n",
                self.path, self.host_header
            ),
            _ => format!("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", self.path, self.host_header),
        }
        .into_bytes()
    }
}

/// Seconds (a command line's timeout) as microseconds, bounded.
fn secs_us(t: f64) -> u64 {
    (t * 1e6).clamp(0.0, u64::MAX as f64 / 4.0) as u64
}

/// Split an HTTP response into (headers complete?, body so far, content length).
fn parse_response(r: &[u8]) -> Option<(usize, Option<u64>)> {
    let end = r.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&r[..end]);
    let len = head.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
    });
    Some((end, len))
}

impl World {
    pub(crate) fn curl_timer(&mut self, id: u32, mut app: App) -> App {
        let now = self.now;
        let AppKind::Curl(c) = &mut app.kind else {
            return app;
        };
        if c.sock.is_none() && c.exit == 0 && !app.done {
            // First tick: connect.
            let h = self
                .hosts
                .get_mut(&c.host)
                .expect("host checked by the shell");
            let port = match c.local_port {
                Some(p) => p,
                None => match h.tcp.ephemeral_port(c.src, c.dst) {
                    Some(p) => p,
                    None => {
                        c.outcome.failure = Some(Failure::BindInUse);
                        c.outcome.elapsed_us = 0;
                        app.status = 45;
                        app.done = true;
                        return app;
                    }
                },
            };
            let pid = h.tcp.alloc_pid();
            let owner = Owner {
                pid,
                program: c.program.clone(),
            };
            c.outcome.remote_ip = c.dst.ip().to_string();
            c.outcome.request = c.request();
            let sid = self.tcp_connect(&c.host, SocketAddrV4::new(c.src, port), c.dst, owner);
            c.sock = Some(sid);
            // One timer: the earlier of the two deadlines (curl's
            // Curl_timeleft); the later one is set when the first passes.
            for t in [c.max_time_s, c.connect_timeout_s].into_iter().flatten() {
                self.schedule(now.plus(secs_us(t)), Pending::AppTimer { app: id });
            }
            return app;
        }
        if app.done {
            return app;
        }
        let elapsed_us = now.0 - c.start.0;
        let connecting = c.sock.is_some_and(|s| {
            self.hosts
                .get(&c.host)
                .and_then(|h| h.tcp.get(s))
                .is_none_or(|s| s.state == TcpState::SynSent)
        });
        let max_due = c.max_time_s.is_some_and(|t| elapsed_us >= secs_us(t));
        let connect_due = connecting
            && c.connect_timeout_s
                .is_some_and(|t| elapsed_us >= secs_us(t));
        if !max_due && !connect_due {
            // The connect deadline passed after connecting: nothing to do.
            return app;
        }
        let host = c.host.clone();
        if let Some(s) = c.sock {
            self.close_on_exit(&host, s);
        }
        // Which deadline: the earlier one, the connect one on a tie
        // (curl checks the connect timeout while connecting).
        let failure = if connect_due
            && c.connect_timeout_s.unwrap_or(f64::MAX) <= c.max_time_s.unwrap_or(f64::MAX)
        {
            Failure::ConnectTimeout
        } else if connecting || !c.sent {
            Failure::MaxTimeConnecting
        } else {
            Failure::MaxTime {
                received: c.response.len() as u64,
            }
        };
        c.outcome.failure = Some(failure);
        c.outcome.elapsed_us = elapsed_us;
        app.status = 28;
        app.done = true;
        app
    }

    /// A client program ends with its socket `sock` open (the `-m`
    /// deadline, a signal): the kernel closes it as on any exit — a
    /// connection still in SYN_SENT just goes away, an open one gets FIN
    /// (RST with unread data: `tcp_close`).
    pub(crate) fn close_on_exit(&mut self, host: &str, sock: u32) {
        let state = self
            .hosts
            .get(host)
            .and_then(|h| h.tcp.get(sock))
            .map(|s| s.state);
        match state {
            Some(TcpState::SynSent) | None => self.tcp_abort(host, sock),
            _ => self.tcp_close(host, sock),
        }
    }

    /// A socket owned by a client program changed.
    pub(crate) fn apps_tcp_event(&mut self, host: &str, sock: u32) {
        let ids: Vec<u32> = self
            .apps
            .iter()
            .filter(|(_, a)| {
                !a.done
                    && matches!(&a.kind, AppKind::Curl(c) if c.host == host && c.sock == Some(sock))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(mut app) = self.apps.remove(&id) else {
                continue;
            };
            self.curl_progress(&mut app, sock);
            self.apps.insert(id, app);
        }
    }

    fn curl_progress(&mut self, app: &mut App, sock: u32) {
        let AppKind::Curl(c) = &mut app.kind else {
            return;
        };
        let host = c.host.clone();
        let Some(s) = self.hosts.get(&host).and_then(|h| h.tcp.get(sock)).cloned() else {
            return;
        };
        if c.hold {
            // nc -v reports the connection on stderr once it is up.
            if !c.sent && s.state == TcpState::Established {
                c.sent = true;
                c.outcome.connected_us = Some(self.now.0 - c.start.0);
                c.outcome.local = Some(SocketAddrV4::new(c.src, s.local.port()));
                if c.program == "nc" && !c.silent {
                    let port = c.dst.port();
                    let svc = crate::tools::services::port_name(port).unwrap_or("*");
                    app.output.push(format!(
                        "Connection to {} {port} port [tcp/{svc}] succeeded!",
                        c.dst.ip()
                    ));
                }
            }
            return;
        }
        let now = self.now;
        let since = now.0 - c.start.0;
        if !c.sent && s.state == TcpState::Established {
            c.sent = true;
            c.outcome.connected_us = Some(since);
            c.outcome.local = Some(SocketAddrV4::new(c.src, s.local.port()));
            let req = c.request();
            self.tcp_send(&host, sock, req);
            return;
        }
        if c.outcome.first_byte_us.is_none() && !s.rx.is_empty() {
            c.outcome.first_byte_us = Some(since);
        }
        if let Some((hdr_end, len)) = parse_response(&[c.response.as_slice(), &s.rx].concat()) {
            let code = crate::tools::curl::output::split_response(
                &[c.response.as_slice(), &s.rx].concat(),
            )
            .map_or(0, |(h, _)| {
                String::from_utf8_lossy(h)
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u16>().ok())
                    .unwrap_or(0)
            });
            if c.fail && code >= 400 {
                // -f: the headers are read, the rest is left unread and
                // close() resets the connection.
                let data = self.tcp_read_upto(&host, sock, hdr_end - c.response.len().min(hdr_end));
                c.response.extend_from_slice(&data);
                self.tcp_close(&host, sock);
                c.finish(Some(Failure::HttpError(code)), since);
                app.status = 22;
                app.done = true;
                return;
            }
            if let (Some(max), Some(l)) = (c.max_filesize, len) {
                if l > max {
                    // Abort with the response unread: close() sends RST.
                    self.tcp_close(&host, sock);
                    c.finish(Some(Failure::MaxFilesize), since);
                    app.status = 63;
                    app.done = true;
                    return;
                }
            }
            let data = self.tcp_read(&host, sock);
            c.response.extend_from_slice(&data);
            let body_len = c.response.len() - hdr_end;
            let complete = len.map_or(s.fin_rcvd, |l| body_len as u64 >= l) || s.fin_rcvd;
            if complete {
                if c.print.is_none() {
                    app.text
                        .push_str(&String::from_utf8_lossy(&c.response[hdr_end..]));
                }
                self.tcp_close(&host, sock);
                c.finish(None, since);
                app.status = 0;
                app.done = true;
            }
        } else if s.fin_rcvd {
            let data = self.tcp_read(&host, sock);
            c.response.extend_from_slice(&data);
            self.tcp_close(&host, sock);
            c.finish(Some(Failure::EmptyReply), since);
            app.status = 52;
            app.done = true;
        }
    }

    /// A client's connection failed.
    pub(crate) fn apps_tcp_error(&mut self, host: &str, sock: u32, err: ConnError) {
        let now = self.now;
        for app in self.apps.values_mut() {
            let AppKind::Curl(c) = &mut app.kind else {
                continue;
            };
            if app.done || c.host != host || c.sock != Some(sock) {
                continue;
            }
            if c.program == "nc" {
                // OpenBSD netcat: `warn()` only with -v, then exit 1.
                if !c.silent {
                    let why = match err {
                        ConnError::Refused => "Connection refused",
                        ConnError::TimedOut => "Connection timed out",
                        ConnError::Reset => "Connection reset by peer",
                        ConnError::Unreachable => "No route to host",
                    };
                    app.text.push_str(&format!(
                        "nc: connect to {} port {} (tcp) failed: {why}\n",
                        c.dst.ip(),
                        c.dst.port()
                    ));
                }
                app.status = 1;
                app.done = true;
                continue;
            }
            let (failure, code) = match err {
                ConnError::Refused => (Failure::Refused, 7),
                ConnError::TimedOut => (Failure::SynTimedOut, 28),
                ConnError::Reset => (Failure::Reset, 56),
                ConnError::Unreachable => (Failure::Unreachable, 7),
            };
            c.outcome.failure = Some(failure);
            c.outcome.response = c.response.clone();
            c.outcome.elapsed_us = now.0 - c.start.0;
            app.status = code;
            app.done = true;
        }
    }
}
