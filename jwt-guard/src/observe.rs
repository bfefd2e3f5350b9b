//! What jwt-guard tells operators, in one place: metrics through the `metrics`
//! facade (feature `metrics`; the application installs a recorder, jwt-guard never
//! does) and log events named after the OWASP logging vocabulary
//! (`authn_login_fail`, `authn_token_reuse`, …). Every label is bounded: route
//! templates, issuer names from the configuration, fixed enums — never a subject,
//! an id, a token or a raw path.

/// Counts one authentication attempt of a protected route and how long it took.
pub(crate) fn authenticated(scheme: &'static str, result: &'static str, seconds: f64) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("jwt_guard_authentications_total", "scheme" => scheme, "result" => result)
            .increment(1);
        metrics::histogram!(
            "jwt_guard_authentication_duration_seconds",
            "scheme" => scheme, "result" => result
        )
        .record(seconds);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (scheme, result, seconds);
}

/// Counts one authorization decision on `route` (its template).
pub(crate) fn authorized(route: &str, result: &'static str) {
    if result != "allowed" {
        log::info!(target: "jwt_guard::events", "authz_fail route={route} result={result}");
    }
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "jwt_guard_authorizations_total",
        "route" => route.to_owned(), "result" => result
    )
    .increment(1);
}

/// A login by `method` (`password`, `link`, or the app's own) ended `result`
/// (`success`, `failure`, `throttled`).
pub(crate) fn login(method: &str, result: &'static str) {
    let event = match result {
        "success" => "authn_login_success",
        "throttled" => "authn_login_fail_max",
        _ => "authn_login_fail",
    };
    log::info!(target: "jwt_guard::events", "{event} method={method}");
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
    if result == "reuse" {
        log::warn!(target: "jwt_guard::events", "authn_token_reuse");
    }
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_refreshes_total", "result" => result).increment(1);
}

/// Revocations written, by what they revoke (`jti`: one token, `device`: a
/// device's every token — a logout, a reuse, a deleted device —, `subject`: every
/// token of a user).
pub(crate) fn revoked(kind: &'static str) {
    log::info!(target: "jwt_guard::events", "authn_token_revoked kind={kind}");
    #[cfg(feature = "metrics")]
    metrics::counter!("jwt_guard_revocations_total", "kind" => kind).increment(1);
}

/// The in-memory revocation set's size.
pub(crate) fn revocation_set_size(entries: usize) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("jwt_guard_revocation_set_size").set(entries as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = entries;
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

/// A request refused with 429 by `throttle` (`login_address`, `login_account`,
/// `refresh_device`, `messages`).
pub(crate) fn throttled(throttle: &'static str) {
    log::info!(target: "jwt_guard::events", "authn_throttled throttle={throttle}");
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
