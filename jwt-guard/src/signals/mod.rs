//! Revocation that comes from outside: an identity provider says a user signed
//! out, changed a credential or lost their account, and the sessions that rest
//! on it end on every instance — OpenID Connect Back-Channel Logout 1.0 and the
//! Shared Signals Framework 1.0 (RFC 8417 Security Event Tokens pushed as RFC
//! 8935 says, carrying CAEP 1.0 and RISC 1.0 events about RFC 9493 subjects).
//!
//! Each is opt-in per trusted issuer (`backchannel_logout`, `ssf`). A session
//! started from that issuer's login ([`Upstream`](crate::Upstream)) records the
//! issuer's `sub` and `sid`, which is how a signal finds it; the issuer's own
//! tokens accepted directly (`#[use_jwt(issuer = …)]`) are revoked by subject
//! for that issuer; the app's own users, by [`SignalSubjects`].

mod poll;
mod refusal;
mod subject;
mod tokens;

use std::sync::Arc;

use serde_json::Value;

pub use refusal::SignalRefusal;
pub(crate) use refusal::{LogoutRefused, PushRefused};
pub use subject::{SignalSubjects, SubjectId};
pub use tokens::BACKCHANNEL_LOGOUT_EVENT;

use crate::config::{CredentialChangeEffect, TrustedIssuerConfig};
use crate::error::{AuthError, Rejection};
use crate::store::{Ending, SignalReceipt, SignalStored, Store};
use crate::trusted_issuers::OutsideIssuer;
use subject::subject_digest;
use tokens::{Expected, SecurityEvent};

/// CAEP 1.0 §3.1: a session of the subject was revoked.
pub const CAEP_SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP 1.0 §3.2: a credential of the subject was created, changed or removed.
pub const CAEP_CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
/// RISC 1.0 §2.2: the account was disabled.
pub const RISC_ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
/// RISC 1.0 §2.3: the account was deleted.
pub const RISC_ACCOUNT_PURGED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-purged";
/// SSF 1.0 §8.1.4.1: the transmitter checks the stream works.
pub const SSF_VERIFICATION: &str =
    "https://schemas.openid.net/secevent/ssf/event-type/verification";

/// The app's mapping of signal subjects to its own users, managed by the
/// fairing ([`NoLocalSubjects`](subject::NoLocalSubjects) unless the app gives one).
#[derive(Clone)]
pub(crate) struct LocalSubjects(pub(crate) Arc<dyn SignalSubjects>);

impl Default for LocalSubjects {
    fn default() -> Self {
        LocalSubjects(Arc::new(subject::NoLocalSubjects))
    }
}

/// Why a signal was not applied.
pub(crate) enum NotApplied {
    /// Refused: nothing ended (`400`).
    Refused(SignalRefusal),
    /// Storage (or the issuer's key server) is unreachable: the sender retries
    /// (`503` with `Retry-After`).
    Unavailable(AuthError),
}

impl From<SignalRefusal> for NotApplied {
    fn from(r: SignalRefusal) -> Self {
        NotApplied::Refused(r)
    }
}

/// A poller for each issuer that polls its transmitter (`ssf.poll_url`), to
/// run until shutdown.
pub(crate) fn pollers(
    trusted: &crate::trusted_issuers::TrustedIssuers,
    store: &Store,
    subjects: &LocalSubjects,
) -> Vec<poll::Poller> {
    let holder = crate::secret::random_id();
    trusted
        .all()
        .filter(|i| {
            i.config()
                .ssf
                .as_ref()
                .is_some_and(|s| s.poll_url.is_some())
        })
        .filter_map(|issuer| {
            let keys = trusted.event_keys(issuer.name())?.clone();
            Some(poll::Poller {
                issuer: issuer.clone(),
                keys,
                store: store.clone(),
                subjects: subjects.clone(),
                http: crate::trusted_issuers::signal_client(),
                holder: holder.clone(),
            })
        })
        .collect()
}

/// What applying a signal ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Applied {
    pub(crate) sessions_ended: u64,
}

/// A short, bounded name of an event type, for metrics and the audit log.
fn event_name(event: &str) -> &'static str {
    match event {
        BACKCHANNEL_LOGOUT_EVENT => "backchannel_logout",
        CAEP_SESSION_REVOKED => "session_revoked",
        CAEP_CREDENTIAL_CHANGE => "credential_change",
        RISC_ACCOUNT_DISABLED => "account_disabled",
        RISC_ACCOUNT_PURGED => "account_purged",
        SSF_VERIFICATION => "verification",
        _ => "other",
    }
}

/// The keys must be at hand: an issuer whose keys were never fetched, and cannot
/// be now, is an outage (the sender retries), not a bad token.
async fn keys_at_hand(keys: &OutsideIssuer) -> Result<(), NotApplied> {
    if keys.has_keys() || keys.load_now().await {
        Ok(())
    } else {
        Err(NotApplied::Unavailable(
            Rejection::SignalKeysUnreachable.into(),
        ))
    }
}

/// Stores the signal and what it ends; a replay is refused.
async fn store_signal(
    store: &Store,
    receipt: &SignalReceipt<'_>,
    endings: &[Ending<'_>],
) -> Result<Applied, NotApplied> {
    match store.apply_signal(receipt, endings).await {
        Ok(SignalStored::Applied { sessions_ended }) => Ok(Applied { sessions_ended }),
        Ok(SignalStored::Replayed) => Err(SignalRefusal::Replayed.into()),
        Err(e) => Err(NotApplied::Unavailable(e.into())),
    }
}

/// OpenID Connect Back-Channel Logout 1.0 §2.6–§2.7: checks `token` from
/// `issuer` and ends the sessions resting on that login — all of the user's
/// from this issuer when it names `sub` (and their tokens from it accepted
/// directly), the one login session `sid` when it names only that.
pub(crate) async fn receive_logout_token(
    issuer: &OutsideIssuer,
    store: &Store,
    token: &str,
    now: u64,
) -> Result<Applied, NotApplied> {
    let config = issuer.config();
    let Some(logout) = &config.backchannel_logout else {
        return Err(NotApplied::Refused(SignalRefusal::WrongIssuer));
    };
    keys_at_hand(issuer).await?;
    let expectation = Expected {
        issuer: &config.issuer,
        audience: &logout.client_id,
        max_age: logout.max_age.as_secs(),
        leeway: config.leeway.as_secs(),
        now,
    };
    let outcome = tokens::verify_logout_token(issuer, token, &expectation).await;
    let logout_token = match outcome {
        Ok(t) => t,
        Err(refusal) => {
            signal_refused(config, "backchannel_logout", refusal);
            return Err(refusal.into());
        }
    };
    let subject = serde_json::json!({ "sub": logout_token.sub, "sid": logout_token.sid });
    let digest = subject_digest(&subject);
    let mut endings = vec![Ending::Upstream {
        issuer: &config.issuer,
        subject: logout_token.sub.as_deref(),
        sid: logout_token.sid.as_deref(),
    }];
    // §2.7: a logout token with `sub` alone logs the user out of every session
    // at this issuer — so the issuer's tokens of them die too.
    if let (Some(sub), None) = (&logout_token.sub, &logout_token.sid) {
        endings.push(Ending::Direct {
            issuer: &config.issuer,
            subject: sub,
        });
    }
    let receipt = SignalReceipt {
        issuer: &config.issuer,
        name: &config.name,
        jti: &logout_token.jti,
        keep_until: keep_until(logout_token.iat, logout.max_age.as_secs(), config),
        delivery: "backchannel_logout",
        event: "backchannel_logout",
        subject_digest: Some(&digest),
    };
    let applied = store_signal(store, &receipt, &endings).await;
    signal_done(config, "backchannel_logout", "backchannel_logout", &applied);
    applied
}

/// Until when a replay of a token issued at `iat` could pass the age check.
fn keep_until(iat: u64, max_age: u64, config: &TrustedIssuerConfig) -> u64 {
    iat.saturating_add(max_age)
        .saturating_add(config.leeway.as_secs())
        .saturating_add(1)
}

/// A Security Event Token from `issuer` as an SSF transmitter, pushed (RFC
/// 8935, `delivery` `ssf_push`) or polled (RFC 8936, `ssf_poll`), checked with
/// `keys` (the transmitter's): each event applied as its
/// specification says, in one transaction with the `jti` recorded; an event this
/// version does not act on is recorded and acknowledged (SSF 1.0 §4: a receiver
/// ignores what it does not understand).
pub(crate) async fn receive_security_event(
    issuer: &OutsideIssuer,
    keys: &OutsideIssuer,
    store: &Store,
    subjects: &LocalSubjects,
    token: &str,
    now: u64,
    delivery: &'static str,
) -> Result<Applied, NotApplied> {
    let config = issuer.config();
    let Some(ssf) = &config.ssf else {
        return Err(NotApplied::Refused(SignalRefusal::WrongIssuer));
    };
    keys_at_hand(keys).await?;
    let expectation = Expected {
        issuer: &config.issuer,
        audience: &ssf.audience,
        max_age: ssf.max_age.as_secs(),
        leeway: config.leeway.as_secs(),
        now,
    };
    let event = match tokens::verify_security_event(keys, token, &expectation).await {
        Ok(event) => event,
        Err(refusal) => {
            signal_refused(config, delivery, refusal);
            return Err(refusal.into());
        }
    };
    let plan = plan_events(config, &event, subjects).await;
    let endings = plan.endings();
    let names: Vec<&str> = event.events.keys().map(|e| event_name(e)).collect();
    let event_label = names.join(",");
    let receipt = SignalReceipt {
        issuer: &config.issuer,
        name: &config.name,
        jti: &event.jti,
        keep_until: keep_until(event.iat, ssf.max_age.as_secs(), config),
        delivery,
        event: &event_label,
        subject_digest: plan.digest.as_deref(),
    };
    let applied = store_signal(store, &receipt, &endings).await;
    for name in &names {
        signal_done(config, delivery, name, &applied);
    }
    if let Some(txn) = &event.txn {
        rocket::debug!("jwt-guard: security event {} (txn {txn})", event.jti);
    }
    applied
}

/// What a security event's events end, resolved to owned subjects.
#[derive(Default)]
struct Plan {
    issuer: String,
    /// (upstream `sub`, upstream `sid`) whose sessions end.
    upstream: Vec<(Option<String>, Option<String>)>,
    /// The issuer's subjects whose direct tokens are revoked.
    direct: Vec<String>,
    /// The app's users whose sessions end.
    local_sessions: Vec<String>,
    /// The app's users revoked entirely.
    local_everything: Vec<String>,
    digest: Option<String>,
}

impl Plan {
    fn endings(&self) -> Vec<Ending<'_>> {
        let issuer = self.issuer.as_str();
        let mut endings: Vec<Ending<'_>> = self
            .upstream
            .iter()
            .map(|(subject, sid)| Ending::Upstream {
                issuer,
                subject: subject.as_deref(),
                sid: sid.as_deref(),
            })
            .collect();
        endings.extend(
            self.direct
                .iter()
                .map(|subject| Ending::Direct { issuer, subject }),
        );
        endings.extend(self.local_sessions.iter().map(|s| Ending::LocalSessions(s)));
        endings.extend(
            self.local_everything
                .iter()
                .map(|s| Ending::LocalEverything(s)),
        );
        endings
    }
}

/// How far an event reaches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// The session named (or, naming none, the subject's sessions).
    Session,
    /// Every session of the subject.
    AllSessions,
    /// The account: everything.
    Account,
    /// Nothing ends.
    Nothing,
}

async fn plan_events(
    config: &TrustedIssuerConfig,
    event: &SecurityEvent,
    subjects: &LocalSubjects,
) -> Plan {
    let mut plan = Plan {
        issuer: config.issuer.clone(),
        ..Plan::default()
    };
    for (event_type, payload) in &event.events {
        // SSF 1.0 puts the subject in `sub_id`; CAEP drafts before it, inside the
        // event (`subject`).
        let subject_value = event.subject.as_ref().or_else(|| payload.get("subject"));
        let Some(subject_value) = subject_value else {
            continue;
        };
        plan.digest
            .get_or_insert_with(|| subject_digest(subject_value));
        let reach = match event_type.as_str() {
            CAEP_SESSION_REVOKED => Reach::Session,
            CAEP_CREDENTIAL_CHANGE => {
                let change = payload.get("change_type").and_then(Value::as_str);
                let ssf = config.ssf.as_ref();
                let effect = ssf.map_or(CredentialChangeEffect::EndSessions, |ssf| {
                    ssf.credential_change_effect(change.unwrap_or(""))
                });
                match effect {
                    CredentialChangeEffect::EndSessions => Reach::AllSessions,
                    _ => Reach::Nothing,
                }
            }
            RISC_ACCOUNT_DISABLED | RISC_ACCOUNT_PURGED => Reach::Account,
            _ => Reach::Nothing,
        };
        if reach == Reach::Nothing {
            if event_name(event_type) == "other" {
                rocket::info!(
                    "jwt-guard: security event of type {event_type} from `{}` acknowledged (nothing to do)",
                    config.name
                );
            }
            continue;
        }
        let Some(id) = SubjectId::parse(subject_value) else {
            continue;
        };
        let upstream = id.upstream_subject(&config.issuer).map(str::to_owned);
        let sid = match reach {
            Reach::Session => id.upstream_session().map(str::to_owned),
            _ => None,
        };
        if upstream.is_some() || sid.is_some() {
            plan.upstream.push((upstream.clone(), sid.clone()));
        }
        if let (Some(sub), None) = (&upstream, &sid) {
            plan.direct.push(sub.clone());
        }
        if let Some(local) = local_subject(subjects, &config.issuer, &id).await {
            match reach {
                Reach::Account => plan.local_everything.push(local),
                // One session named: the app's user keeps their other sessions,
                // which this issuer's session does not carry.
                Reach::Session if sid.is_some() => {}
                _ => plan.local_sessions.push(local),
            }
        }
    }
    plan
}

/// The app's user `id` names: as the hook maps `id` itself, else the first of
/// its aliases it maps, else a complex subject's `user`.
async fn local_subject(subjects: &LocalSubjects, issuer: &str, id: &SubjectId) -> Option<String> {
    if let Some(local) = subjects.0.local_subject(issuer, id).await {
        return Some(local);
    }
    match id {
        SubjectId::Aliases(ids) => {
            for alias in ids {
                if let Some(local) = subjects.0.local_subject(issuer, alias).await {
                    return Some(local);
                }
            }
            None
        }
        SubjectId::Complex {
            user: Some(user), ..
        } => subjects.0.local_subject(issuer, user).await,
        _ => None,
    }
}

/// Logs and counts a refused signal.
fn signal_refused(config: &TrustedIssuerConfig, delivery: &'static str, refusal: SignalRefusal) {
    rocket::warn!(
        "jwt-guard: {delivery} from `{}` refused: {refusal}",
        config.name
    );
    crate::observe::signal(delivery, "refused", refusal.as_str(), 0);
}

/// Logs and counts a signal that was applied, replayed or could not be stored.
fn signal_done(
    config: &TrustedIssuerConfig,
    delivery: &'static str,
    event: &str,
    applied: &Result<Applied, NotApplied>,
) {
    match applied {
        Ok(applied) => {
            rocket::info!(
                "jwt-guard: {delivery} `{event}` from `{}` ended {} session(s)",
                config.name,
                applied.sessions_ended
            );
            crate::observe::signal(delivery, "applied", event, applied.sessions_ended);
        }
        Err(NotApplied::Refused(refusal)) => {
            crate::observe::signal(delivery, "refused", refusal.as_str(), 0);
        }
        Err(NotApplied::Unavailable(_)) => {
            crate::observe::signal(delivery, "unavailable", event, 0);
        }
    }
}
