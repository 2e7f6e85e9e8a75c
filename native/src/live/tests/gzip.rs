//! Compressed answers: the services table and the event stream for clients
//! that take gzip, compressed once per reading.

use super::*;
use std::io::Read;

/// `GET path` with `Accept-Encoding: gzip`; the raw (dechunked) body and
/// the headers. Reads until the server closes (or `stop` ends it).
async fn get_raw(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
    let mut body = &raw[at + 4..];
    if !headers.contains("transfer-encoding: chunked") {
        return (headers, body.to_vec());
    }
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let len = std::str::from_utf8(&body[..eol]).unwrap().trim();
        let n = usize::from_str_radix(len, 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + n]);
        body = &body[eol + 2 + n + 2..];
    }
    (headers, out)
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("a whole, checked gzip member");
    out
}

#[tokio::test]
async fn services_are_sent_compressed_to_a_client_that_takes_gzip() {
    let srv = serve("seed", false, false).await;
    // The first ask turns compression on; readings from then on have it.
    let (h, _) = get_raw(srv.addr, "/api/live/services").await;
    assert!(h.contains("vary: accept-encoding"), "{h}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (h, body) = get_raw(srv.addr, "/api/live/services").await;
    assert!(h.contains("content-encoding: gzip"), "{h}");
    let v: serde_json::Value = serde_json::from_slice(&gunzip(&body)).unwrap();
    assert_eq!(v["services"][0]["key"], "TCP  192.168.150.100:80");
    // Without the header, the same answer plain.
    let r = get(srv.addr, "/api/live/services").await;
    assert!(!r.headers.to_ascii_lowercase().contains("content-encoding"));
    assert_eq!(r.json()["services"][0]["key"], "TCP  192.168.150.100:80");
    let _ = srv.stop.send(true);
}

#[tokio::test]
async fn an_event_stream_is_one_gzip_member_closed_at_shutdown() {
    let srv = serve("seed", false, false).await;
    let addr = srv.addr;
    let reader = tokio::spawn(async move { get_raw(addr, "/api/live/events").await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _ = srv.stop.send(true);
    let (h, body) = reader.await.unwrap();
    assert!(h.contains("content-encoding: gzip"), "{h}");
    assert!(h.contains("text/event-stream"), "{h}");
    let text = String::from_utf8(gunzip(&body)).unwrap();
    let frames: Vec<&str> = text
        .split("\n\n")
        .filter(|f| f.starts_with("event: snapshot"))
        .collect();
    assert!(frames.len() >= 3, "{text}");
    let mut seqs = Vec::new();
    for f in frames {
        let data = f.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            v["services"]["services"][0]["key"],
            "TCP  192.168.150.100:80"
        );
        seqs.push(v["seq"].as_u64().unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    srv.done.await.unwrap();
}
