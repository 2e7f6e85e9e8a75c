//! IPv4 sysctls under `/proc/sys/net/ipv4` (net/ipv4/devinet.c, ip-sysctl.rst).
//!
//! Linux keeps a `struct ipv4_devconf` for `all`, for `default` and for every
//! device; a new device copies `default`. How `all` combines with a device's
//! own value depends on the knob (`include/linux/inetdevice.h`):
//!
//! | knob | rule | macro |
//! |---|---|---|
//! | arp_ignore, arp_announce, rp_filter, arp_accept | max(all, dev) | `IN_DEV_MAXCONF` |
//! | arp_filter, promote_secondaries, accept_local, proxy_arp, log_martians | all OR dev | `IN_DEV_ORCONF` |
//! | forwarding | the device's own value; writing `all` (or `ip_forward`) copies it to every device | `IN_DEV_FORWARD` + `devinet_sysctl_forward()` |
//!
//! We model those knobs with the kernel's defaults (all 0; `ip_forward` 0).
//! Other files under `conf/*` are not modelled and read as missing.

use crate::util::vecmap::VecMap;
use serde::{Deserialize, Serialize};

/// The per-device knobs we model, in `ls conf/eth0` order.
pub const CONF_KNOBS: &[&str] = &[
    "accept_local",
    "arp_accept",
    "arp_announce",
    "arp_filter",
    "arp_ignore",
    "forwarding",
    "log_martians",
    "promote_secondaries",
    "proxy_arp",
    "rp_filter",
];

/// How `all` and a device's value combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Max,
    Or,
    DevOnly,
}

pub fn combine_rule(knob: &str) -> Combine {
    match knob {
        "arp_ignore" | "arp_announce" | "rp_filter" | "arp_accept" => Combine::Max,
        "forwarding" => Combine::DevOnly,
        _ => Combine::Or,
    }
}

/// The range a write accepts. Every knob modelled here is a plain
/// `proc_dointvec` (`devinet_conf_proc()`): any `int`, even values the code
/// never interprets (arp_announce=7 acts like the highest defined level).
fn knob_range(_knob: &str) -> (i64, i64) {
    (i32::MIN as i64, i32::MAX as i64)
}

/// One `ipv4_devconf`.
pub type Conf = VecMap<String, i64>;

fn default_conf() -> Conf {
    CONF_KNOBS.iter().map(|k| (k.to_string(), 0)).collect()
}

/// A host's IPv4 sysctl state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sysctls {
    /// `all`, `default` and one entry per device, by name.
    pub conf: VecMap<String, Conf>,
    /// `net.ipv4.ip_default_ttl` (1..255, default 64): the TTL of the
    /// packets this host sends (`ip_select_ttl()` without IP_TTL).
    #[serde(default = "default_ttl")]
    pub ip_default_ttl: i64,
}

fn default_ttl() -> i64 {
    64
}

impl Default for Sysctls {
    fn default() -> Self {
        let mut conf = VecMap::new();
        conf.insert("all".to_string(), default_conf());
        conf.insert("default".to_string(), default_conf());
        Sysctls {
            conf,
            ip_default_ttl: default_ttl(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SysctlError {
    #[error("No such file or directory")]
    NoEntry,
    #[error("Invalid argument")]
    Invalid,
}

impl Sysctls {
    /// A device appeared: it starts with `default`'s values.
    pub fn add_device(&mut self, dev: &str) {
        let d = self.conf["default"].clone();
        self.conf.insert(dev.to_string(), d);
    }

    pub fn remove_device(&mut self, dev: &str) {
        self.conf.remove(dev);
    }

    /// The value a device's code path actually uses.
    pub fn effective(&self, dev: &str, knob: &str) -> i64 {
        let all = self.get("all", knob).unwrap_or(0);
        let own = self.get(dev, knob).unwrap_or(0);
        match combine_rule(knob) {
            Combine::Max => all.max(own),
            Combine::Or => i64::from(all != 0 || own != 0),
            Combine::DevOnly => own,
        }
    }

    pub fn get(&self, scope: &str, knob: &str) -> Option<i64> {
        self.conf.get(scope)?.get(knob).copied()
    }

    /// The TTL of locally generated packets.
    pub fn ttl(&self) -> u8 {
        u8::try_from(self.ip_default_ttl).unwrap_or(64)
    }

    pub fn ip_forward(&self) -> i64 {
        self.get("all", "forwarding").unwrap_or(0)
    }

    /// Write `conf/<scope>/<knob>`.
    pub fn set(&mut self, scope: &str, knob: &str, value: i64) -> Result<(), SysctlError> {
        let (lo, hi) = knob_range(knob);
        let exists = self.conf.get(scope).is_some_and(|c| c.contains_key(knob));
        if !exists {
            return Err(SysctlError::NoEntry);
        }
        if value < lo || value > hi {
            return Err(SysctlError::Invalid);
        }
        if knob == "forwarding" && scope == "all" {
            self.set_ip_forward(value);
            return Ok(());
        }
        self.conf
            .get_mut(scope)
            .and_then(|c| c.get_mut(knob))
            .map(|v| *v = value)
            .ok_or(SysctlError::NoEntry)
    }

    /// `net.ipv4.ip_forward` / `conf/all/forwarding`: both copy the value to
    /// `default` and to every device (`inet_forward_change()`).
    pub fn set_ip_forward(&mut self, value: i64) {
        let v = i64::from(value != 0);
        for c in self.conf.values_mut() {
            c.insert("forwarding".into(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_and_or_rules() {
        let mut s = Sysctls::default();
        s.add_device("eth0");
        s.set("eth0", "arp_ignore", 1).unwrap();
        assert_eq!(s.effective("eth0", "arp_ignore"), 1);
        s.set("all", "arp_ignore", 2).unwrap();
        assert_eq!(s.effective("eth0", "arp_ignore"), 2);
        s.set("all", "promote_secondaries", 1).unwrap();
        assert_eq!(s.effective("eth0", "promote_secondaries"), 1);
        assert_eq!(
            s.set("eth0", "arp_announce", 1 << 40),
            Err(SysctlError::Invalid)
        );
        assert_eq!(s.set("eth9", "arp_announce", 1), Err(SysctlError::NoEntry));
        s.set_ip_forward(1);
        assert_eq!(s.effective("eth0", "forwarding"), 1);
    }

    #[test]
    fn new_devices_copy_default() {
        let mut s = Sysctls::default();
        s.set("default", "arp_announce", 2).unwrap();
        s.add_device("dummy0");
        assert_eq!(s.get("dummy0", "arp_announce"), Some(2));
    }
}
