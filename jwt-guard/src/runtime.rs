//! Everything a guard needs at request time, built once at ignite.

use std::sync::Arc;

use rocket::Request;

use crate::clock::Clock;
use crate::config::{ConfigError, JwtConfig, StalenessPolicy};
use crate::keys::{KeyError, KeyRing};
use crate::observe::HeldMetrics;
use crate::revocation_set::RevocationSet;
use crate::signer::Issuer;
use crate::store::{JwtPool, Store};
use crate::verifier::Verifier;

/// Why jwt-guard cannot start with a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key is missing, unreadable or of the wrong kind.
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// jwt-guard's managed state: configuration, keys, verifier and issuer.
///
/// Built by the [`JwtGuard`](crate::JwtGuard) fairing; take it in a handler as
/// `&State<JwtRuntime>` when you need more than the [`Issuer`].
#[derive(Debug)]
pub struct JwtRuntime {
    config: JwtConfig,
    keys: Arc<KeyRing>,
    verifier: Verifier,
    issuer: Issuer,
    /// The guard's per-request metric handles.
    metrics: HeldMetrics,
}

impl JwtRuntime {
    /// Builds the runtime, checking configuration and keys. Its revocations start
    /// empty; the [`Store`] made for it ([`JwtRuntime::store`]) loads and keeps
    /// them current.
    pub fn new(config: JwtConfig, clock: Clock) -> Result<Self, SetupError> {
        config.validate()?;
        let keys = Arc::new(KeyRing::from_config(&config)?);
        let revocations = Arc::new(RevocationSet::new());
        let verifier = Verifier::build(keys.clone(), &config, clock.clone(), revocations);
        let issuer = Issuer::new(keys.clone(), &config, clock);
        Ok(Self {
            config,
            keys,
            verifier,
            issuer,
            metrics: HeldMetrics::default(),
        })
    }

    /// A store over `pool` for this runtime: its clock, the timing and limits of
    /// its configuration, and its in-memory revocations, which the store loads
    /// ([`Store::load_revocations`]) and keeps current. Call
    /// [`Store::migrate`] before use.
    pub fn store(&self, pool: &JwtPool) -> Store {
        Store::new(
            pool,
            self.verifier.clock().clone(),
            &self.config,
            self.verifier.revocations().clone(),
        )
    }

    /// The guard's per-request metrics, their handles held for this instance.
    pub(crate) fn held_metrics(&self) -> &HeldMetrics {
        &self.metrics
    }

    /// The runtime of the application serving `req`, if the fairing is attached.
    pub fn from_request<'r>(req: &'r Request<'_>) -> Option<&'r JwtRuntime> {
        req.rocket().state::<JwtRuntime>()
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The keys.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// `Some(time since the revocations were last read)` when that is past
    /// `revocation.max_staleness` and the policy is to fail closed: tokens must then
    /// not be trusted from memory. Measured in real time, not by the token clock.
    pub fn revocations_too_stale(&self) -> Option<std::time::Duration> {
        if self.config.revocation.staleness != StalenessPolicy::FailClosed {
            return None;
        }
        let staleness = self.verifier.revocations().staleness()?;
        (staleness > self.config.revocation.staleness_bound()).then_some(staleness)
    }

    /// `Ok` while tokens may be trusted from memory; else the failure every route
    /// that verifies a token answers with (a `503`; the one place this policy is
    /// applied).
    pub fn fresh_revocations(&self) -> Result<(), StaleRevocations> {
        match self.revocations_too_stale() {
            None => Ok(()),
            Some(staleness) => Err(StaleRevocations {
                staleness,
                bound: self.config.revocation.staleness_bound(),
            }),
        }
    }
}

/// The revocations in memory are older than `revocation_max_staleness` and the
/// policy is to fail closed: tokens are not trusted from memory until they are read
/// again.
#[derive(Debug, thiserror::Error)]
#[error(
    "revocations not read from the database for {}s (bound {}s); refusing to trust tokens \
     from memory (set jwt.revocation.staleness = \"serve\" to prefer availability)",
    staleness.as_secs(),
    bound.as_secs()
)]
pub struct StaleRevocations {
    staleness: std::time::Duration,
    bound: std::time::Duration,
}
