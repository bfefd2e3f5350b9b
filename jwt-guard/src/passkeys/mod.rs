//! Passkeys (WebAuthn Level 3): the relying party's two ceremonies, each in two
//! steps whose state stays on the server, in the database, and is taken once.
//!
//! `webauthn-rs-core` (the core of the webauthn-rs project) builds the options
//! and checks the answers — client data type, challenge, origin, RP id hash,
//! flags, signature, counter (WebAuthn §7.1, §7.2). jwt-guard keeps the state
//! server-side and single-use, gives every user a random handle, stores the
//! credentials, moves the signature counter by compare-and-swap, and starts the
//! session through the one start path of every login.

mod authenticator_data;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use webauthn_rs_core::proto::{
    AuthenticationState, CreationChallengeResponse, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, RegistrationState, RequestAuthenticationExtensions,
    RequestChallengeResponse, RequestRegistrationExtensions, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

use crate::config::{PasskeyConfig, UserVerification};
use crate::error::Rejection;
use crate::secret::{random_id, TokenDigest};
use crate::store::{CeremonyKind, PasskeyRecord, Store, StoreError};

/// The relying party: the WebAuthn checks with this app's settings.
pub(crate) struct Passkeys {
    core: WebauthnCore,
    config: PasskeyConfig,
}

/// Why a ceremony step failed: a refusal (4xx, nothing written) or an outage.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PasskeyError {
    #[error(transparent)]
    Refused(#[from] Rejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Options for the client, and the ceremony token it sends back with its answer.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CeremonyOptions<T> {
    /// Names the ceremony's state on the server; send it back with the answer.
    pub ceremony: String,
    /// `PublicKeyCredentialCreationOptions` / `…RequestOptions`, for
    /// `navigator.credentials.create()` / `.get()` (base64url binary fields; the
    /// browser's `PublicKeyCredential.parseCreationOptionsFromJSON` reads them).
    #[schemars(with = "serde_json::Value")]
    pub options: T,
}

/// A passkey sign-in that verified: whose, and what the authenticator said.
pub(crate) struct SignedIn {
    pub(crate) subject: String,
    pub(crate) user_verified: bool,
    pub(crate) backup_eligible: bool,
}

impl SignedIn {
    /// `amr` (RFC 8176 §2) of a passkey sign-in: `hwk` for a key bound to one
    /// authenticator (not backup-eligible), `swk` for a synced one (its private
    /// key lives in software that copies it), `user` (a presence test, always),
    /// and `mfa` when the authenticator verified the user too (possession plus a
    /// PIN or biometric).
    pub(crate) fn amr(&self) -> Vec<String> {
        let key = if self.backup_eligible { "swk" } else { "hwk" };
        let mut amr = vec![key.to_owned(), "user".to_owned()];
        if self.user_verified {
            amr.push("mfa".to_owned());
        }
        amr
    }
}

/// The digest a ceremony's token is kept under, as every secret a client holds
/// is: the database holds no token a client could answer with.
fn ceremony_id(token: &str) -> String {
    TokenDigest::of(token.as_bytes()).as_str().to_owned()
}

fn policy(config: &PasskeyConfig) -> UserVerificationPolicy {
    match config.user_verification {
        UserVerification::Required => UserVerificationPolicy::Required,
        UserVerification::Preferred => UserVerificationPolicy::Preferred,
    }
}

/// Longest label kept.
pub(crate) const LABEL_MAX: usize = 64;

impl Passkeys {
    /// The relying party of `config` with `origins` (the configured ones, or the
    /// app's base URL); `None` when passkeys are off.
    pub(crate) fn new(config: &PasskeyConfig, base_url: &str) -> Option<Self> {
        let rp_id = config.rp_id.as_deref()?;
        let origins: Vec<reqwest::Url> = if config.origins.is_empty() {
            reqwest::Url::parse(base_url).ok().into_iter().collect()
        } else {
            config
                .origins
                .iter()
                .filter_map(|o| reqwest::Url::parse(o).ok())
                .collect()
        };
        let name = config.rp_name.as_deref().unwrap_or(rp_id);
        let timeout = Duration::from_secs(config.challenge_ttl.as_secs());
        let core = WebauthnCore::new_unsafe_experts_only(name, rp_id, origins, timeout, None, None);
        Some(Self {
            core,
            config: config.clone(),
        })
    }

    /// The `acr` a passkey login carries.
    pub(crate) fn acr(&self) -> &str {
        &self.config.acr
    }

    /// Keeps a ceremony's `state` on the server until the challenge expires;
    /// the token the client answers with (the database holds its digest).
    async fn open(
        &self,
        store: &Store,
        kind: CeremonyKind,
        subject: Option<&str>,
        state: &impl Serialize,
    ) -> Result<String, PasskeyError> {
        let token = random_id();
        let state = serde_json::to_string(state)
            .map_err(|_| Rejection::PasskeyServerFailure("cannot keep the ceremony"))?;
        let expires_at = store.clock().now() + self.config.challenge_ttl.as_secs();
        store
            .open_ceremony(&ceremony_id(&token), kind, subject, &state, expires_at)
            .await?;
        Ok(token)
    }

    /// Registration, step 1 (WebAuthn §7.1 before step 1): creation options for
    /// the signed-in `subject`, excluding the passkeys it has, its state kept.
    pub(crate) async fn start_registration(
        &self,
        store: &Store,
        subject: &str,
    ) -> Result<CeremonyOptions<CreationChallengeResponse>, PasskeyError> {
        let handle = store.passkey_user_handle(subject, &random_id()).await?;
        let handle_bytes = URL_SAFE_NO_PAD
            .decode(&handle)
            .map_err(|_| Rejection::PasskeyServerFailure("the stored user handle is unreadable"))?;
        let existing: Vec<_> = store
            .passkeys_of(subject)
            .await?
            .iter()
            .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
            .collect();
        let extensions = RequestRegistrationExtensions {
            cred_protect: None,
            uvm: Some(true),
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        };
        let builder = self
            .core
            .new_challenge_register_builder(&handle_bytes, subject, subject)
            .map_err(|_| Rejection::PasskeyServerFailure("cannot build registration options"))?
            .require_resident_key(self.config.resident_key)
            .user_verification_policy(policy(&self.config))
            .exclude_credentials(Some(existing))
            .extensions(Some(extensions));
        let (options, state) = self
            .core
            .generate_challenge_register(builder)
            .map_err(|_| Rejection::PasskeyServerFailure("cannot build registration options"))?;
        let ceremony = self
            .open(store, CeremonyKind::Register, Some(subject), &state)
            .await?;
        Ok(CeremonyOptions { ceremony, options })
    }

    /// Registration, step 2 (§7.1 steps 5–27, by `webauthn-rs-core`): the
    /// authenticator's answer to ceremony `token`, opened by the same `subject`;
    /// the passkey stored under `label`.
    pub(crate) async fn finish_registration(
        &self,
        store: &Store,
        subject: &str,
        token: &str,
        answer: &RegisterPublicKeyCredential,
        label: Option<&str>,
    ) -> Result<PasskeyRecord, PasskeyError> {
        let ceremony = store
            .take_ceremony(&ceremony_id(token), CeremonyKind::Register)
            .await?
            .ok_or(Rejection::PasskeyCeremonyGone)?;
        // A ceremony opened by another signed-in user is nobody's to finish.
        if ceremony.subject.as_deref() != Some(subject) {
            return Err(Rejection::PasskeyCeremonyGone.into());
        }
        let state: RegistrationState =
            serde_json::from_str(&ceremony.state).map_err(|_| Rejection::PasskeyCeremonyGone)?;
        let credential = self
            .core
            .register_credential(answer, &state, None)
            .map_err(|e| Rejection::PasskeyRegistrationRefused(refusal(&e)))?;
        let handle = store.passkey_user_handle(subject, &random_id()).await?;
        let record = PasskeyRecord {
            credential_id: URL_SAFE_NO_PAD.encode(credential.cred_id.as_slice()),
            subject: subject.to_owned(),
            user_handle: handle,
            credential: serde_json::to_string(&credential)
                .map_err(|_| Rejection::PasskeyServerFailure("cannot keep the credential"))?,
            sign_count: credential.counter,
            backup_eligible: credential.backup_eligible,
            backup_state: credential.backup_state,
            transports: transports(&credential),
            aaguid: authenticator_data::aaguid(&answer.response.attestation_object)
                .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".to_owned()),
            label: clean_label(label.unwrap_or("passkey")),
            created_at: store.clock().now(),
            last_used_at: None,
        };
        if !store.add_passkey(&record).await? {
            return Err(Rejection::PasskeyAlreadyRegistered.into());
        }
        Ok(record)
    }

    /// Login, step 1: request options naming no user (discoverable credentials:
    /// the authenticator offers the user's passkeys; conditional UI works).
    pub(crate) async fn start_login(
        &self,
        store: &Store,
    ) -> Result<CeremonyOptions<RequestChallengeResponse>, PasskeyError> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(Vec::new(), Some(policy(&self.config)))
            .map_err(|_| Rejection::PasskeyServerFailure("cannot build login options"))?
            .extensions(Some(RequestAuthenticationExtensions {
                appid: None,
                uvm: Some(true),
                hmac_get_secret: None,
            }));
        let (options, state) = self
            .core
            .generate_challenge_authenticate(builder)
            .map_err(|_| Rejection::PasskeyServerFailure("cannot build login options"))?;
        let ceremony = self.open(store, CeremonyKind::Login, None, &state).await?;
        Ok(CeremonyOptions { ceremony, options })
    }

    /// Login, step 2 (§7.2): the assertion answering ceremony `token`, by a
    /// registered passkey whose user handle it names, verified by
    /// `webauthn-rs-core`, its counter moved forwards in one statement.
    pub(crate) async fn finish_login(
        &self,
        store: &Store,
        token: &str,
        answer: &PublicKeyCredential,
    ) -> Result<SignedIn, PasskeyError> {
        let ceremony = store
            .take_ceremony(&ceremony_id(token), CeremonyKind::Login)
            .await?
            .ok_or(Rejection::PasskeyCeremonyGone)?;
        let state: AuthenticationState =
            serde_json::from_str(&ceremony.state).map_err(|_| Rejection::PasskeyCeremonyGone)?;
        let id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
        let record = store.passkey(&id).await?.ok_or(Rejection::PasskeyUnknown)?;
        // §7.2 step 6: the user was not identified before this ceremony (its
        // options name no credential), so the authenticator must say whose the
        // credential is, and that must be the credential's owner.
        let handle = answer
            .get_user_unique_id()
            .map(|handle| URL_SAFE_NO_PAD.encode(handle));
        if handle.as_deref() != Some(record.user_handle.as_str()) {
            return Err(Rejection::PasskeyUserHandleMismatch.into());
        }
        let mut credential: Credential =
            serde_json::from_str(&record.credential).map_err(|_| Rejection::PasskeyUnknown)?;
        // The counter this server knows, not the one of the registration.
        credential.counter = record.sign_count;
        let result = self
            .core
            .authenticate_single_credential(answer, &state, &credential)
            .map_err(|e| match e {
                webauthn_rs_core::error::WebauthnError::CredentialPossibleCompromise => {
                    Rejection::PasskeyCounterRegressed
                }
                e => Rejection::PasskeyLoginRefused(refusal(&e)),
            })?;
        // §7.2 step 22: one compare-and-swap from the counter read; a counter
        // that did not move forwards (and is not zero on both sides) is refused.
        let moved = store
            .passkey_signed_in(
                &id,
                record.sign_count,
                result.counter(),
                result.backup_state(),
            )
            .await?;
        if !moved {
            return Err(Rejection::PasskeyCounterRegressed.into());
        }
        Ok(SignedIn {
            subject: record.subject,
            user_verified: result.user_verified(),
            backup_eligible: result.backup_eligible(),
        })
    }
}

/// What the client is told about an answer `webauthn-rs-core` refused: the
/// check that failed, in the spec's terms, never more.
fn refusal(error: &webauthn_rs_core::error::WebauthnError) -> &'static str {
    use webauthn_rs_core::error::WebauthnError as E;
    match error {
        E::InvalidRPOrigin | E::InvalidRPIDHash => {
            "the answer is for another site (origin or relying party id)"
        }
        E::MismatchedChallenge => "the answer is for another challenge",
        E::UserNotVerified => "the authenticator did not verify the user",
        E::UserNotPresent => "the authenticator did not test the user's presence",
        E::InvalidClientDataType => "the answer is of the wrong ceremony",
        E::CredentialAlteredAlgFromRequest | E::CredentialInsecureCryptography => {
            "the credential's algorithm was not offered"
        }
        E::CredentialExcludedFromRequest => "this passkey is registered already",
        _ => "the authenticator's answer did not verify",
    }
}

fn transports(credential: &Credential) -> Vec<String> {
    credential
        .transports
        .iter()
        .flatten()
        .filter_map(|t| serde_json::to_value(t).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// A label as kept: printable, trimmed, at most [`LABEL_MAX`] characters.
pub(crate) fn clean_label(label: &str) -> String {
    let cleaned = crate::device_description::clean_text(label, LABEL_MAX);
    if cleaned.trim().is_empty() {
        "passkey".to_owned()
    } else {
        cleaned.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_says_how_the_key_is_kept_and_whether_the_user_was_verified() {
        let signed = |user_verified, backup_eligible| SignedIn {
            subject: String::new(),
            user_verified,
            backup_eligible,
        };
        assert_eq!(signed(true, false).amr(), ["hwk", "user", "mfa"]);
        assert_eq!(signed(true, true).amr(), ["swk", "user", "mfa"]);
        assert_eq!(signed(false, false).amr(), ["hwk", "user"]);
    }

    #[test]
    fn ceremonies_are_kept_under_a_digest() {
        let id = ceremony_id("token");
        assert_ne!(id, "token");
        assert_eq!(id, ceremony_id("token"));
        assert_eq!(id, TokenDigest::of(b"token").as_str());
    }
}
