//! `net/ipv4`: addresses (`devinet.c`), per-device configuration
//! (`devinet.c`'s `ipv4_devconf`), the FIB (`fib_*.c`), routing
//! (`route.c`), ARP (`arp.c`), the receive and transmit paths
//! (`ip_input.c`, `ip_output.c`, `ip_forward.c`), ICMP errors (`icmp.c`),
//! IPv4-in-IPv4 (`ipip.c`) and TCP (`tcp*.c`).

pub mod arp;
pub mod devconf;
pub mod devinet;
pub mod fib;
pub mod forward;
pub mod icmp;
pub mod input;
pub mod ipip;
pub mod output;
pub mod route;
pub mod tcp;
