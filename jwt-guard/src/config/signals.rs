//! The `backchannel_logout` and `ssf` tables of a trusted issuer: revocation that
//! comes from outside (OpenID Connect Back-Channel Logout 1.0, the Shared
//! Signals Framework 1.0 with CAEP and RISC).

use serde::Deserialize;

use super::error::{Problem, Problems};
use crate::duration::HumanDuration;
use crate::secret::SecretText;

/// The longest `max_age` of a logout token or security event: a day.
const MAX_SIGNAL_AGE_SECS: u64 = 24 * 3600;

/// OpenID Connect Back-Channel Logout 1.0 from this issuer: it `POST`s a logout
/// token to `<base>/signals/backchannel-logout/<name>` when a user signs out
/// there, and the sessions that rest on that login end on every instance.
///
/// ```toml
/// [[default.jwt.trusted_issuers]]
/// name = "keycloak"
/// issuer = "https://sso.example/realms/main"
/// audience = "api"
/// discovery = "https://sso.example/realms/main"
/// [default.jwt.trusted_issuers.backchannel_logout]
/// client_id = "my-app"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BackchannelLogoutConfig {
    /// The `aud` logout tokens carry: this app's client id at the issuer
    /// (§2.4). Required.
    pub client_id: String,
    /// How old a logout token may be, by its `iat` (§2.6 step 3) — enforced even
    /// when it has no `exp`. Default `5m`, at most a day.
    pub max_age: HumanDuration,
}

impl Default for BackchannelLogoutConfig {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            max_age: HumanDuration::from_secs(300),
        }
    }
}

/// What a CAEP `credential-change` of each `change_type` does (CAEP 1.0 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialChangeEffect {
    /// The subject's sessions end.
    EndSessions,
    /// Recorded, nothing ends.
    Record,
}

/// The Shared Signals Framework 1.0 receiver for this issuer as a transmitter:
/// Security Event Tokens (RFC 8417) pushed to `<base>/signals/ssf/<name>`
/// (RFC 8935), carrying CAEP `session-revoked` and `credential-change` and RISC
/// `account-disabled` and `account-purged`.
///
/// ```toml
/// [default.jwt.trusted_issuers.ssf]
/// audience = "https://app.example"
/// push_token = "a long random bearer credential the transmitter sends"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SsfConfig {
    /// The `aud` its events carry: this receiver's stream audience. Required.
    pub audience: String,
    /// The bearer credential the transmitter authenticates its pushes with
    /// (RFC 8935 §2: `Authorization: Bearer …`). Required for push delivery.
    pub push_token: Option<SecretText>,
    /// The transmitter's SSF configuration: its URL (`…/.well-known/ssf-configuration`)
    /// or issuer URL. Its `jwks_uri` is fetched with the issuer's rules (https,
    /// same origin, size and time bounds). Default: the issuer's own keys.
    pub metadata: Option<String>,
    /// How old an event may be, by its `iat` (RFC 8417 has no `exp`). Default
    /// `1h` (a transmitter retries a push for a while), at most a day.
    pub max_age: HumanDuration,
    /// What a CAEP `credential-change` does per `change_type` (`create`,
    /// `revoke`, `update`, `delete`). Default: `end_sessions` for `revoke`,
    /// `update` and `delete` (a changed password, a removed key), `record` for
    /// `create` (a user adding a passkey stays signed in).
    pub credential_change: std::collections::BTreeMap<String, CredentialChangeEffect>,
    /// Poll delivery (RFC 8936): the transmitter's poll endpoint for this
    /// stream. One instance at a time polls it (a lease in the database), and
    /// acknowledges what it applied. Off unless set.
    pub poll_url: Option<String>,
    /// The bearer credential polls are authenticated with (RFC 8936 §2: as the
    /// transmitter says; `Authorization: Bearer …`).
    pub poll_token: Option<SecretText>,
    /// How long to wait between polls when the transmitter has nothing more.
    /// Default `10s`, between `1s` and `1h`.
    pub poll_interval: HumanDuration,
    /// Most events asked for in one poll (`maxEvents`). Default `50`.
    pub poll_max_events: u32,
}

impl Default for SsfConfig {
    fn default() -> Self {
        let credential_change = [
            ("create", CredentialChangeEffect::Record),
            ("revoke", CredentialChangeEffect::EndSessions),
            ("update", CredentialChangeEffect::EndSessions),
            ("delete", CredentialChangeEffect::EndSessions),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Self {
            audience: String::new(),
            push_token: None,
            metadata: None,
            max_age: HumanDuration::from_secs(3600),
            credential_change,
            poll_url: None,
            poll_token: None,
            poll_interval: HumanDuration::from_secs(10),
            poll_max_events: 50,
        }
    }
}

impl SsfConfig {
    /// What a `credential-change` of `change_type` does: as configured, else
    /// `end_sessions` (an unknown change is taken seriously).
    pub fn credential_change_effect(&self, change_type: &str) -> CredentialChangeEffect {
        self.credential_change
            .get(change_type)
            .copied()
            .unwrap_or(CredentialChangeEffect::EndSessions)
    }
}

impl BackchannelLogoutConfig {
    pub(super) fn check(&self, p: &mut Problems) {
        if self.client_id.is_empty() {
            let what = "the `aud` of its logout tokens: this app's client id there";
            p.add("client_id", Problem::Missing(what));
        }
        p.positive("max_age", self.max_age);
        p.at_most("max_age", self.max_age, MAX_SIGNAL_AGE_SECS);
    }
}

impl SsfConfig {
    pub(super) fn check(&self, p: &mut Problems) {
        if self.audience.is_empty() {
            p.add(
                "audience",
                Problem::Missing("the `aud` of its events: this receiver's stream audience"),
            );
        }
        if self
            .push_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            p.add(
                "push_token",
                Problem::TooShort {
                    min: "16 characters",
                },
            );
        }
        p.positive("max_age", self.max_age);
        p.at_most("max_age", self.max_age, MAX_SIGNAL_AGE_SECS);
        if let Some(url) = &self.poll_url {
            let web = reqwest::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
            if !web {
                p.add("poll_url", Problem::NotHttpUrl(url.to_string()));
            }
        }
        p.positive("poll_interval", self.poll_interval);
        p.at_most("poll_interval", self.poll_interval, 3600);
        if self.poll_max_events == 0 {
            p.add("poll_max_events", Problem::Zero);
        }
    }
}
