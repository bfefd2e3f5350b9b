//! What jwt-guard tells operators, in one place: metrics through the `metrics`
//! facade (feature `metrics`; the application installs a recorder, jwt-guard never
//! does) and log events named after the OWASP logging vocabulary
//! (`authn_login_fail`, `authn_token_reuse`, …). Every label is bounded: route
//! templates, issuer names from the configuration, fixed enums — never a subject,
//! an id, a token or a raw path.

/// A security event named after the OWASP logging vocabulary, with fields: a
/// `tracing` event (feature `tracing`; without a subscriber it reaches `log`),
/// else a `log` record. Target `jwt_guard::events`.
macro_rules! security_event {
    ($level:ident, $name:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        #[cfg(feature = "tracing")]
        tracing::$level!(target: "jwt_guard::events", $($key = %$value,)* "{}", $name);
        #[cfg(not(feature = "tracing"))]
        {
            #[allow(unused_mut)]
            let mut fields = String::new();
            $( fields.push_str(&format!(" {}={}", stringify!($key), $value)); )*
            log::$level!(target: "jwt_guard::events", "{}{}", $name, fields);
        }
    }};
}

/// An error and its sources, `: `-separated, for the log: messages never
/// repeat their source, so a log line prints the chain.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            write!(f, ": {source}")?;
            next = source.source();
        }
        Ok(())
    }
}

/// The span of one authentication (`jwt_guard.authenticate`, feature `tracing`):
/// the route template (never the raw path), the issuer, the token's `kid` and
/// `alg` (from its header, read only when a subscriber listens), and at the end
/// the scheme the credentials came with, the result and the RFC 6750 error code.
/// (The scheme is known once the request was read for its token: recording it
/// then spares the guard a second look-up of `Authorization`.)
pub(crate) struct AuthSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl AuthSpan {
    /// Opens the span for a check of the token `token` finds (a bearer token's
    /// text), which is looked for only when a subscriber listens.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn start<'t>(
        route: &str,
        issuer: Option<&'static str>,
        token: impl FnOnce() -> Option<&'t str>,
    ) -> Self {
        #[cfg(feature = "tracing")]
        {
            let span = tracing::info_span!(
                "jwt_guard.authenticate",
                route = %route,
                scheme = tracing::field::Empty,
                issuer = issuer.unwrap_or("own"),
                kid = tracing::field::Empty,
                alg = tracing::field::Empty,
                result = tracing::field::Empty,
                error = tracing::field::Empty,
            );
            if !span.is_disabled() {
                if let Some(header) = token().and_then(|t| jsonwebtoken::decode_header(t).ok()) {
                    if let Some(kid) = header.kid.as_deref() {
                        // A `kid` is the sender's text: bounded, printable only.
                        let kid: String = kid
                            .chars()
                            .filter(|c| c.is_ascii_graphic())
                            .take(64)
                            .collect();
                        span.record("kid", kid.as_str());
                    }
                    span.record("alg", format!("{:?}", header.alg).as_str());
                }
            }
            Self { span }
        }
        #[cfg(not(feature = "tracing"))]
        Self {}
    }

    /// The span, to run the check inside.
    #[cfg(feature = "tracing")]
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Records how the check ended: the `scheme` the credentials came with,
    /// `result` (`success`, `denied`, `failure`) and the error code, if any.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn finish(
        &self,
        scheme: &'static str,
        result: &'static str,
        error: Option<&'static str>,
    ) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("scheme", scheme);
            self.span.record("result", result);
            if let Some(error) = error {
                self.span.record("error", error);
            }
        }
    }
}

/// The template of the route serving `req` (`/auth/devices/<id>`), never the raw
/// path: a bounded label that carries no id.
pub(crate) fn route_template<'r>(req: &'r rocket::Request<'_>) -> &'r str {
    req.route().map_or("", |r| r.uri.path())
}

/// Runs `check` — an authentication by `scheme` (`link`, `permanent`) on `route`
/// — inside its span, and counts it as [`authenticated`] does.
pub(crate) async fn checking<T, E>(
    route: &str,
    scheme: &'static str,
    check: impl std::future::Future<Output = Result<T, E>>,
    code: impl Fn(&E) -> &'static str,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    let span = AuthSpan::start(route, None, || None);
    #[cfg(feature = "tracing")]
    let outcome = {
        use tracing::Instrument as _;
        check.instrument(span.span().clone()).await
    };
    #[cfg(not(feature = "tracing"))]
    let outcome = check.await;
    let seconds = started.elapsed().as_secs_f64();
    match &outcome {
        Ok(_) => {
            span.finish(scheme, "success", None);
            authenticated(scheme, "success", seconds);
        }
        Err(e) => {
            span.finish(scheme, "failure", Some(code(e)));
            authenticated(scheme, code(e), seconds);
        }
    }
    outcome
}

/// Counts one authentication attempt of a protected route and how long it took.
pub(crate) fn authenticated(scheme: &'static str, result: &'static str, seconds: f64) {
    #[cfg(feature = "metrics")]
    {
        let (count, time) = authentication_handles(scheme, result);
        count.increment(1);
        time.record(seconds);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (scheme, result, seconds);
}

/// The handles [`authenticated`] counts with: attempts and their duration.
#[cfg(feature = "metrics")]
fn authentication_handles(
    scheme: &'static str,
    result: &'static str,
) -> (metrics::Counter, metrics::Histogram) {
    (
        metrics::counter!("jwt_guard_authentications_total", "scheme" => scheme, "result" => result),
        metrics::histogram!(
            "jwt_guard_authentication_duration_seconds",
            "scheme" => scheme, "result" => result
        ),
    )
}

/// The guard's per-request metrics ([`authenticated`] and the authorization
/// decisions), their handles held by the runtime of one Rocket instance.
///
/// The `metrics` facade finds a handle by name and labels on every call (a key
/// built and hashed, a registry lock): per request that cost more than the token
/// check itself. Its documentation's answer is to hold the handle, "to amortize
/// the cost of registration". Each label set is registered once, with the
/// recorder in force at its first use: install the recorder before launch (as
/// [`PrometheusMetrics::install`](crate::prometheus::PrometheusMetrics::install)
/// is) — one installed after the first request is not seen by this instance.
#[derive(Default)]
pub(crate) struct HeldMetrics {
    #[cfg(feature = "metrics")]
    held: std::sync::RwLock<Held>,
}

/// The handles, by their labels. Both label sets are bounded (fixed schemes and
/// results; the application's route templates), so the maps stay small.
#[cfg(feature = "metrics")]
#[derive(Default)]
struct Held {
    /// `(scheme, result)` → the attempts counter and the duration histogram.
    authentications: Vec<(
        (&'static str, &'static str),
        metrics::Counter,
        metrics::Histogram,
    )>,
    /// Route template → the decisions counter for `allowed` and for `denied`
    /// (each registered when first counted).
    authorizations: std::collections::HashMap<Box<str>, [Option<metrics::Counter>; 2]>,
}

impl std::fmt::Debug for HeldMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldMetrics").finish_non_exhaustive()
    }
}

impl HeldMetrics {
    /// [`authenticated`], through held handles.
    pub(crate) fn authenticated(&self, scheme: &'static str, result: &'static str, seconds: f64) {
        #[cfg(feature = "metrics")]
        {
            let found = self.held.read().ok().and_then(|held| {
                held.authentications
                    .iter()
                    .find(|(labels, _, _)| *labels == (scheme, result))
                    .map(|(_, count, time)| {
                        count.increment(1);
                        time.record(seconds);
                    })
            });
            if found.is_none() {
                let (count, time) = authentication_handles(scheme, result);
                count.increment(1);
                time.record(seconds);
                if let Ok(mut held) = self.held.write() {
                    held.authentications.push(((scheme, result), count, time));
                }
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (scheme, result, seconds);
    }

    /// Counts one authorization decision (`allowed` or `denied`) on `route` (its
    /// template), through held handles.
    pub(crate) fn authorized(&self, route: &str, allowed: bool) {
        let result = if allowed { "allowed" } else { "denied" };
        if !allowed {
            security_event!(info, "authz_fail", route = route, result = result);
        }
        #[cfg(feature = "metrics")]
        {
            let at = usize::from(!allowed);
            let found = self.held.read().ok().and_then(|held| {
                held.authorizations
                    .get(route)
                    .and_then(|counters| counters[at].as_ref())
                    .map(|counter| counter.increment(1))
            });
            if found.is_none() {
                let counter = metrics::counter!(
                    "jwt_guard_authorizations_total",
                    "route" => route.to_owned(), "result" => result
                );
                counter.increment(1);
                if let Ok(mut held) = self.held.write() {
                    held.authorizations.entry(route.into()).or_default()[at] = Some(counter);
                }
            }
        }
    }
}

/// A login by `method` (`password`, `link`, or the app's own) ended `result`
/// (`success`, `failure`, `throttled`).
pub(crate) fn login(method: &str, result: &'static str) {
    if result == "success" {
        security_event!(info, "session_created", method = method);
    }
    let event = match result {
        "success" => "authn_login_success",
        "throttled" => "authn_login_fail_max",
        _ => "authn_login_fail",
    };
    security_event!(info, event, method = method);
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "jwt_guard_logins_total",
        "method" => bounded_method(method), "result" => result
    )
    .increment(1);
}

/// A refresh ended `result`: `rotated`, `grace` (a retry answered with the same
/// successor), `reuse` (a spent token: the device is revoked), `refused`.
pub(crate) fn refreshed(result: &'static str) {
    match result {
        "reuse" => security_event!(warn, "authn_token_reuse"),
        "rotated" => security_event!(info, "authn_token_created", kind = "refresh"),
        _ => {}
    }
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_refreshes_total", "result" => result).increment(1);
}

/// Revocations written, by what they revoke (`jti`: one token, `device`: a
/// device's every token — a logout, a reuse, a deleted device —, `subject`: every
/// token of a user).
pub(crate) fn revoked(kind: &'static str) {
    security_event!(info, "authn_token_revoked", kind = kind);
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_revocations_total", "kind" => kind).increment(1);
}

/// A signal from an outside issuer (`delivery`: `backchannel_logout`,
/// `ssf_push`) ended `result` — `applied` (`what`: the event; `ended` sessions
/// ended), `refused` (`what`: why), `unavailable` (storage or keys down: the
/// sender retries).
pub(crate) fn signal(delivery: &'static str, result: &'static str, what: &str, ended: u64) {
    match result {
        "applied" => security_event!(
            info,
            "authn_signal_received",
            delivery = delivery,
            event = what,
            sessions_ended = ended
        ),
        "refused" => security_event!(
            warn,
            "authn_signal_refused",
            delivery = delivery,
            reason = what
        ),
        _ => {}
    }
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(
            "jwt_guard_signals_total",
            "delivery" => delivery, "result" => result, "event" => what.to_owned()
        )
        .increment(1);
        metrics::counter!("jwt_guard_signal_sessions_ended_total", "delivery" => delivery)
            .increment(ended);
    }
}

/// The in-memory revocation set's size.
pub(crate) fn revocation_set_size(entries: usize) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("jwt_guard_revocation_set_size").set(entries as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = entries;
}

/// Wall-clock milliseconds, to time a revocation from its commit on one instance
/// to its arrival on another.
pub(crate) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A revocation committed elsewhere at `committed_ms` is now in force here.
pub(crate) fn revocation_arrived(committed_ms: u64) {
    let seconds = wall_ms().saturating_sub(committed_ms) as f64 / 1000.0;
    #[cfg(feature = "metrics")]
    metrics::histogram!("jwt_guard_revocation_propagation_seconds").record(seconds);
    #[cfg(not(feature = "metrics"))]
    let _ = seconds;
}

/// A fetch of an outside issuer's keys ended `result` (`ok`, `error`).
pub(crate) fn jwks_fetched(issuer: &str, result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "jwt_guard_jwks_fetches_total",
        "issuer" => issuer.to_owned(), "result" => result
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (issuer, result);
}

/// A use of a link to `target` (a route's link target) ended `outcome`.
pub(crate) fn link_used(target: &'static str, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "jwt_guard_link_uses_total",
        "target" => target, "outcome" => outcome
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (target, outcome);
}

/// A DPoP proof refused (RFC 9449), by the check that failed: `authn_dpop_fail`
/// and `jwt_guard_dpop_refusals_total{reason}`.
pub(crate) fn dpop_refused(reason: &'static str) {
    security_event!(info, "authn_dpop_fail", reason = reason);
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_dpop_refusals_total", "reason" => reason).increment(1);
}

/// A request refused with 429 by `throttle` (`login_address`, `login_account`,
/// `refresh_device`, `messages`).
pub(crate) fn throttled(throttle: &'static str) {
    security_event!(info, "authn_throttled", throttle = throttle);
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_throttled_total", "throttle" => throttle).increment(1);
}

/// A login method as a label: jwt-guard's own, or `app` for whatever an
/// application named (its text is not a bounded set).
#[cfg(feature = "metrics")]
fn bounded_method(method: &str) -> &'static str {
    match method {
        "password" => "password",
        "link" => "link",
        _ => "app",
    }
}
