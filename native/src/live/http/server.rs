//! The HTTP/1.1 server under the API (hyper, one task per connection),
//! built to hold against slow and greedy clients:
//!
//! - a request's headers must arrive within `header_timeout` (hyper closes
//!   the connection otherwise), its body within `body_timeout` (the JSON
//!   extractor answers 408), and a connection with no request in progress
//!   is closed after `idle_timeout`;
//! - at most `max_connections` are open: at the cap, a new connection
//!   closes the one idle the longest (a kept-alive connection, or one that
//!   has not finished sending its request — slowloris), so half-open
//!   connections can never lock a real client out; when every connection is
//!   busy the new one is closed at once;
//! - a response the client does not take (it stopped reading: the next
//!   part of the body waits on a full socket) for `send_timeout` closes
//!   its connection, so unread answers cannot hold connections (or, in
//!   [`super::guard`], the permits of requests without a token) for ever;
//! - shutdown stops accepting, closes every idle or half-sent connection at
//!   once, lets requests in progress finish for `shutdown_grace`, then drops
//!   what is left.
//!
//! Each request carries the peer's address (`ConnectInfo`) for the logs and
//! the audit lines.

use super::state::Limits;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// One open connection, as the registry sees it.
struct Slot {
    /// Requests in progress (a response body still streaming counts).
    busy: AtomicUsize,
    /// When a request last started or ended (ms since the registry began).
    last: AtomicU64,
    /// Picked to make way for a new connection (no longer counted).
    evicted: AtomicBool,
    /// A response body gave hyper a frame that it has not finished
    /// sending yet (it asks for the next one only once the socket has
    /// taken most of it), and since when (ms).
    sending: AtomicBool,
    sent_at: AtomicU64,
    /// The client stopped taking its response: close it, busy or not.
    stalled: AtomicBool,
    /// Close it: idle too long, evicted, or shutting down.
    kill: Notify,
}

/// The open connections.
struct Registry {
    epoch: Instant,
    next: AtomicU64,
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    shutting_down: AtomicBool,
}

impl Registry {
    fn new() -> Registry {
        Registry {
            epoch: Instant::now(),
            next: AtomicU64::new(0),
            slots: Mutex::new(BTreeMap::new()),
            shutting_down: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Room for one more connection (closing the longest-idle one at the
    /// cap); `None` when every connection is busy.
    fn admit(self: &Arc<Self>, max: usize) -> Option<SlotGuard> {
        let mut slots = self.slots();
        let counted = || slots.values().filter(|s| !s.evicted.load(Ordering::SeqCst));
        if counted().count() >= max {
            let victim = counted()
                .filter(|s| s.busy.load(Ordering::SeqCst) == 0)
                .min_by_key(|s| s.last.load(Ordering::SeqCst))?;
            victim.evicted.store(true, Ordering::SeqCst);
            victim.kill.notify_one();
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            last: AtomicU64::new(self.now()),
            evicted: AtomicBool::new(false),
            sending: AtomicBool::new(false),
            sent_at: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
            kill: Notify::new(),
        });
        slots.insert(id, slot.clone());
        Some(SlotGuard {
            registry: self.clone(),
            id,
            slot,
        })
    }

    /// Close the connections idle for longer than `idle`, and those whose
    /// client has not taken a response for `send`.
    fn reap(&self, idle: Duration, send: Duration) {
        let now = self.now();
        let idle = idle.as_millis() as u64;
        let send = send.as_millis() as u64;
        for s in self.slots().values() {
            if s.busy.load(Ordering::SeqCst) == 0 {
                if now.saturating_sub(s.last.load(Ordering::SeqCst)) >= idle {
                    s.kill.notify_one();
                }
            } else if s.sending.load(Ordering::SeqCst)
                && now.saturating_sub(s.sent_at.load(Ordering::SeqCst)) >= send
            {
                s.stalled.store(true, Ordering::SeqCst);
                s.kill.notify_one();
            }
        }
    }

    fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for s in self.slots().values() {
            s.kill.notify_one();
        }
    }

    fn open(&self) -> usize {
        self.slots().len()
    }
}

/// A connection's place in the registry, given back when it ends.
struct SlotGuard {
    registry: Arc<Registry>,
    id: u64,
    slot: Arc<Slot>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.registry.slots().remove(&self.id);
    }
}

/// A request in progress on a connection (until its response body ends).
struct Busy {
    registry: Arc<Registry>,
    slot: Arc<Slot>,
}

impl Busy {
    fn new(registry: Arc<Registry>, slot: Arc<Slot>) -> Busy {
        slot.busy.fetch_add(1, Ordering::SeqCst);
        slot.last.store(registry.now(), Ordering::SeqCst);
        Busy { registry, slot }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.slot.sending.store(false, Ordering::SeqCst);
        self.slot.last.store(self.registry.now(), Ordering::SeqCst);
        self.slot.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its connection marked busy while it streams.
struct Tracked {
    inner: axum::body::Body,
    _busy: Busy,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        // Asked again: what was given before has (mostly) been sent.
        let slot = &this._busy.slot;
        if matches!(r, Poll::Ready(Some(Ok(_)))) {
            slot.sent_at
                .store(this._busy.registry.now(), Ordering::SeqCst);
            slot.sending.store(true, Ordering::SeqCst);
        } else {
            slot.sending.store(false, Ordering::SeqCst);
        }
        r
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serve `app` on `listener` until `shutdown` completes, then shut down as
/// the module says.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let registry = Arc::new(Registry::new());
    let mut tasks = JoinSet::new();
    let reaper = {
        let registry = registry.clone();
        let idle = limits.idle_timeout;
        let send = limits.send_timeout;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(
                (idle.min(send) / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)),
            );
            loop {
                tick.tick().await;
                registry.reap(idle, send);
            }
        })
    };
    let mut refused_logged = Instant::now() - Duration::from_secs(60);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors, most likely: let some
                        // connections end before trying again.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(slot) = registry.admit(limits.max_connections) else {
                    if refused_logged.elapsed() > Duration::from_secs(10) {
                        refused_logged = Instant::now();
                        tracing::warn!(max = limits.max_connections, "connection refused: every connection is busy");
                    }
                    drop(stream);
                    continue;
                };
                tasks.spawn(connection(stream, peer, app.clone(), slot, limits.clone()));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    tracing::debug!(open = registry.open(), "closing connections");
    registry.shut_down();
    let grace = tokio::time::sleep(limits.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            () = &mut grace => {
                tracing::info!(open = tasks.len(), "shutdown: dropping requests still in progress");
                tasks.abort_all();
                break;
            }
            next = tasks.join_next() => if next.is_none() { break },
        }
    }
    while tasks.join_next().await.is_some() {}
    reaper.abort();
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    guard: SlotGuard,
    limits: Limits,
) {
    let _ = stream.set_nodelay(true);
    let registry = guard.registry.clone();
    let slot = guard.slot.clone();
    let service = {
        let registry = registry.clone();
        let slot = slot.clone();
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::new(registry.clone(), slot.clone());
            let mut app = app.clone();
            async move {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                let resp = match tower_service::Service::call(&mut app, req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                Ok::<_, std::convert::Infallible>(resp.map(|inner| Tracked { inner, _busy: busy }))
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                return;
            }
            () = slot.kill.notified() => {
                if slot.busy.load(Ordering::SeqCst) == 0 {
                    return; // idle or half-sent: nothing to lose
                }
                if slot.stalled.load(Ordering::SeqCst) {
                    tracing::debug!(%peer, "closed: the client stopped taking its response");
                    return;
                }
                if registry.shutting_down.load(Ordering::SeqCst) {
                    // Finish what is in progress, then close (bounded by
                    // the shutdown's grace).
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                    return;
                }
                // Busy again since it was picked: keep it (counted again).
                slot.evicted.store(false, Ordering::SeqCst);
            }
        }
    }
}
