//! `/etc/services` as glibc's `getservbyname()`/`getservbyport()` read it:
//! the well-known ports the lab's tools name (Debian's netbase file, the
//! entries the lab's commands can meet).

/// Well-known ports getservbyname/getservbyport know (Debian's /etc/services).
const SERVICES: &[(&str, u16)] = &[
    ("discard", 9),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("pop3", 110),
    ("imap2", 143),
    ("https", 443),
    ("http-alt", 8080),
];

pub(crate) fn port_by_name(p: &str) -> Option<u16> {
    SERVICES
        .iter()
        .find(|(n, _)| *n == p)
        .map(|(_, v)| *v)
        .or(if p == "www" { Some(80) } else { None })
}

pub(crate) fn port_name(p: u16) -> Option<&'static str> {
    SERVICES.iter().find(|(_, v)| *v == p).map(|(n, _)| *n)
}
