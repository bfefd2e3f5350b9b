//! Poll delivery (RFC 8936): an instance asks the transmitter for events,
//! applies each, and acknowledges them with its next poll. One instance polls
//! each issuer at a time (a lease in the database, renewed with every poll);
//! what it applied but has not acknowledged is kept in the database, so after a
//! restart — or when another instance takes the lease over — the next poll
//! acknowledges it. An event that could not be applied (storage down) is not
//! acknowledged, and the transmitter delivers it again.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{LocalSubjects, NotApplied, SignalRefusal};
use crate::store::{PendingAcks, Store, StoreError};
use crate::trusted_issuers::OutsideIssuer;

/// How long one poll may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest poll answer read.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Why a poll did not complete (the next one tries again).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PollError {
    #[error("storage")]
    Store(#[from] StoreError),
    #[error("the transmitter cannot be reached")]
    Http(#[from] reqwest::Error),
    #[error("the transmitter answered {0}")]
    Status(u16),
    #[error("the transmitter's answer is not an RFC 8936 poll answer")]
    Answer,
}

/// RFC 8936 §2.5: the poll answer.
#[derive(Deserialize)]
struct PollAnswer {
    #[serde(default)]
    sets: Map<String, Value>,
    #[serde(default, rename = "moreAvailable")]
    more_available: bool,
}

/// One issuer's poller.
pub(crate) struct Poller {
    pub(crate) issuer: Arc<OutsideIssuer>,
    pub(crate) keys: Arc<OutsideIssuer>,
    pub(crate) store: Store,
    pub(crate) subjects: LocalSubjects,
    pub(crate) http: reqwest::Client,
    /// This instance, as the lease names it.
    pub(crate) holder: String,
}

impl Poller {
    fn interval(&self) -> Duration {
        self.issuer
            .config()
            .ssf
            .as_ref()
            .map_or(Duration::from_secs(10), |ssf| ssf.poll_interval.into())
    }

    /// Polls until Rocket shuts down, then gives the lease up.
    pub(crate) async fn run(self, mut shutdown: rocket::Shutdown) {
        let interval = self.interval();
        loop {
            let more = match self.poll_once().await {
                Ok(more) => more,
                Err(e) => {
                    rocket::warn!(
                        "jwt-guard: polling the events of `{}` failed: {}",
                        self.issuer.name(),
                        crate::observe::Chain(&e)
                    );
                    false
                }
            };
            let wait = if more { Duration::ZERO } else { interval };
            rocket::tokio::select! {
                _ = &mut shutdown => break,
                _ = rocket::tokio::time::sleep(wait) => {}
            }
        }
        let issuer = &self.issuer.config().issuer;
        let _ = self.store.release_poll_lease(issuer, &self.holder).await;
    }

    /// One poll, if this instance holds (or takes) the lease: acknowledges what
    /// is pending, applies what arrives, records what to acknowledge next.
    /// Whether the transmitter has more.
    pub(crate) async fn poll_once(&self) -> Result<bool, PollError> {
        let config = self.issuer.config();
        let Some(ssf) = &config.ssf else {
            return Ok(false);
        };
        let Some(url) = &ssf.poll_url else {
            return Ok(false);
        };
        let now = self.store.clock().now();
        // Three polls' time: a poller that stopped is replaced within that.
        let lease = (self.interval() * 3).as_secs().max(3);
        let Some(pending) = self
            .store
            .take_poll_lease(&config.issuer, &self.holder, now.saturating_add(lease))
            .await?
        else {
            return Ok(false);
        };
        // RFC 8936 §2.4: acknowledgements and errors of earlier events ride on
        // the poll; `returnImmediately` since the poller waits on its own.
        let errs: Map<String, Value> = pending
            .errs
            .iter()
            .map(|(jti, err, description)| {
                (
                    jti.clone(),
                    json!({ "err": err, "description": description }),
                )
            })
            .collect();
        let body = json!({
            "ack": pending.ack,
            "setErrs": errs,
            "maxEvents": ssf.poll_max_events,
            "returnImmediately": true,
        });
        let mut request = self
            .http
            .post(url)
            .timeout(POLL_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string());
        if let Some(token) = &ssf.poll_token {
            request = request.bearer_auth(token.expose());
        }
        let mut res = request.send().await?;
        if res.status().as_u16() != 200 {
            return Err(PollError::Status(res.status().as_u16()));
        }
        let mut text = Vec::new();
        while let Some(chunk) = res.chunk().await? {
            if text.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(PollError::Answer);
            }
            text.extend_from_slice(&chunk);
        }
        let answer: PollAnswer = serde_json::from_slice(&text).map_err(|_| PollError::Answer)?;
        // The transmitter has the acknowledgements now; what is pending from here
        // on is this poll's.
        let mut next = PendingAcks::default();
        for (jti, set) in &answer.sets {
            let Some(token) = set.as_str() else {
                let refusal = SignalRefusal::Malformed;
                next.errs.push((
                    jti.clone(),
                    refusal.set_error_code().to_owned(),
                    refusal.to_string(),
                ));
                continue;
            };
            let now = self.store.clock().now();
            let applied = super::receive_security_event(
                &self.issuer,
                &self.keys,
                &self.store,
                &self.subjects,
                token,
                now,
                "ssf_poll",
            )
            .await;
            match applied {
                Ok(_) | Err(NotApplied::Refused(SignalRefusal::Replayed)) => {
                    next.ack.push(jti.clone());
                }
                Err(NotApplied::Refused(refusal)) => next.errs.push((
                    jti.clone(),
                    refusal.set_error_code().to_owned(),
                    refusal.to_string(),
                )),
                // Not acknowledged: the transmitter delivers it again.
                Err(NotApplied::Unavailable(_)) => break,
            }
        }
        self.store
            .save_pending_acks(&config.issuer, &self.holder, &next)
            .await?;
        Ok(answer.more_available)
    }
}
