//! Tokens from outside: the issuer named `partner` (`trusted_issuers`), whose users
//! log in elsewhere. The showcase ships a demo partner ([`crate::demo_partner`])
//! so this works with no network.

use jwt_guard::{
    use_jwt, AuthError, Claims, Jwt, LoginResponse, Principal, Scopes, Sessions, Upstream,
};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route};
use serde::{Deserialize, Serialize};

use crate::api::PartnerMe;
use crate::users::{partner_claims, PARTNER_PREFIX};

/// What partner tokens carry besides the registered claims.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
pub struct PartnerClaims {
    /// OAuth scopes (a space-separated `scope`, or an array).
    #[claims(scopes)]
    #[serde(default)]
    pub scope: Scopes,
    /// The partner's login session (`sid`), when its token names one.
    #[serde(default)]
    pub sid: Option<String>,
}

/// Who the partner says the caller is. The app's own tokens are refused here.
#[use_jwt(issuer = "partner", claims = PartnerClaims)]
#[get("/partner/me")]
fn partner_me(jwt: Jwt<PartnerClaims>) -> Json<PartnerMe> {
    Json(PartnerMe {
        sub: jwt.subject().to_owned(),
        iss: jwt.registered().iss.clone(),
        scope: jwt.scope.clone(),
    })
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
    // travels into the session, so `fresh` routes judge the real login; its
    // issuer, `sub` and `sid` are recorded, so its logout ends this session.
    let mut upstream = Upstream::of(&jwt);
    if let Some(sid) = &jwt.sid {
        upstream = upstream.with_session_id(sid);
    }
    Ok(Json(
        sessions
            .start_upstream(&principal, "partner", upstream)
            .await?,
    ))
}

/// The partner routes.
pub fn routes() -> Vec<Route> {
    routes![partner_me, partner_login]
}
