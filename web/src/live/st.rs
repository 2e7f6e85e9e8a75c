//! The Live view's state: the last snapshot and when it came, the doctor's
//! answer, where the apply dialogue is.

use super::api::{DoctorAnswer, PlanAnswer, Snapshot, Status};
use leptos::prelude::*;

/// Where the apply dialogue is.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyStep {
    Idle,
    Busy,
    /// The diff for the simulator's configuration, from `host`.
    Planned {
        host: String,
        desired: String,
        plan: PlanAnswer,
    },
    Done(PlanAnswer),
    Failed(String),
}

/// The Live view's state (a context next to the lab's `St`).
#[derive(Clone, Copy)]
pub struct LiveSt {
    pub status: RwSignal<Option<Status>>,
    pub open: RwSignal<bool>,
    pub snap: RwSignal<Option<Snapshot>>,
    /// `performance.now()` of the last snapshot, and of now (ticking).
    pub last_ms: RwSignal<Option<f64>>,
    pub now_ms: RwSignal<f64>,
    pub doctor: RwSignal<Option<Result<DoctorAnswer, String>>>,
    pub apply: RwSignal<ApplyStep>,
    pub busy: RwSignal<bool>,
}

pub fn lst() -> LiveSt {
    expect_context::<LiveSt>()
}

pub fn perf_now() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Seconds without a snapshot after which the view says "stale".
pub const STALE_MS: f64 = 3000.0;

pub fn state_class(l: LiveSt) -> &'static str {
    match l.last_ms.get() {
        None => "connecting",
        Some(at) if l.now_ms.get() - at > STALE_MS => "stale",
        Some(_) => "connected",
    }
}
