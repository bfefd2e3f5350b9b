//! Routes for `examples/load`'s `guard-ratio`, mounted only when
//! `SHOWCASE_BENCH_ROUTES=1`: one handler body behind no guard, behind
//! `#[use_jwt]`, behind the guard an application without jwt-guard would
//! write by hand, and behind the least a guard can be (it finds the bearer token
//! and checks nothing: what Rocket charges for any request guard), so that the
//! guard's cost is measured against all three.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::{public, use_jwt, Jwt};
use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Route};

use crate::claims::AppClaims;

/// Set to `1` to mount the bench routes (for `examples/load`'s `guard-ratio`);
/// the configuration key `bench_routes = true` does the same.
pub const BENCH_ROUTES_ENV: &str = "SHOWCASE_BENCH_ROUTES";

fn enabled(figment: &rocket::figment::Figment) -> bool {
    std::env::var(BENCH_ROUTES_ENV).is_ok_and(|v| v == "1")
        || figment
            .extract_inner::<bool>("bench_routes")
            .unwrap_or(false)
}

/// One answer for every bench route: the only difference is the guard.
fn bench_answer() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// A route without a guard, the baseline of `guard-ratio`.
#[public]
#[get("/bench/open")]
fn bench_open() -> Json<Value> {
    bench_answer()
}

/// The same route behind `#[use_jwt]` (any valid access token).
#[use_jwt(claims = AppClaims)]
#[get("/bench/guarded")]
fn bench_guarded(_jwt: Jwt<AppClaims>) -> Json<Value> {
    bench_answer()
}

/// The same route behind [`Handwritten`]. Public to jwt-guard: jwt-guard does not
/// protect it, the hand-written guard does.
#[public]
#[get("/bench/handwritten")]
fn bench_handwritten(_claims: Handwritten) -> Json<Value> {
    bench_answer()
}

/// The same route behind [`Floor`]: Rocket's price for a request guard that
/// reads one header.
#[public]
#[get("/bench/floor")]
fn bench_floor(_bearer: Floor) -> Json<Value> {
    bench_answer()
}

/// The least a guard can be: it finds a bearer token and checks nothing about
/// it. Not a guard to use: any string passes.
pub struct Floor;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Floor {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.headers().get_one("Authorization") {
            Some(value) if value.starts_with("Bearer ") => Outcome::Success(Floor),
            _ => Outcome::Error((Status::Unauthorized, "no bearer token")),
        }
    }
}

/// The key and rules of the hand-written guard: the app's HS256 secret, read
/// once at launch.
struct HandwrittenKey(Option<(DecodingKey, Validation)>);

/// What a hand-written guard does: the bearer token decoded with
/// `jsonwebtoken` on every request (signature, `exp`), and nothing else — no
/// cache, no revocation check, no DPoP, no no-store headers, no counters.
pub struct Handwritten {
    /// The token's subject.
    pub sub: String,
}

#[derive(serde::Deserialize)]
struct HandwrittenClaims {
    sub: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Handwritten {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(HandwrittenKey(Some((key, validation)))) = req.rocket().state::<HandwrittenKey>()
        else {
            return Outcome::Error((Status::ServiceUnavailable, "no HS256 secret configured"));
        };
        let Some(token) = req
            .headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
        else {
            return Outcome::Error((Status::Unauthorized, "no bearer token"));
        };
        match jsonwebtoken::decode::<HandwrittenClaims>(token, key, validation) {
            Ok(data) => Outcome::Success(Handwritten {
                sub: data.claims.sub,
            }),
            Err(_) => Outcome::Error((Status::Unauthorized, "invalid token")),
        }
    }
}

/// The bench routes, and the hand-written guard's key taken from jwt-guard's
/// configuration at launch (attach after jwt-guard's fairing); nothing unless
/// `SHOWCASE_BENCH_ROUTES=1` or `bench_routes = true`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("bench routes", |rocket| async {
        if !enabled(rocket.figment()) {
            return rocket;
        }
        let key = rocket
            .state::<JwtRuntime>()
            .and_then(|rt| rt.config().secret.as_ref())
            .map(|secret| {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.validate_aud = false;
                (
                    DecodingKey::from_secret(secret.expose().as_bytes()),
                    validation,
                )
            });
        rocket.manage(HandwrittenKey(key)).mount("/", routes())
    })
}

fn routes() -> Vec<Route> {
    routes![bench_open, bench_guarded, bench_handwritten, bench_floor]
}
