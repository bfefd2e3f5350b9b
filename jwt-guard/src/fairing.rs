//! The fairing that builds jwt-guard's state at ignite and shapes its error responses.

use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Request, Response, Rocket};
use rocket_db_pools::Database;

use crate::clock::Clock;
use crate::config::JwtConfig;
use crate::db::JwtDb;
use crate::endpoints::{self, Authenticator, Grants};
use crate::error::RecordedFailure;
use crate::runtime::JwtRuntime;

/// Attach this to a Rocket to use jwt-guard.
///
/// At ignite it reads the `jwt` configuration table, loads and checks the keys
/// (a bad key stops launch with a clear message), and manages [`JwtRuntime`] and
/// [`Issuer`](crate::Issuer). With an [`Authenticator`] it also mounts the token
/// routes and the JWKS. On every response it turns a guard's failure into an
/// RFC 6750 answer: `WWW-Authenticate` challenge and a JSON `{error,
/// error_description}` body.
///
/// ```no_run
/// # use jwt_guard::{JwtGuard, JwtConfig};
/// let rocket = rocket::build().attach(
///     JwtGuard::fairing().config(JwtConfig::hmac("a secret of at least thirty-two bytes!")),
/// );
/// ```
pub struct JwtGuard {
    config: Option<JwtConfig>,
    clock: Clock,
    grants: Option<Grants>,
}

impl Default for JwtGuard {
    fn default() -> Self {
        Self::fairing()
    }
}

impl JwtGuard {
    /// The fairing, reading configuration from Rocket's `jwt` table.
    pub fn fairing() -> Self {
        Self {
            config: None,
            clock: Clock::system(),
            grants: None,
        }
    }

    /// Uses `config` instead of Rocket's `jwt` table.
    pub fn config(mut self, config: JwtConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Reads time from `clock` (tests move it forward).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Mounts the token routes, checking credentials with `authenticator`.
    pub fn authenticator<A: Authenticator>(mut self, authenticator: A) -> Self {
        self.grants = Some(Grants(Arc::new(authenticator)));
        self
    }
}

/// Initialises [`JwtDb`] unless the application attached `JwtDb::init()` itself.
async fn init_database(rocket: Rocket<Build>) -> fairing::Result {
    if rocket.state::<JwtDb>().is_some() {
        return Ok(rocket);
    }
    if rocket.figment().find_value("databases.jwt_guard.url").is_err() {
        rocket::error!(
            "jwt-guard: no database configured; set `databases.jwt_guard.url` \
             (e.g. ROCKET_DATABASES='{{jwt_guard={{url=\"sqlite://jwt.db\"}}}}')"
        );
        return Err(rocket);
    }
    JwtDb::init().on_ignite(rocket).await
}

#[rocket::async_trait]
impl Fairing for JwtGuard {
    fn info(&self) -> Info {
        Info {
            name: "jwt-guard",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match &self.config {
            Some(config) => config.clone(),
            None => match rocket.figment().extract_inner::<JwtConfig>("jwt") {
                Ok(config) => config,
                Err(e) => {
                    rocket::error!("jwt-guard: invalid or missing `jwt` configuration: {e}");
                    rocket::error!(
                        "jwt-guard: set e.g. `[default.jwt] secret = \"…\"` in Rocket.toml or ROCKET_JWT='{{secret=\"…\"}}'"
                    );
                    return Err(rocket);
                }
            },
        };
        let runtime = match JwtRuntime::new(config, self.clock.clone()) {
            Ok(runtime) => runtime,
            Err(e) => {
                rocket::error!("jwt-guard: {e}");
                return Err(rocket);
            }
        };
        let rocket = match init_database(rocket).await {
            Ok(rocket) => rocket,
            Err(rocket) => return Err(rocket),
        };
        let issuer = runtime.issuer().clone();
        let mut rocket = rocket.manage(runtime).manage(issuer);
        if let Some(grants) = &self.grants {
            rocket = rocket
                .manage(Grants(grants.0.clone()))
                .mount("/", endpoints::routes());
        }
        Ok(rocket)
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if let Some(failure) = RecordedFailure::get(req) {
            // Only when the failure is what produced this response: a guard inside
            // `Option<…>` may fail while the handler still answers 200.
            if failure.status() == res.status() {
                let realm = JwtRuntime::from_request(req)
                    .map(|rt| rt.config().realm.as_str())
                    .unwrap_or("jwt-guard");
                failure.write_to(realm, res);
            }
        }
    }
}
