//! The showcase's HTTP contract: the bodies its own routes read and write, as
//! types, and the description of each of its routes for `GET /openapi.json`
//! (jwt-guard describes its own). Every answer of a route is named here, errors
//! in jwt-guard's one shape.

use std::collections::BTreeMap;

use jwt_guard::link::LinkMessage;
use jwt_guard::manifest::RouteEntry;
use jwt_guard::openapi::Operation;
use jwt_guard::store::{LinkRecord, LinkUseRecord};
use jwt_guard::MintedLink;
use jwt_guard::{DeviceAccess, LoginResponse, Scopes};
use rocket::http::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::Role;

/// `GET /me`.
#[derive(Serialize, JsonSchema)]
pub struct Me {
    /// The subject.
    pub sub: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its scopes.
    pub scope: Scopes,
    /// The device the token belongs to.
    pub device_id: Option<String>,
}

/// `GET /account/vault`: how the caller signed in.
#[derive(Serialize, JsonSchema)]
pub struct Vault {
    /// The subject.
    pub sub: String,
    /// The authentication class (`phr`: phishing-resistant).
    pub acr: String,
    /// The authentication methods (RFC 8176), e.g. `["hwk", "user", "mfa"]`.
    pub amr: Vec<String>,
}

/// `GET /admin/stats`.
#[derive(Serialize, JsonSchema)]
pub struct AdminStats {
    /// The administrator who asked.
    pub requested_by: String,
    /// Demo users.
    pub users: usize,
}

/// `GET /reports`.
#[derive(Serialize, JsonSchema)]
pub struct Reports {
    /// Report names.
    pub reports: Vec<String>,
    /// The subject they are for.
    #[serde(rename = "for")]
    pub for_subject: String,
}

/// `GET`/`POST /visits`.
#[derive(Serialize, JsonSchema)]
pub struct Visits {
    /// Visits counted since the showcase started.
    pub visits: u64,
}

/// What a link route did, for the link's subject.
#[derive(Serialize, JsonSchema)]
pub struct Unsubscribed {
    /// The subject unsubscribed.
    pub unsubscribed: String,
    /// The link used.
    pub link: String,
}

/// `GET /links/verify-email`.
#[derive(Serialize, JsonSchema)]
pub struct Verified {
    /// The subject whose address is verified.
    pub verified: String,
}

/// `POST /newsletter/confirm`.
#[derive(Serialize, JsonSchema)]
pub struct Subscribed {
    /// The subject subscribed.
    pub subscribed: String,
}

/// `POST /links/magic-login` body.
#[derive(Deserialize, JsonSchema)]
pub struct MagicLoginRequest {
    /// Whose link to send (1 to 64 characters).
    #[schemars(length(min = 1, max = 64))]
    pub username: String,
}

/// An answer that says what happened in words.
#[derive(Serialize, JsonSchema)]
pub struct Detail {
    /// What happened.
    pub detail: String,
}

/// How many were revoked.
#[derive(Serialize, JsonSchema)]
pub struct Revoked {
    /// Revoked links.
    pub revoked: u64,
}

/// `GET /admin/links/<id>/uses`.
#[derive(Serialize, JsonSchema)]
pub struct LinkLog {
    /// The link.
    pub link: LinkRecord,
    /// Every attempt to use it.
    pub uses: Vec<LinkUseRecord>,
}

/// `GET /partner/me`.
#[derive(Serialize, JsonSchema)]
pub struct PartnerMe {
    /// The partner's subject.
    pub sub: String,
    /// The partner's issuer.
    pub iss: Option<String>,
    /// Its scopes.
    pub scope: Scopes,
}

/// `"2.0"`, the only JSON-RPC version.
#[derive(Serialize, Deserialize)]
pub struct JsonRpcVersion(pub String);

impl JsonSchema for JsonRpcVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonRpcVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "const": "2.0" })
    }
}

/// A JSON-RPC request id: a string or a whole number.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RequestId {
    /// A number.
    Number(i64),
    /// A string.
    Text(String),
}

/// The MCP versions with a handshake this server speaks (`MCP-Protocol-Version`).
pub struct McpProtocolVersion;

impl JsonSchema for McpProtocolVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "McpProtocolVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "enum": ["2025-03-26", "2025-06-18", "2025-11-25"] })
    }
}

/// A JSON-RPC 2.0 request or notification of MCP (`initialize`, `tools/list`,
/// `tools/call`, …).
#[derive(Deserialize, JsonSchema)]
pub struct McpMessage {
    /// `2.0`.
    pub jsonrpc: JsonRpcVersion,
    /// The request's id (none for a notification; never `null`).
    #[serde(default)]
    #[schemars(with = "RequestId")]
    pub id: Option<RequestId>,
    /// The method.
    #[schemars(length(min = 1))]
    pub method: String,
    /// The method's parameters (an object, when given).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub params: Option<BTreeMap<String, Value>>,
}

/// A JSON-RPC 2.0 answer of MCP: a `result` or an `error`.
#[derive(Serialize, JsonSchema)]
pub struct McpAnswer {
    /// `2.0`.
    pub jsonrpc: String,
    /// The request's id (absent when the request could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// The result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<BTreeMap<String, Value>>,
    /// The JSON-RPC error (`code`, `message`, `data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BTreeMap<String, Value>>,
}

/// What `POST /mcp` refuses with: a JSON-RPC error (a message it cannot read,
/// a protocol version it does not speak), or jwt-guard's error body (a
/// `Permanent-Token` header sent here).
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum McpRefusal {
    /// The JSON-RPC error.
    JsonRpc(McpAnswer),
    /// jwt-guard's error body.
    Http(jwt_guard::openapi::ErrorBody),
}

/// RFC 8414 authorization server metadata of the demo partner.
#[derive(Serialize, JsonSchema)]
pub struct AuthorizationServerMetadata {
    /// The issuer.
    pub issuer: String,
    /// Where users would sign in (the demo partner has no such page).
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The partner's keys.
    pub jwks_uri: String,
    /// RFC 8414 §2.
    pub response_types_supported: Vec<String>,
    /// `client_credentials`.
    pub grant_types_supported: Vec<String>,
    /// How clients authenticate at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Scopes it issues.
    pub scopes_supported: Vec<String>,
}

/// An RFC 6749 §4.4.2 token request.
#[derive(Deserialize, JsonSchema)]
pub struct TokenRequestForm {
    /// `client_credentials`.
    pub grant_type: Option<String>,
    /// The scopes asked for, space-separated.
    pub scope: Option<String>,
    /// RFC 8707: the resource the token is for.
    pub resource: Option<String>,
    /// With `client_secret_post`.
    pub client_id: Option<String>,
    /// With `client_secret_post`.
    pub client_secret: Option<String>,
}

/// An RFC 6749 §5.1 token answer.
#[derive(Serialize, JsonSchema)]
pub struct TokenAnswer {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds it lasts.
    pub expires_in: u64,
    /// The scopes granted.
    pub scope: String,
}

/// `POST /partner/demo-token` body.
#[derive(Deserialize, JsonSchema)]
pub struct DemoTokenRequest {
    /// The subject.
    pub sub: String,
    /// Default `orders:read`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Default: the audience the `partner` issuer is configured with.
    #[serde(default)]
    pub aud: Option<String>,
}

/// A token the demo partner signed.
#[derive(Serialize, JsonSchema)]
pub struct DemoToken {
    /// The access token.
    pub access: String,
    /// Where it came from.
    pub note: String,
}

/// `POST /partner/demo-logout` body: whom the demo partner signs out.
#[derive(Deserialize, JsonSchema)]
pub struct DemoLogoutRequest {
    /// The partner's subject (the `sub` of its tokens).
    #[schemars(length(min = 1, max = 256))]
    pub sub: String,
}

/// What delivering the demo partner's two signals got: the HTTP status each
/// endpoint answered.
#[derive(Serialize, JsonSchema)]
pub struct DemoLogoutAnswer {
    /// `POST /signals/backchannel-logout/partner` (OpenID Connect Back-Channel
    /// Logout): 200.
    pub backchannel_logout: u16,
    /// `POST /signals/ssf/partner` (a CAEP session-revoked event, RFC 8935): 202.
    pub security_event: u16,
}

/// The demo partner's keys (RFC 7517).
#[derive(Serialize, JsonSchema)]
pub struct JwkSet {
    /// Public JWKs.
    pub keys: Vec<BTreeMap<String, Value>>,
}

/// Any JSON object (the OpenAPI document itself).
#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
pub struct AnyObject(pub BTreeMap<String, Value>);

/// Every route of the showcase's own, described.
pub fn described() -> Vec<(Method, &'static str, Operation)> {
    let stateful = [503];
    let json_body_errors = [400, 413, 415, 422];
    let link_use = |op: Operation| {
        op.query::<String>("token", true, "the link's token (as minted)")
            .errors(&[403, 410])
            .errors(&stateful)
    };
    vec![
        (
            Method::Get,
            "/me",
            Operation::new("Who the access token speaks for").answers::<Me>(200, "the caller"),
        ),
        (
            Method::Get,
            "/admin/stats",
            Operation::new("Demo statistics (role admin)").answers::<AdminStats>(200, "stats"),
        ),
        (
            Method::Get,
            "/reports",
            Operation::new("Reports (scope reports:read)").answers::<Reports>(200, "reports"),
        ),
        (
            Method::Post,
            "/account/password",
            Operation::new("Changes the password (needs a login of the last 5 minutes)")
                .answers_empty(204, "changed"),
        ),
        (
            Method::Get,
            "/account/vault",
            Operation::new("A phishing-resistant sign-in only (acr phr: a passkey)")
                .answers::<Vault>(200, "how the caller signed in"),
        ),
        (
            Method::Get,
            "/hello",
            Operation::new("Greets the caller, signed in or not").answers_text(
                200,
                "text/plain",
                "a greeting",
            ),
        ),
        (
            Method::Post,
            "/auth/device/refresh",
            Operation::new("A new access token for the device holding Permanent-Token")
                .answers::<DeviceAccess>(200, "the device's new access and permanent token")
                .errors(&[400, 429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/visits",
            Operation::new("Counts a visit").answers::<Visits>(200, "the count"),
        ),
        (
            Method::Get,
            "/visits",
            Operation::new("The visit count").answers::<Visits>(200, "the count"),
        ),
        (
            Method::Get,
            "/admin/routes",
            Operation::new("How every route is protected (role admin)")
                .answers::<Vec<RouteEntry>>(200, "the route manifest"),
        ),
        (
            Method::Get,
            "/openapi.json",
            Operation::new("This document").answers::<AnyObject>(200, "OpenAPI 3.1"),
        ),
        (
            Method::Post,
            "/links/unsubscribe",
            Operation::new("Mints a one-time unsubscribe link for the caller")
                .answers::<MintedLink>(200, "the link")
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/newsletter/unsubscribe",
            link_use(Operation::new(
                "Unsubscribes the link's subject (one-time link)",
            ))
            .answers::<Unsubscribed>(200, "unsubscribed"),
        ),
        (
            Method::Post,
            "/links/verify-email",
            Operation::new("Mints an e-mail verification link for the caller")
                .answers::<MintedLink>(200, "the link")
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/links/verify-email",
            link_use(Operation::new("Verifies the link's subject's address"))
                .answers::<Verified>(200, "verified"),
        ),
        (
            Method::Post,
            "/links/magic-login",
            Operation::new("Sends a sign-in link to the account's owner (never to the caller)")
                .json_body::<MagicLoginRequest>()
                .answers::<Detail>(202, "sent if the account exists")
                .errors(&json_body_errors)
                .errors(&[429])
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/admin/outbox",
            Operation::new("The development outbox (role admin)")
                .answers::<Vec<LinkMessage>>(200, "delivered links"),
        ),
        (
            Method::Post,
            "/auth/magic",
            link_use(Operation::new(
                "Signs the link's recipient in (its confirmation page posts here)",
            ))
            .header("DPoP", false, "a proof: the session is bound to its key")
            .answers::<LoginResponse>(200, "the new session"),
        ),
        (
            Method::Post,
            "/links/newsletter-confirm",
            Operation::new("Mints a newsletter confirmation link (scanner-safe)")
                .answers::<MintedLink>(200, "the link")
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/newsletter/confirm",
            link_use(Operation::new(
                "Confirms the subscription (the confirmation page's button)",
            ))
            .answers::<Subscribed>(200, "subscribed"),
        ),
        (
            Method::Delete,
            "/links/minted/<id>",
            Operation::new("Revokes one of the caller's links")
                .answers_empty(204, "revoked")
                .errors(&[404])
                .errors(&stateful),
        ),
        (
            Method::Delete,
            "/links",
            Operation::new("Revokes all of the caller's links")
                .answers::<Revoked>(200, "how many")
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/admin/links/<id>/uses",
            Operation::new("The audit log of one link (role admin)")
                .answers::<LinkLog>(200, "the link and its uses")
                .errors(&[404])
                .errors(&stateful),
        ),
        (
            Method::Get,
            "/app",
            Operation::new("The browser page (cookie mode)").answers_text(
                200,
                "text/html",
                "the page",
            ),
        ),
        (
            Method::Get,
            "/partner/me",
            Operation::new("Who the partner's token speaks for")
                .answers::<PartnerMe>(200, "the partner's user"),
        ),
        (
            Method::Post,
            "/partner/login",
            Operation::new("An own session for the partner's user")
                .answers::<LoginResponse>(200, "the session")
                .errors(&[429])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/mcp",
            Operation::new("The MCP endpoint (Streamable HTTP, JSON answers)")
                .json_body::<McpMessage>()
                .header_of::<McpProtocolVersion>(
                    "MCP-Protocol-Version",
                    false,
                    "the negotiated protocol version",
                )
                .answers::<McpAnswer>(200, "the JSON-RPC answer")
                .answers_empty(202, "a notification or a response, accepted")
                .answers::<McpRefusal>(400, "a message that cannot be read, or an unknown version")
                .answers::<McpRefusal>(406, "the client does not take application/json")
                .answers::<McpRefusal>(413, "the message is too large")
                .errors(&[403]),
        ),
        (
            Method::Get,
            "/.well-known/oauth-authorization-server/partner",
            Operation::new("The demo partner's RFC 8414 metadata")
                .answers::<AuthorizationServerMetadata>(200, "the metadata")
                .errors(&[404]),
        ),
        (
            Method::Get,
            "/partner/jwks.json",
            Operation::new("The demo partner's public keys")
                .answers::<JwkSet>(200, "the keys")
                .errors(&[404]),
        ),
        (
            Method::Post,
            "/partner/token",
            Operation::new("The demo partner's token endpoint (client_credentials, RFC 6749 §4.4)")
                .form_body::<TokenRequestForm>()
                .answers::<TokenAnswer>(200, "a token")
                .errors(&[400, 401, 404, 415, 422])
                .errors(&stateful),
        ),
        (
            Method::Post,
            "/partner/demo-token",
            Operation::new("Signs a user's token as the demo partner (for demos and tests)")
                .json_body::<DemoTokenRequest>()
                .answers::<DemoToken>(200, "the token")
                .errors(&json_body_errors)
                .errors(&[404]),
        ),
        (
            Method::Post,
            "/partner/demo-logout",
            Operation::new(
                "The demo partner signs a user out: it signs a back-channel logout token and a \
                 CAEP session-revoked event and delivers both to this app",
            )
            .json_body::<DemoLogoutRequest>()
            .answers::<DemoLogoutAnswer>(200, "what each delivery was answered")
            .errors(&json_body_errors)
            .errors(&[404])
            .errors(&stateful),
        ),
    ]
}
