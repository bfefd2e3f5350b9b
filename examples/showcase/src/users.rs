//! The showcase's user table: argon2 password hashes in the jwt-guard database.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use jwt_guard::store::sqlx::{self, Row};
use jwt_guard::store::JwtDb;
use jwt_guard::{Authenticator, Principal, Scopes, UserStoreUnavailable};
use rocket::fairing::{self, AdHoc};
use rocket::{Build, Request, Rocket};
use rocket_db_pools::Database;

use crate::claims::{AppClaims, Role};

/// The demo users: name, roles, scopes. Passwords are `<name>-password`.
pub const DEMO_USERS: &[(&str, &[Role], &str)] = &[
    ("alice", &[Role::User], "profile reports:read"),
    ("bob", &[Role::User], "profile"),
    ("admin", &[Role::Admin, Role::User], "profile reports:read"),
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS showcase_users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    scope TEXT NOT NULL,
    last_login BIGINT
)";

/// Set (to anything) for load runs only: the demo users get argon2's cheapest
/// parameters, so a login measures jwt-guard's work rather than the hash.
pub const CHEAP_HASHES_ENV: &str = "SHOWCASE_CHEAP_PASSWORD_HASHES";

fn hasher() -> Argon2<'static> {
    if std::env::var_os(CHEAP_HASHES_ENV).is_some() {
        let cheapest =
            argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None).unwrap_or_default();
        Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            cheapest,
        )
    } else {
        Argon2::default()
    }
}

fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Creates the table and the demo users (once).
pub fn seed() -> AdHoc {
    AdHoc::try_on_ignite("showcase users", |rocket| async move {
        seed_users(rocket).await
    })
}

async fn seed_users(rocket: Rocket<Build>) -> fairing::Result {
    // Without it jwt-guard's own fairing has failed and said why; launch stops
    // there, and one clear line is better than a second one.
    let Some(db) = rocket.state::<JwtDb>() else {
        return Ok(rocket);
    };
    if std::env::var_os(CHEAP_HASHES_ENV).is_some() {
        rocket::warn!("showcase: {CHEAP_HASHES_ENV} is set: demo passwords use argon2's cheapest parameters (load runs only)");
    }
    let result: Result<(), Box<dyn std::error::Error>> = async {
        sqlx::query(CREATE_TABLE)
            .execute(db.pool().writes())
            .await?;
        for (name, roles, scope) in DEMO_USERS {
            let exists = sqlx::query("SELECT 1 FROM showcase_users WHERE username = $1")
                .bind(*name)
                .fetch_optional(db.pool())
                .await?
                .is_some();
            if exists {
                continue;
            }
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            sqlx::query(
                "INSERT INTO showcase_users (username, password_hash, roles, scope) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
            )
            .bind(*name)
            .bind(hash_password(&format!("{name}-password")).map_err(|e| e.to_string())?)
            .bind(roles.join(" "))
            .bind(*scope)
            .execute(db.pool().writes())
            .await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(rocket),
        Err(e) => {
            rocket::error!("showcase: cannot seed users: {e}");
            Err(rocket)
        }
    }
}

/// Checks passwords against `showcase_users`.
pub struct DemoUsers {
    /// Verified against when the user does not exist, so that an unknown user takes
    /// as long as a wrong password.
    dummy_hash: String,
}

impl DemoUsers {
    /// The authenticator.
    pub fn new() -> Self {
        Self {
            dummy_hash: hash_password("not a real password").unwrap_or_else(|_| {
                String::from("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA")
            }),
        }
    }
}

impl Default for DemoUsers {
    fn default() -> Self {
        Self::new()
    }
}

struct UserRow {
    password_hash: String,
    claims: AppClaims,
}

/// `Ok(None)`: no such user; `Err`: the database could not say.
async fn load_user(
    req: &Request<'_>,
    username: &str,
) -> Result<Option<UserRow>, UserStoreUnavailable> {
    let db = JwtDb::fetch(req.rocket()).ok_or_else(|| UserStoreUnavailable::new("no database"))?;
    load_user_from(db, username).await
}

/// Subjects of sessions started for a partner's users (`POST /partner/login`).
pub const PARTNER_PREFIX: &str = "partner:";

/// What a partner's user may do here: role user, scope `profile`.
pub fn partner_claims() -> AppClaims {
    AppClaims {
        roles: vec![Role::User],
        scope: "profile".parse::<Scopes>().unwrap_or_default(),
    }
}

/// The current claims of `username`: `Ok(None)` if the user does not exist, `Err`
/// if the database could not say. A partner's user (`partner:<sub>`) always has
/// [`partner_claims`].
pub async fn claims_of(
    db: &JwtDb,
    username: &str,
) -> Result<Option<AppClaims>, UserStoreUnavailable> {
    if username.starts_with(PARTNER_PREFIX) {
        return Ok(Some(partner_claims()));
    }
    Ok(load_user_from(db, username).await?.map(|u| u.claims))
}

async fn load_user_from(
    db: &JwtDb,
    username: &str,
) -> Result<Option<UserRow>, UserStoreUnavailable> {
    let row =
        sqlx::query("SELECT password_hash, roles, scope FROM showcase_users WHERE username = $1")
            .bind(username)
            .fetch_optional(db.pool())
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let roles: String = row.try_get("roles")?;
    let scope: String = row.try_get("scope")?;
    Ok(Some(UserRow {
        password_hash: row.try_get("password_hash")?,
        claims: AppClaims {
            roles: roles.split(' ').filter_map(Role::parse).collect(),
            scope: scope.parse::<Scopes>().unwrap_or_default(),
        },
    }))
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[rocket::async_trait]
impl Authenticator for DemoUsers {
    type Claims = AppClaims;

    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal<AppClaims>>, UserStoreUnavailable> {
        // An outage is not a wrong password: say so, and hash nothing.
        let user = load_user(req, username).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_owned();
        // Argon2 is deliberately slow: keep it off the async workers.
        let ok = rocket::tokio::task::spawn_blocking(move || password_matches(&hash, &password))
            .await
            .unwrap_or(false);
        Ok(user.filter(|_| ok).map(|user| Principal {
            subject: username.to_owned(),
            claims: user.claims,
        }))
    }

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<AppClaims>, UserStoreUnavailable> {
        if subject.starts_with(PARTNER_PREFIX) {
            return Ok(Some(partner_claims()));
        }
        Ok(load_user(req, subject).await?.map(|u| u.claims))
    }

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64) {
        let Some(db) = JwtDb::fetch(req.rocket()) else {
            return;
        };
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        if let Err(e) = sqlx::query("UPDATE showcase_users SET last_login = $1 WHERE username = $2")
            .bind(at)
            .bind(subject)
            .execute(db.pool().writes())
            .await
        {
            rocket::error!("showcase: cannot record login: {e}");
        }
    }
}
