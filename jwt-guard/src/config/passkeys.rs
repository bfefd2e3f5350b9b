//! The `passkeys` table: WebAuthn passkeys that start device sessions.

use serde::Deserialize;

use super::error::{Problem, Problems};
use crate::duration::HumanDuration;

/// Whether the authenticator must verify the user (PIN, biometric) — WebAuthn
/// Level 3 §5.8.6 `UserVerificationRequirement`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UserVerification {
    /// Every ceremony must verify the user (the default).
    #[default]
    Required,
    /// Asked for; a ceremony without it still passes (its `amr` then lacks
    /// `mfa`).
    Preferred,
}

/// Passkeys (WebAuthn Level 3): users register authenticators once signed in,
/// then sign in with them — a device session like a password login's, with a
/// phishing-resistant `acr`. Off unless `rp_id` is set.
///
/// ```toml
/// [default.jwt.passkeys]
/// rp_id = "example.com"
/// origins = ["https://example.com", "https://app.example.com"]
/// rp_name = "Example"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PasskeyConfig {
    /// The relying party id: a domain that is each origin's host or a suffix of
    /// it (WebAuthn §5.1.4.1 / §5.1.3 step 7). Passkeys are off while unset.
    pub rp_id: Option<String>,
    /// The origins ceremonies may come from (`https://…`, or `http://localhost`
    /// for development). Default: the app's base URL.
    pub origins: Vec<String>,
    /// The name authenticators show. Default: `rp_id`.
    pub rp_name: Option<String>,
    /// Register discoverable credentials (resident keys), so a user signs in
    /// without typing a name (and browsers offer them in autofill). Default
    /// `true`.
    pub resident_key: bool,
    /// `required` (default) or `preferred`.
    pub user_verification: UserVerification,
    /// The `acr` a passkey login's tokens carry: a phishing-resistant class, so
    /// routes can demand it (`#[use_jwt(acr = "phr")]`, RFC 9470). Default
    /// `phr` (OpenID's phishing-resistant authentication).
    pub acr: String,
    /// How long a ceremony's challenge may be answered. Default `5m`, at most
    /// `10m`.
    pub challenge_ttl: HumanDuration,
}

impl Default for PasskeyConfig {
    fn default() -> Self {
        Self {
            rp_id: None,
            origins: Vec::new(),
            rp_name: None,
            resident_key: true,
            user_verification: UserVerification::Required,
            acr: "phr".to_owned(),
            challenge_ttl: HumanDuration::from_secs(300),
        }
    }
}

/// The longest a ceremony may stay open.
pub const MAX_CHALLENGE_TTL_SECS: u64 = 600;

impl PasskeyConfig {
    /// Whether passkeys are configured.
    pub fn enabled(&self) -> bool {
        self.rp_id.is_some()
    }

    pub(super) fn check(&self, problems: &mut Problems) {
        let Some(rp_id) = &self.rp_id else {
            if !self.origins.is_empty() {
                problems.add("rp_id", Problem::Missing("`rp_id`, with `origins`,"));
            }
            return;
        };
        if rp_id.is_empty() || rp_id.contains([':', '/']) || rp_id.starts_with('.') {
            problems.add("rp_id", Problem::NotADomain(rp_id.clone()));
        }
        for origin in &self.origins {
            if let Err(problem) = origin_fits(origin, rp_id) {
                problems.add("origins", problem);
            }
        }
        if self.acr.trim().is_empty() {
            problems.add("acr", Problem::Missing("an authentication class"));
        }
        if !cfg!(feature = "passkeys") {
            problems.add("rp_id", Problem::NeedsFeature("passkeys"));
        }
        problems.positive("challenge_ttl", self.challenge_ttl);
        problems.at_most("challenge_ttl", self.challenge_ttl, MAX_CHALLENGE_TTL_SECS);
    }
}

/// An origin ceremonies may come from for `rp_id`: `https://` (or `http://` on
/// `localhost`) with a host that is `rp_id` or ends in `.rp_id`.
pub(crate) fn origin_fits(origin: &str, rp_id: &str) -> Result<(), Problem> {
    let not_an_origin = || Problem::NotAnOrigin(origin.to_owned());
    let url = reqwest::Url::parse(origin).map_err(|_| not_an_origin())?;
    let host = url.host_str().ok_or_else(not_an_origin)?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
    if !secure || url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(not_an_origin());
    }
    let fits = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    if !fits {
        return Err(Problem::OriginOutsideRpId {
            origin: origin.to_owned(),
            rp_id: rp_id.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_the_rp_id_or_under_it() {
        assert!(origin_fits("https://example.com", "example.com").is_ok());
        assert!(origin_fits("https://app.example.com", "example.com").is_ok());
        assert!(origin_fits("http://localhost:8000", "localhost").is_ok());
        assert!(matches!(
            origin_fits("https://example.org", "example.com"),
            Err(Problem::OriginOutsideRpId { .. })
        ));
        assert!(matches!(
            origin_fits("https://badexample.com", "example.com"),
            Err(Problem::OriginOutsideRpId { .. })
        ));
        assert!(matches!(
            origin_fits("http://example.com", "example.com"),
            Err(Problem::NotAnOrigin(_))
        ));
        assert!(matches!(
            origin_fits("https://example.com/app", "example.com"),
            Err(Problem::NotAnOrigin(_))
        ));
    }
}
