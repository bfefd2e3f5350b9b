//! The smallest complete jwt-guard app (`cargo run -p minimal`, from
//! `examples/minimal` so that its `Rocket.toml` is read).

use jwt_guard::{
    use_jwt, Authenticator, Claims, Jwt, JwtGuard, Principal, Scopes, UserStoreUnavailable,
};
use rocket::{get, launch, routes, Request};
use serde::{Deserialize, Serialize};

/// A role: compared with `==` and carried in tokens by its serialized name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    User,
    Admin,
}

/// What access tokens carry besides the registered claims.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
struct AppClaims {
    #[claims(roles)]
    roles: Vec<Role>,
    #[claims(scopes)]
    #[serde(default)]
    scope: Scopes,
}

/// The app's users. Real code reads its own table and verifies a password hash
/// (argon2, as the showcase does) in the same time for unknown users.
struct Users;

impl Users {
    fn claims_of(subject: &str) -> Option<AppClaims> {
        let roles = match subject {
            "ada" => vec![Role::User, Role::Admin],
            "bob" => vec![Role::User],
            _ => return None,
        };
        Some(AppClaims {
            roles,
            scope: Scopes::default(),
        })
    }
}

#[rocket::async_trait]
impl Authenticator for Users {
    type Claims = AppClaims;

    async fn authenticate(
        &self,
        _req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal<AppClaims>>, UserStoreUnavailable> {
        let right = password == format!("{username}-password");
        let claims = Users::claims_of(username).filter(|_| right);
        Ok(claims.map(|claims| Principal {
            subject: username.to_owned(),
            claims,
        }))
    }

    async fn claims_for(
        &self,
        _req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<AppClaims>, UserStoreUnavailable> {
        Ok(Users::claims_of(subject))
    }
}

/// Any valid access token.
#[use_jwt(claims = AppClaims)]
#[get("/me")]
fn me(jwt: Jwt<AppClaims>) -> String {
    format!("hello, {}", jwt.subject())
}

/// Administrators only: a valid token without the role gets 403.
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin")]
fn admin() -> &'static str {
    "hello, administrator"
}

/// The app: jwt-guard attached, the routes mounted under `/api`.
#[launch]
pub(crate) fn rocket() -> _ {
    rocket::build()
        // Checks passwords with `Users`; mounts `/api/auth/token`, refresh, devices…
        .attach(JwtGuard::fairing().authenticator(Users).routes_at("/api"))
        .mount("/api", routes![me, admin])
        // Every error as `{"error", "error_description"}`, Rocket's own included.
        .register("/", jwt_guard::catchers())
}
