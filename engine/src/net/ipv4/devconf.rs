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

/// One knob of `struct ipv4_devconf` that we model (`IPV4_DEVCONF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Knob {
    AcceptLocal,
    ArpAccept,
    ArpAnnounce,
    ArpFilter,
    ArpIgnore,
    Forwarding,
    LogMartians,
    PromoteSecondaries,
    ProxyArp,
    RpFilter,
}

impl Knob {
    /// Every knob, in `ls conf/eth0` order (the order of [`CONF_KNOBS`]).
    pub const ALL: [Knob; 10] = [
        Knob::AcceptLocal,
        Knob::ArpAccept,
        Knob::ArpAnnounce,
        Knob::ArpFilter,
        Knob::ArpIgnore,
        Knob::Forwarding,
        Knob::LogMartians,
        Knob::PromoteSecondaries,
        Knob::ProxyArp,
        Knob::RpFilter,
    ];

    /// Its file name under `conf/DEV/`.
    pub fn name(self) -> &'static str {
        CONF_KNOBS[self as usize]
    }

    pub fn from_name(name: &str) -> Option<Knob> {
        Knob::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How `all` and a device's value combine for this knob.
    pub fn combine(self) -> Combine {
        match self {
            Knob::ArpIgnore | Knob::ArpAnnounce | Knob::RpFilter | Knob::ArpAccept => Combine::Max,
            Knob::Forwarding => Combine::DevOnly,
            _ => Combine::Or,
        }
    }
}

/// How `all` and a device's value combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Max,
    Or,
    DevOnly,
}

pub fn combine_rule(knob: &str) -> Combine {
    Knob::from_name(knob).map_or(Combine::Or, Knob::combine)
}

/// The range a write accepts. Every knob modelled here is a plain
/// `proc_dointvec` (`devinet_conf_proc()`): any `int`, even values the code
/// never interprets (arp_announce=7 acts like the highest defined level).
fn knob_range(_knob: Knob) -> (i64, i64) {
    (i32::MIN as i64, i32::MAX as i64)
}

/// One `ipv4_devconf`: a value per [`Knob`]. Serialised as a map from the
/// knob's file name to its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conf([i64; Knob::ALL.len()]);

impl Conf {
    pub fn get(&self, k: Knob) -> i64 {
        self.0[k as usize]
    }

    pub fn set(&mut self, k: Knob, v: i64) {
        self.0[k as usize] = v;
    }

    /// (file name, value) in `ls` order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, i64)> + '_ {
        Knob::ALL.into_iter().map(|k| (k.name(), self.get(k)))
    }
}

impl Serialize for Conf {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Conf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = VecMap::<String, i64>::deserialize(d)?;
        let mut c = Conf::default();
        for (k, v) in m.iter() {
            let knob = Knob::from_name(k)
                .ok_or_else(|| serde::de::Error::custom(format!("not an ipv4 conf knob: {k:?}")))?;
            c.set(knob, *v);
        }
        Ok(c)
    }
}

fn default_conf() -> Conf {
    Conf::default()
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
        let d = self.conf["default"];
        self.conf.insert(dev.to_string(), d);
    }

    pub fn remove_device(&mut self, dev: &str) {
        self.conf.remove(dev);
    }

    /// The value a device's code path actually uses.
    pub fn effective(&self, dev: &str, knob: Knob) -> i64 {
        let all = self.conf.get("all").map_or(0, |c| c.get(knob));
        let own = self.conf.get(dev).map_or(0, |c| c.get(knob));
        match knob.combine() {
            Combine::Max => all.max(own),
            Combine::Or => i64::from(all != 0 || own != 0),
            Combine::DevOnly => own,
        }
    }

    /// `conf/<scope>/<knob>` by file names (what the shell reads).
    pub fn get(&self, scope: &str, knob: &str) -> Option<i64> {
        let k = Knob::from_name(knob)?;
        Some(self.conf.get(scope)?.get(k))
    }

    /// The TTL of locally generated packets.
    pub fn ttl(&self) -> u8 {
        u8::try_from(self.ip_default_ttl).unwrap_or(64)
    }

    pub fn ip_forward(&self) -> i64 {
        self.conf.get("all").map_or(0, |c| c.get(Knob::Forwarding))
    }

    /// Write `conf/<scope>/<knob>`.
    pub fn set(&mut self, scope: &str, knob: &str, value: i64) -> Result<(), SysctlError> {
        let k = Knob::from_name(knob).ok_or(SysctlError::NoEntry)?;
        if !self.conf.contains_key(scope) {
            return Err(SysctlError::NoEntry);
        }
        let (lo, hi) = knob_range(k);
        if value < lo || value > hi {
            return Err(SysctlError::Invalid);
        }
        if k == Knob::Forwarding && scope == "all" {
            self.set_ip_forward(value);
            return Ok(());
        }
        self.conf
            .get_mut(scope)
            .map(|c| c.set(k, value))
            .ok_or(SysctlError::NoEntry)
    }

    /// `net.ipv4.ip_forward` / `conf/all/forwarding`: both copy the value to
    /// `default` and to every device (`inet_forward_change()`).
    pub fn set_ip_forward(&mut self, value: i64) {
        let v = i64::from(value != 0);
        for c in self.conf.values_mut() {
            c.set(Knob::Forwarding, v);
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
        assert_eq!(s.effective("eth0", Knob::ArpIgnore), 1);
        s.set("all", "arp_ignore", 2).unwrap();
        assert_eq!(s.effective("eth0", Knob::ArpIgnore), 2);
        s.set("all", "promote_secondaries", 1).unwrap();
        assert_eq!(s.effective("eth0", Knob::PromoteSecondaries), 1);
        assert_eq!(
            s.set("eth0", "arp_announce", 1 << 40),
            Err(SysctlError::Invalid)
        );
        assert_eq!(s.set("eth9", "arp_announce", 1), Err(SysctlError::NoEntry));
        s.set_ip_forward(1);
        assert_eq!(s.effective("eth0", Knob::Forwarding), 1);
        assert_eq!(s.set("eth0", "arp_ignorez", 1), Err(SysctlError::NoEntry));
    }

    #[test]
    fn knobs_are_the_files_in_ls_order_and_serialise_as_before() {
        let names: Vec<&str> = Knob::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, CONF_KNOBS);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, names, "a VecMap serialised them in this order");
        let mut c = Conf::default();
        c.set(Knob::ArpIgnore, 1);
        c.set(Knob::RpFilter, 2);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"accept_local":0,"arp_accept":0,"arp_announce":0,"arp_filter":0,"arp_ignore":1,"forwarding":0,"log_martians":0,"promote_secondaries":0,"proxy_arp":0,"rp_filter":2}"#
        );
        assert_eq!(serde_json::from_str::<Conf>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Conf>(r#"{"nope":1}"#).is_err());
    }

    #[test]
    fn new_devices_copy_default() {
        let mut s = Sysctls::default();
        s.set("default", "arp_announce", 2).unwrap();
        s.add_device("dummy0");
        assert_eq!(s.get("dummy0", "arp_announce"), Some(2));
    }
}
