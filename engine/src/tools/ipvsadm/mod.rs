//! `ipvsadm` 1.31: the command line parsed once into typed commands, run
//! against any [`IpvsBackend`] (the simulator here, the kernel over netlink
//! in `lvslab`), with one set of formatters for `-Ln`, `--stats`, `--rate`,
//! `--exact`, `-Lnc`, `-Sn` and `--timeout`, and ipvsadm's own messages.

mod exec;
mod format;
mod options;
mod parse;

pub use exec::{run, Run, HELP, VERSION};
pub use format::{dest_args, format_conns, format_save, service_args, service_opt};
use format::{service_line, sort_services, title};
pub use parse::{parse, CliError, Command, ListOpts, TRYHELP};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::netfilter::ipvs::{Change, Fwd};

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_tutorial_commands() {
        let c = parse(&a("-A -t 192.168.150.100:80 -s rr")).unwrap();
        let Command::Change(Change::AddService(s)) = c else {
            panic!()
        };
        assert_eq!(s.scheduler, "rr");
        let c = parse(&a("-a -t 192.168.150.100:80 -r 192.168.150.12 -g -w 1")).unwrap();
        let Command::Change(Change::AddDest(_, d)) = c else {
            panic!()
        };
        assert_eq!((d.port, d.fwd, d.weight), (80, Fwd::Route, 1));
        assert!(matches!(
            parse(&a("-ln")).unwrap(),
            Command::List(ListOpts { numeric: true, .. })
        ));
        assert!(matches!(
            parse(&a("-lnc")).unwrap(),
            Command::List(ListOpts {
                connections: true,
                ..
            })
        ));
        assert_eq!(
            parse(&a("-A -t 1.2.3.4 -s rr")).unwrap_err().message,
            "Zero port specified for non-persistent service"
        );
        assert!(parse(&a("-a -t 1.2.3.4:80 -r 1.2.3.5 -w 70000")).is_ok());
        assert_eq!(
            parse(&a("-a -t 1.2.3.4:80 -r 1.2.3.5 -w -1"))
                .unwrap_err()
                .message,
            "illegal weight specified"
        );
        assert_eq!(
            parse(&a("-n -L")).unwrap_err(),
            CliError {
                message: TRYHELP.into(),
                code: 255
            }
        );
        assert_eq!(
            parse(&a("-L -L")).unwrap_err().message,
            "invalid option `-L'"
        );
        assert_eq!(
            parse(&a("-A -t 1.2.3.4:80 -r 1.2.3.5"))
                .unwrap_err()
                .message,
            "Illegal 'real-server' option with the 'add-service' command"
        );
        assert_eq!(
            parse(&a("-a -t 1.2.3.4:80")).unwrap_err().message,
            "You need to supply the 'real-server' option for the 'add-server' command"
        );
        assert_eq!(parse(&a("-lnc -t 1.2.3.4:80")).unwrap_err().message, "The option 'service-address' conflicts with the 'connection' option in the 'list' command");
        let Command::Change(Change::AddService(s)) = parse(&a("-A -t 1.2.3.4:80 -p")).unwrap()
        else {
            panic!()
        };
        assert_eq!((s.persistent, s.scheduler.as_str()), (Some(360), "wlc"));
    }
}
