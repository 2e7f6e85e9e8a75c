//! ipvsadm 1.31's commands and their option legality (ipvsadm.c:
//! `commands_v_options`, checked by `generic_opt_check()`): which options a
//! command needs, which it refuses, and which conflict, with ipvsadm's texts.

use super::parse::{fail, CliError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddSrv,
    DelSrv,
    EditSrv,
    Timeout,
    StartD,
    StopD,
    Restore,
    Save,
    Zero,
}

impl Cmd {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Cmd::Add => "add-service",
            Cmd::Edit => "edit-service",
            Cmd::Del => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddSrv => "add-server",
            Cmd::DelSrv => "delete-server",
            Cmd::EditSrv => "edit-server",
            Cmd::Timeout => "set",
            Cmd::StartD => "start-daemon",
            Cmd::StopD => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }
}

/// Option columns of `commands_v_options`, in order.
pub(super) const OPTNAMES: [&str; 24] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
];

/// `commands_v_options`: per command, per column: `+` compulsory,
/// `x` illegal, `1` one-of group, ` ` optional.
fn legality(c: Cmd) -> &'static [u8; 24] {
    match c {
        Cmd::Add | Cmd::Edit => b"xx+   xxxxxxxxxxxxxxx   ",
        Cmd::Del => b"xx+xxxxxxxxxxxxxxxxxxxxx",
        Cmd::Flush | Cmd::Timeout | Cmd::Restore => b"xxxxxxxxxxxxxxxxxxxxxxxx",
        Cmd::List => b" 11xxxxxxxxx11       xxx",
        Cmd::AddSrv | Cmd::EditSrv => b"xx+xxx+    xxxxxxxxxxxxx",
        Cmd::DelSrv => b"xx+xxx+xxxxxxxxxxxxxxxxx",
        Cmd::StartD => b"xxxxxxxxxxx xxxxxxx xxxx",
        Cmd::StopD => b"xxxxxxxxxxxxxxxxxxx xxxx",
        Cmd::Save => b" xxxxxxxxxxxxxxxxxxxxxxx",
        Cmd::Zero => b"xx xxxxxxxxxxxxxxxxxxxxx",
    }
}

/// `generic_opt_check()`.
pub(super) fn check_options(c: Cmd, set: &[bool; 24]) -> Result<(), CliError> {
    let row = legality(c);
    let mut first_in_group: Option<usize> = None;
    for (i, &rule) in row.iter().enumerate() {
        match rule {
            b'+' if !set[i] => {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPTNAMES[i],
                    c.name()
                )))
            }
            b'x' if set[i] => {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPTNAMES[i],
                    c.name()
                )))
            }
            b'1' if set[i] => match first_in_group {
                Some(f) => {
                    return Err(fail(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPTNAMES[i],
                        OPTNAMES[f],
                        c.name()
                    )))
                }
                None => first_in_group = Some(i),
            },
            _ => {}
        }
    }
    Ok(())
}
