//! The state the handlers share: the live host behind one lock, the
//! snapshot the sampler publishes every period (serialised once, for every
//! event stream and every read within the period), and the doctor and
//! snapshot answers cached for the period.

use super::errors::{Answer, ApiError};
use super::guard::AllowedHosts;
use crate::live::{ConnsView, LiveHost, ServiceView, ServicesView, Source, MAX_CONNS};
use axum::body::Bytes;
use lvslab_engine::ipvs::ServiceEntry;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// How often the event stream gets a snapshot.
pub const SNAPSHOT_PERIOD: Duration = Duration::from_secs(1);

/// What the server tolerates from clients.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most. At the cap a new connection closes the
    /// longest-idle one (or a half-sent request); when every connection is
    /// busy it is refused.
    pub max_connections: usize,
    /// Requests without a valid token handled at once; more get 503.
    pub max_unauthenticated: usize,
    /// Event streams without a valid token open at once; more get 503.
    /// With `max_unauthenticated` it stays well under `max_connections`,
    /// so streams (never idle) cannot fill every connection and lock out
    /// a token holder.
    pub max_streams: usize,
    /// A request's headers must arrive within this.
    pub header_timeout: Duration,
    /// A request's body must arrive within this (408 otherwise).
    pub body_timeout: Duration,
    /// A connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// A connection whose client takes none of its response for this long
    /// (it stopped reading) is closed.
    pub send_timeout: Duration,
    /// At shutdown, requests in progress get this long to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            max_unauthenticated: 64,
            max_streams: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(4),
        }
    }
}

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `--allow-apply`: the write endpoint changes the host.
    pub allow_apply: bool,
    /// The bearer token writes need (set when `allow_apply`).
    pub token: Option<String>,
    /// `--read-token-file`: the token reads of host data need (the write
    /// token also reads).
    pub read_token: Option<String>,
    pub limits: Limits,
    /// How often the host is sampled.
    pub period: Duration,
}

impl Config {
    pub fn new(listen: SocketAddr) -> Config {
        Config {
            listen,
            allow_apply: false,
            token: None,
            read_token: None,
            limits: Limits::default(),
            period: SNAPSHOT_PERIOD,
        }
    }
}

/// One live host shared by the handlers, the sampler and applies.
pub type SharedHost = Arc<Mutex<Box<dyn LiveHost>>>;

/// One reading of the host, ready to send.
#[derive(Debug)]
pub struct Published {
    pub seq: u64,
    pub time_ms: u64,
    /// The table as read, for dry runs planned within the period.
    pub table: Result<Arc<Vec<ServiceEntry>>, String>,
    /// The `event: snapshot` frame of the event stream.
    pub sse: Bytes,
    /// The `/api/live/services` and `/api/live/connections` answers.
    pub services: Answer,
    pub connections: Answer,
    /// The same compressed ([`super::gzip`]), once a client has asked for
    /// gzip (never before: nobody may want it).
    pub services_gz: Option<Bytes>,
    pub sse_gz: Option<super::gzip::Frame>,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct Live {
    host: SharedHost,
    source: Source,
    cfg: Arc<Config>,
    hosts: Arc<AllowedHosts>,
    pub(super) apply_lock: Arc<tokio::sync::Mutex<()>>,
    published: Arc<watch::Sender<Arc<Published>>>,
    seq: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
    /// A client has asked for gzip: readings are compressed from now on.
    gzip_wanted: Arc<AtomicBool>,
    unauthenticated: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    cache: Arc<tokio::sync::Mutex<Cache>>,
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock(host: &SharedHost) -> std::sync::MutexGuard<'_, Box<dyn LiveHost>> {
    // A panic while reading leaves the host as it was (reads do not change
    // it); keep serving rather than failing every later request.
    host.lock().unwrap_or_else(|e| e.into_inner())
}

/// `{head…, body…}`: two serialised JSON objects made one, so a part
/// serialised once is shared by the answers it appears in.
fn join_objects(head: &[u8], body: &[u8]) -> Vec<u8> {
    let head = head.strip_suffix(b"}").unwrap_or(head);
    let body = body.strip_prefix(b"{").unwrap_or(body);
    let mut out = Vec::with_capacity(head.len() + body.len() + 1);
    out.extend_from_slice(head);
    if body != b"}" && head != b"{" {
        out.push(b',');
    }
    out.extend_from_slice(body);
    out
}

#[derive(Serialize)]
struct Stamp<'a> {
    time_ms: u64,
    source: &'a Source,
}

#[derive(Serialize)]
struct EventHead<'a> {
    seq: u64,
    time_ms: u64,
    source: &'a Source,
    error: Option<&'a str>,
}

fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    // Our own plain structs: serialising them cannot fail.
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// Read `host` once and serialise every view of it once (and compress the
/// large ones once, with `gzip`).
pub fn read_published(host: &mut dyn LiveHost, seq: u64, gzip: bool) -> Published {
    let source = host.source();
    let time_ms = now_ms();
    let stamp = to_vec(&Stamp {
        time_ms,
        source: &source,
    });
    let table = {
        let mut b = host.backend();
        b.services().and_then(|s| Ok((s, b.timeouts()?)))
    };
    let (table, services_json, services) = match table {
        Ok((entries, timeouts)) => {
            let view = ServicesView {
                services: entries.iter().map(ServiceView::of).collect(),
                timeouts,
            };
            let json = to_vec(&view);
            let answer = Answer {
                status: axum::http::StatusCode::OK,
                body: join_objects(&stamp, &json).into(),
            };
            (Ok(Arc::new(entries)), json, answer)
        }
        Err(e) => {
            let msg = e.to_string();
            let answer = ApiError::backend(e).answer();
            (Err(msg), b"null".to_vec(), answer)
        }
    };
    let conns: Result<ConnsView, _> = host.connections(MAX_CONNS);
    let (conns_json, connections, conn_error) = match conns {
        Ok(c) => {
            let json = to_vec(&c);
            let answer = Answer {
                status: axum::http::StatusCode::OK,
                body: join_objects(&stamp, &json).into(),
            };
            (json, answer, None)
        }
        Err(e) => {
            let msg = e.to_string();
            (b"null".to_vec(), ApiError::backend(e).answer(), Some(msg))
        }
    };
    let error = table.as_ref().err().cloned().or(conn_error);
    let head = to_vec(&EventHead {
        seq,
        time_ms,
        source: &source,
        error: error.as_deref(),
    });
    let mut data = head.strip_suffix(b"}").unwrap_or(&head).to_vec();
    data.extend_from_slice(b",\"services\":");
    data.extend_from_slice(&services_json);
    data.extend_from_slice(b",\"connections\":");
    data.extend_from_slice(&conns_json);
    data.push(b'}');
    let mut sse = format!("event: snapshot\nid: {seq}\ndata: ").into_bytes();
    sse.extend_from_slice(&data);
    sse.extend_from_slice(b"\n\n");
    let services_gz =
        (gzip && services.status.is_success() && services.body.len() >= super::gzip::MIN_SIZE)
            .then(|| super::gzip::member(&services.body))
            .flatten();
    let sse_gz = gzip.then(|| super::gzip::Frame::of(&sse)).flatten();
    Published {
        seq,
        time_ms,
        table,
        sse: sse.into(),
        services,
        connections,
        services_gz,
        sse_gz,
    }
}

/// Answers computed on demand and kept for one period.
#[derive(Default)]
struct Cache {
    entries: Vec<(String, Instant, Answer)>,
}

/// Different doctor queries kept at most.
const CACHE_ENTRIES: usize = 16;

impl Live {
    /// Shared state for `host`, with a first reading of it.
    pub fn new(host: Box<dyn LiveHost>, cfg: Config) -> Live {
        let mut host = host;
        let first = read_published(host.as_mut(), 0, false);
        let source = host.source();
        let (tx, _) = watch::channel(Arc::new(first));
        let hosts = AllowedHosts::for_listen(cfg.listen);
        Live {
            host: Arc::new(Mutex::new(host)),
            source,
            unauthenticated: Arc::new(Semaphore::new(cfg.limits.max_unauthenticated)),
            streams: Arc::new(Semaphore::new(cfg.limits.max_streams)),
            cfg: Arc::new(cfg),
            hosts: Arc::new(hosts),
            apply_lock: Arc::new(tokio::sync::Mutex::new(())),
            published: Arc::new(tx),
            seq: Arc::new(AtomicU64::new(0)),
            closed: Arc::new(AtomicBool::new(false)),
            gzip_wanted: Arc::new(AtomicBool::new(false)),
            cache: Arc::new(tokio::sync::Mutex::new(Cache::default())),
        }
    }

    pub fn host(&self) -> SharedHost {
        self.host.clone()
    }
    pub fn cfg(&self) -> &Config {
        &self.cfg
    }
    pub fn source(&self) -> &Source {
        &self.source
    }
    pub(super) fn allowed_hosts(&self) -> &AllowedHosts {
        &self.hosts
    }

    /// The latest reading.
    pub fn current(&self) -> Arc<Published> {
        self.published.borrow().clone()
    }
    /// Compress every reading from the next one on (a client takes gzip).
    pub(super) fn want_gzip(&self) {
        self.gzip_wanted.store(true, Ordering::SeqCst);
    }
    /// Readings as they are published.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Published>> {
        self.published.subscribe()
    }

    /// A permit to serve one request without a token; `None` when the cap
    /// is reached. (`Some(None)`-style callers use it for token holders.)
    pub(super) fn unauthenticated_permit(&self) -> Option<Option<OwnedSemaphorePermit>> {
        self.unauthenticated
            .clone()
            .try_acquire_owned()
            .ok()
            .map(Some)
    }

    /// A permit for one event stream without a token; `None` at the cap.
    pub(super) fn stream_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.streams.clone().try_acquire_owned().ok()
    }

    /// The apply lock, for tests that hold it.
    pub fn apply_lock(&self) -> Arc<tokio::sync::Mutex<()>> {
        self.apply_lock.clone()
    }

    /// Read `host` (whose lock the caller holds) and publish the reading.
    pub fn publish(&self, host: &mut dyn LiveHost) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let p = read_published(host, seq, self.gzip_wanted.load(Ordering::SeqCst));
        if let Err(e) = &p.table {
            tracing::warn!(error = %e, "live host unreadable");
        }
        self.published.send_replace(Arc::new(p));
    }

    /// Read the host now and publish it (after a change), dropping the
    /// cached answers.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let live = self.clone();
        self.with_host(move |h| live.publish(h)).await?;
        self.cache.lock().await.entries.clear();
        Ok(())
    }

    /// Drop the cached answers (the table changed).
    pub(super) async fn forget_cached(&self) {
        self.cache.lock().await.entries.clear();
    }

    /// The answer for `key` computed within the last period, else one made
    /// now (one at a time: concurrent askers wait for it and share it), in
    /// two steps: `read` on the host (holding it), then `finish` without
    /// it, so the sampler and applies do not wait for the work on what was
    /// read.
    pub(super) async fn cached<T: Send + 'static>(
        &self,
        key: String,
        read: impl FnOnce(&mut dyn LiveHost) -> T + Send + 'static,
        finish: impl FnOnce(T) -> Answer + Send + 'static,
    ) -> Result<Answer, ApiError> {
        let mut cache = self.cache.lock().await;
        let period = self.cfg.period;
        cache.entries.retain(|(_, at, _)| at.elapsed() < period);
        if let Some((_, _, a)) = cache.entries.iter().find(|(k, _, _)| *k == key) {
            return Ok(a.clone());
        }
        let read = self.with_host(read).await?;
        let a = tokio::task::spawn_blocking(move || finish(read))
            .await
            .map_err(|e| ApiError::internal(format!("the answer could not be made: {e}")))?;
        if cache.entries.len() >= CACHE_ENTRIES {
            cache.entries.remove(0);
        }
        cache.entries.push((key, Instant::now(), a.clone()));
        Ok(a)
    }

    /// Run `f` on the host off the async threads.
    pub(super) async fn with_host<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn LiveHost) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let host = self.host.clone();
        tokio::task::spawn_blocking(move || {
            let mut h = lock(&host);
            f(h.as_mut())
        })
        .await
        .map_err(|e| ApiError::internal(format!("the host reader failed: {e}")))
    }
}

/// Sample the host every period until `stop` fires, then close the stream
/// (which ends every open event stream, so shutdown is not held up).
pub async fn sampler(live: Live, mut stop: watch::Receiver<bool>) {
    let mut last = Instant::now();
    let mut interval = tokio::time::interval(live.cfg.period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => break,
        }
        let elapsed = last.elapsed();
        last = Instant::now();
        let l = live.clone();
        let r = live
            .with_host(move |h| {
                h.tick(elapsed);
                l.publish(h);
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e.message, "snapshot task failed");
        }
    }
    // Closed first, then every stream woken: each sees it and ends.
    live.closed.store(true, Ordering::SeqCst);
    live.published.send_replace(live.current());
    tracing::debug!("sampler stopped");
}

impl Live {
    /// Has the sampler stopped (shutdown)? Event streams end then.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}
