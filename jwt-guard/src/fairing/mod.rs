//! The fairing: assembles jwt-guard at ignite (`ignite`: named steps, the mode
//! decided once), starts its background task at liftoff, and hands each request
//! and response to the modules that own them.

mod builder;
mod ignite;

pub use builder::JwtGuard;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Build, Data, Orbit, Request, Response, Rocket};

use crate::background;
use crate::device::divert_misplaced_permanent_token;
use crate::dpop::Dpop;
use crate::error::finish_failed_response;
use crate::link::{finish_link_response, route_link_preview, take_link_token};
use crate::manifest;
use crate::private_response::finish_private_response;
use crate::response_marks::{self, Mark};
use crate::runtime::JwtRuntime;
use crate::store::Store;
use crate::throttle::LoginThrottle;
use ignite::{LaunchCursor, VerifyOnly};

#[rocket::async_trait]
impl Fairing for JwtGuard {
    fn info(&self) -> Info {
        Info {
            name: "jwt-guard",
            kind: Kind::Ignite
                | Kind::Liftoff
                | Kind::Request
                | Kind::Response
                | Kind::Shutdown
                | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        self.ignite(rocket).await
    }

    /// Closes jwt-guard's pool (SQLite checkpoints its write-ahead log), as
    /// `rocket_db_pools`' initialiser would: the fairing opened it in its place.
    async fn on_shutdown(&self, rocket: &Rocket<Orbit>) {
        if let Some(db) = rocket.state::<crate::store::JwtDb>() {
            rocket_db_pools::Pool::close(db.pool()).await;
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if let Some(mode) = rocket.state::<VerifyOnly>() {
            rocket::warn!(
                "jwt-guard: verify-only mode: no database; tokens are checked by signature, \
                 times and claims, revocations are not (no revocation list){}",
                if mode.own_key {
                    ""
                } else {
                    "; no key of its own: only trusted issuers' tokens are accepted"
                }
            );
        }
        if let Some(dpop) = rocket.state::<Dpop>() {
            rocket::info!("jwt-guard: {}", dpop.describe());
        }
        for entry in manifest::table(rocket.routes()) {
            if entry.protection.is_none() {
                rocket::warn!("jwt-guard: {}", manifest::describe(&entry));
            } else {
                rocket::info!("jwt-guard: {}", manifest::describe(&entry));
            }
        }
        let (Some(runtime), Some(store)) = (rocket.state::<JwtRuntime>(), rocket.state::<Store>())
        else {
            return;
        };
        let poll = runtime.config().revocation.poll.0;
        let archive = runtime.config().archive.interval.map(|d| d.0);
        let cursor = rocket
            .state::<LaunchCursor>()
            .map(|c| c.0)
            .unwrap_or_default();
        let throttle = rocket.state::<LoginThrottle>().cloned();
        // Poll delivery of security events (RFC 8936), one poller per issuer.
        if let (Some(trusted), Some(subjects)) = (
            rocket.state::<crate::trusted_issuers::TrustedIssuers>(),
            rocket.state::<crate::signals::LocalSubjects>(),
        ) {
            for poller in crate::signals::pollers(trusted, store, subjects) {
                rocket::tokio::spawn(poller.run(rocket.shutdown()));
            }
        }
        let task = background::keep_current(
            store.clone(),
            throttle,
            cursor,
            poll,
            archive,
            runtime.config().revocation.listen,
            rocket.shutdown(),
        );
        rocket::tokio::spawn(task);
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        take_link_token(req);
        if matches!(req.method(), Method::Get | Method::Head) {
            route_link_preview(req);
        }
        divert_misplaced_permanent_token(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Every answer passes here, most with nothing to finish: the marks are
        // read once.
        let marks = response_marks::marks(req);
        if marks.has(Mark::LinkAttempt) {
            finish_link_response(req, res).await;
        }
        if marks.has(Mark::Failure) {
            finish_failed_response(req, res);
        }
        finish_private_response(res, marks);
        crate::dpop::finish_response(req, res);
    }
}
