//! `lvslab serve --live --live-sim seed` as a process, over loopback: it
//! stops within 5 s of SIGTERM even while a client holds a half-sent
//! request, a second signal ends it at once (and closes a gzip event
//! stream with its trailer), and a generated write token never reaches
//! standard output that is not a terminal.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Served {
    child: Child,
    addr: String,
    stdout: Vec<String>,
    /// Kept open: a closed pipe would fail the server's next print.
    _out: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

/// Start the binary with `args` and wait for its address.
fn start(args: &[&str], run_dir: &std::path::Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvslab"))
        .args([
            "serve",
            "--live",
            "--live-sim",
            "seed",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(args)
        .env("LVSLAB_RUN_DIR", run_dir)
        .env("LVSLAB_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let addr = loop {
        let l = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        stdout.push(l.clone());
        if let Some(rest) = l.strip_prefix("LVS Lab is served at http://") {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // The rest of the start-up lines (printed before it serves).
    if let Some(Ok(l)) = lines.next() {
        stdout.push(l);
    }
    Served {
        child,
        addr,
        stdout,
        _out: lines,
    }
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Wait for the process to exit, at most `within`; its exit code.
fn exits_within(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st.code().unwrap_or(-1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lvslab-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn get_status(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /api/live/status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn sigterm_with_a_half_sent_request_ends_within_5_s() {
    let dir = temp_dir("term");
    let mut srv = start(&[], &dir);
    let st = get_status(&srv.addr);
    assert!(st.starts_with("HTTP/1.1 200"), "{st}");
    let mut half = TcpStream::connect(&srv.addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let mut events = TcpStream::connect(&srv.addr).unwrap();
    write!(
        events,
        "GET /api/live/events HTTP/1.1\r\nHost: {}\r\n\r\n",
        srv.addr
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    signal(&srv.child, "-TERM");
    let code = exits_within(&mut srv.child, Duration::from_secs(5));
    assert_eq!(code, Some(0), "exit within 5 s, cleanly");
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_signal_exits_at_once() {
    let dir = temp_dir("twice");
    let mut srv = start(&[], &dir);
    // A request in progress (its body never ends) holds the graceful
    // shutdown for its grace period...
    let mut slow = TcpStream::connect(&srv.addr).unwrap();
    write!(
        slow,
        "POST /api/live/apply HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        srv.addr
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&srv.child, "-TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        srv.child.try_wait().unwrap().is_none(),
        "still in its grace"
    );
    // ...which a second signal cuts short.
    let started = Instant::now();
    signal(&srv.child, "-INT");
    let code = exits_within(&mut srv.child, Duration::from_secs(2));
    assert_eq!(code, Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generated_token_is_not_printed_to_a_pipe() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("token");
    let mut srv = start(&["--allow-apply"], &dir);
    let printed = srv.stdout.join("\n");
    let file = dir.join("token");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_eq!(token.len(), 64);
    assert!(!printed.contains(&token), "{printed}");
    assert!(printed.contains(&file.display().to_string()), "{printed}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dmode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dmode, 0o700);
    signal(&srv.child, "-TERM");
    assert_eq!(
        exits_within(&mut srv.child, Duration::from_secs(5)),
        Some(0)
    );
    // A token file others can read is refused at start-up.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lvslab"))
        .args([
            "serve",
            "--live",
            "--live-sim",
            "seed",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--allow-apply", "--token-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_closes_a_gzip_event_stream_with_its_trailer() {
    let dir = temp_dir("gzip");
    let mut srv = start(&[], &dir);
    let mut events = TcpStream::connect(&srv.addr).unwrap();
    write!(
        events,
        "GET /api/live/events HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
        srv.addr
    )
    .unwrap();
    // A few readings (one a second; the first after gzip was asked for).
    std::thread::sleep(Duration::from_millis(2500));
    signal(&srv.child, "-TERM");
    events
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut raw = Vec::new();
    events.read_to_end(&mut raw).unwrap();
    assert_eq!(
        exits_within(&mut srv.child, Duration::from_secs(5)),
        Some(0)
    );
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut chunks = &raw[at + 4..];
    let mut body = Vec::new();
    loop {
        let eol = chunks.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&chunks[..eol]).unwrap(), 16).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunks[eol + 2..eol + 2 + n]);
        chunks = &chunks[eol + 4 + n..];
    }
    // One whole gzip member (CRC and length checked by the decoder).
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("a whole gzip member");
    assert!(text.matches("event: snapshot").count() >= 1, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
