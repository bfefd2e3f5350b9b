//! Tokens from outside: the issuer named `partner` (`trusted_issuers`), whose users
//! log in elsewhere. The showcase ships a demo partner (`partner/`) so this works
//! with no network; `POST /partner/demo-token` signs as that partner.

use jwt_guard::{
    public, use_jwt, AuthError, CarriesCredentials, Claims, Jwt, LoginResponse, Principal, Scopes,
    Sessions, Upstream,
};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, post, routes, Route};
use serde::{Deserialize, Serialize};

use crate::users::{partner_claims, PARTNER_PREFIX};

/// The issuer's `iss` in the demo configuration.
pub const DEMO_ISSUER: &str = "https://partner.example";

/// What partner tokens carry besides the registered claims.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
pub struct PartnerClaims {
    /// OAuth scopes (a space-separated `scope`, or an array).
    #[claims(scopes)]
    #[serde(default)]
    pub scope: Scopes,
}

/// Who the partner says the caller is. The app's own tokens are refused here.
#[use_jwt(issuer = "partner", claims = PartnerClaims)]
#[get("/partner/me")]
fn partner_me(jwt: Jwt<PartnerClaims>) -> Json<Value> {
    Json(json!({
        "sub": jwt.subject(),
        "iss": jwt.registered().iss,
        "scope": jwt.scope,
    }))
}

/// Signs the partner's user in *here*: an own device session for
/// `partner:<sub>` (role user), answered like `POST /auth/token` — an app-started
/// session ([`Sessions`]) for a user the app did not check a password for.
#[use_jwt(issuer = "partner", claims = PartnerClaims)]
#[post("/partner/login")]
async fn partner_login(
    jwt: Jwt<PartnerClaims>,
    sessions: Sessions<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let principal = Principal {
        subject: format!("{PARTNER_PREFIX}{}", jwt.subject()),
        claims: partner_claims(),
    };
    // The partner's word on when (and how strongly) the user authenticated
    // travels into the session, so `fresh` routes judge the real login.
    let upstream = Upstream::of(&jwt);
    Ok(Json(
        sessions
            .start_upstream(&principal, "partner", upstream)
            .await?,
    ))
}

/// A model context protocol endpoint, as an MCP server protects it: tokens of the
/// partner (the authorization server) issued for this resource (`aud`, checked
/// against the `partner` issuer's audience, which is `jwt.resource`), with scope
/// `mcp:tools`. Without one, the 401 points to the resource's metadata
/// (`resource_metadata`, RFC 9728); with too few scopes the 403 names them all.
#[use_jwt(issuer = "partner", claims = PartnerClaims, scope = "mcp:tools")]
#[post("/mcp")]
fn mcp(jwt: Jwt<PartnerClaims>) -> Json<Value> {
    Json(json!({
        "jsonrpc": "2.0",
        "id": null,
        "result": { "server": "jwt-guard showcase", "caller": jwt.subject() },
    }))
}

/// `POST /partner/demo-token` body.
#[derive(Deserialize)]
struct DemoTokenRequest {
    sub: String,
    /// Default `orders:read`.
    #[serde(default)]
    scope: Option<String>,
    /// Default: the audience the `partner` issuer is configured with (this
    /// showcase's resource).
    #[serde(default)]
    aud: Option<String>,
}

/// Signs a token *as the demo partner* (with its shipped private key), for the
/// walkthrough and the tests: in real life the partner's own login does this. It
/// takes `scope` and `aud`, so that a client can be given what an authorization
/// server would issue.
#[public]
#[post("/partner/demo-token", data = "<body>")]
fn demo_token(
    body: Json<DemoTokenRequest>,
    rt: &rocket::State<jwt_guard::runtime::JwtRuntime>,
) -> Result<CarriesCredentials<Json<Value>>, jwt_guard::AuthError> {
    let audience = body.aud.clone().or_else(|| {
        rt.config()
            .trusted_issuers
            .iter()
            .find(|i| i.name == "partner")
            .map(|i| i.audience.clone())
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(crate::DEMO_PARTNER_KEY.as_bytes())
        .map_err(jwt_guard::AuthError::unavailable)?;
    let kid = serde_json::from_str::<Value>(crate::DEMO_PARTNER_JWKS)
        .ok()
        .and_then(|jwks| jwks["keys"][0]["kid"].as_str().map(str::to_owned));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid;
    header.typ = Some("at+jwt".into());
    let now = jwt_guard::Clock::system().now();
    let claims = json!({
        "iss": DEMO_ISSUER, "aud": audience, "sub": body.sub,
        "iat": now, "exp": now + 600, "auth_time": now,
        "scope": body.scope.as_deref().unwrap_or("orders:read"),
    });
    let token =
        jsonwebtoken::encode(&header, &claims, &key).map_err(jwt_guard::AuthError::unavailable)?;
    Ok(CarriesCredentials(Json(
        json!({ "access": token, "note": "signed by the demo partner" }),
    )))
}

/// The partner routes.
pub fn routes() -> Vec<Route> {
    routes![partner_me, partner_login, demo_token, mcp]
}
