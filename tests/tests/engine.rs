//! The storage engine: an app's own database on jwt-guard's exported pool type, a
//! database created by the previous release upgraded in place, and the pool's
//! settings.

use jwt_guard::secret::PermanentToken;
use jwt_guard_tests::{json_body, storage_tests, DbKind, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{Header, Status};
use serde_json::json;
use sqlx::Connection;

fn s(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[rocket::async_test]
async fn an_apps_own_database_runs_on_the_exported_pool_beside_jwt_guards() {
    let app = TestApp::hs256().await;
    let alice = app.access_token("alice").await;
    let bob = app.access_token("bob").await;
    for (token, text) in [
        (&alice, "buy milk"),
        (&bob, "call mum"),
        (&alice, "ship it"),
    ] {
        let res = app
            .client
            .post("/notes")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .body(text)
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
    }
    let mine = json_body(app.get_with_token("/notes", &alice).await).await;
    assert_eq!(mine, json!(["buy milk", "ship it"]));
    // A separate database: jwt-guard's has no `notes` table.
    let in_jwt_db = sqlx::query("SELECT 1 FROM notes")
        .fetch_all(app.pool())
        .await;
    let missing = match &in_jwt_db {
        Err(sqlx::Error::Database(e)) => e.message().to_lowercase(),
        other => panic!(
            "expected a missing table, got {:?}",
            other.as_ref().map(Vec::len)
        ),
    };
    assert!(
        missing.contains("notes")
            && (missing.contains("no such table") || missing.contains("does not exist")),
        "{missing}"
    );
}

/// The schema the previous release (migrations 1–3) created, with a live device.
async fn create_previous_release_database(url: &str, permanent: &PermanentToken) {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    };
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sql = String::from(
        "CREATE TABLE jwt_guard_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);",
    );
    for file in [
        include_str!("../../jwt-guard/migrations/0001_devices_tokens_revocations.sql"),
        include_str!("../../jwt-guard/migrations/0002_links.sql"),
        include_str!("../../jwt-guard/migrations/0003_revocation_sequence.sql"),
    ] {
        sql.push_str(file);
    }
    sql.push_str("INSERT INTO jwt_guard_migrations VALUES (1, 0), (2, 0), (3, 0);");
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let statement: String = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if statement.trim().is_empty() {
            continue;
        }
        sqlx::query(&statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let now = jwt_guard_tests::now() as i64;
    sqlx::query(
        "INSERT INTO jwt_guard_devices
         (id, subject, name, permanent_digest, created_at, last_used, expires_at, orig_iat)
         VALUES ('olddevice', 'alice', 'Old phone', $1, $2, $2, $3, $2)",
    )
    .bind(permanent.digest().as_str().to_owned())
    .bind(now)
    .bind(now + 3600)
    .execute(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let _ = conn.close().await;
}

storage_tests!(a_database_of_the_previous_release_is_upgraded_in_place);

async fn a_database_of_the_previous_release_is_upgraded_in_place(db: DbKind) {
    let Some((url, pg)) = db.fresh().await else {
        return;
    };
    let permanent = PermanentToken::generate();
    create_previous_release_database(&url, &permanent).await;
    let app = TestApp::start_on(
        &url,
        json!({ "secret": TEST_SECRET }),
        jwt_guard::Clock::offset(),
    )
    .await;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM jwt_guard_migrations ORDER BY version")
            .fetch_all(app.pool())
            .await
            .unwrap_or_default();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // The device created before the upgrade still works, and now rotates.
    let res = app.device_refresh(permanent.expose()).await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    assert_eq!(s(&body["device_id"]), "olddevice");
    assert_ne!(s(&body["permanent_token"]), permanent.expose());
    // New logins work beside it.
    assert!(!s(&app.login("bob").await["access"]).is_empty());
    if let Some(pg) = pg {
        pg.drop_database().await;
    }
}

#[rocket::async_test]
async fn the_pool_fails_fast_by_default() {
    // A server that accepts nothing: every connection attempt is refused. The
    // fairing's default (1 s) bounds how long launch waits to find out.
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    pg.cut().await;
    let started = std::time::Instant::now();
    let figment = jwt_guard_tests::base_figment(&pg.url).merge(("jwt.secret", TEST_SECRET));
    let launched = rocket::local::asynchronous::Client::tracked(jwt_guard_tests::app::app(
        figment,
        jwt_guard::Clock::offset(),
    ))
    .await;
    let failure = launched
        .err()
        .map(|e| format!("{:?}", e.kind()))
        .unwrap_or_default();
    // jwt-guard's own database fairing is what failed (not, say, the config).
    assert!(
        failure.contains("FailedFairings") && failure.contains("jwt-guard"),
        "launch must fail on the database: {failure}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    pg.restore().await;
    pg.drop_database().await;
}

/// SQLite has one writer at a time: jwt-guard's writes queue for one write
/// connection of their own. Sixteen clients signing in, refreshing, refreshing
/// devices and logging out at once all succeed — no write waits on another
/// while holding the writer, and none is answered 503. (Under a saturating load
/// the difference to many writers polling SQLite's lock shows in `route-load`.)
#[rocket::async_test]
async fn sixteen_writers_at_once_never_wait_out_the_busy_timeout() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "max_devices": 1000,
        "login_throttle": { "ip_attempts": 100000, "account_attempts": 100000 },
    }))
    .await;
    let client = |n: usize| {
        let app = &app;
        async move {
            let user = ["alice", "bob", "admin"][n % 3];
            let mut statuses = Vec::new();
            for _ in 0..3 {
                let res = app
                    .client
                    .post("/auth/token")
                    .header(rocket::http::ContentType::JSON)
                    .body(
                        json!({ "username": user, "password": format!("{user}-password") })
                            .to_string(),
                    )
                    .dispatch()
                    .await;
                statuses.push(res.status().code);
                let login = json_body(res).await;
                let res = app
                    .client
                    .post("/auth/token/refresh")
                    .header(rocket::http::ContentType::JSON)
                    .body(json!({ "refresh": s(&login["refresh"]) }).to_string())
                    .dispatch()
                    .await;
                statuses.push(res.status().code);
                let pair = json_body(res).await;
                let res = app.device_refresh(&s(&login["permanent_token"])).await;
                statuses.push(res.status().code);
                let res = app
                    .send_with_token(
                        rocket::http::Method::Post,
                        "/auth/logout",
                        &s(&pair["access"]),
                    )
                    .await;
                statuses.push(res.status().code);
            }
            statuses
        }
    };
    let all = rocket::futures::future::join_all((0..16).map(client)).await;
    let statuses: Vec<u16> = all.into_iter().flatten().collect();
    assert_eq!(statuses.len(), 16 * 3 * 4);
    let failed: Vec<&u16> = statuses
        .iter()
        .filter(|c| !matches!(**c, 200 | 204))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} failed: {failed:?}",
        failed.len(),
        statuses.len()
    );
}
