//! The live JSON API, its guards and the HTTP server under it.
//!
//! A server that can change a production kernel's load balancing is
//! guarded the way a browser-facing admin port must be: every request's
//! `Host` must name the listen address (a DNS-rebinding page reaches us
//! under its own name), an `Origin`, when a browser sends one, must be this
//! server's (no cross-site requests), API requests a browser marks
//! `Sec-Fetch-Site: cross-site` are refused, bodies are size-limited and
//! time-limited, JSON is parsed strictly (unknown fields, wrong types and
//! syntax errors are answered with a JSON error naming the problem), writes
//! need `Authorization: Bearer TOKEN` (compared in constant time) and
//! `--allow-apply`, and applies run one at a time.
//!
//! It also holds under load and attack ([`server`]): header, body and idle
//! timeouts, a cap on connections (the longest-idle or half-sent one makes
//! way for a new one) and on requests without a token served at once, and
//! a shutdown that ends within 5 s. Every reading of the host is serialised
//! once ([`state`]) and shared by every event stream and every read within
//! the period (compressed once too, for clients that take gzip); the doctor
//! and the host snapshot are computed at most once per period.
//!
//! - `guard`: Host/Origin/Sec-Fetch-Site, tokens, shedding, JSON errors;
//! - `state`: the shared host, the sampler, the published readings, caches;
//! - `api`: the read endpoints and the event stream;
//! - `apply`: the write endpoint;
//! - `errors`: error answers and strict JSON bodies;
//! - `gzip`: the large answers and the event stream compressed once;
//! - `server`: the accept loop, connections and shutdown.

mod api;
mod apply;
mod errors;
mod guard;
mod gzip;
pub mod server;
mod state;

pub use api::{guarded, new_token, routes, DoctorQuery};
pub use apply::ApplyRequest;
pub use errors::{Answer, ApiError, StrictJson};
pub use guard::{bearer, constant_time_eq, AllowedHosts, Auth, Peer};
pub use state::{
    read_published, sampler, Config, Limits, Live, Published, SharedHost, SNAPSHOT_PERIOD,
};

/// Largest request body accepted (an apply of a few hundred services).
pub const BODY_LIMIT: usize = 64 * 1024;
