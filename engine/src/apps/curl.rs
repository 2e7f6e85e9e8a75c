//! TCP client programs: `curl` (7.88-style messages), `wget -qO-`, and
//! `nc` kept open in the background.
//!
//! A client connects, sends its request once established, collects the
//! response, and closes (FIN; RST when it aborts with unread data, as Linux
//! does on close()). `-m` bounds the whole transfer; `--max-filesize` aborts
//! when the announced Content-Length is larger.

use crate::apps::{App, AppKind};
use crate::net::ipv4::tcp::io::ConnError;
use crate::net::ipv4::tcp::{Owner, TcpState};
use crate::sim::world::{Pending, World};
use crate::time::SimTime;
use std::net::{Ipv4Addr, SocketAddrV4};

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
}

impl CurlApp {
    fn request(&self) -> Vec<u8> {
        match self.program.as_str() {
            "wget" => format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n",
                self.path, self.host_header
            ),
            _ => format!("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", self.path, self.host_header),
        }
        .into_bytes()
    }

    fn elapsed_ms(&self, now: SimTime) -> u64 {
        (now.0 - self.start.0) / 1000
    }
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
                        app.text.push_str(
                            "curl: (45) bind failed with errno 98: Address already in use\n",
                        );
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
            let sid = self.tcp_connect(&c.host, SocketAddrV4::new(c.src, port), c.dst, owner);
            c.sock = Some(sid);
            if let Some(t) = c.max_time_s {
                self.schedule(now.plus((t * 1e6) as u64), Pending::AppTimer { app: id });
            }
            return app;
        }
        // The -m deadline.
        if !app.done {
            let elapsed = c.elapsed_ms(now);
            let host = c.host.clone();
            if let Some(s) = c.sock {
                self.close_on_exit(&host, s);
            }
            if !c.silent {
                let msg = if c.sent {
                    format!(
                        "curl: (28) Operation timed out after {elapsed} milliseconds with {} bytes received\n",
                        c.response.len()
                    )
                } else {
                    format!("curl: (28) Connection timed out after {elapsed} milliseconds\n")
                };
                app.text.push_str(&msg);
            }
            app.status = 28;
            app.done = true;
        }
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
        if !c.sent && s.state == TcpState::Established {
            c.sent = true;
            let req = c.request();
            self.tcp_send(&host, sock, req);
            return;
        }
        if let Some((hdr_end, len)) = parse_response(&[c.response.as_slice(), &s.rx].concat()) {
            if let (Some(max), Some(l)) = (c.max_filesize, len) {
                if l > max {
                    // Abort with the response unread: close() sends RST.
                    self.tcp_close(&host, sock);
                    if !c.silent {
                        app.text.push_str("curl: (63) Maximum file size exceeded\n");
                    }
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
                app.text
                    .push_str(&String::from_utf8_lossy(&c.response[hdr_end..]));
                self.tcp_close(&host, sock);
                app.status = 0;
                app.done = true;
            }
        } else if s.fin_rcvd {
            let data = self.tcp_read(&host, sock);
            c.response.extend_from_slice(&data);
            self.tcp_close(&host, sock);
            if !c.silent {
                app.text.push_str("curl: (52) Empty reply from server\n");
            }
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
            let ms = c.elapsed_ms(now);
            let (code, msg) = match err {
                ConnError::Refused => (7, format!("curl: (7) Failed to connect to {} port {} after {ms} ms: Couldn't connect to server", c.dst.ip(), c.dst.port())),
                ConnError::TimedOut => (28, format!("curl: (28) Failed to connect to {} port {} after {ms} ms: Couldn't connect to server", c.dst.ip(), c.dst.port())),
                ConnError::Reset => (56, "curl: (56) Recv failure: Connection reset by peer".to_string()),
                ConnError::Unreachable => (7, format!("curl: (7) Failed to connect to {} port {} after {ms} ms: Couldn't connect to server", c.dst.ip(), c.dst.port())),
            };
            if !c.silent && !c.hold {
                app.text.push_str(&msg);
                app.text.push('\n');
            }
            app.status = code;
            app.done = true;
        }
    }
}
