//! Userspace tools whose grammar both backends share: `ipvsadm` parses once
//! into typed commands that the simulator and the netlink driver execute.

pub mod curl;
pub mod iptables;
pub mod ipvsadm;
pub mod libc;
pub mod regex;
pub mod services;
pub mod tcpdump;
