//! Simulated time. Linux reads `jiffies` and `ktime_get()`; the engine never
//! reads a clock: every timestamp is a [`SimTime`] passed in by the caller, so
//! a run is a pure function of its inputs.

use serde::{Deserialize, Serialize};

/// Microseconds since the lab started.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

impl SimTime {
    pub fn from_secs_f64(s: f64) -> SimTime {
        SimTime((s * 1e6).round().max(0.0) as u64)
    }
    pub fn plus(self, us: u64) -> SimTime {
        SimTime(self.0.saturating_add(us))
    }
}
