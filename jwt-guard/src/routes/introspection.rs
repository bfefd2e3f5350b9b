//! RFC 7662 token introspection: `POST /oauth/introspect`
//! ([`JwtGuard::introspection_endpoint`](crate::JwtGuard::introspection_endpoint)).

use base64::Engine as _;
use rocket::data::Data;
use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{post, routes, Request, Route};
use serde_json::{json, Map, Value};

use super::presented_token::{classify, read_form, Presented};
use crate::claims::StandardClaims;
use crate::error::{AuthError, Rejection};
use crate::manifest::{declare_route, Protection};
use crate::policy::{has_scope, Denied, Policy};
use crate::request::Services;
use crate::runtime::JwtRuntime;
use crate::secret::TokenDigest;
use crate::throttle::LoginThrottle;

/// The scope an access token needs to introspect instead of client credentials.
pub const INTROSPECT_SCOPE: &str = "token:introspect";

/// The answer: JSON that no cache keeps (RFC 7662 §4: it reveals a token's state).
pub(crate) struct Introspection(Value);

impl<'r> Responder<'r, 'static> for Introspection {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Json(self.0).respond_to(req)?;
        res.set_header(Header::new("Cache-Control", "no-store"));
        res.set_header(Header::new("Pragma", "no-cache"));
        Ok(res)
    }
}

/// RFC 7662 §2.1: "the endpoint MUST also require some form of authorization" —
/// HTTP Basic credentials of a configured client (`jwt.introspection_clients`,
/// the secret compared by digest in constant time), or an access token of this
/// app with scope `token:introspect`. §2.3: anything else is a `401`. Failed
/// attempts spend the client address's budget (a `429` past it).
///
/// A caller's token is judged as a route guard judges it (the binding rules of
/// RFC 9449 §7 included: a DPoP-bound token comes as `DPoP` with a proof by its
/// key, and the app's `dpop.mode = "required"` holds here too); an outage is a
/// `503`, any refusal the endpoint's own `401 invalid_client`.
async fn authorize_caller(
    req: &Request<'_>,
    rt: &JwtRuntime,
    throttle: &LoginThrottle,
) -> Result<(), AuthError> {
    let header = req.headers().get_one("Authorization").unwrap_or_default();
    let (scheme, credentials) = header.trim().split_once(' ').unwrap_or((header, ""));
    let allowed = if scheme.eq_ignore_ascii_case("Basic") {
        basic_client_is_known(rt, credentials.trim())
    } else {
        match crate::guard::judge::<IntrospectingService>(req).await {
            Ok(_) => true,
            Err(e) if e.status() == rocket::http::Status::ServiceUnavailable => return Err(e),
            Err(_) => false,
        }
    };
    if allowed {
        return Ok(());
    }
    throttle.admit_address(req)?;
    Err(Rejection::IntrospectionCallerUnknown.into())
}

/// The policy of a service introspecting with a token of this app's: scope
/// `token:introspect`.
struct IntrospectingService;

impl Policy for IntrospectingService {
    type Claims = StandardClaims;
    const SCOPE: Option<&'static str> = Some(INTROSPECT_SCOPE);

    fn authorize(claims: &StandardClaims) -> Result<(), Denied> {
        if has_scope(claims, INTROSPECT_SCOPE) {
            Ok(())
        } else {
            Err(Denied::scope(INTROSPECT_SCOPE))
        }
    }
}

/// Whether `credentials` (base64 of `id:secret`, each form-urlencoded, RFC 6749
/// §2.3.1) name a configured client with that secret.
fn basic_client_is_known(rt: &JwtRuntime, credentials: &str) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((id, secret)) = text.split_once(':') else {
        return false;
    };
    let decode = |s: &str| {
        rocket::http::RawStr::new(&s.replace('+', " "))
            .percent_decode()
            .map(|d| d.into_owned())
            .ok()
    };
    let (Some(id), Some(secret)) = (decode(id), decode(secret)) else {
        return false;
    };
    let presented = TokenDigest::of(secret.as_bytes());
    rt.config().introspection_clients.iter().any(|client| {
        client.client_id == id
            && TokenDigest::from_stored(client.secret_sha256.to_ascii_lowercase())
                .matches(&presented)
    })
}

/// The `scope` claim as RFC 7662 §2.2 writes it: space-separated.
fn scope_of(claims: &Value) -> String {
    match &claims["scope"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// RFC 7662 §2.1/§2.2: is this token active, and what is it? An authorized caller
/// gets `{"active": false}` and nothing else (§2.2: "SHOULD NOT include any
/// additional information about an inactive token") for anything not valid now —
/// expired, revoked, spent, unknown, another party's; for an active token
/// `active, sub, exp, iat, jti, scope, token_type, did, iss, aud`.
#[post("/oauth/introspect", data = "<data>")]
async fn introspect(data: Data<'_>, services: Services<'_>) -> Result<Introspection, AuthError> {
    let Services {
        req,
        rt,
        store,
        throttle,
        ..
    } = services;
    authorize_caller(req, rt, throttle).await?;
    let (token, hint) = read_form(req, data).await?;
    let mut answer = Map::new();
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            answer.insert(key.to_owned(), value);
        }
    };
    match classify(rt, store, &token, hint.as_deref()).await? {
        Presented::Inactive => return Ok(Introspection(json!({ "active": false }))),
        Presented::Access(token) => {
            let r = &token.registered;
            let scope = scope_of(&token.claims);
            if !scope.is_empty() {
                put("scope", json!(scope));
            }
            // §2.2 `token_type`: the access token's type (RFC 6749 §7.1); a bound
            // one's is `DPoP` (RFC 9449 §6.2).
            let scheme = match r.cnf {
                Some(_) => Some(crate::dpop::DPOP_SCHEME.to_owned()),
                None => rt.config().header_prefixes.first().cloned(),
            };
            put(
                "token_type",
                json!(scheme.unwrap_or_else(|| "Bearer".into())),
            );
            registered(&mut put, r);
        }
        Presented::Refresh(r) => {
            put("token_type", json!("refresh_token"));
            registered(&mut put, &r);
        }
        Presented::Permanent(device) => {
            put("token_type", json!("permanent_token"));
            put("sub", json!(device.subject));
            put("did", json!(device.id));
            put("exp", json!(device.expires_at));
            put("iat", json!(device.created_at));
        }
    }
    answer.insert("active".into(), json!(true));
    Ok(Introspection(Value::Object(answer)))
}

/// The registered claims an active token's answer shows.
fn registered(put: &mut impl FnMut(&str, Value), r: &crate::claims::RegisteredClaims) {
    put("sub", json!(r.sub));
    put("exp", json!(r.exp));
    put("iat", json!(r.iat));
    put("jti", json!(r.jti));
    put("did", json!(r.did));
    put("iss", json!(r.iss));
    put("aud", json!(r.aud));
    // RFC 9449 §6.2: the key a bound token is confirmed by, for the resource
    // server to check proofs against.
    put("cnf", json!(r.cnf));
}

declare_route!(
    introspect,
    Post,
    "/oauth/introspect",
    Protection::Client {
        scope: INTROSPECT_SCOPE
    }
);

/// `POST /oauth/introspect`.
pub fn introspection_routes() -> Vec<Route> {
    routes![introspect]
}
