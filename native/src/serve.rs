//! `lvslab serve`: the lab over HTTP (axum), everything from memory; with
//! `--live`, also this host's IPVS (see `live`).

use crate::assets;
use crate::live;
use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;

pub fn router() -> Router {
    Router::new().fallback(asset)
}

/// Plain `lvslab serve`: the page asks whether live mode is on (it is not).
fn not_live() -> Router {
    Router::new().route(
        "/api/live/status",
        axum::routing::get(|| async {
            axum::Json(serde_json::json!({ "live": false, "version": env!("CARGO_PKG_VERSION") }))
        }),
    )
}

/// Does the client take gzip (`Accept-Encoding: gzip`, not `gzip;q=0`)?
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.trim().split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q_zero = parts.any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    match assets::get_both(path) {
        Some((raw, gz)) => {
            let gzip = accepts_gzip(&headers) && gz.len() < raw.len();
            let bytes = if gzip { gz } else { raw };
            let path = if path == "/" { "/index.html" } else { path };
            let cache = if path.ends_with(".html") {
                "no-cache"
            } else {
                "public, max-age=60"
            };
            let mut resp = (
                [
                    (header::CONTENT_TYPE, assets::mime(path)),
                    (header::CACHE_CONTROL, cache),
                    (header::VARY, "accept-encoding"),
                ],
                Body::from(bytes),
            )
                .into_response();
            if gzip {
                resp.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            resp
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "404 not found\n",
        )
            .into_response(),
    }
}

/// `lvslab serve`'s options.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// `--live`: also serve this host's IPVS (the kernel's, or with
    /// `live_sim` a simulated one).
    pub live: bool,
    pub allow_apply: bool,
    pub token_file: Option<PathBuf>,
    /// `--read-token-file`: reads of the host's data need a token too.
    pub read_token_file: Option<PathBuf>,
    /// Hidden test/demo flag `--live-sim SCENARIO`: live mode over the
    /// simulator instead of the kernel.
    pub live_sim: Option<String>,
    /// Hidden `--live-sim-services N`: N more simulated services.
    pub live_sim_services: u32,
}

/// Structured logs to stderr (`LVSLAB_LOG=debug` for more).
fn init_logs() {
    let level = match std::env::var("LVSLAB_LOG").as_deref() {
        Ok("trace") => tracing::Level::TRACE,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("warn") => tracing::Level::WARN,
        Ok("error") => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The live host `opts` asks for.
fn open_live_host(opts: &Options) -> Result<Box<dyn live::LiveHost>> {
    if let Some(name) = &opts.live_sim {
        let mut h = live::SimHost::new(name, true)?;
        h.add_services(opts.live_sim_services)
            .context("adding the simulated services")?;
        return Ok(Box::new(h));
    }
    #[cfg(target_os = "linux")]
    {
        let h = live::KernelHost::open()
            .map_err(|e| anyhow::anyhow!(crate::netlink::init_error_text(&e)))
            .context("live mode reads this host's IPVS")?;
        Ok(Box::new(h))
    }
    #[cfg(not(target_os = "linux"))]
    anyhow::bail!("live mode drives the Linux kernel's IPVS: it only runs on Linux")
}

/// Where the write token can be found, for the start-up message.
enum TokenShown {
    /// On the terminal (it is printed there).
    Terminal(String),
    /// In this file (given, or written 0600).
    File(PathBuf),
}

/// The write token: from `--token-file`, else generated and shown only on
/// a terminal or written to a private file (never to a journal).
fn load_token(opts: &Options) -> Result<Option<(String, TokenShown)>> {
    use std::io::IsTerminal;
    if !opts.allow_apply {
        return Ok(None);
    }
    if let Some(path) = &opts.token_file {
        let t = crate::token::read_file(path)?;
        return Ok(Some((t, TokenShown::File(path.clone()))));
    }
    let t = live::http::new_token()?;
    if std::io::stdout().is_terminal() {
        return Ok(Some((t.clone(), TokenShown::Terminal(t))));
    }
    let dir = crate::applylock::run_dir();
    crate::applylock::private_dir(&dir).with_context(|| {
        "standard output is not a terminal, so the generated token goes to a private file; \
         give one with --token-file FILE or set LVSLAB_RUN_DIR"
    })?;
    let path = dir.join("token");
    crate::token::write_file(&path, &t)?;
    Ok(Some((t, TokenShown::File(path))))
}

pub fn run(opts: Options) -> Result<()> {
    init_logs();
    if opts.live_sim.is_some() && !opts.live {
        anyhow::bail!("--live-sim needs --live");
    }
    if (opts.allow_apply || opts.token_file.is_some() || opts.read_token_file.is_some())
        && !opts.live
    {
        anyhow::bail!(
            "--allow-apply, --token-file and --read-token-file only make sense with --live"
        );
    }
    if opts.token_file.is_some() && !opts.allow_apply {
        anyhow::bail!("--token-file is the token for writes: add --allow-apply");
    }
    let listen = opts.listen;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = rt.block_on(serve(opts, listen));
    // A host read still running (a doctor on a huge table) does not hold
    // the exit up.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    served
}

async fn serve(opts: Options, listen: SocketAddr) -> Result<()> {
    // Bound first: the Host guard needs the real port (`--listen ADDR:0`).
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            anyhow::bail!(
                "cannot listen on {listen}: the address is already in use \
                 (is another `lvslab serve` running?); choose another with --listen 127.0.0.1:PORT"
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {listen}")),
    };
    let addr = listener.local_addr()?;
    let mut limits = live::http::Limits::default();
    let mut shown = None;
    let (app, sampler) = if opts.live {
        let host = open_live_host(&opts)?;
        let token = load_token(&opts)?;
        let read_token = match &opts.read_token_file {
            Some(p) => Some(crate::token::read_file(p)?),
            None => None,
        };
        let mut cfg = live::http::Config::new(addr);
        cfg.allow_apply = opts.allow_apply;
        cfg.read_token = read_token;
        if let Some((t, s)) = token {
            cfg.token = Some(t);
            shown = Some(s);
        }
        limits = cfg.limits.clone();
        let state = live::http::Live::new(host, cfg);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let sampler = tokio::spawn(live::http::sampler(state.clone(), stop_rx));
        let app = live::http::guarded(live::http::routes(state.clone()).merge(router()), state);
        (app, Some((sampler, stop_tx)))
    } else {
        (not_live().merge(router()), None)
    };
    if opts.live && !addr.ip().is_loopback() {
        tracing::warn!(%addr, "live mode listens beyond loopback: anyone who can reach this address sees the IPVS table");
        eprintln!("lvslab: WARNING: live mode on {addr} is reachable from other machines; the API shows this host's IPVS table (use --listen 127.0.0.1:PORT and an SSH tunnel instead)");
    }
    let mut signals = Signals::new().context("catching SIGTERM and SIGINT")?;
    println!("LVS Lab is served at http://{addr}/ (Ctrl-C to stop)");
    if opts.live {
        match &shown {
            Some(TokenShown::Terminal(t)) => {
                println!("Live mode: apply enabled; write token: {t}")
            }
            Some(TokenShown::File(f)) => println!(
                "Live mode: apply enabled; the write token is in {}",
                f.display()
            ),
            None => {
                println!("Live mode: read-only (start with --allow-apply to change the kernel)")
            }
        }
        if opts.read_token_file.is_some() {
            println!("Live mode: reads of this host's data need a token");
        }
    }
    // Seen at once by whoever waits for the address (tests, scripts).
    let _ = std::io::Write::flush(&mut std::io::stdout());
    tracing::info!(%addr, live = opts.live, allow_apply = opts.allow_apply, "listening");
    let (stop_tx, sampler_task) = match sampler {
        Some((task, stop)) => (Some(stop), Some(task)),
        None => (None, None),
    };
    let shutdown = async move {
        signals.recv().await;
        tracing::info!("shutting down (a second signal exits at once)");
        tokio::spawn(async move {
            signals.recv().await;
            eprintln!("lvslab: second signal: exiting now");
            std::process::exit(130);
        });
        // Ends the sampler, which ends the open event streams.
        if let Some(s) = stop_tx {
            let _ = s.send(true);
        }
    };
    live::http::server::serve(listener, app, limits, shutdown).await;
    if let Some(t) = sampler_task {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), t).await;
    }
    Ok(())
}

/// SIGTERM and SIGINT (Ctrl-C), caught from the moment this is made: a
/// signal that arrives once the address is printed is never the default
/// (sudden) death.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
