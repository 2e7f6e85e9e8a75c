//! The shell's `curl`: the command line parsed as curl 7.88.1 parses it
//! (`tools::curl`), the transfer run by the lab's client (`apps::curl`),
//! and what curl prints once it ends (`tools::curl::output`), with `-o`
//! written to the host's files.

use super::session::Render;
use super::{fs, Io, Lab};
use crate::apps::curl::{CurlApp, CurlPrint};
use crate::apps::AppKind;
use crate::net::ipv4::fib::RouteType;
use crate::tools::curl::{self as grammar, output, Invocation, Url};
use crate::tools::libc::inet_aton;
use std::net::{Ipv4Addr, SocketAddrV4};

fn not_modelled(what: &str, io: &mut Io) {
    io.errln(format!("lvslab: {what} is not modelled in this lab"));
    io.hint = Some((
        format!("The lab's curl models plain HTTP to an IPv4 address with -s, -S, -f, -v, -i, -I, -o, -O, -w, -m, --connect-timeout, --max-filesize, --local-port, --interface, -A and -H; {what} is a real curl option the lab does not reproduce."),
        format!("实验里的 curl 只模拟对 IPv4 地址的 HTTP 请求（-s、-S、-f、-v、-i、-I、-o、-O、-w、-m、--connect-timeout、--max-filesize、--local-port、--interface、-A、-H）；{what} 是真实 curl 的选项，本实验未模拟。"),
    ));
    io.status = 2;
}

/// The request curl 7.88.1 sends: its three headers, each `-A`/`-H`
/// replacing one of them in place, `Name:` dropping it, others appended.
fn request(inv: &Invocation, url: &Url) -> Vec<u8> {
    let host = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), host),
        (
            "User-Agent".into(),
            inv.user_agent
                .clone()
                .unwrap_or_else(|| "curl/7.88.1".into()),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if inv.user_agent.as_deref() == Some("") {
        headers.retain(|h| h.0 != "User-Agent");
    }
    for h in &inv.headers {
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let value = value.trim_start().to_string();
        match headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) if value.is_empty() => {
                headers.remove(i);
            }
            Some(i) => headers[i] = (name.to_string(), value),
            None if value.is_empty() => {}
            None => headers.push((name.to_string(), value)),
        }
    }
    let method = if inv.head { "HEAD" } else { "GET" };
    let mut r = format!("{method} {} HTTP/1.1\r\n", url.path);
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

pub fn curl(lab: &mut Lab, host: &str, args: &[String], background: bool, tty: bool, io: &mut Io) {
    let inv = match grammar::parse(args) {
        Ok(inv) => inv,
        Err(e) => {
            io.err(e.to_string());
            io.status = 2;
            return;
        }
    };
    if inv.help {
        if inv.more_urls > 0 || !inv.url.is_empty() {
            return not_modelled("curl --help CATEGORY", io);
        }
        io.out(grammar::HELP);
        return;
    }
    if let Some(opt) = inv.not_modelled.first() {
        return not_modelled(&format!("curl {opt}"), io);
    }
    if inv.more_urls > 0 {
        return not_modelled("curl with more than one URL", io);
    }
    let mut url = match grammar::parse_url(&inv.url) {
        Ok(u) => u,
        Err(e) => {
            if inv.shows_errors() {
                io.errln(e.to_string());
            }
            io.status = e.status();
            return;
        }
    };
    // The URL parser reads IPv4 numbers as inet_aton does (127.1).
    let Some(ip) = inet_aton(&url.host).filter(|_| !url.host.ends_with('.')) else {
        if inv.shows_errors() {
            io.errln(format!("curl: (6) Could not resolve host: {}", url.host));
        }
        io.status = 6;
        return;
    };
    url.host = ip.to_string();
    let dst = SocketAddrV4::new(ip, url.port);
    let h = lab.world.host(host).expect("host checked by the shell");
    // curl's bindlocal(): a device name is SO_BINDTODEVICE and nothing
    // more ("return immediately": --local-port is not bound, the kernel
    // picks the source); an address is bind() to it, which fails with
    // EADDRNOTAVAIL unless it is local.
    let mut local_port = inv.local_port.map(|p| p.first);
    let src = match inv.interface.as_deref() {
        Some(name) => {
            let bind_err = |io: &mut Io, msg: String| {
                if inv.shows_errors() {
                    io.errln(msg);
                }
                io.status = 45;
            };
            if let Some(d) = h.device_by_name(name) {
                local_port = None;
                match h.route_output(ip, Some(d.ifindex), None) {
                    Ok(r) => r.src,
                    Err(_) => Ipv4Addr::UNSPECIFIED,
                }
            } else if let Ok(a) = name.parse::<Ipv4Addr>() {
                if h.addr_type(a) != RouteType::Local {
                    return bind_err(
                        io,
                        "curl: (45) bind failed with errno 99: Cannot assign requested address"
                            .into(),
                    );
                }
                a
            } else {
                return bind_err(io, format!("curl: (45) Couldn't bind to '{name}'"));
            }
        }
        None => match h.route_output(ip, None, None) {
            Ok(rt) => rt.src,
            // connect() fails at once (ENETUNREACH): curl reports it as
            // any failed connect.
            Err(_) => Ipv4Addr::UNSPECIFIED,
        },
    };
    let now = lab.world.now;
    let mut app = CurlApp::new(host, "curl", dst, src, now);
    app.host_header = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    app.path = url.path.clone();
    app.local_port = local_port;
    app.silent = inv.silent;
    app.max_time_s = inv.max_time;
    app.connect_timeout_s = inv.connect_timeout;
    app.max_filesize = inv.max_filesize;
    app.fail = inv.fail;
    // curl telnet:// sends its stdin and prints what comes back: with
    // nothing to send, it just holds the connection open (until -m).
    app.hold = url.telnet;
    app.custom_request = Some(request(&inv, &url));
    if src.is_unspecified() {
        let mut io2 = Io::default();
        let p = output::print(
            &inv,
            &url,
            &output::Outcome {
                failure: Some(output::Failure::Unreachable),
                remote_ip: url.host.clone(),
                ..Default::default()
            },
            tty,
        );
        emit(lab, host, &inv, p, &mut io2);
        io.chunks.extend(io2.chunks);
        io.status = io2.status;
        return;
    }
    app.print = Some(Box::new(CurlPrint { inv, url, tty }));
    let id = lab.world.spawn(AppKind::Curl(app));
    if background {
        return;
    }
    if lab.wait_fg(host, id, Render::Curl) {
        lab.render_fg(id, Render::Curl, None, io);
    }
}

/// Write what a finished curl printed, and its `-o` file.
pub(super) fn emit(lab: &mut Lab, host: &str, inv: &Invocation, p: output::Printed, io: &mut Io) {
    let mut status = p.status;
    let mut chunks = p.chunks;
    if let Some((path, body)) = p.file {
        let data = String::from_utf8_lossy(&body).into_owned();
        if let Err(e) = fs::write_file(lab, host, &path, &data, false) {
            // The file could not be created: a warning (unless -s), then
            // error 23 instead of the transfer's own result.
            let why = match e {
                fs::WriteError::Shell(m) | fs::WriteError::Echo(m) => {
                    m.rsplit(": ").next().unwrap_or("").to_string()
                }
            };
            status = 23;
            chunks.retain(|c| !c.1.starts_with("curl: ("));
            if !inv.silent {
                chunks.push((
                    true,
                    format!("Warning: Failed to open the file {path}: {why}\n"),
                ));
            }
            if inv.shows_errors() {
                chunks.push((
                    true,
                    "curl: (23) Failure writing output to destination\n".into(),
                ));
            }
        }
    }
    io.chunks.extend(chunks);
    if let Some(what) = p.not_modelled {
        not_modelled(&what, io);
    }
    io.status = status;
}

/// A curl program that ended by itself: print it.
pub(super) fn finished(lab: &mut Lab, c: &CurlApp, io: &mut Io) -> bool {
    let Some(pr) = &c.print else {
        return false;
    };
    let p = output::print(&pr.inv, &pr.url, &c.outcome, pr.tty);
    let host = c.host.clone();
    emit(lab, &host, &pr.inv, p, io);
    true
}

#[cfg(test)]
mod tests {
    //! What curl prints on a terminal, read off the real curl 7.88.1 under
    //! a pty (`script -qc "curl …"`) against a server that answers with the
    //! lab's Apache headers; the host and the timing columns are the lab's.
    use super::super::Lab;

    fn lab() -> Lab {
        let mut lab = Lab::new(crate::sim::scenario::bare());
        lab.run(
            "node02",
            "service httpd start; echo '<h1>from 192.168.150.12</h1>' > /var/www/html/index.html",
        );
        lab
    }

    const HEAD: &str = "HTTP/1.1 200 OK\r\nDate: Fri, 12 Mar 2021 09:00:00 GMT\r\nServer: Apache/2.4.6 (CentOS)\r\nContent-Length: 29\r\nConnection: close\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n";

    #[test]
    fn verbose_on_a_terminal() {
        let mut lab = lab();
        let o = lab.run("client", "curl -v http://192.168.150.12/");
        let resp: String = HEAD
            .split_inclusive('\n')
            .map(|l| format!("< {l}"))
            .collect();
        assert_eq!(
            o.text,
            format!(
                "*   Trying 192.168.150.12:80...\n* Connected to 192.168.150.12 (192.168.150.12) port 80 (#0)\n\
                 > GET / HTTP/1.1\r\n> Host: 192.168.150.12\r\n> User-Agent: curl/7.88.1\r\n> Accept: */*\r\n> \r\n\
                 {resp}<h1>from 192.168.150.12</h1>\n* Closing connection 0\n"
            )
        );
        let o = lab.run("client", "curl -sv http://192.168.150.13/");
        assert_eq!(
            o.text,
            "*   Trying 192.168.150.13:80...\n* connect to 192.168.150.13 port 80 failed: Connection refused\n\
             * Failed to connect to 192.168.150.13 port 80 after 0 ms: Couldn't connect to server\n* Closing connection 0\n"
        );
    }

    #[test]
    fn headers_and_the_meter() {
        let mut lab = lab();
        assert_eq!(
            lab.run("client", "curl -I http://192.168.150.12/").text,
            HEAD
        );
        assert_eq!(
            lab.run("client", "curl -i 192.168.150.12").text,
            format!("{HEAD}<h1>from 192.168.150.12</h1>\n")
        );
        // The body goes to a file: the meter, as the terminal shows it once
        // its \r redraws are done.
        let o = lab.run("client", "curl -o /tmp/page http://192.168.150.12/");
        let lines: Vec<&str> = o.text.lines().collect();
        assert_eq!(
            lines[0],
            "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current"
        );
        assert_eq!(
            lines[1],
            "                                 Dload  Upload   Total   Spent    Left  Speed"
        );
        assert!(
            lines[2].starts_with("100    29  100    29    0     0 "),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains(" --:--:-- --:--:-- --:--:-- "),
            "{}",
            lines[2]
        );
        assert_eq!(
            lab.run("client", "cat /tmp/page").text,
            "<h1>from 192.168.150.12</h1>\n"
        );
        // -f on a terminal: no meter, the error only.
        let o = lab.run("client", "curl -f http://192.168.150.12/nope; echo $?");
        assert_eq!(
            o.text,
            "curl: (22) The requested URL returned error: 404\n22\n"
        );
        // Errors go to stderr.
        assert_eq!(
            lab.run("client", "curl http://192.168.150.13/ 2>/dev/null; echo $?")
                .text,
            "7\n"
        );
    }

    #[test]
    fn what_is_not_modelled_says_so() {
        let mut lab = lab();
        let o = lab.run("client", "curl -x proxy:3128 http://192.168.150.12/");
        assert_eq!(
            o.text,
            "lvslab: curl -x/--proxy is not modelled in this lab\n"
        );
        assert!(o.hint.is_some());
        let o = lab.run("client", "curl -s -w '%{json}' http://192.168.150.12/");
        assert!(
            o.text
                .ends_with("lvslab: curl -w %{json} is not modelled in this lab\n"),
            "{}",
            o.text
        );
        assert!(lab
            .run("client", "curl --help")
            .text
            .starts_with("Usage: curl [options...] <url>\n"));
    }
}
