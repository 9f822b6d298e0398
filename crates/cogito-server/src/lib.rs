//! The cogito attestation service: a guest asks for a challenge, proves
//! what it booted with evidence bound to that challenge and to an
//! ephemeral key, and receives an attestation-result token and the secrets
//! its policies grant, sealed to that key.
//!
//! Read top-down: [`config`] (what an operator sets), [`state`] (what each
//! request shares), [`http`] (routes), [`attest`] (the protocol's core
//! step), [`store`] (SQLite or PostgreSQL), [`keys`] and [`vault`] (what is
//! secret and how it is kept), [`admin`] (the operator's API).
//!
//! Verification itself is `cogito-attest`'s pipeline, the one `cogito
//! verify` runs, so a verdict online and offline never differ.

#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

pub mod admin;
pub mod attest;
pub mod cache;
pub mod collateral;
pub mod config;
pub mod consume;
pub mod error;
pub mod http;
pub mod kbs;
pub mod keys;
pub mod nonce;
pub mod policies;
pub mod pool;
pub mod state;
pub mod store;
pub mod tls;
pub mod token;
pub mod vault;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use config::Config;
pub use error::StartError;
pub use state::AppState;

/// HTTP/1's read buffer, which bounds a request's line and headers: the
/// header limit the router enforces with a problem document
/// (`limits.max_header_bytes`) plus room for the request line, so that
/// only heads far past the limit meet hyper's bare 431. Hyper's minimum is
/// 8 KiB. At most 100 headers (hyper's default, stated).
fn bound_request_heads(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &config::Limits,
) {
    let buffer = limits.max_header_bytes.saturating_add(8 << 10).max(8 << 10);
    builder.http1().max_buf_size(buffer).max_headers(100);
}

/// Latency buckets, seconds: verification takes from 50 µs (cached) to a
/// few seconds (a cold vendor fetch).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The process's Prometheus recorder, installed once (the demo and tests
/// may start several servers in one process; they share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder already installed (an embedding program's)
            // leaves ours rendering nothing, which is still a valid page.
            let _ = metrics::set_global_recorder(recorder);
            describe_metrics();
            // Counters without labels exist from the start, at zero, so a
            // dashboard and an alert see them before the first event.
            for name in [
                "cogito_store_errors_total",
                "cogito_secrets_released_total",
                "cogito_collateral_cache_hits_total",
                "cogito_collateral_fetches_total",
                "cogito_collateral_fetch_failures_total",
            ] {
                metrics::counter!(name).increment(0);
            }
            metrics::gauge!("cogito_verify_queue_depth").set(0.0);
            handle
        })
        .clone()
}

fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "cogito_http_requests_total",
        "HTTP requests by route and status"
    );
    describe_histogram!(
        "cogito_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by route"
    );
    describe_counter!("cogito_challenges_total", "Challenges issued by platform");
    describe_counter!(
        "cogito_verdicts_total",
        "Attestation verdicts by platform, result and failure code"
    );
    describe_histogram!(
        "cogito_verify_seconds",
        Unit::Seconds,
        "Evidence verification time by platform"
    );
    describe_gauge!(
        "cogito_verify_queue_depth",
        "Verifications waiting or running"
    );
    describe_counter!(
        "cogito_collateral_cache_hits_total",
        "Collateral found fresh in the store's cache"
    );
    describe_counter!(
        "cogito_collateral_fetches_total",
        "Collateral fetched from AMD's KDS or Intel's PCS (or the PCCS)"
    );
    describe_counter!(
        "cogito_collateral_fetch_failures_total",
        "Collateral fetches that failed with no stored copy to fall back on"
    );
    describe_counter!("cogito_store_errors_total", "Store operations that failed");
    describe_counter!("cogito_secrets_released_total", "Secrets sealed to guests");
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    /// The address it listens on (the real port when 0 was asked).
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The TLS certificate's SHA-256 fingerprint (hex), with TLS.
    pub fingerprint: Option<String>,
    /// The shared state (tests reach the store through it).
    pub state: Arc<AppState>,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// `scheme://addr`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to `grace`),
    /// and returns when the listener has closed.
    pub async fn shutdown(self, grace: Duration) -> std::io::Result<()> {
        for b in &self.background {
            b.abort();
        }
        self.handle.graceful_shutdown(Some(grace));
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// Opens the state, binds the listener and serves in the background.
/// `log` receives what the operator must be told at start.
pub async fn start(config: Config, log: &dyn Fn(String)) -> Result<Server, StartError> {
    let metrics = metrics_handle();
    let tls = if config.insecure_http {
        None
    } else {
        Some(tls::load(&config)?)
    };
    let state = AppState::open(config, log).await?;
    let app =
        http::router(state.clone(), metrics).into_make_service_with_connect_info::<SocketAddr>();
    let listener =
        std::net::TcpListener::bind(state.config.listen).map_err(|source| StartError::Io {
            what: format!("listening on {}", state.config.listen),
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| StartError::Io {
            what: "setting the listener non-blocking".to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Io {
        what: "reading the listener's address".to_string(),
        source,
    })?;
    let handle = axum_server::Handle::new();
    let (scheme, fingerprint, task) = match tls {
        Some(tls) => {
            if tls.self_signed {
                log(format!(
                    "TLS: self-signed certificate {} (SHA-256 fingerprint {}); guests pin that fingerprint",
                    state.config.data_dir.join("tls/cert.pem").display(),
                    tls.fingerprint
                ));
            }
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(tls.config);
            let mut server = axum_server::from_tcp_rustls(listener, rustls)
                .map_err(|source| StartError::Io {
                    what: format!("serving TLS on {addr}"),
                    source,
                })?
                .handle(handle.clone());
            bound_request_heads(server.http_builder(), &state.config.limits);
            (
                "https",
                Some(tls.fingerprint),
                tokio::spawn(server.serve(app)),
            )
        }
        None => {
            log("plain HTTP (--insecure-http): put a TLS-terminating proxy in front".to_string());
            let mut server = axum_server::from_tcp(listener)
                .map_err(|source| StartError::Io {
                    what: format!("serving on {addr}"),
                    source,
                })?
                .handle(handle.clone());
            bound_request_heads(server.http_builder(), &state.config.limits);
            ("http", None, tokio::spawn(server.serve(app)))
        }
    };
    let background = background_tasks(state.clone());
    Ok(Server {
        addr,
        scheme,
        fingerprint,
        state,
        handle,
        task,
        background,
    })
}

/// What the service does by itself: forget used nonces once they expire
/// (a nonce past its expiry is refused by its MAC'd expiry anyway), pick
/// up signing keys other replicas rotated in, and reload `--policy-dir`.
fn background_tasks(state: Arc<AppState>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let s = state.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match s.store.purge_nonces(state::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "expired nonces forgotten"),
                Err(e) => {
                    metrics::counter!("cogito_store_errors_total").increment(1);
                    tracing::warn!(error = %e, "purging expired nonces");
                }
            }
            match s.store.purge_kbs_sessions(state::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "expired KBS sessions forgotten"),
                Err(e) => {
                    metrics::counter!("cogito_store_errors_total").increment(1);
                    tracing::warn!(error = %e, "purging expired KBS sessions");
                }
            }
        }
    }));
    let s = state.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(
            u64::try_from(keys::RELOAD_SECS).unwrap_or(30),
        ));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = s.keys.reload(&*s.store).await {
                tracing::warn!(error = %e, "reloading the signing keys");
            }
        }
    }));
    if let Some(dir) = state.config.policy_dir.clone() {
        let s = state;
        tasks.push(tokio::spawn(async move {
            let mut last = stamp(&dir);
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                let now = stamp(&dir);
                if now != last {
                    last = now;
                    let errors = s.policies.reload_dir();
                    for e in &errors {
                        tracing::warn!(error = %e, "a policy file does not load; the previous version stays");
                    }
                    tracing::info!(dir = %dir.display(), refused = errors.len(), "policy directory reloaded");
                }
            }
        }));
    }
    tasks
}

type Stamp = Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)>;

/// What changes when a policy file or a file it includes does: names,
/// sizes and times, in the folder and its subfolders (a few levels).
fn stamp(dir: &std::path::Path) -> Stamp {
    fn walk(dir: &std::path::Path, depth: u8, out: &mut Stamp) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                if depth < 4 {
                    walk(&e.path(), depth.saturating_add(1), out);
                }
            } else {
                out.push((e.path(), m.len(), m.modified().ok()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, 0, &mut v);
    v.sort();
    v
}

/// Sets up logging (once per process).
/// `COGITO_LOG` (a tracing filter) wins over `default_filter`.
pub fn init_logging(format: config::LogFormat, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("COGITO_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Text => builder.try_init(),
        config::LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// `cogito serve`: runs until SIGINT or SIGTERM, then finishes the
/// requests in flight.
/// Logging is the caller's ([`init_logging`]).
pub async fn serve(config: Config) -> Result<(), StartError> {
    let server = start(config, &|line| tracing::info!("{line}")).await?;
    tracing::info!(url = %server.url(), store = %store::redact(&server.state.config.store_url()), "serving");
    shutdown_signal().await;
    tracing::info!("shutting down; finishing requests in flight");
    server
        .shutdown(Duration::from_secs(30))
        .await
        .map_err(|source| StartError::Io {
            what: "serving".to_string(),
            source,
        })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
