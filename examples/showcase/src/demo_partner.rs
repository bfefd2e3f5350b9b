//! The demo partner: a small OAuth 2.0 authorization server co-hosted with the
//! showcase at `<address>/partner`, so that clients written by others (the MCP
//! SDKs) can do the whole dance with no network: RFC 8414 metadata at
//! `/.well-known/oauth-authorization-server/partner`, a token endpoint for the
//! `client_credentials` grant (RFC 6749 §4.4) with RFC 8707 `resource`, and its
//! JWKS. It signs with the key that ships with the showcase (`partner/`); the app
//! trusts it as the issuer named `partner`. When `jwt.trusted_issuers` names
//! another partner, these routes answer 404.

use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, post, routes, Request, Route, State};
use subtle::ConstantTimeEq;

use jwt_guard::runtime::JwtRuntime;
use jwt_guard::{public, AuthError, CarriesCredentials};

use crate::api::{
    AuthorizationServerMetadata, DemoLogoutAnswer, DemoLogoutRequest, DemoToken, DemoTokenRequest,
    TokenAnswer,
};

/// The demo partner's issuer when the showcase listens at `base`.
pub fn issuer_at(base: &str) -> String {
    format!("{base}/partner")
}

/// Seconds a token of the demo partner lasts.
const TOKEN_SECONDS: u64 = 600;

/// The demo partner's clients (`client_credentials`, `client_secret_basic` or
/// `client_secret_post`): id, secret, the scopes it may be given.
pub const DEMO_CLIENTS: &[(&str, &str, &[&str])] = &[
    ("mcp-demo", "mcp-demo-secret", &["mcp:tools", "orders:read"]),
    ("mcp-limited", "mcp-limited-secret", &["mcp:tools"]),
];

/// The configured partner, when it is the demo one (its issuer and the audience
/// its tokens are for).
struct DemoPartner {
    issuer: String,
    audience: String,
    /// The app's client id for logout tokens, when back-channel logout is on.
    logout_client: Option<String>,
    /// The audience and push credential of security events, when SSF is on.
    ssf: Option<(String, String)>,
}

impl DemoPartner {
    fn of(rt: &JwtRuntime) -> Option<DemoPartner> {
        rt.config()
            .trusted_issuers
            .iter()
            .find(|i| i.name == "partner" && i.jwks.as_deref() == Some(crate::DEMO_PARTNER_JWKS))
            .map(|i| DemoPartner {
                issuer: i.issuer.clone(),
                audience: i.audience.clone(),
                logout_client: i.backchannel_logout.as_ref().map(|b| b.client_id.clone()),
                ssf: i.ssf.as_ref().and_then(|ssf| {
                    let token = ssf.push_token.as_ref()?.expose().to_owned();
                    Some((ssf.audience.clone(), token))
                }),
            })
    }

    /// Signs `claims` with the demo partner's key, typed `typ`.
    fn sign_claims(&self, typ: &str, claims: &Value) -> Result<String, AuthError> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(crate::DEMO_PARTNER_KEY.as_bytes())
            .map_err(AuthError::unavailable)?;
        let kid = serde_json::from_str::<Value>(crate::DEMO_PARTNER_JWKS)
            .ok()
            .and_then(|jwks| jwks["keys"][0]["kid"].as_str().map(str::to_owned));
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = kid;
        header.typ = Some(typ.into());
        jsonwebtoken::encode(&header, claims, &key).map_err(AuthError::unavailable)
    }

    /// Signs an access token (`at+jwt`, RFC 9068) for `sub` with `scope`, in a
    /// login session (`sid`) of its own.
    fn sign(&self, sub: &str, scope: &str, audience: &str) -> Result<String, AuthError> {
        let now = jwt_guard::Clock::system().now();
        let claims = json!({
            "iss": self.issuer, "aud": audience, "sub": sub,
            "iat": now, "exp": now + TOKEN_SECONDS, "auth_time": now,
            "scope": scope, "sid": random_id(),
        });
        self.sign_claims("at+jwt", &claims)
    }

    /// The app's address, where the partner delivers its signals.
    fn app_base(&self) -> &str {
        self.issuer.strip_suffix("/partner").unwrap_or(&self.issuer)
    }
}

/// A fresh random id (a `sid`, a `jti`): 128 bits, hex.
fn random_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn not_the_demo() -> AuthError {
    AuthError::not_found("the partner configured here is not the demo partner")
}

/// RFC 8414 §3: the metadata of the issuer `<address>/partner`, at the
/// path-inserted well-known URL. `authorization_endpoint` is listed because
/// clients require it; nothing is served there (the demo partner signs no one in
/// interactively: clients use `client_credentials`).
#[public]
#[get("/.well-known/oauth-authorization-server/partner")]
fn metadata(rt: &State<JwtRuntime>) -> Result<Json<AuthorizationServerMetadata>, AuthError> {
    let partner = DemoPartner::of(rt).ok_or_else(not_the_demo)?;
    let issuer = &partner.issuer;
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
    Ok(Json(AuthorizationServerMetadata {
        issuer: issuer.clone(),
        authorization_endpoint: format!("{issuer}/authorize"),
        token_endpoint: format!("{issuer}/token"),
        jwks_uri: format!("{issuer}/jwks.json"),
        response_types_supported: strings(&["code"]),
        grant_types_supported: strings(&["client_credentials"]),
        token_endpoint_auth_methods_supported: strings(&[
            "client_secret_basic",
            "client_secret_post",
        ]),
        scopes_supported: strings(&["mcp:tools", "orders:read"]),
    }))
}

/// The demo partner's public keys.
#[public]
#[get("/partner/jwks.json")]
fn jwks(rt: &State<JwtRuntime>) -> Result<(ContentType, &'static str), AuthError> {
    DemoPartner::of(rt).ok_or_else(not_the_demo)?;
    Ok((ContentType::JSON, crate::DEMO_PARTNER_JWKS))
}

/// RFC 6749 §4.4.2 / §2.3.1: the token request's form.
#[derive(FromForm)]
struct TokenRequest<'r> {
    grant_type: Option<&'r str>,
    scope: Option<&'r str>,
    /// RFC 8707 §2: the resource the token is for.
    resource: Option<&'r str>,
    client_id: Option<&'r str>,
    client_secret: Option<&'r str>,
}

/// An RFC 6749 §5.2 error answer (`invalid_client` with a `Basic` challenge).
struct OAuthError {
    status: Status,
    error: &'static str,
    description: &'static str,
}

impl<'r> Responder<'r, 'static> for OAuthError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut res = Json(body).respond_to(req)?;
        res.set_status(self.status);
        res.set_header(Header::new("Cache-Control", "no-store"));
        if self.error == "invalid_client" {
            res.set_header(Header::new(
                "WWW-Authenticate",
                "Basic realm=\"demo-partner\"",
            ));
        }
        Ok(res)
    }
}

fn oauth_error(status: Status, error: &'static str, description: &'static str) -> OAuthError {
    OAuthError {
        status,
        error,
        description,
    }
}

/// The client an HTTP Basic header or the form names, if its secret is right.
fn client<'a>(
    basic: Option<(String, String)>,
    form: &TokenRequest<'a>,
) -> Option<&'static [&'static str]> {
    let (id, secret) = match basic {
        Some((id, secret)) => (id, secret),
        None => (form.client_id?.to_owned(), form.client_secret?.to_owned()),
    };
    DEMO_CLIENTS
        .iter()
        .find(|(known, expected, _)| {
            *known == id && bool::from(expected.as_bytes().ct_eq(secret.as_bytes()))
        })
        .map(|(_, _, scopes)| *scopes)
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: form-urlencoded, then
/// base64).
struct BasicCredentials(Option<(String, String)>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for BasicCredentials {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        use base64::Engine as _;
        let decoded = req
            .headers()
            .get_one("Authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                let (id, secret) = text.split_once(':')?;
                let decode = |s: &str| {
                    rocket::http::RawStr::new(s)
                        .url_decode()
                        .ok()
                        .map(|d| d.into_owned())
                };
                Some((decode(id)?, decode(secret)?))
            });
        rocket::request::Outcome::Success(BasicCredentials(decoded))
    }
}

/// RFC 6749 §4.4: a token for the client itself, with the scopes it asked for
/// (all it may have, when it names none), for the resource it names (RFC 8707:
/// only the partner's own audience; `invalid_target` otherwise).
#[public]
#[post("/partner/token", data = "<form>")]
fn token(
    form: Form<TokenRequest<'_>>,
    basic: BasicCredentials,
    rt: &State<JwtRuntime>,
) -> Result<CarriesCredentials<Json<TokenAnswer>>, OAuthError> {
    let partner = DemoPartner::of(rt)
        .ok_or_else(|| oauth_error(Status::NotFound, "not_found", "no demo partner here"))?;
    let id = basic
        .0
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| form.client_id.map(str::to_owned))
        .unwrap_or_default();
    let allowed = client(basic.0, &form).ok_or_else(|| {
        oauth_error(
            Status::Unauthorized,
            "invalid_client",
            "unknown client or wrong secret",
        )
    })?;
    if form.grant_type != Some("client_credentials") {
        return Err(oauth_error(
            Status::BadRequest,
            "unsupported_grant_type",
            "the demo partner grants client_credentials only",
        ));
    }
    if form.resource.is_some_and(|r| r != partner.audience) {
        return Err(oauth_error(
            Status::BadRequest,
            "invalid_target",
            "the demo partner issues tokens for the showcase's MCP endpoint only",
        ));
    }
    let asked: Vec<&str> = match form.scope {
        Some(scope) => scope.split(' ').filter(|s| !s.is_empty()).collect(),
        None => allowed.to_vec(),
    };
    if asked.iter().any(|s| !allowed.contains(s)) {
        return Err(oauth_error(
            Status::BadRequest,
            "invalid_scope",
            "a scope this client may not have was asked for",
        ));
    }
    let scope = asked.join(" ");
    let access = partner.sign(&id, &scope, &partner.audience).map_err(|_| {
        oauth_error(
            Status::ServiceUnavailable,
            "temporarily_unavailable",
            "cannot sign",
        )
    })?;
    Ok(CarriesCredentials(Json(TokenAnswer {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: TOKEN_SECONDS,
        scope,
    })))
}

/// Signs a token *as the demo partner* for any subject, scope and audience, for
/// the walkthrough and the tests: a user's token as the partner's own login would
/// issue it. (A client gets its own at `/partner/token`.)
#[public]
#[post("/partner/demo-token", data = "<body>")]
fn demo_token(
    body: Json<DemoTokenRequest>,
    rt: &State<JwtRuntime>,
) -> Result<CarriesCredentials<Json<DemoToken>>, AuthError> {
    let partner = DemoPartner::of(rt).ok_or_else(not_the_demo)?;
    let audience = body.aud.clone().unwrap_or_else(|| partner.audience.clone());
    let scope = body.scope.as_deref().unwrap_or("orders:read");
    let token = partner.sign(&body.sub, scope, &audience)?;
    Ok(CarriesCredentials(Json(DemoToken {
        access: token,
        note: "signed by the demo partner".into(),
    })))
}

/// The partner signs `sub` out, as a provider does when the user signs out
/// there: an OpenID Connect Back-Channel Logout token (§2.4) to
/// `POST /signals/backchannel-logout/partner`, and a CAEP session-revoked event
/// (a Security Event Token, SSF 1.0) pushed to `POST /signals/ssf/partner` with
/// the push credential (RFC 8935). Answers what each endpoint answered.
#[public]
#[post("/partner/demo-logout", data = "<body>")]
async fn demo_logout(
    body: Json<DemoLogoutRequest>,
    rt: &State<JwtRuntime>,
) -> Result<Json<DemoLogoutAnswer>, AuthError> {
    let partner = DemoPartner::of(rt).ok_or_else(not_the_demo)?;
    if body.sub.is_empty() || body.sub.len() > 256 {
        return Err(AuthError::invalid_request(
            "sub must be 1 to 256 characters",
        ));
    }
    let (Some(client), Some((audience, push_token))) = (&partner.logout_client, &partner.ssf)
    else {
        return Err(AuthError::not_found(
            "the partner configured here sends no signals",
        ));
    };
    let now = jwt_guard::Clock::system().now();
    let random = random_id;
    let logout = partner.sign_claims(
        "logout+jwt",
        &json!({
            "iss": partner.issuer, "aud": client, "iat": now, "exp": now + 120,
            "jti": random(), "sub": body.sub,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        }),
    )?;
    let event = partner.sign_claims(
        "secevent+jwt",
        &json!({
            "iss": partner.issuer, "aud": audience, "iat": now, "jti": random(),
            "sub_id": { "format": "iss_sub", "iss": partner.issuer, "sub": body.sub },
            "events": { jwt_guard::signals::CAEP_SESSION_REVOKED: {
                "event_timestamp": now, "initiating_entity": "user",
            } },
        }),
    )?;
    let base = partner.app_base();
    let http = reqwest::Client::new();
    let delivered = |res: Result<reqwest::Response, reqwest::Error>| {
        res.map(|r| r.status().as_u16())
            .map_err(AuthError::unavailable)
    };
    let event_status = delivered(
        http.post(format!("{base}/signals/ssf/partner"))
            .header("Content-Type", "application/secevent+jwt")
            .bearer_auth(push_token)
            .body(event)
            .send()
            .await,
    )?;
    let logout_status = delivered(
        http.post(format!("{base}/signals/backchannel-logout/partner"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            // A JWT is base64url and dots: nothing to escape in a form.
            .body(format!("logout_token={logout}"))
            .send()
            .await,
    )?;
    Ok(Json(DemoLogoutAnswer {
        backchannel_logout: logout_status,
        security_event: event_status,
    }))
}

/// The demo partner's routes.
pub fn routes() -> Vec<Route> {
    routes![metadata, jwks, token, demo_token, demo_logout]
}
