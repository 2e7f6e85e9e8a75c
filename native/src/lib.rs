//! `lvslab`, the library behind the `lvslab` binary: the lab server with
//! the embedded web app, the simulator CLI, and (on Linux) the director
//! tools over the kernel's IPVS (generic netlink). `main.rs` is a thin
//! command line over these modules; the integration tests (the netlink
//! goldens) use them directly.

pub mod applylock;
pub mod assets;
pub mod director;
#[cfg(target_os = "linux")]
pub mod hostsnap;
pub mod live;
#[cfg(target_os = "linux")]
pub mod netlink;
pub mod serve;
pub mod sim;
pub mod text;
pub mod token;
