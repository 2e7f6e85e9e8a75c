//! `/etc/services` as glibc's `getservbyname()`/`getservbyport()` read it:
//! the well-known ports the lab's tools name (Debian's netbase file, the
//! entries the lab's commands can meet).

/// A transport protocol of `/etc/services` (the `/tcp`, `/udp` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServProto {
    Tcp,
    Udp,
}

/// Debian 12's /etc/services (netbase 6.4) for the ports the lab's tools
/// name: name, port, protocol, aliases. http is tcp only there (so
/// `ipvsadm -u VIP:http` is refused), https and domain are both.
const SERVICES: &[(&str, u16, ServProto, &[&str])] = &[
    ("discard", 9, ServProto::Tcp, &["sink", "null"]),
    ("discard", 9, ServProto::Udp, &["sink", "null"]),
    ("ftp", 21, ServProto::Tcp, &[]),
    ("ssh", 22, ServProto::Tcp, &[]),
    ("telnet", 23, ServProto::Tcp, &[]),
    ("smtp", 25, ServProto::Tcp, &["mail"]),
    ("domain", 53, ServProto::Tcp, &[]),
    ("domain", 53, ServProto::Udp, &[]),
    ("http", 80, ServProto::Tcp, &["www"]),
    ("pop3", 110, ServProto::Tcp, &["pop-3"]),
    ("imap2", 143, ServProto::Tcp, &["imap"]),
    ("https", 443, ServProto::Tcp, &[]),
    ("https", 443, ServProto::Udp, &[]),
    ("http-alt", 8080, ServProto::Tcp, &["webcache"]),
];

/// `getservbyname(name, proto)`: by name or alias; `None` takes any
/// protocol (a NULL `proto`).
pub(crate) fn port_by_proto(name: &str, proto: Option<ServProto>) -> Option<u16> {
    SERVICES
        .iter()
        .find(|(n, _, pr, aliases)| {
            proto.is_none_or(|p| p == *pr) && (*n == name || aliases.contains(&name))
        })
        .map(|(_, port, _, _)| *port)
}

/// `getservbyname(name, NULL)`.
pub(crate) fn port_by_name(p: &str) -> Option<u16> {
    port_by_proto(p, None)
}

/// `getservbyport(port, NULL)`: the first entry's name.
pub(crate) fn port_name(p: u16) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(_, v, _, _)| *v == p)
        .map(|(n, _, _, _)| *n)
}
