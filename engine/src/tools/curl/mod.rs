//! curl 7.88.1's command line (`src/tool_getparam.c`, `getparameter()`),
//! parsed once into an [`Invocation`] that the lab's client
//! (`apps::curl`) runs.
//!
//! curl matches a long option by its whole name or by any prefix that names
//! one option only (`--sil` is `--silent`, `--s` is ambiguous); `--no-NAME`
//! turns a boolean off and needs the whole name; short options cluster
//! (`-sSf`), and one that takes a parameter takes the rest of its word or
//! the next word (`-m3`, `-sm 3`; `-ms 3` gives `-m` the parameter `s`).
//! `--` ends the options. The first bad word stops the parse with curl's
//! own message (`param2text()`), exit status 2. The table of every option
//! curl 7.88.1 knows is `options.txt`, taken from the real tool.
//!
//! What the lab models: `-s`, `-S`, `-f`, `-v`, `-i`, `-I`, `-o`, `-O`,
//! `-w`, `-m`, `--connect-timeout`, `--max-filesize`, `--local-port`,
//! `--interface`, `-A`, `-H`, `-h`, `--no-progress-meter`, and, having no
//! effect on a plain-HTTP IPv4 request to Apache, `-L`, `-k`, `-4`, `-N`,
//! `-g`. Any other option of the real curl parses as the real one does
//! (its parameter is taken, its errors are the real ones) and then the lab
//! says it is not modelled rather than pretend. One URL per command.

pub mod output;
mod writeout;

pub use writeout::{write_out, Transfer};

use std::fmt;

/// What a long option takes (`ARG_NONE`, `ARG_BOOL`, `ARG_STRING` in
/// curl's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Bool,
    Arg,
}

struct Opt {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
}

fn table() -> impl Iterator<Item = Opt> {
    include_str!("options.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split(' ');
            let long = f.next()?;
            let short = f.next()?;
            let kind = match f.next()? {
                "arg" => Kind::Arg,
                "bool" => Kind::Bool,
                _ => Kind::None,
            };
            Some(Opt {
                long,
                short: (short != "-").then(|| short.chars().next()).flatten(),
                kind,
            })
        })
}

/// `param2text()`: why curl refused an option word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Ambiguous,
    Unknown,
    RequiresParameter,
    BadUse,
    BadNumeric,
    NegativeNumeric,
    TooLarge,
    NoNotBoolean,
    BlankString,
}

impl Refusal {
    fn text(&self) -> &'static str {
        match self {
            Refusal::Ambiguous => "is ambiguous",
            Refusal::Unknown => "is unknown",
            Refusal::RequiresParameter => "requires parameter",
            Refusal::BadUse => "is badly used here",
            Refusal::BadNumeric => "expected a proper numerical parameter",
            Refusal::NegativeNumeric => "expected a positive numerical parameter",
            Refusal::TooLarge => "too large number",
            Refusal::NoNotBoolean => "used '--no-' for option that isn't a boolean",
            Refusal::BlankString => "blank argument where content is expected",
        }
    }
}

/// A command line curl refuses before it connects (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// `curl: option WORD: …`; `warning` is a line curl printed first
    /// (unless `-s` came earlier).
    Option {
        word: String,
        why: Refusal,
        warning: Option<String>,
    },
    /// Options but no URL.
    NoUrl,
    /// No arguments at all.
    Nothing,
}

const TRY: &str = "curl: try 'curl --help' or 'curl --manual' for more information";

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::Option { word, why, warning } => {
                if let Some(w) = warning {
                    writeln!(f, "Warning: {w}")?;
                }
                writeln!(f, "curl: option {word}: {}", why.text())?;
            }
            ArgError::NoUrl => writeln!(f, "curl: no URL specified!")?,
            ArgError::Nothing => {}
        }
        writeln!(f, "{TRY}")
    }
}

/// `--local-port N[-M]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub count: u16,
}

/// A parsed curl command line: what the lab's client does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    pub url: String,
    pub silent: bool,
    pub show_error: bool,
    pub fail: bool,
    pub verbose: bool,
    pub include: bool,
    pub head: bool,
    pub output: Option<String>,
    pub remote_name: bool,
    pub write_out: Option<String>,
    pub max_time: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub max_filesize: Option<u64>,
    pub local_port: Option<PortRange>,
    pub interface: Option<String>,
    pub user_agent: Option<String>,
    pub headers: Vec<String>,
    pub no_progress_meter: bool,
    pub help: bool,
    /// Options the real curl takes that the lab does not model, as typed.
    pub not_modelled: Vec<String>,
    /// URLs after the first (the lab fetches one).
    pub more_urls: usize,
}

impl Invocation {
    /// Errors reach stderr unless `-s` without `-S`.
    pub fn shows_errors(&self) -> bool {
        !self.silent || self.show_error
    }
}

/// `str2udouble()` for the timeouts: a whole-word `strtod`, not negative,
/// at most `LONG_MAX / 1000` seconds.
fn seconds(v: &str) -> Result<f64, Refusal> {
    let t = v.trim_start();
    let n: f64 = if t.is_empty() || t.ends_with(char::is_whitespace) {
        return Err(Refusal::BadNumeric);
    } else {
        t.parse().map_err(|_| Refusal::BadNumeric)?
    };
    if n < 0.0 {
        return Err(Refusal::NegativeNumeric);
    }
    if n > (i64::MAX / 1000) as f64 {
        return Err(Refusal::TooLarge);
    }
    Ok(n)
}

/// `GetSizeParameter()`: digits and an optional unit of one letter.
fn size(v: &str) -> Result<u64, String> {
    let digits = v.trim_start().trim_start_matches('+');
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let Ok(n) = digits[..end].parse::<u64>() else {
        return Err("invalid number specified for max-filesize".into());
    };
    if n > i64::MAX as u64 {
        return Err("invalid number specified for max-filesize".into());
    }
    let mult: u64 = match &digits[end..] {
        "" | "b" | "B" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return Err("unsupported max-filesize unit. Use G, M, K or B!".into()),
    };
    Ok(n.saturating_mul(mult))
}

/// `--local-port`: `N`, or `N-M` with blanks allowed around the dash.
fn port_range(v: &str) -> Option<PortRange> {
    let end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let first: u32 = v[..end].parse().ok()?;
    if first > 65535 {
        return None;
    }
    let rest = &v[end..];
    let last = match rest.trim_start().strip_prefix('-') {
        None => {
            return Some(PortRange {
                first: first as u16,
                count: 1,
            })
        }
        Some(r) => r.split_whitespace().next()?,
    };
    let last: u32 = last.get(..last.len().min(6))?.parse().ok()?;
    if last > 65535 || last < first {
        return None;
    }
    Some(PortRange {
        first: first as u16,
        count: (last - first + 1) as u16,
    })
}

/// Apply one option; `word` is what curl names in its message.
fn apply(
    inv: &mut Invocation,
    opt: &Opt,
    word: &str,
    on: bool,
    val: Option<&str>,
) -> Result<(), ArgError> {
    let refuse = |why| ArgError::Option {
        word: word.to_string(),
        why,
        warning: None,
    };
    let v = val.unwrap_or("");
    match opt.long {
        "silent" => inv.silent = on,
        "show-error" => inv.show_error = on,
        "fail" => inv.fail = on,
        "verbose" => inv.verbose = on,
        "include" => inv.include = on,
        "head" => inv.head = on,
        "remote-name" => inv.remote_name = on,
        "progress-meter" => inv.no_progress_meter = !on,
        "help" => inv.help = true,
        "location" | "insecure" | "ipv4" | "buffer" | "globoff" => {}
        "output" => inv.output = Some(v.to_string()),
        "write-out" => inv.write_out = Some(v.to_string()),
        "max-time" => inv.max_time = Some(seconds(v).map_err(refuse)?),
        "connect-timeout" => inv.connect_timeout = Some(seconds(v).map_err(refuse)?),
        "max-filesize" => match size(v) {
            Ok(n) => inv.max_filesize = Some(n),
            Err(w) => {
                let warning = (!inv.silent).then_some(w);
                return Err(ArgError::Option {
                    word: word.to_string(),
                    why: Refusal::BadUse,
                    warning,
                });
            }
        },
        "local-port" => {
            inv.local_port = Some(port_range(v).ok_or_else(|| refuse(Refusal::BadUse))?)
        }
        "interface" => inv.interface = Some(v.to_string()),
        "user-agent" => inv.user_agent = Some(v.to_string()),
        "header" => inv.headers.push(v.to_string()),
        _ => inv.not_modelled.push(match opt.short {
            Some(c) => format!("-{c}/--{}", opt.long),
            None => format!("--{}", opt.long),
        }),
    }
    Ok(())
}

/// `getparameter()` over a whole command line.
pub fn parse(args: &[String]) -> Result<Invocation, ArgError> {
    if args.is_empty() {
        return Err(ArgError::Nothing);
    }
    let mut inv = Invocation::default();
    let mut urls: Vec<&str> = Vec::new();
    let mut options_end = false;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_str();
        i += 1;
        if options_end || !w.starts_with('-') {
            urls.push(w);
            continue;
        }
        if w == "--" {
            options_end = true;
            continue;
        }
        let unknown = || ArgError::Option {
            word: w.to_string(),
            why: Refusal::Unknown,
            warning: None,
        };
        if let Some(name) = w.strip_prefix("--") {
            let (name, on, exact) = match name.strip_prefix("no-") {
                Some(n) => (n, false, true),
                None => (name, true, false),
            };
            let opt = match long_match(name, exact) {
                Ok(o) => o,
                Err(why) => {
                    return Err(ArgError::Option {
                        word: w.to_string(),
                        why,
                        warning: None,
                    })
                }
            };
            if !on && opt.kind != Kind::Bool {
                return Err(ArgError::Option {
                    word: w.to_string(),
                    why: Refusal::NoNotBoolean,
                    warning: None,
                });
            }
            let val = if opt.kind == Kind::Arg {
                let Some(v) = args.get(i) else {
                    return Err(ArgError::Option {
                        word: w.to_string(),
                        why: Refusal::RequiresParameter,
                        warning: None,
                    });
                };
                i += 1;
                Some(v.as_str())
            } else {
                None
            };
            apply(&mut inv, &opt, w, on, val)?;
            continue;
        }
        // Short options, clustered.
        let letters = &w[1..];
        if letters.is_empty() {
            return Err(unknown());
        }
        for (at, c) in letters.char_indices() {
            let Some(opt) = table().find(|o| o.short == Some(c)) else {
                return Err(unknown());
            };
            if opt.kind == Kind::Arg {
                let rest = &letters[at + c.len_utf8()..];
                let val = if !rest.is_empty() {
                    rest
                } else if let Some(v) = args.get(i) {
                    i += 1;
                    v.as_str()
                } else {
                    return Err(ArgError::Option {
                        word: w.to_string(),
                        why: Refusal::RequiresParameter,
                        warning: None,
                    });
                };
                apply(&mut inv, &opt, w, true, Some(val))?;
                break;
            }
            apply(&mut inv, &opt, w, true, None)?;
        }
    }
    if inv.help {
        return Ok(inv);
    }
    let Some(first) = urls.first() else {
        return Err(ArgError::NoUrl);
    };
    inv.url = first.to_string();
    inv.more_urls = urls.len() - 1;
    Ok(inv)
}

/// A long name: the whole name, or (without `--no-`) a prefix of one name
/// only.
fn long_match(name: &str, exact: bool) -> Result<Opt, Refusal> {
    let mut hit = None;
    let mut hits = 0;
    for o in table() {
        if o.long == name {
            return Ok(o);
        }
        if !exact && o.long.starts_with(name) {
            hits += 1;
            hit = Some(o);
        }
    }
    match hits {
        0 => Err(Refusal::Unknown),
        1 => hit.ok_or(Refusal::Unknown),
        _ => Err(Refusal::Ambiguous),
    }
}

/// `curl --help` as 7.88.1 prints it.
pub const HELP: &str = include_str!("help.txt");

/// A URL as curl reads it for the lab: `[http://|telnet://]HOST[:PORT][/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub telnet: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

/// Why a URL is refused (curl's exit status and message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// `(1) Protocol "X" not supported or disabled in libcurl`
    Protocol(String),
    /// `(3) URL using bad/illegal format or missing URL`
    Malformed,
    /// `(3) URL using bad/illegal format or missing URL` for a bad port
    /// too; kept apart for the port-range message of `-v`.
    Port,
}

impl UrlError {
    pub fn status(&self) -> i32 {
        match self {
            UrlError::Protocol(_) => 1,
            UrlError::Malformed | UrlError::Port => 3,
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Protocol(p) => write!(
                f,
                "curl: (1) Protocol \"{p}\" not supported or disabled in libcurl"
            ),
            UrlError::Malformed | UrlError::Port => {
                write!(f, "curl: (3) URL using bad/illegal format or missing URL")
            }
        }
    }
}

/// Split a URL; a URL without a scheme is HTTP, as curl guesses.
pub fn parse_url(url: &str) -> Result<Url, UrlError> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), url),
    };
    let telnet = match scheme.as_str() {
        "http" => false,
        "telnet" => true,
        _ => {
            return Err(UrlError::Protocol(
                url.split_once("://").map_or("", |p| p.0).to_string(),
            ))
        }
    };
    let (hostport, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if hostport.is_empty() {
        return Err(UrlError::Malformed);
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, "")) => (h, if telnet { 23 } else { 80 }),
        Some((h, p)) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::Port);
            }
            (h, p.parse::<u16>().map_err(|_| UrlError::Port)?)
        }
        None => (hostport, if telnet { 23 } else { 80 }),
    };
    if host.is_empty() {
        return Err(UrlError::Malformed);
    }
    Ok(Url {
        telnet,
        host: host.to_string(),
        port,
        path,
    })
}

#[cfg(test)]
mod tests;
