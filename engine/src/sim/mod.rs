//! The simulation around the hosts: the world (event queue, switch, clock),
//! the step trace with its explanations, named scenarios, pcap export and the
//! benchmark workloads.

pub mod bench;
pub mod digest;
pub mod pcap;
pub mod scenario;
pub mod trace;
pub mod world;
