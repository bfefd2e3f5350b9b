//! Tokens from outside: the issuer named `partner` (`trusted_issuers`), whose users
//! log in elsewhere. The showcase ships a demo partner (`partner/`) so this works
//! with no network; `POST /partner/demo-token` signs as that partner.

use jwt_guard::{
    public, use_jwt, AuthError, Claims, Jwt, LoginResponse, Principal, Scopes, Sessions,
};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, post, routes, Route};
use serde::{Deserialize, Serialize};

use crate::users::{partner_claims, PARTNER_PREFIX};

/// The issuer's `iss` in the demo configuration.
pub const DEMO_ISSUER: &str = "https://partner.example";
/// The audience partner tokens carry for the showcase.
pub const DEMO_AUDIENCE: &str = "showcase";

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
    Ok(Json(sessions.start(&principal, "partner").await?))
}

/// `POST /partner/demo-token` body.
#[derive(Deserialize)]
struct DemoTokenRequest {
    sub: String,
}

/// Signs a token *as the demo partner* (with its shipped private key), for the
/// walkthrough: in real life the partner's own login does this.
#[public]
#[post("/partner/demo-token", data = "<body>")]
fn demo_token(body: Json<DemoTokenRequest>) -> Result<Json<Value>, jwt_guard::AuthError> {
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
        "iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": body.sub,
        "iat": now, "exp": now + 600, "scope": "orders:read",
    });
    let token =
        jsonwebtoken::encode(&header, &claims, &key).map_err(jwt_guard::AuthError::unavailable)?;
    Ok(Json(
        json!({ "access": token, "note": "signed by the demo partner" }),
    ))
}

/// The partner routes.
pub fn routes() -> Vec<Route> {
    routes![partner_me, partner_login, demo_token]
}
