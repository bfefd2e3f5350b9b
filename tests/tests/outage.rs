//! Real database outages — PostgreSQL cut off behind a TCP relay or refusing this
//! app's connections, SQLite locked by another process: what still works, what
//! answers 503 (quickly), that nothing is half-written, and recovery without a
//! restart.

use std::time::{Duration, Instant};

use jwt_guard::Clock;
use jwt_guard_tests::relay::TcpRelay;
use jwt_guard_tests::{base_figment, eventually, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{Method, Status};
use serde_json::json;

fn s(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
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
    assert_eq!(
        out.headers().get_one("Retry-After"),
        Some(jwt_guard::RETRY_AFTER_SECS.to_string().as_str())
    );
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
    assert_eq!(
        res.headers().get_one("Retry-After"),
        Some(jwt_guard::RETRY_AFTER_SECS.to_string().as_str())
    );
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

/// What every storage-backed route answers while the database is away: 503 with
/// `Retry-After` and the standard body, quickly; never 401, 403 or 410.
async fn expect_unavailable(
    what: &str,
    res: rocket::local::asynchronous::LocalResponse<'_>,
    took: Duration,
) {
    assert_eq!(res.status(), Status::ServiceUnavailable, "{what}");
    assert_eq!(
        res.headers().get_one("Retry-After"),
        Some(jwt_guard::RETRY_AFTER_SECS.to_string().as_str()),
        "{what}: Retry-After, by value"
    );
    assert!(took < Duration::from_millis(2500), "{what} took {took:?}");
    if res.content_type() == Some(rocket::http::ContentType::HTML) {
        // A link page for people: it says so in words.
        let html = res.into_string().await.unwrap_or_default();
        assert!(html.contains("unavailable"), "{what}: {html}");
        return;
    }
    let body = jwt_guard_tests::json_body(res).await;
    assert_eq!(body["error"], "temporarily_unavailable", "{what}: {body}");
}

/// The token routes, device routes and links of one signed-in user, exercised while
/// the database is away; then the same session, unharmed, once it is back.
async fn outage_walkthrough(app: &TestApp, reads_fail: bool, cut: impl Fn(), restore: impl Fn()) {
    let login = app.login("alice").await;
    let (access, refresh) = (s(&login["access"]), s(&login["refresh"]));
    let (permanent, device) = (s(&login["permanent_token"]), s(&login["device_id"]));
    let minted = jwt_guard_tests::json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &access)
            .await,
    )
    .await;
    let link = s(&minted["url"]);
    let link = link[link.find("/newsletter").unwrap_or(0)..].to_owned();
    let minted = jwt_guard_tests::json_body(
        app.send_with_token(Method::Post, "/links/newsletter-confirm", &access)
            .await,
    )
    .await;
    let confirm_link = s(&minted["url"]);
    let confirm_link = confirm_link[confirm_link.find("/newsletter").unwrap_or(0)..].to_owned();
    // One user for each way to log out, each with two devices: the way under
    // test must end exactly what it says, and nothing of another's.
    let mut leavers = Vec::new();
    for way in LOGOUT_WAYS {
        let user = format!("leaver-{way}");
        sqlx::query("INSERT INTO app_users (username, roles, scope) VALUES ($1, 'user', '')")
            .bind(&user)
            .execute(app.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut devices = Vec::new();
        for model in ["one", "two"] {
            let login = app.login_as(&user, model).await;
            devices.push((s(&login["access"]), s(&login["device_id"])));
        }
        leavers.push((user, devices));
    }
    let checks = || {
        app.client
            .rocket()
            .state::<jwt_guard_tests::app::PasswordChecks>()
            .map(|c| c.total.load(std::sync::atomic::Ordering::SeqCst))
    };
    let a1 = jwt_guard_tests::parts(&access).1["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // A service that may introspect (scope `token:introspect`), verified from
    // memory like any token.
    let service = app
        .tokens()
        .access("reports-service")
        .roles(["user"])
        .scope("token:introspect")
        .mint();

    cut();
    let checks_before = checks();
    macro_rules! timed {
        ($what:expr, $req:expr) => {{
            let started = Instant::now();
            let res = $req.await;
            expect_unavailable($what, res, started.elapsed()).await;
        }};
    }
    timed!(
        "login",
        app.post_json(
            "/auth/token",
            json!({ "username": "alice", "password": "alice-password" })
        )
    );
    assert_eq!(
        checks(),
        checks_before,
        "no password is checked while storage is down"
    );
    timed!(
        "refresh",
        app.post_json("/auth/token/refresh", json!({ "refresh": refresh }))
    );
    timed!("device refresh", app.device_refresh(&permanent));
    timed!(
        "link mint",
        app.send_with_token(Method::Post, "/links/unsubscribe", &access)
    );
    timed!("link use", app.client.get(link.clone()).dispatch());
    timed!(
        "magic-login mail",
        app.post_json("/links/magic-login", json!({ "username": "bob" }))
    );
    timed!(
        "confirm link use",
        app.client.post(confirm_link.clone()).dispatch()
    );
    timed!(
        "force-expiry",
        app.send_with_token(Method::Delete, &format!("/auth/tokens/{a1}"), &access)
    );
    // RFC 7009 §2.2.1: the revocation endpoint answers 503 (the client retries);
    // nothing is revoked (the refresh token still rotates once storage is back).
    timed!(
        "token revocation",
        app.client
            .post("/oauth/revoke")
            .header(rocket::http::ContentType::Form)
            .body(format!("token={refresh}"))
            .dispatch()
    );
    if reads_fail {
        // Whether a refresh token is current is the database's to say.
        timed!(
            "introspection",
            app.client
                .post("/oauth/introspect")
                .header(rocket::http::ContentType::Form)
                .header(rocket::http::Header::new(
                    "Authorization",
                    format!("Bearer {service}")
                ))
                .body(format!("token={refresh}"))
                .dispatch()
        );
    }
    // Every way to log out: 503, and this instance refuses what it ended at
    // once — each asserted right after its own request.
    for (way, (user, devices)) in LOGOUT_WAYS.iter().zip(&leavers) {
        let (first, second) = (&devices[0], &devices[1]);
        let started = Instant::now();
        let res = match *way {
            "logout" => {
                app.send_with_token(Method::Post, "/auth/logout", &first.0)
                    .await
            }
            "device-delete" => {
                app.send_with_token(
                    Method::Delete,
                    &format!("/auth/devices/{}", first.1),
                    &second.0,
                )
                .await
            }
            "device-logout" => {
                app.client
                    .delete("/auth/device-logout")
                    .header(rocket::http::Header::new(
                        "Authorization",
                        format!("Bearer {}", second.0),
                    ))
                    .header(rocket::http::Header::new("Device-Id", first.1.clone()))
                    .dispatch()
                    .await
            }
            _ => {
                app.send_with_token(Method::Post, "/auth/logout-all", &first.0)
                    .await
            }
        };
        expect_unavailable(way, res, started.elapsed()).await;
        assert_eq!(
            app.get_with_token("/me", &first.0).await.status(),
            Status::Unauthorized,
            "{user}: the ended device is refused in memory at once ({way})"
        );
        let second_now = app.get_with_token("/me", &second.0).await.status();
        let expected = if *way == "logout-all" {
            Status::Unauthorized
        } else {
            Status::Ok
        };
        assert_eq!(second_now, expected, "{user}: the other device ({way})");
    }
    if reads_fail {
        timed!(
            "confirm page",
            app.client.get(confirm_link.clone()).dispatch()
        );
        timed!("device list", app.get_with_token("/auth/devices", &access));
        timed!(
            "token tree",
            app.get_with_token(&format!("/auth/devices/{device}/tokens"), &access)
        );
    } else {
        // Readers go on while only writes are locked out: each read answers.
        let reads = [
            (
                "confirm page",
                app.client
                    .get(confirm_link.clone())
                    .dispatch()
                    .await
                    .status(),
            ),
            (
                "device list",
                app.get_with_token("/auth/devices", &access).await.status(),
            ),
            (
                "token tree",
                app.get_with_token(&format!("/auth/devices/{device}/tokens"), &access)
                    .await
                    .status(),
            ),
        ];
        for (what, status) in reads {
            assert_eq!(status, Status::Ok, "{what} while only writes are locked");
        }
    }
    // Verified from memory: still answering.
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let verify = app
        .post_json("/auth/token/verify", json!({ "token": access }))
        .await;
    assert_eq!(verify.status(), Status::Ok);

    restore();
    // How long recovery may take, from the configuration: a poll or two to see
    // the database again, each waiting at most the connect timeout.
    let poll = Duration::from(app.runtime().config().revocation.poll);
    let bound = 3 * poll + 3 * Duration::from_secs(jwt_guard::store::DEFAULT_CONNECT_TIMEOUT_SECS);
    eventually("recovery without a restart", bound, || async {
        app.get_with_token("/auth/devices", &access).await.status() == Status::Ok
    })
    .await;
    // The session survived: the same refresh token rotates (no false reuse), the
    // same permanent token works, and the link was not counted.
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Ok, "refresh after the outage");
    let res = app.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Ok, "device refresh after the outage");
    assert_eq!(
        s(&jwt_guard_tests::json_body(res).await["device_id"]),
        device
    );
    let res = app.client.get(link.clone()).dispatch().await;
    assert_eq!(
        res.status(),
        Status::Ok,
        "the link's one use is still there"
    );
    // Nothing half-written: one device, its tokens, nothing else.
    let devices: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_devices WHERE subject = 'alice'")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(devices, 1, "no device from the failed login");
    let used: Vec<i64> =
        sqlx::query_scalar("SELECT use_count FROM jwt_guard_links ORDER BY target")
            .fetch_all(app.pool())
            .await
            .unwrap_or_default();
    assert_eq!(
        used,
        [0, 1],
        "the confirm link unused, the other used once now"
    );
    // The force-expiry answered 503 did nothing: the first access token lives.
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    // The logouts answered 503 are written once the database is back: each
    // ended device's row, and no other.
    for (way, (user, devices)) in LOGOUT_WAYS.iter().zip(&leavers) {
        let ended: Vec<&str> = if *way == "logout-all" {
            vec![devices[0].1.as_str(), devices[1].1.as_str()]
        } else {
            vec![devices[0].1.as_str()]
        };
        eventually(
            &format!("{user}'s logout is written ({way})"),
            bound,
            || async {
                let revoked: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM jwt_guard_devices WHERE subject = $1 AND revoked_at IS NOT NULL",
            )
            .bind(user)
            .fetch_all(app.pool())
            .await
            .unwrap_or_default();
                let mut revoked: Vec<&str> = revoked.iter().map(String::as_str).collect();
                revoked.sort_unstable();
                let mut expected = ended.clone();
                expected.sort_unstable();
                revoked == expected
            },
        )
        .await;
    }
}

/// The ways a device session ends, each tried on a user of its own.
const LOGOUT_WAYS: [&str; 4] = ["logout", "device-delete", "device-logout", "logout-all"];

#[rocket::async_test]
async fn postgres_cut_off_for_real_answers_503_and_sessions_survive() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let upstream = pg.server();
    let relay = TcpRelay::start(&upstream).await;
    let url = relay.url_for(&pg.url);
    let app = TestApp::start_on(
        &url,
        json!({ "secret": TEST_SECRET, "revocation_staleness": "serve" }),
        Clock::offset(),
    )
    .await;
    outage_walkthrough(&app, true, || relay.cut(), || relay.restore()).await;
    pg.drop_database().await;
}

#[rocket::async_test]
async fn sqlite_locked_by_another_process_answers_503_and_sessions_survive() {
    use sqlx::{Connection, Executor};
    let url = jwt_guard_tests::temp_sqlite_url();
    let app = TestApp::start_on(&url, json!({ "secret": TEST_SECRET }), Clock::offset()).await;
    // Another process (a backup, a migration) holds the write lock: every write
    // waits out the busy timeout, then fails.
    let locker = std::sync::Arc::new(rocket::tokio::sync::Mutex::new(
        sqlx::SqliteConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    ));
    let lock = || {
        let locker = locker.clone();
        rocket::tokio::task::block_in_place(|| {
            rocket::tokio::runtime::Handle::current().block_on(async move {
                let mut conn = locker.lock().await;
                conn.execute("BEGIN EXCLUSIVE")
                    .await
                    .unwrap_or_else(|e| panic!("lock: {e}"));
            })
        })
    };
    let unlock = || {
        let locker = locker.clone();
        rocket::tokio::task::block_in_place(|| {
            rocket::tokio::runtime::Handle::current().block_on(async move {
                let mut conn = locker.lock().await;
                conn.execute("ROLLBACK")
                    .await
                    .unwrap_or_else(|e| panic!("unlock: {e}"));
            })
        })
    };
    // Under WAL, readers go on while the lock is held: only writes fail.
    outage_walkthrough(&app, false, lock, unlock).await;
}
