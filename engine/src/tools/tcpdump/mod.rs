//! `tcpdump` 4.99 (Debian 12: tcpdump 4.99.3, libpcap 1.10.3): its command
//! line, capture filter and one-line decode. The capture itself is a packet
//! socket on one device (`crate::apps::tcpdump`): like `AF_PACKET` with
//! the device in promiscuous mode it sees every frame the device sends
//! (`dev_queue_xmit_nit()`) and receives, before the MAC filter.
//!
//! Options: `-i DEV` (default: the first Ethernet device that is up, as
//! `pcap_lookupdev()` picks it), `-n`/`-nn`, `-e`, `-t`, `-c N`, `-w FILE`,
//! `-r FILE`, `-l`, `-p` (accepted; the lab's capture is always promiscuous
//! unless `-p`), `-s N`. Messages on stderr as tcpdump writes them.
//! `-v` prints the IPv4 header's fields (see `print`). Left out: `-i any`
//! (the cooked SLL2 link type), `-X`.

pub mod filter;
pub mod print;

pub use filter::{Filter, FilterError};
pub use print::{timestamp, PrintOpts, Printer};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub interface: Option<String>,
    pub print: PrintOpts,
    pub count: Option<u32>,
    pub write: Option<String>,
    pub read: Option<String>,
    pub filter: Option<Filter>,
    /// The filter's compile error: tcpdump reports it after opening the
    /// capture (after "reading from file" with `-r`).
    pub filter_error: Option<FilterError>,
}

/// tcpdump's answer to a bad command line (stderr, exit status 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The usage text tcpdump 4.99.3 prints for a bad option.
pub const USAGE: &str = "tcpdump version 4.99.3
libpcap version 1.10.3 (with TPACKET_V3)
OpenSSL 3.0.11 19 Sep 2023
Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
";

/// The largest `-c` tcpdump accepts (`INT_MAX`).
const MAX_COUNT: i64 = i32::MAX as i64;

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args, UsageError> {
        let mut a = Args::default();
        let mut rest: Vec<String> = Vec::new();
        let mut i = 0;
        let value = |i: &mut usize, opt: char| -> Result<String, UsageError> {
            *i += 1;
            argv.get(*i).cloned().ok_or_else(|| {
                UsageError(format!(
                    "tcpdump: option requires an argument -- '{opt}'\n{USAGE}"
                ))
            })
        };
        while i < argv.len() {
            let w = &argv[i];
            if w == "--" {
                rest.extend(argv[i + 1..].iter().cloned());
                break;
            }
            if !w.starts_with('-') || w == "-" {
                rest.push(w.clone());
                i += 1;
                continue;
            }
            let flags: Vec<char> = w[1..].chars().collect();
            let mut k = 0;
            while k < flags.len() {
                let c = flags[k];
                let attached: String = flags[k + 1..].iter().collect();
                let take = |i: &mut usize| -> Result<String, UsageError> {
                    if attached.is_empty() {
                        value(i, c)
                    } else {
                        Ok(attached.clone())
                    }
                };
                match c {
                    'n' => a.print.numeric = true,
                    'e' => a.print.link = true,
                    't' => a.print.no_time = true,
                    'l' | 'p' | 'U' => {}
                    'v' => a.print.verbose = true,
                    'i' => {
                        a.interface = Some(take(&mut i)?);
                        break;
                    }
                    'w' => {
                        a.write = Some(take(&mut i)?);
                        break;
                    }
                    'r' => {
                        a.read = Some(take(&mut i)?);
                        break;
                    }
                    's' => {
                        let v = take(&mut i)?;
                        if v.parse::<u32>().is_err() {
                            return Err(UsageError(format!("tcpdump: invalid snaplen {v}")));
                        }
                        break;
                    }
                    'c' => {
                        let v = take(&mut i)?;
                        match v.parse::<i64>() {
                            Ok(n) if (1..=MAX_COUNT).contains(&n) => a.count = Some(n as u32),
                            _ => {
                                return Err(UsageError(format!(
                                    "tcpdump: invalid packet count {v}"
                                )))
                            }
                        }
                        break;
                    }
                    other => {
                        return Err(UsageError(format!(
                            "tcpdump: invalid option -- '{other}'\n{USAGE}"
                        )))
                    }
                }
                k += 1;
            }
            i += 1;
        }
        match Filter::parse(&rest) {
            Ok(f) => a.filter = f,
            Err(e) => a.filter_error = Some(e),
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, UsageError> {
        Args::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines() {
        let a = args("-i eth0 -nne -c 4 -w /tmp/c.pcap arp or icmp").unwrap();
        assert_eq!(a.interface.as_deref(), Some("eth0"));
        assert!(a.print.numeric && a.print.link);
        assert_eq!(a.count, Some(4));
        assert_eq!(a.write.as_deref(), Some("/tmp/c.pcap"));
        assert!(a.filter.is_some());
        assert!(args("host").unwrap().filter_error.is_some());
        assert_eq!(args("-ieth0").unwrap().interface.as_deref(), Some("eth0"));
        assert!(args("-c 0")
            .unwrap_err()
            .0
            .contains("invalid packet count 0"));
        assert!(args("-c 4294967295").is_err());
        assert!(args("-Z")
            .unwrap_err()
            .0
            .starts_with("tcpdump: invalid option -- 'Z'"));
        assert!(args("-i").unwrap_err().0.contains("requires an argument"));
    }

    #[test]
    fn decodes_like_tcpdump() {
        use crate::wire::{ArpOp, ArpRepr, FrameRepr, Mac, Payload};
        let req = FrameRepr {
            dst: Mac::BROADCAST,
            src: "02:42:c0:a8:96:01".parse().unwrap(),
            payload: Payload::Arp(ArpRepr {
                op: ArpOp::Request,
                sender_mac: "02:42:c0:a8:96:01".parse().unwrap(),
                sender_ip: "192.168.150.1".parse().unwrap(),
                target_mac: Mac::ZERO,
                target_ip: "192.168.150.12".parse().unwrap(),
            }),
        }
        .emit();
        let mut p = Printer::new(PrintOpts {
            numeric: true,
            link: true,
            no_time: false,
            verbose: false,
        });
        assert_eq!(
            p.line(crate::time::SimTime(3_723_000_005), &req),
            "01:02:03.000005 02:42:c0:a8:96:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), \
             length 42: Request who-has 192.168.150.12 tell 192.168.150.1, length 28"
        );
    }
}
