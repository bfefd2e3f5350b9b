//! Sender-constrained tokens: DPoP (RFC 9449).
//!
//! A client that sends a `DPoP` proof when it signs in gets a session bound to
//! its key: the device row keeps the key's thumbprint, access and refresh tokens
//! carry it as `cnf.jkt` (§6.1) and are answered with `token_type: "DPoP"`, and
//! from then on every request with those tokens must carry a fresh proof signed
//! by that key. A token lifted from a log, a proxy or a page script is useless
//! without the key.
//!
//! The checks of §4.3 are in `proof.rs` (pure), the replay check in a cache shared
//! by every instance ([`ReplayCache::Database`](crate::config::ReplayCache)), and
//! the binding rules here: token endpoints (§5) answer refusals `400`, protected
//! resources (§7) `401`.

mod htu;
mod nonce;
mod proof;
mod replay;

use jsonwebtoken::Algorithm;
use rocket::http::Status;
use rocket::Request;

pub use proof::{access_token_hash, thumbprint, Proof, ProofError, MAX_JTI_BYTES, MAX_PROOF_BYTES};

use crate::claims::RegisteredClaims;
use crate::clock::Clock;
use crate::config::{DpopConfig, DpopMode, ReplayCache};
use crate::header_scan;
use crate::keys::KeyRing;
use crate::store::{AuditEvent, Store, StoreError};
use nonce::Nonces;
use replay::Replays;

pub(crate) use crate::headers::{DPOP_HEADER, DPOP_NONCE_HEADER};
/// The `Authorization` scheme of bound access tokens (RFC 9449 §7.1).
pub(crate) const DPOP_SCHEME: &str = "DPoP";

/// jwt-guard's DPoP settings and caches, managed when `dpop.mode` is not `off`.
pub(crate) struct Dpop {
    mode: DpopMode,
    /// `public_url` without a trailing `/`; for an app that named none and
    /// listens on loopback, its `localhost` name too (as browsers reach it).
    public_urls: Vec<String>,
    algorithms: Vec<Algorithm>,
    lifetime: u64,
    skew: u64,
    replays: Replays,
    nonces: Option<Nonces>,
    clock: Clock,
}

impl Dpop {
    /// The DPoP state for `config`, or `None` when DPoP is off. `base_url` is
    /// the app's own address, used when no `public_url` is configured; `store`, when there is one,
    /// is the replay cache every instance shares (unless memory is configured).
    pub(crate) fn new(
        config: &DpopConfig,
        base_url: &str,
        keys: &KeyRing,
        clock: &Clock,
        store: Option<&Store>,
    ) -> Option<Self> {
        if !config.enabled() {
            return None;
        }
        let replays = match (config.replay_cache, store) {
            (Some(ReplayCache::Memory), _) | (_, None) => Replays::Memory(Default::default()),
            (_, Some(store)) => Replays::Database(store.clone()),
        };
        let nonces = config.nonce.then(|| {
            Nonces::new(
                keys.derive_secret("dpop-nonce"),
                config.nonce_lifetime.as_secs(),
            )
        });
        Some(Self {
            mode: config.mode,
            public_urls: match &config.public_url {
                Some(url) => vec![url.trim_end_matches('/').to_owned()],
                // `http://127.0.0.1:8000` is `http://localhost:8000` too: one
                // server under the name a browser page needs (a secure context).
                None => crate::config::default_origins(base_url),
            },
            algorithms: config.algorithms.clone(),
            lifetime: config.proof_lifetime.as_secs(),
            skew: config.skew.as_secs(),
            replays,
            nonces,
            clock: clock.clone(),
        })
    }

    /// The DPoP state of the app serving `req`, if DPoP is on.
    pub(crate) fn of<'r>(req: &'r Request<'_>) -> Option<&'r Dpop> {
        req.rocket().state::<Dpop>()
    }

    /// Whether every session must be bound (`dpop.mode = "required"`).
    pub(crate) fn required(&self) -> bool {
        self.mode == DpopMode::Required
    }

    /// Whether the replay cache is this process's memory.
    pub(crate) fn replays_in_memory(&self) -> bool {
        matches!(self.replays, Replays::Memory(_))
    }

    /// What the launch log says about DPoP.
    pub(crate) fn describe(&self) -> String {
        format!(
            "DPoP {:?}: proofs name {}/…; used proofs are remembered in {}{}",
            self.mode,
            self.public_urls.join("/… or "),
            if self.replays_in_memory() {
                "this process's memory"
            } else {
                "the database (shared by every instance)"
            },
            if self.nonces.is_some() {
                "; nonces required"
            } else {
                ""
            }
        )
    }

    /// The nonce to send in `DPoP-Nonce` now, when nonces are on.
    pub(crate) fn current_nonce(&self) -> Option<String> {
        let now = self.clock.now();
        self.nonces.as_ref().map(|n| n.current(now))
    }

    /// The request's URI as a proof may name it (§4.3 check 9): a public URL
    /// and the path as sent, normalised. Never the `Host` header.
    fn expected_uris(&self, req: &Request<'_>) -> Vec<String> {
        let path = req.uri().path();
        let named = self.public_urls.iter();
        named
            .filter_map(|url| htu::normalize(&format!("{url}{path}")))
            .collect()
    }

    /// Checks the request's proof (§4.3, but the replay and binding checks),
    /// `access_token` being the token it came with (for `ath`). `Ok(None)`: no
    /// `DPoP` header.
    fn check(
        &self,
        req: &Request<'_>,
        access_token: Option<&str>,
    ) -> Result<Option<Proof>, ProofError> {
        let mut values = header_scan::values(req.headers(), DPOP_HEADER);
        let Some(value) = values.next() else {
            return Ok(None);
        };
        // §4.3 check 1.
        if values.next().is_some() {
            return Err(ProofError::SeveralHeaders);
        }
        let uris = self.expected_uris(req);
        let now = self.clock.now();
        let expected = proof::Expected {
            method: req.method().as_str(),
            uris: &uris,
            access_token,
            algorithms: &self.algorithms,
            now,
            lifetime: self.lifetime,
            skew: self.skew,
            nonces: self.nonces.as_ref(),
        };
        proof::check(value, &expected).map(Some)
    }

    /// Records `proof` as used (§11.1), after every other check passed.
    async fn accept(&self, proof: &Proof, at: At) -> Result<(), DpopRefusal> {
        let key = replay::proof_key(&proof.jkt, &proof.jti);
        // Remembered until its `iat` could no longer pass, on any instance.
        let until = proof
            .iat
            .saturating_add(self.lifetime)
            .saturating_add(self.skew);
        match self.replays.first_use(key, self.clock.now(), until).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(refusal(ProofError::Replayed, at)),
            Err(e) => Err(DpopRefusal::Unavailable(std::sync::Arc::new(e))),
        }
    }
}

/// Why DPoP refused a request, or could not decide (RFC 9449). What each answers
/// is `AuthError`'s `From` table: `invalid_dpop_proof` or `use_dpop_nonce` (400 at
/// a token endpoint, 401 at a resource), `invalid_token` in a `DPoP` challenge
/// for a binding, 503 when the replay cache is unreachable.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopRefusal {
    /// A proof failed a check of §4.3, or was used before (§11.1).
    #[error("{0}")]
    Proof(ProofError, At),
    /// A proof is needed and none came.
    #[error("{0}")]
    NoProof(&'static str, At),
    /// The token or session is bound to another key, or presented the wrong
    /// way for its binding; `bound_only`: the route or app takes bound tokens only.
    #[error("{reason}")]
    Binding {
        /// What the client is told.
        reason: &'static str,
        /// Whether bearer tokens are refused here altogether.
        bound_only: bool,
    },
    /// A bound token or session, and this server does not check DPoP proofs.
    #[error("{0}")]
    Unchecked(&'static str),
    /// The replay cache could not be reached: nothing was decided.
    #[error("the DPoP replay cache is unavailable")]
    Unavailable(#[source] std::sync::Arc<StoreError>),
}

/// Where a proof is presented: refusals are `400` at a token endpoint (RFC 9449
/// §5) and `401` at a protected resource (§7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Sign-in, refresh, device refresh.
    TokenEndpoint,
    /// A protected route.
    Resource,
}

impl At {
    /// The status a refusal here answers with.
    pub(crate) fn status(self) -> Status {
        match self {
            At::TokenEndpoint => Status::BadRequest,
            At::Resource => Status::Unauthorized,
        }
    }
}

/// A proof that failed a check, counted.
fn refusal(e: ProofError, at: At) -> DpopRefusal {
    crate::observe::dpop_refused(e.reason());
    DpopRefusal::Proof(e, at)
}

/// Whose session a token-endpoint request continues (for the audit log).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Whose<'a> {
    pub(crate) subject: &'a str,
    pub(crate) device_id: Option<&'a str>,
}

/// How the request presented its access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Authorization: Bearer` (or another configured bearer scheme).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    Dpop,
    /// The access cookie (cookie mode).
    Cookie,
}

/// The token endpoint's proof, checked once per request: `Ok(None)` when DPoP is
/// off or no proof was sent (refused when every session must be bound).
fn endpoint_proof(req: &Request<'_>) -> Result<Option<Proof>, DpopRefusal> {
    struct Cached(Result<Option<Proof>, DpopRefusal>);
    let Some(dpop) = Dpop::of(req) else {
        return Ok(None);
    };
    req.local_cache(|| {
        Cached(match dpop.check(req, None) {
            Ok(None) if dpop.required() => Err(DpopRefusal::NoProof(
                "a DPoP proof is required (RFC 9449 §5)",
                At::TokenEndpoint,
            )),
            Ok(proof) => Ok(proof),
            Err(e) => Err(refusal(e, At::TokenEndpoint)),
        })
    })
    .0
    .clone()
}

/// Refuses a sign-in whose proof fails a check before any password is looked
/// at; `Ok` without a proof (unless every session must be bound).
pub(crate) fn precheck_sign_in(req: &Request<'_>) -> Result<(), DpopRefusal> {
    endpoint_proof(req).map(|_| ())
}

/// The key a new session binds to: the thumbprint of the request's valid proof,
/// now recorded as used; `None` without one.
pub(crate) async fn bind_sign_in(req: &Request<'_>) -> Result<Option<String>, DpopRefusal> {
    let Some(proof) = endpoint_proof(req)? else {
        return Ok(None);
    };
    if let Some(dpop) = Dpop::of(req) {
        dpop.accept(&proof, At::TokenEndpoint).await?;
    }
    Ok(Some(proof.jkt))
}

/// The proof of a request that continues a session bound to `bound` (a refresh
/// token's `cnf.jkt`, a device's key), checked and recorded as used: a bound
/// session needs a proof by its own key (RFC 9449 §5.2; our clients are all
/// public). Returns the proof's key — for an unbound session, the key it may bind
/// to.
pub(crate) async fn continue_session(
    req: &Request<'_>,
    bound: Option<&str>,
    whose: Whose<'_>,
) -> Result<Option<String>, DpopRefusal> {
    let Some(dpop) = Dpop::of(req) else {
        return match bound {
            // Bound while DPoP was on: without proofs checked, nobody may use it.
            Some(_) => Err(DpopRefusal::Unchecked(
                "this session is bound to a DPoP key, and this server does not check DPoP proofs",
            )),
            None => Ok(None),
        };
    };
    let proof = endpoint_proof(req)?;
    let refusal = match (bound, &proof) {
        (Some(bound), Some(proof)) if proof.jkt != bound => Some(DpopRefusal::Binding {
            reason: "the DPoP proof is signed by another key than the one this session is bound to",
            bound_only: false,
        }),
        (Some(_), None) => Some(DpopRefusal::NoProof(
            "this session is bound to a DPoP key: send a DPoP proof signed with it",
            At::TokenEndpoint,
        )),
        _ => None,
    };
    if let Some(refusal) = refusal {
        // Someone holds a copy of a bound session's token without its key: worth
        // an operator's eye (the audit log), though nothing was changed.
        crate::observe::dpop_refused("key_mismatch");
        if let Some(store) = req.rocket().state::<Store>() {
            let detail = match &proof {
                Some(p) => format!("proof by key {}…", &p.jkt[..p.jkt.len().min(8)]),
                None => "no proof".to_owned(),
            };
            let audit = store.audit(
                AuditEvent::DpopKeyMismatch,
                Some(whose.subject),
                whose.device_id,
                &detail,
            );
            if let Err(e) = audit.await {
                rocket::warn!(
                    "jwt-guard: cannot audit a DPoP key mismatch: {}",
                    crate::observe::Chain(&e)
                );
            }
        }
        return Err(refusal);
    }
    match proof {
        Some(proof) => {
            dpop.accept(&proof, At::TokenEndpoint).await?;
            Ok(Some(proof.jkt))
        }
        None => Ok(None),
    }
}

/// RFC 9449 §7 for a token bound to no key, presented with the `DPoP` scheme
/// (`as_dpop`) or not: the `DPoP` scheme is for bound tokens (§7.1), and where a
/// bound token is required (the app's `required` mode or the route's
/// `#[use_jwt(dpop)]`) an unbound one is refused.
pub(crate) fn confirm_unbound(
    req: &Request<'_>,
    as_dpop: bool,
    route_requires: bool,
) -> Result<(), DpopRefusal> {
    if as_dpop {
        return Err(DpopRefusal::Binding {
            reason: "this token is not bound to a key: send it with the Bearer scheme",
            bound_only: false,
        });
    }
    if route_requires || Dpop::of(req).is_some_and(|dpop| dpop.required()) {
        return Err(DpopRefusal::Binding {
            reason: "this route needs a DPoP-bound token: sign in with a DPoP proof",
            bound_only: true,
        });
    }
    Ok(())
}

/// RFC 9449 §7: whether a protected resource may accept `registered`'s token,
/// presented as `scheme`: a bound token needs the `DPoP` scheme and a valid proof
/// by its key (§4.3 check 12; a bound token sent as `Bearer` is a downgrade,
/// §7.2); an unbound one is refused where a bound one is required (the app's
/// `required` mode or the route's `#[use_jwt(dpop)]`).
pub(crate) async fn confirm(
    req: &Request<'_>,
    registered: &RegisteredClaims,
    token: &str,
    scheme: Scheme,
    route_requires: bool,
) -> Result<(), DpopRefusal> {
    let dpop = Dpop::of(req);
    let bound = registered.dpop_jkt();
    let Some(dpop) = dpop else {
        return match bound {
            None => Ok(()),
            Some(_) => Err(DpopRefusal::Unchecked(
                "this token is bound to a DPoP key, and this server does not check DPoP proofs",
            )),
        };
    };
    let Some(jkt) = bound else {
        return confirm_unbound(req, scheme == Scheme::Dpop, route_requires);
    };
    if scheme != Scheme::Dpop {
        return Err(DpopRefusal::Binding {
            reason: "this token is bound to a key: send it as `Authorization: DPoP <token>` \
                     with a DPoP proof (RFC 9449 §7.2)",
            bound_only: false,
        });
    }
    // Checked once per request, however many guards ask.
    struct Confirmed(Result<(), DpopRefusal>);
    req.local_cache_async(async {
        let outcome = async {
            let proof = match dpop.check(req, Some(token)) {
                Ok(Some(proof)) => proof,
                Ok(None) => {
                    return Err(DpopRefusal::NoProof(
                        "a DPoP proof is required with a DPoP-bound token",
                        At::Resource,
                    ))
                }
                Err(e) => return Err(refusal(e, At::Resource)),
            };
            // §4.3 check 12, second half: the key the token is bound to.
            if proof.jkt != jkt {
                return Err(DpopRefusal::Binding {
                    reason: "the DPoP proof is signed by another key than the one this token is \
                             bound to",
                    bound_only: false,
                });
            }
            dpop.accept(&proof, At::Resource).await
        }
        .await;
        Confirmed(outcome)
    })
    .await
    .0
    .clone()
}

/// With nonces on, every answer to a request that carried a proof brings the
/// current nonce (RFC 9449 §8.2: a fresh one at any time), so a client never
/// needs a round trip just to learn it; a `use_dpop_nonce` refusal carries it
/// too (§8, §9).
pub(crate) fn finish_response(req: &Request<'_>, res: &mut rocket::Response<'_>) {
    let Some(dpop) = Dpop::of(req) else {
        return;
    };
    // Every response passes here: a scan, not Rocket's hashed look-up.
    if !header_scan::contains(req.headers(), DPOP_HEADER) {
        return;
    }
    if let Some(nonce) = dpop.current_nonce() {
        res.set_raw_header(DPOP_NONCE_HEADER, nonce);
    }
}
