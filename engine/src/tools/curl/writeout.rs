//! `-w`/`--write-out` (curl 7.88.1 `src/tool_writeout.c`, `ourWriteOut()`):
//! `%{name}` variables, `%%`, and the escapes `\n`, `\r`, `\t`; any other
//! backslash pair and any other `%x` are written as they are. An unknown
//! variable is reported on stderr (`curl: unknown --write-out variable:
//! 'name'`) and the rest is still written. `%{stderr}`/`%{stdout}` switch
//! the stream. The lab models the variables an HTTP transfer over IPv4
//! has; `%{json}`, `%{header_json}`, `%{header{…}}` and `-w @file` are not
//! modelled and say so.

/// What a finished transfer left for `-w`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transfer {
    pub url: String,
    pub url_effective: String,
    pub exitcode: i32,
    pub errormsg: String,
    /// 0 when no response came.
    pub response_code: u16,
    pub content_type: Option<String>,
    pub method: &'static str,
    /// Set once connected.
    pub remote: Option<(String, u16)>,
    pub local: Option<(String, u16)>,
    pub size_download: u64,
    pub size_header: u64,
    pub size_request: u64,
    pub num_headers: u64,
    pub filename_effective: Option<String>,
    /// Microseconds from the start: connected, first response byte, end.
    pub time_connect_us: u64,
    pub time_starttransfer_us: u64,
    pub time_total_us: u64,
}

fn secs(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// One piece of output: `true` for stderr.
pub type Chunk = (bool, String);

impl Transfer {
    fn var(&self, name: &str) -> Option<String> {
        let connected = self.remote.is_some();
        let speed = |bytes: u64| {
            (bytes * 1_000_000)
                .checked_div(self.time_total_us)
                .unwrap_or(0)
                .to_string()
        };
        Some(match name {
            "url" => self.url.clone(),
            "url_effective" => self.url_effective.clone(),
            "urlnum" => "0".into(),
            "exitcode" => self.exitcode.to_string(),
            "errormsg" => self.errormsg.clone(),
            "http_code" | "response_code" => format!("{:03}", self.response_code),
            "http_connect" => "000".into(),
            "http_version" => if self.response_code == 0 { "0" } else { "1.1" }.into(),
            "content_type" => self.content_type.clone().unwrap_or_default(),
            "method" => self.method.into(),
            "scheme" => if connected { "HTTP" } else { "" }.into(),
            "remote_ip" => self
                .remote
                .as_ref()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            "remote_port" => self.remote.as_ref().map_or(0, |r| r.1).to_string(),
            "local_ip" => self.local.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
            "local_port" => self.local.as_ref().map_or(0, |r| r.1).to_string(),
            "num_connects" => u8::from(connected).to_string(),
            "num_headers" => self.num_headers.to_string(),
            "num_redirects"
            | "size_upload"
            | "speed_upload"
            | "ssl_verify_result"
            | "proxy_ssl_verify_result"
            | "num_certs" => "0".into(),
            "redirect_url" | "referer" | "ftp_entry_path" | "certs" => String::new(),
            "filename_effective" => self.filename_effective.clone().unwrap_or_default(),
            "size_download" => self.size_download.to_string(),
            "size_header" => self.size_header.to_string(),
            "size_request" => self.size_request.to_string(),
            "speed_download" => speed(self.size_download),
            "time_namelookup" | "time_appconnect" | "time_redirect" => secs(0),
            "time_connect" | "time_pretransfer" => secs(self.time_connect_us),
            "time_starttransfer" => secs(self.time_starttransfer_us),
            "time_total" => secs(self.time_total_us),
            _ => return None,
        })
    }
}

/// Variables curl knows that the lab does not model.
const NOT_MODELLED: &[&str] = &["json", "header_json", "onerror", "curl_version"];

/// Expand `fmt` for `t`: the chunks in the order a terminal shows them,
/// and whether the lab met a form it does not model (reported by the
/// caller). stdout is line-buffered on a terminal and stderr is not: a
/// message about an unknown variable comes before the part of the current
/// line written to stdout so far.
pub fn write_out(fmt: &str, t: &Transfer) -> (Vec<Chunk>, Option<String>) {
    let (chunks, nm) = expand(fmt, t);
    let mut shown: Vec<Chunk> = Vec::new();
    let mut pending = String::new();
    for (to_err, text) in chunks {
        if to_err {
            shown.push((true, text));
            continue;
        }
        pending.push_str(&text);
        if let Some(i) = pending.rfind('\n') {
            let rest = pending.split_off(i + 1);
            shown.push((false, std::mem::replace(&mut pending, rest)));
        }
    }
    if !pending.is_empty() {
        shown.push((false, pending));
    }
    (shown, nm)
}

fn expand(fmt: &str, t: &Transfer) -> (Vec<Chunk>, Option<String>) {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut to_err = false;
    let mut cur = String::new();
    if fmt.starts_with('@') {
        return (chunks, Some("curl -w @FILE".into()));
    }
    let flush = |chunks: &mut Vec<Chunk>, cur: &mut String, to_err: bool| {
        if !cur.is_empty() {
            chunks.push((to_err, std::mem::take(cur)));
        }
    };
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'%', Some(b'%')) => {
                cur.push('%');
                i += 2;
            }
            (b'%', Some(b'{')) => match fmt[i + 2..].find('}') {
                Some(end) => {
                    let name = &fmt[i + 2..i + 2 + end];
                    i += end + 3;
                    match name {
                        "stderr" | "stdout" => {
                            flush(&mut chunks, &mut cur, to_err);
                            to_err = name == "stderr";
                        }
                        _ => match t.var(name) {
                            Some(v) => cur.push_str(&v),
                            None if NOT_MODELLED.contains(&name) || name.starts_with("header{") => {
                                return (chunks, Some(format!("curl -w %{{{name}}}")));
                            }
                            None => {
                                flush(&mut chunks, &mut cur, to_err);
                                chunks.push((
                                    true,
                                    format!("curl: unknown --write-out variable: '{name}'\n"),
                                ));
                            }
                        },
                    }
                }
                None => {
                    cur.push_str("%{");
                    i += 2;
                }
            },
            (b'\\', Some(&c)) if c.is_ascii() => {
                match c {
                    b'n' => cur.push('\n'),
                    b'r' => cur.push('\r'),
                    b't' => cur.push('\t'),
                    _ => {
                        cur.push('\\');
                        cur.push(c as char);
                    }
                }
                i += 2;
            }
            _ => {
                let ch = fmt[i..].chars().next().unwrap_or('?');
                cur.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    flush(&mut chunks, &mut cur, to_err);
    (chunks, None)
}
