//! The jwt-guard showcase: every attribute and built-in route on one Rocket server.
//!
//! `cargo run -p showcase` serves 127.0.0.1:8000 on SQLite with demo users.

pub mod claims;
pub mod links;
pub mod routes;
pub mod users;

use jwt_guard::{Clock, JwtGuard};
use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// The development signing secret, used only when no `jwt` configuration is given.
pub const DEV_SECRET: &str = "showcase-development-secret-change-me-0123456789";

/// The default database: a SQLite file in the working directory.
pub const DEV_DATABASE_URL: &str = "sqlite://showcase.sqlite";

/// Rocket's configuration (Rocket.toml, `ROCKET_*`) with the showcase's defaults for
/// whatever it leaves out: an HS256 development key and a SQLite file.
pub fn figment() -> Figment {
    with_defaults(rocket::Config::figment())
}

/// Adds the showcase defaults to `figment` where it has no value.
pub fn with_defaults(mut figment: Figment) -> Figment {
    if figment.find_value("jwt").is_err() {
        figment = figment.merge(("jwt.secret", DEV_SECRET));
    }
    if figment.find_value("databases.jwt_guard.url").is_err() {
        figment = figment.merge(("databases.jwt_guard.url", DEV_DATABASE_URL));
    }
    figment
}

/// The showcase app on `figment`, reading time from `clock`.
pub fn app(figment: Figment, clock: Clock) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(
            JwtGuard::fairing()
                .clock(clock)
                .authenticator(users::DemoUsers::new()),
        )
        .attach(users::seed())
        .manage(routes::Visits::default())
        .mount("/", routes::routes())
        .mount("/", links::routes())
}

/// The showcase app on exactly `figment` (no development defaults added).
pub fn app_without_defaults(figment: Figment) -> Rocket<Build> {
    app(figment, Clock::system())
}

/// The showcase app with its default configuration.
pub fn rocket() -> Rocket<Build> {
    app(figment(), Clock::system())
}
