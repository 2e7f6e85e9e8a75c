//! `POST /api/live/apply`. A dry run needs no token and takes no lock: it
//! plans against the sampler's last reading of the table (at most one
//! period old), so a flood of them neither reads the kernel nor stands in
//! the way of a real apply. A real apply needs the write token, runs one at
//! a time (a second one while one runs gets 409 at once: it was planned
//! against a table the first is changing), takes the host-wide apply lock
//! (`lvslab apply` runs too), reads the table afresh, and publishes the new
//! reading before it answers. Every real apply is an audit line: the peer,
//! the outcome and the plan's commands.

use super::errors::{ApiError, StrictJson};
use super::guard::{check_write_token, Peer};
use super::state::Live;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lvslab_engine::apply;
use serde::{Deserialize, Serialize};

/// `POST /api/live/apply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Only compute and return the diff (changes nothing; needs neither
    /// `--allow-apply` nor the token).
    pub dry_run: bool,
    /// Also delete the services `desired` does not declare.
    #[serde(default)]
    pub prune: bool,
    /// For a real apply: the plan's commands as the dry run showed them.
    /// When the table changed in between (the plan differs), nothing is
    /// done and the answer is 409 with the new plan.
    #[serde(default)]
    pub expect: Option<Vec<String>>,
    /// The desired state (`lvslab apply`'s format, as JSON).
    pub desired: apply::Desired,
}

#[derive(Debug, Serialize)]
struct PlanLine {
    /// `+` add, `~` edit, `-` delete.
    sign: char,
    /// The ipvsadm arguments that make the change.
    command: String,
    /// For edits: the arguments it replaces.
    was: Option<String>,
}

fn plan_lines(p: &apply::Plan) -> Vec<PlanLine> {
    p.ops
        .iter()
        .map(|op| PlanLine {
            sign: op.to_string().chars().next().unwrap_or('~'),
            command: op.command(),
            was: op.was(),
        })
        .collect()
}

fn commands(p: &apply::Plan) -> Vec<String> {
    p.ops.iter().map(|o| o.command()).collect()
}

fn untouched(p: &apply::Plan) -> Vec<String> {
    p.untouched
        .iter()
        .map(|k| lvslab_engine::ipvsadm::service_opt(k, true))
        .collect()
}

#[derive(Debug, Serialize)]
struct ApplyAnswer {
    dry_run: bool,
    /// The plan was executed (false for a dry run).
    applied: bool,
    changes: usize,
    plan: Vec<PlanLine>,
    untouched: Vec<String>,
    /// The plan as `lvslab apply` prints it.
    text: String,
}

fn answer(p: &apply::Plan, dry_run: bool, applied: bool) -> ApplyAnswer {
    ApplyAnswer {
        dry_run,
        applied,
        changes: p.ops.len(),
        plan: plan_lines(p),
        untouched: untouched(p),
        text: p.to_string(),
    }
}

/// What a real apply that failed reports (422).
#[derive(Debug, Serialize)]
struct ApplyFailure {
    error: String,
    failed_command: String,
    kernel_error: String,
    rolled_back: Vec<String>,
    rollback_errors: Vec<String>,
    /// Whether the table is as it was before the request.
    unchanged: bool,
}

enum Outcome {
    Applied(apply::Plan),
    Stale(apply::Plan),
    Failed(Box<apply::Failed>),
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("invalid desired state: {e}"),
    )
}

pub(super) async fn apply(
    State(live): State<Live>,
    peer: Peer,
    headers: HeaderMap,
    StrictJson(req): StrictJson<ApplyRequest>,
) -> Result<Response, ApiError> {
    if req.dry_run {
        return dry_run(&live, req).await;
    }
    check_write_token(&live, &headers, peer)?;
    let audit_refused = |reason: &str| {
        tracing::warn!(target: "lvslab::audit", %peer, outcome = "refused", reason, "apply refused");
    };
    // Reject what cannot be planned before taking any lock.
    if let Err(e) = req.desired.targets() {
        audit_refused("invalid desired state");
        return Err(invalid(e));
    }
    let Ok(_one_at_a_time) = live.apply_lock.clone().try_lock_owned() else {
        audit_refused("another apply is running");
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "another apply is running: wait for its result, then plan again",
        ));
    };
    let ApplyRequest {
        prune,
        expect,
        desired,
        ..
    } = req;
    let l = live.clone();
    let outcome = live
        .with_host(move |h| -> Result<Outcome, ApiError> {
            // The host-wide lock also keeps `lvslab apply` runs out (the
            // kernel only; a simulated host is this server's alone).
            let _host_lock = if h.source().kind == "kernel" {
                use crate::applylock::{ApplyLock, LockError};
                match ApplyLock::take() {
                    Ok(lock) => Some(lock),
                    Err(e @ LockError::Busy(_)) => {
                        return Err(ApiError::new(StatusCode::CONFLICT, e.to_string()))
                    }
                    Err(e) => {
                        return Err(ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("{e}: nothing was done"),
                        ))
                    }
                }
            } else {
                None
            };
            let outcome = {
                let mut b = h.backend();
                let current = b.services().map_err(ApiError::backend)?;
                let plan = apply::plan(&desired, &current, prune).map_err(invalid)?;
                if expect.as_ref().is_some_and(|e| *e != commands(&plan)) {
                    return Ok(Outcome::Stale(plan));
                }
                match apply::execute(&plan, b.as_mut()) {
                    Ok(_) => Outcome::Applied(plan),
                    Err(f) => Outcome::Failed(f),
                }
            };
            // The answer's reader sees the new table at once.
            l.publish(h);
            Ok(outcome)
        })
        .await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            audit_refused(&e.message);
            return Err(e);
        }
    };
    Ok(match outcome {
        Outcome::Applied(p) => {
            live.forget_cached().await;
            tracing::info!(target: "lvslab::audit", %peer, outcome = "applied", changes = p.ops.len(), commands = ?commands(&p), "apply");
            Json(answer(&p, false, true)).into_response()
        }
        Outcome::Stale(p) => {
            tracing::warn!(target: "lvslab::audit", %peer, outcome = "stale", commands = ?commands(&p), "apply refused: the table changed since the diff was shown");
            let mut body = serde_json::to_value(answer(&p, false, false)).unwrap_or_default();
            body["error"] = serde_json::Value::String(
                "the IPVS table changed since this diff was shown: nothing was done; review the new plan".into(),
            );
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
        Outcome::Failed(f) => {
            live.forget_cached().await;
            // What ran, oldest first, then the command that failed.
            let plan: Vec<String> = f
                .rolled_back
                .iter()
                .rev()
                .chain(std::iter::once(&f.op))
                .map(|o| o.command())
                .collect();
            tracing::warn!(target: "lvslab::audit", %peer, outcome = "failed", failed_command = ?f.op.command(), error = %f.error, rolled_back = f.rolled_back.len(), rollback_errors = f.rollback_errors.len(), commands = ?plan, "apply failed");
            let body = ApplyFailure {
                error: f.to_string().trim_end().to_string(),
                failed_command: f.op.command(),
                kernel_error: f.error.to_string(),
                rolled_back: f.rolled_back.iter().map(|o| o.command()).collect(),
                rollback_errors: f
                    .rollback_errors
                    .iter()
                    .map(|(o, e)| format!("{}: {e}", o.command()))
                    .collect(),
                unchanged: f.rollback_errors.is_empty(),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
    })
}

/// A dry run: the plan against the last reading, no lock, no token.
async fn dry_run(live: &Live, req: ApplyRequest) -> Result<Response, ApiError> {
    req.desired.targets().map_err(invalid)?;
    let table = live.current().table.clone().map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read IPVS: {e}"),
        )
    })?;
    let plan = tokio::task::spawn_blocking(move || apply::plan(&req.desired, &table, req.prune))
        .await
        .map_err(|e| ApiError::internal(format!("planning failed: {e}")))?
        .map_err(invalid)?;
    tracing::debug!(changes = plan.ops.len(), "apply planned (dry run)");
    Ok(Json(answer(&plan, true, false)).into_response())
}
