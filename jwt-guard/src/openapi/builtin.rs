//! jwt-guard's own routes, described: what each takes and every answer it
//! gives, from the types it reads and writes. Matched by method and by the path
//! jwt-guard declares (the mount point in front of it is the app's).

use std::collections::BTreeMap;

use rocket::http::Method;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::operation::Operation;
use crate::headers::DEVICE_ID_HEADER;
use crate::routes::{
    DeviceView, ExpireResponse, LoginRequest, LogoutForm, LogoutResponse, RefreshRequest,
    TokenForm, VerifyRequest, VerifyResponse,
};
use crate::session::LoginResponse;
use crate::signer::TokenPair;
use crate::store::TokenPage;

/// A JSON Web Key Set (RFC 7517 §5): public keys only.
#[derive(Serialize, JsonSchema)]
struct JwkSet {
    /// The keys, each a JWK (`kty`, `kid`, `alg`, `use` and the public members).
    keys: Vec<BTreeMap<String, Value>>,
}

/// RFC 9728 §2 protected-resource metadata.
#[derive(Serialize, JsonSchema)]
struct ResourceMetadata {
    /// The resource identifier, byte for byte as configured.
    resource: String,
    /// Issuers of tokens for this resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_servers: Option<Vec<String>>,
    /// Scopes clients may ask for.
    scopes_supported: Vec<String>,
    /// `header`: tokens are read from `Authorization`.
    bearer_methods_supported: Vec<String>,
    /// DPoP proof algorithms (RFC 9449 §5.1), with DPoP on.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether only DPoP-bound tokens pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_bound_access_tokens_required: Option<bool>,
    /// A name for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    /// A page for developers.
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
}

/// RFC 7662 §2.2: whether a token is active and, when it is, what it is.
#[derive(Serialize, JsonSchema)]
struct Introspection {
    /// Whether the token is valid now. Nothing else is said of one that is not.
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// `Bearer`/`DPoP` (access), `refresh_token`, `permanent_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    /// The device.
    #[serde(skip_serializing_if = "Option::is_none")]
    did: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    /// A string or an array of strings.
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Value>,
    /// The key a DPoP-bound token is confirmed by (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<BTreeMap<String, String>>,
}

/// Back-Channel Logout 1.0 §2.8: why a logout token was refused.
#[derive(Serialize, JsonSchema)]
struct LogoutError {
    /// `invalid_request`.
    error: String,
    /// What was wrong.
    error_description: String,
}

/// RFC 8935 §2.3: why a pushed event was refused.
#[derive(Serialize, JsonSchema)]
struct SetDeliveryError {
    /// An RFC 8935 §2.4 code: `invalid_request`, `invalid_key`, `invalid_issuer`,
    /// `invalid_audience`, `authentication_failed`, `access_denied`.
    err: String,
    /// What was wrong.
    description: String,
}

/// A place in a list or a page size: a whole number of 32 bits (what the routes
/// read; `format: uint32` alone bounds nothing for a client).
struct PageNumber;

impl JsonSchema for PageNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PageNumber".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "minimum": 0, "maximum": u32::MAX })
    }
}

/// Paging of lists: `offset` and `limit`.
fn paged(op: Operation) -> Operation {
    op.query::<PageNumber>("offset", false, "where the page starts (default 0)")
        .query::<PageNumber>("limit", false, "most items on the page")
}

/// Every route jwt-guard mounts, by method and declared path.
pub(super) fn operations() -> Vec<(Method, &'static str, Operation)> {
    let stateful = [503];
    let operations = vec![
        (
            Method::Post,
            "/auth/token",
            Operation::new(
                "Signs in with a username and password: a new device session \
                 (with a DPoP proof header, RFC 9449, its tokens are bound to the proof's key)",
            )
            .json_body::<LoginRequest>()
            .header("X-Device-Model", false, "a name for the device")
            .header(
                "Device-Cookie",
                false,
                "the known-device credential an earlier login gave this client",
            )
            .answers::<LoginResponse>(200, "the session's tokens and device")
            .errors(&[400, 401, 403, 413, 415, 422, 429])
            .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/token/refresh",
            Operation::new("Rotates a refresh token: a new pair; a spent one signs the device out")
                .optional_json_body::<RefreshRequest>()
                .answers::<TokenPair>(200, "the new pair")
                .errors(&[400, 401, 403, 413, 415, 422, 429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/token/verify",
            Operation::new("Says whether a token is valid now")
                .json_body::<VerifyRequest>()
                .answers::<VerifyResponse>(200, "the token is valid")
                .errors(&[400, 401, 413, 415, 422])
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/.well-known/jwks.json",
            Operation::new("The public keys that verify this app's tokens (RFC 7517)")
                .answers::<JwkSet>(200, "the keys")
                .errors(&[404]),
        ),
        (
            Method::Get,
            "/auth/devices",
            paged(Operation::new("The caller's devices"))
                .answers::<Vec<DeviceView>>(200, "a page of devices (X-Total-Count, Link)")
                .errors(&[400])
                .errors(&stateful),
        ),
        (
            Method::Delete,
            "/auth/devices/<id>",
            Operation::new("Signs one of the caller's devices out")
                .answers_empty(204, "signed out")
                .errors(&[404])
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/auth/devices/<id>/tokens",
            paged(Operation::new("The tokens a device was issued, as a tree"))
                .answers::<TokenPage>(200, "a page of the tree")
                .errors(&[400, 404])
                .errors(&stateful),
        ),
        (
            Method::Delete,
            "/auth/device-logout",
            Operation::new("Signs the device named in Device-Id out")
                .header(DEVICE_ID_HEADER, true, "the device")
                .answers_empty(204, "signed out")
                .errors(&[400, 404])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/logout",
            Operation::new("Signs the caller's device out")
                .answers_empty(204, "signed out")
                .errors(&[400])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/logout-all",
            Operation::new("Signs every device of the caller out")
                .query::<bool>("keep_current", false, "keep the calling device")
                .answers::<LogoutResponse>(200, "how many devices were signed out")
                .errors(&[400])
                .errors(&stateful),
        ),
        (
            Method::Delete,
            "/auth/tokens/<jti>",
            Operation::new("Force-expires one of the caller's tokens and those issued from it")
                .answers::<ExpireResponse>(200, "the ids revoked")
                .errors(&[404])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/oauth/revoke",
            Operation::new("Revokes a token (RFC 7009)")
                .form_body::<TokenForm>()
                .answers_empty(
                    200,
                    "revoked, or nothing to revoke (the answer tells nothing)",
                )
                .errors(&[400, 413, 415, 429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/oauth/introspect",
            Operation::new("Says whether a token is active, and what it is (RFC 7662)")
                .form_body::<TokenForm>()
                .answers::<Introspection>(200, "the token's state")
                .errors(&[400, 413, 415, 429])
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/.well-known/oauth-protected-resource",
            Operation::new("Protected-resource metadata of the app as a whole (RFC 9728)")
                .answers::<ResourceMetadata>(200, "the metadata")
                .errors(&[404]),
        ),
        (
            Method::Get,
            "/.well-known/oauth-protected-resource/<_path..>",
            Operation::new(
                "Protected-resource metadata of the resource at this path (RFC 9728 §3.1)",
            )
            .answers::<ResourceMetadata>(200, "the metadata")
            .errors(&[404]),
        ),
        (
            Method::Post,
            "/signals/backchannel-logout/<issuer>",
            Operation::new(
                "Receives an OpenID Connect Back-Channel Logout token from the trusted \
                 issuer named in the path: the sessions resting on that login end",
            )
            .form_body::<LogoutForm>()
            .answers_empty(200, "logged out (Cache-Control: no-store)")
            .answers::<LogoutError>(400, "the logout token is invalid; nothing ended")
            .errors(&[404])
            .errors(&stateful),
        ),
        (
            Method::Post,
            "/signals/ssf/<issuer>",
            Operation::new(
                "Receives a Security Event Token pushed by the trusted issuer named in the \
                 path as a Shared Signals transmitter (RFC 8935)",
            )
            .text_body("application/secevent+jwt")
            .header(
                "Authorization",
                true,
                "Bearer and the transmitter's push credential",
            )
            .answers_empty(202, "accepted (RFC 8935 §2.2)")
            .answers::<SetDeliveryError>(400, "the event is invalid; nothing ended (§2.3)")
            .answers::<SetDeliveryError>(401, "the push credential is missing or wrong")
            .errors(&[404])
            .errors(&stateful),
        ),
        (
            Method::Get,
            "/metrics",
            Operation::new("Prometheus metrics").answers_text(
                200,
                "text/plain",
                "the metrics, Prometheus text format",
            ),
        ),
    ];
    #[cfg(feature = "passkeys")]
    let operations = [operations, passkey_operations()].concat();
    operations
}

/// The passkey routes (WebAuthn), with the `passkeys` feature.
#[cfg(feature = "passkeys")]
fn passkey_operations() -> Vec<(Method, &'static str, Operation)> {
    use crate::passkeys::CeremonyOptions;
    use crate::routes::{
        PasskeyLogin, PasskeyRegistered, PasskeyRegistration, PasskeyRename, PasskeyStepUp,
    };
    use crate::store::PasskeyView;
    let stateful = [503];
    vec![
        (
            Method::Post,
            "/auth/passkeys/register/options",
            Operation::new("Creation options for a new passkey of the caller's (WebAuthn)")
                .answers::<CeremonyOptions<Value>>(200, "the ceremony and its options")
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/passkeys/register",
            Operation::new("Registers the passkey the authenticator created")
                .json_body::<PasskeyRegistration>()
                .answers::<PasskeyRegistered>(201, "the passkey")
                .errors(&[400, 413, 415, 422])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/passkeys/login/options",
            Operation::new("Request options for a passkey sign-in, naming no user")
                .answers::<CeremonyOptions<Value>>(200, "the ceremony and its options")
                .errors(&[429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/passkeys/login",
            Operation::new("Signs in with a passkey: a new device session")
                .json_body::<PasskeyLogin>()
                .answers::<LoginResponse>(200, "the session's tokens and device")
                .errors(&[400, 401, 403, 413, 415, 422, 429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/auth/passkeys/step-up",
            Operation::new(
                "Steps the session up with a passkey (RFC 9470): the same device, its next \
                 tokens carrying the new auth_time, acr and amr",
            )
            .json_body::<PasskeyStepUp>()
            .answers::<TokenPair>(200, "the new pair")
            .errors(&[400, 401, 403, 413, 415, 422, 429])
            .errors(&stateful),
        ),
        (
            Method::Get,
            "/auth/passkeys/credentials",
            Operation::new("The caller's passkeys")
                .answers::<Vec<PasskeyView>>(200, "the passkeys, no key material")
                .errors(&stateful),
        ),
        (
            Method::Patch,
            "/auth/passkeys/credentials/<id>",
            Operation::new("Renames one of the caller's passkeys")
                .json_body::<PasskeyRename>()
                .answers_empty(204, "renamed")
                .errors(&[400, 404, 413, 415, 422])
                .errors(&stateful),
        ),
        (
            Method::Delete,
            "/auth/passkeys/credentials/<id>",
            Operation::new("Deletes one of the caller's passkeys (its sessions go on)")
                .answers_empty(204, "deleted")
                .errors(&[404])
                .errors(&stateful),
        ),
    ]
}
