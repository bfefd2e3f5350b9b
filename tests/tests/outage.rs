//! A real database outage (PostgreSQL refusing and dropping this app's connections):
//! what still works, what answers 503, and recovery without a restart.

use std::time::{Duration, Instant};

use jwt_guard::Clock;
use jwt_guard_tests::{base_figment, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{Method, Status};
use serde_json::json;

fn s(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Polls `check` every 50 ms until it holds, failing after `bound`.
async fn eventually<F, Fut>(what: &str, bound: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[rocket::async_test]
async fn stale_revocations_fail_closed_and_a_logout_during_an_outage_still_bites() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let figment = base_figment(&pg.url).merge(("databases.jwt_guard.connect_timeout", 1));
    let jwt = |policy: &str| {
        json!({
            "secret": TEST_SECRET,
            "revocation_poll": "1s",
            "revocation_max_staleness": "3s",
            "revocation_staleness": policy,
        })
    };
    let strict = TestApp::start_with(figment.clone(), jwt("fail_closed"), Clock::offset()).await;
    let lenient = TestApp::start_with(figment, jwt("serve"), Clock::offset()).await;
    let kept = s(&strict.login_as("alice", "kept").await["access"]);
    let leaving_login = strict.login_as("alice", "leaving").await;
    let leaving = s(&leaving_login["access"]);
    assert_eq!(
        strict.get_with_token("/me", &kept).await.status(),
        Status::Ok
    );

    pg.cut().await;
    let started = Instant::now();
    let out = strict
        .send_with_token(Method::Post, "/auth/logout", &leaving)
        .await;
    assert_eq!(
        out.status(),
        Status::ServiceUnavailable,
        "never a 401 for an outage"
    );
    assert!(out.headers().get_one("Retry-After").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The logout could not be written, but this instance honours it at once.
    assert_eq!(
        strict.get_with_token("/me", &leaving).await.status(),
        Status::Unauthorized
    );

    // Past the staleness bound, the strict instance stops trusting memory…
    let took = eventually(
        "503 on stale revocations",
        Duration::from_secs(8),
        || async {
            strict.get_with_token("/me", &kept).await.status() == Status::ServiceUnavailable
        },
    )
    .await;
    println!("stale after {took:?} (bound 3 s, poll 1 s)");
    let res = strict.get_with_token("/me", &kept).await;
    assert!(res.headers().get_one("Retry-After").is_some());
    // …while the one configured for availability keeps serving.
    assert_eq!(
        lenient.get_with_token("/me", &kept).await.status(),
        Status::Ok
    );

    pg.restore().await;
    eventually(
        "recovery without a restart",
        Duration::from_secs(10),
        || async { strict.get_with_token("/me", &kept).await.status() == Status::Ok },
    )
    .await;
    // The logout answered 503 is written once the database is back: every instance
    // (and any started later) refuses the device.
    let device = s(&leaving_login["device_id"]);
    eventually(
        "the pending logout is written",
        Duration::from_secs(5),
        || async {
            let revoked: Option<i64> =
                sqlx::query_scalar("SELECT revoked_at FROM jwt_guard_devices WHERE id = $1")
                    .bind(device.clone())
                    .fetch_one(strict.pool())
                    .await
                    .unwrap_or(None);
            revoked.is_some()
        },
    )
    .await;
    eventually("other instances follow", Duration::from_secs(5), || async {
        lenient.get_with_token("/me", &leaving).await.status() == Status::Unauthorized
    })
    .await;
    pg.drop_database().await;
}
