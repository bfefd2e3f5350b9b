//! A Prometheus recorder for jwt-guard's metrics and a mountable, token-protected
//! `GET /metrics` (feature `prometheus`). Installing a recorder is the
//! application's decision: nothing is installed until it calls
//! [`PrometheusMetrics::install`].
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use jwt_guard::prometheus::{prometheus_routes, PrometheusMetrics};
//! let metrics = PrometheusMetrics::install("a long random scrape token")?;
//! let rocket = rocket::build()
//!     .attach(jwt_guard::JwtGuard::fairing())
//!     .manage(metrics)
//!     .mount("/", prometheus_routes());
//! # Ok(()) }
//! ```

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use crate::error::AuthError;
use crate::error::Rejection;
use crate::guard::bearer_token;
use crate::manifest::{declare_route, Protection};
use crate::private_response::mark_private;
use crate::request::RequestRef;
use crate::secret::TokenDigest;

/// The process's Prometheus recorder, once installed.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static INSTALLING: Mutex<()> = Mutex::new(());

/// How often histogram samples are folded into their summaries without a scrape
/// (the interval `PrometheusBuilder::install` gives its own upkeep task).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The name of the thread that runs the recorder's upkeep (Linux shows 15
/// characters of a thread's name).
pub const UPKEEP_THREAD: &str = "metrics-upkeep";

/// A recorder from `install_recorder` keeps every histogram sample (one a
/// request, for the authentication duration) until a scrape or an upkeep drains
/// it: without this, an instance nobody scrapes grows by every request it serves
/// (measured: 3.4 MB over 200,000 requests). One thread, asleep but for a
/// drain every [`UPKEEP_EVERY`], independent of any async runtime.
fn spawn_upkeep(handle: PrometheusHandle) -> Result<(), PrometheusError> {
    std::thread::Builder::new()
        .name(UPKEEP_THREAD.to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        })
        .map(drop)
        .map_err(PrometheusError::Upkeep)
}

/// The Prometheus recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrometheusError {
    /// The exporter refused (another `metrics` recorder is installed, say).
    #[error("cannot install the Prometheus recorder")]
    Install(#[source] metrics_exporter_prometheus::BuildError),
    /// The thread that keeps the recorder's memory bounded could not start.
    #[error("cannot start the metrics upkeep thread")]
    Upkeep(#[source] std::io::Error),
    /// An earlier installation panicked while it held the installation lock.
    #[error("an earlier installation of the Prometheus recorder panicked")]
    Poisoned,
}

/// The Prometheus recorder and the token a scraper must send. Manage it
/// (`rocket.manage(metrics)`) and mount [`prometheus_routes`].
pub struct PrometheusMetrics {
    handle: PrometheusHandle,
    token: TokenDigest,
}

impl std::fmt::Debug for PrometheusMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusMetrics").finish_non_exhaustive()
    }
}

impl PrometheusMetrics {
    /// Installs a Prometheus recorder as the process's `metrics` recorder (once;
    /// later calls reuse it) and protects `GET /metrics` with `token`, sent as
    /// `Authorization: Bearer <token>`. Only the token's digest is kept.
    pub fn install(token: &str) -> Result<Self, PrometheusError> {
        let handle = match HANDLE.get() {
            Some(handle) => handle.clone(),
            None => {
                let _guard = INSTALLING.lock().map_err(|_| PrometheusError::Poisoned)?;
                match HANDLE.get() {
                    Some(handle) => handle.clone(),
                    None => {
                        let handle = PrometheusBuilder::new()
                            .install_recorder()
                            .map_err(PrometheusError::Install)?;
                        let _ = HANDLE.set(handle.clone());
                        spawn_upkeep(handle.clone())?;
                        handle
                    }
                }
            }
        };
        Ok(Self {
            handle,
            token: TokenDigest::of(token.as_bytes()),
        })
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// `GET /metrics`: the Prometheus text format for a scraper that sends the
/// configured token (`401` otherwise, compared by digest in constant time).
#[get("/metrics")]
fn metrics(
    req: RequestRef<'_>,
    state: &State<PrometheusMetrics>,
) -> Result<(ContentType, String), AuthError> {
    mark_private(req.0);
    let prefixes = ["Bearer".to_owned()];
    let Some(token) = bearer_token(req.0, &prefixes)? else {
        return Err(Rejection::NoToken.into());
    };
    if !TokenDigest::of(token.as_bytes()).matches(&state.token) {
        return Err(Rejection::NotTheMetricsToken.into());
    }
    let text = ContentType::new("text", "plain").with_params(("version", "0.0.4"));
    Ok((text, state.render()))
}

declare_route!(metrics, Get, "/metrics", Protection::StaticToken);

/// `GET /metrics` (needs a managed [`PrometheusMetrics`]).
pub fn prometheus_routes() -> Vec<Route> {
    routes![metrics]
}
