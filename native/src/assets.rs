//! The web app and static files, embedded at build time by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The asset served at `path` (`/` is `/index.html`).
#[cfg(test)]
pub fn get(path: &str) -> Option<&'static [u8]> {
    get_both(path).map(|(raw, _)| raw)
}

/// The asset at `path`, as is and gzip-compressed (done at build time).
pub fn get_both(path: &str) -> Option<(&'static [u8], &'static [u8])> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, raw, gz)| (*raw, *gz))
}

/// Content type by extension.
pub fn mime(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_is_embedded() {
        assert!(get("/").is_some_and(|b| b.starts_with(b"<!doctype html>")));
        let wasm = get("/pkg/lvslab_web_bg.wasm").expect("wasm embedded");
        assert_eq!(&wasm[..4], b"\0asm");
        assert!(get("/pkg/lvslab_web.js").is_some());
        assert_eq!(mime("/pkg/lvslab_web_bg.wasm"), "application/wasm");
        assert!(get("/nope").is_none());
        let (raw, gz) = get_both("/pkg/lvslab_web_bg.wasm").expect("wasm embedded");
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
        // ISIZE, the last 4 bytes of a gzip member: the uncompressed length.
        let n = gz.len();
        let isize = u32::from_le_bytes([gz[n - 4], gz[n - 3], gz[n - 2], gz[n - 1]]);
        assert_eq!(isize as usize, raw.len());
        assert!(gz.len() < raw.len() / 2);
    }
}
