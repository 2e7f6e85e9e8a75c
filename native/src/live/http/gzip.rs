//! gzip for the large answers, compressed once per reading and shared like
//! the plain bytes (RFC 1952 framing, deflate by `flate2`).
//!
//! A 10,000-service table is 8.5 MB of JSON a second per event stream; a
//! browser that sends `Accept-Encoding: gzip` gets it as a few hundred KB.
//! An event stream is one gzip member for the life of the connection: the
//! 10-byte header first, then each reading as deflate blocks compressed
//! *on their own* (a fresh compressor, so no block refers to an earlier
//! reading) and ended by a sync flush (an empty stored block: the client
//! can decode everything so far). The same compressed reading can thus
//! follow any earlier one on any stream. When the stream ends, an empty
//! final block and the trailer (CRC-32 and length of everything this
//! stream sent, combined from each reading's own CRC) close the member.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::Compression;
use std::io::Write;

/// Answers smaller than this are sent as they are.
pub const MIN_SIZE: usize = 1024;

/// A gzip member's header: deflate, no name, no time, unknown OS.
pub const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Does the request take `gzip` (RFC 9110 §12.5.3: a coding listed with
/// `q=0` is refused)?
pub fn accepted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("q")
                        && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                })
            });
            (coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip"))
                && !refused
        })
}

/// `data` as one whole gzip member.
pub fn member(data: &[u8]) -> Option<Bytes> {
    let mut e = GzEncoder::new(Vec::with_capacity(data.len() / 8), Compression::fast());
    e.write_all(data).ok()?;
    e.finish().ok().map(Bytes::from)
}

/// One reading of an event stream, compressed on its own.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Deflate blocks ending in a sync flush (never a final block).
    pub deflate: Bytes,
    crc: crc32fast::Hasher,
    len: u64,
}

impl Frame {
    pub fn of(data: &[u8]) -> Option<Frame> {
        let mut e = DeflateEncoder::new(Vec::with_capacity(data.len() / 8), Compression::fast());
        e.write_all(data).ok()?;
        // A sync flush, not `finish`: the stream goes on after it.
        e.flush().ok()?;
        let deflate = Bytes::from(std::mem::take(e.get_mut()));
        let mut crc = crc32fast::Hasher::new();
        crc.update(data);
        Some(Frame {
            deflate,
            crc,
            len: data.len() as u64,
        })
    }
}

/// What one stream has sent, for its trailer.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    crc: crc32fast::Hasher,
    len: u64,
}

impl Sent {
    pub fn add(&mut self, f: &Frame) {
        self.crc.combine(&f.crc);
        self.len += f.len;
    }

    /// An empty final block (fixed Huffman: BFINAL, BTYPE 01, end of
    /// block), then CRC-32 and length mod 2^32, little-endian.
    pub fn trailer(self) -> Bytes {
        let mut t = vec![0x03, 0x00];
        t.extend_from_slice(&self.crc.finalize().to_le_bytes());
        t.extend_from_slice(&(self.len as u32).to_le_bytes());
        Bytes::from(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn frames_make_one_member_in_any_order() {
        let a = br#"event: snapshot\ndata: {"services": [1, 2, 3]}\n\n"#.repeat(50);
        let b = br#"event: snapshot\ndata: {"services": [4]}\n\n"#.repeat(70);
        let (fa, fb) = (Frame::of(&a).unwrap(), Frame::of(&b).unwrap());
        let mut stream = HEADER.to_vec();
        let mut sent = Sent::default();
        let mut plain = Vec::new();
        for f in [&fb, &fa, &fb] {
            stream.extend_from_slice(&f.deflate);
            sent.add(f);
        }
        plain.extend_from_slice(&b);
        plain.extend_from_slice(&a);
        plain.extend_from_slice(&b);
        // Decodable as it goes (up to each sync flush) ...
        let mut partial = Vec::new();
        let mut d = flate2::Decompress::new(false);
        let body = HEADER.len()..HEADER.len() + fb.deflate.len();
        partial.reserve(b.len() + 64);
        d.decompress_vec(&stream[body], &mut partial, flate2::FlushDecompress::Sync)
            .unwrap();
        assert_eq!(partial, b);
        // ... and a whole, checked member once the trailer is there.
        stream.extend_from_slice(&sent.trailer());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&stream[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, plain);
        let mut whole = Vec::new();
        flate2::read::GzDecoder::new(&member(&a).unwrap()[..])
            .read_to_end(&mut whole)
            .unwrap();
        assert_eq!(whole, a);
    }

    #[test]
    fn accept_encoding_is_read_as_rfc_9110_says() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            accepted(&m)
        };
        assert!(h("gzip"));
        assert!(h("gzip, deflate, br, zstd"));
        assert!(h("br;q=1.0, GZIP;q=0.5"));
        assert!(!h("gzip;q=0"));
        assert!(!h("deflate, br"));
        assert!(!h("identity"));
        assert!(!accepted(&HeaderMap::new()));
    }
}
