//! Devices, permanent tokens, rotating refresh tokens and revocation, over HTTP, on
//! SQLite and on PostgreSQL.

use jwt_guard_tests::{json_body, now, parts, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::{json, Value};

fn jwt() -> Value {
    json!({ "secret": TEST_SECRET })
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

storage_tests!(
    login_creates_a_device,
    refresh_rotates_and_reuse_revokes_the_family,
    concurrent_refreshes_rotate_exactly_once,
    wrong_token_kinds_revoke_nothing,
    logout_kills_every_token_of_the_device_at_once,
    logout_all_with_and_without_keep_current,
    devices_of_other_users_are_not_found,
    permanent_token_refreshes_access,
    device_expiry_slides_and_expired_devices_are_removed,
    permanent_tokens_have_an_absolute_lifetime,
    permanent_tokens_rotate_and_a_superseded_one_revokes_the_device,
    concurrent_permanent_refreshes_rotate_exactly_once,
    a_remembered_device_is_refused_after_changes_made_elsewhere,
    a_device_revocation_leaves_memory_with_its_access_tokens,
    last_used_is_written_once_per_accuracy_window,
    permanent_token_header_is_refused_everywhere_else,
    device_cap_rejects_or_evicts,
    grace_period_tolerates_one_retry_only_while_unused,
    a_thief_replaying_within_the_grace_cannot_retire_the_real_successor,
);

async fn login_creates_a_device(db: DbKind) {
    // Behind a reverse proxy at 192.0.2.1, whose `X-Real-IP` is believed.
    let config = json!({ "secret": TEST_SECRET, "trusted_proxies": ["192.0.2.0/24"] });
    let Some(app) = TestApp::on(db, config).await else {
        return;
    };
    let body = app.login_as("alice", "Pixel 9").await;
    let device_id = s(&body["device_id"]);
    let permanent = s(&body["permanent_token"]);
    assert!(!device_id.is_empty());
    assert!(
        permanent.starts_with("jgp_") && permanent.len() == 47,
        "{permanent}"
    );
    let access = s(&body["access"]);
    assert_eq!(jwt_guard_tests::parts(&access).1["did"], device_id.as_str());

    // A second login from a browser: named from its user agent, IP from ip_header.
    let res = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        ))
        .remote("192.0.2.1:4000".parse().unwrap_or_else(|e| panic!("{e}")))
        .header(Header::new("X-Real-IP", "203.0.113.9"))
        .body(json!({"username": "alice", "password": "alice-password"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);

    let list = app.get_with_token("/auth/devices", &access).await;
    assert_eq!(list.status(), Status::Ok);
    let devices = json_body(list).await;
    let devices = devices.as_array().cloned().unwrap_or_default();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let mine = devices.iter().find(|d| d["id"] == device_id.as_str());
    let mine = mine.unwrap_or_else(|| panic!("own device missing"));
    assert_eq!(mine["name"], "Pixel 9");
    assert_eq!(mine["current"], true);
    let browser = devices.iter().find(|d| d["id"] != device_id.as_str());
    let browser = browser.unwrap_or_else(|| panic!("browser device missing"));
    assert_eq!(browser["current"], false);
    assert_eq!(browser["browser"], "Firefox");
    assert_eq!(browser["os"], "Linux");
    assert_eq!(browser["name"], "Firefox on Linux");
    assert_eq!(browser["ip"], "203.0.113.9");
    app.finish().await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let r1 = s(&login["refresh"]);
    let permanent = s(&login["permanent_token"]);

    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let second = json_body(res).await;
    let (a2, r2) = (s(&second["access"]), s(&second["refresh"]));
    assert_ne!(r1, r2);
    assert_eq!(app.get_with_token("/me", &a2).await.status(), Status::Ok);

    // Reuse of the rotated token: refused, and the whole family dies.
    let reuse = app
        .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
        .await;
    assert_eq!(reuse.status(), Status::Unauthorized);
    assert!(s(&json_body(reuse).await["error_description"]).contains("already used"));
    assert_eq!(
        app.get_with_token("/me", &a2).await.status(),
        Status::Unauthorized
    );
    let newest = app
        .post_json("/auth/token/refresh", json!({ "refresh": r2 }))
        .await;
    assert_eq!(newest.status(), Status::Unauthorized);
    assert_eq!(
        app.device_refresh(&permanent).await.status(),
        Status::Unauthorized
    );

    let log = app
        .store()
        .audit_log(Some("alice"), 10)
        .await
        .unwrap_or_default();
    assert!(log.iter().any(|e| e.event == "refresh_reuse"), "{log:?}");
    app.finish().await;
}

async fn concurrent_refreshes_rotate_exactly_once(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("bob").await;
    let refresh = s(&login["refresh"]);
    let requests = (0..20).map(|_| {
        app.client
            .post("/auth/token/refresh")
            .header(ContentType::JSON)
            .body(json!({ "refresh": refresh }).to_string())
            .dispatch()
    });
    let responses = rocket::futures::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().code).collect();
    let ok = statuses.iter().filter(|c| **c == 200).count();
    assert_eq!(ok, 1, "exactly one rotation must win: {statuses:?}");
    assert!(
        statuses.iter().all(|c| *c == 200 || *c == 401),
        "losers are refused, never a server error: {statuses:?}"
    );
    let rotated: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jwt_guard_tokens WHERE kind = 'refresh' AND used_at IS NOT NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(-1);
    assert_eq!(rotated, 1);
    app.finish().await;
}

async fn wrong_token_kinds_revoke_nothing(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let (access, refresh) = (s(&login["access"]), s(&login["refresh"]));
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": access }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        app.get_with_token("/me", &refresh).await.status(),
        Status::Unauthorized
    );
    // Nothing was revoked: both still work for their own purpose.
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    app.finish().await;
}

async fn logout_kills_every_token_of_the_device_at_once(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let (access, refresh, permanent) = (
        s(&login["access"]),
        s(&login["refresh"]),
        s(&login["permanent_token"]),
    );
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let out = app
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    assert_eq!(out.status(), Status::NoContent);
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        app.device_refresh(&permanent).await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn logout_all_with_and_without_keep_current(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let a = s(&app.login_as("alice", "laptop").await["access"]);
    let b = s(&app.login_as("alice", "phone").await["access"]);
    let c = s(&app.login_as("alice", "tablet").await["access"]);
    let bob = s(&app.login("bob").await["access"]);

    let res = app
        .send_with_token(Method::Post, "/auth/logout-all?keep_current=true", &a)
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_body(res).await["revoked"], 2);
    assert_eq!(app.get_with_token("/me", &a).await.status(), Status::Ok);
    assert_eq!(
        app.get_with_token("/me", &b).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.get_with_token("/me", &c).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.get_with_token("/me", &bob).await.status(),
        Status::Ok,
        "other users untouched"
    );

    let res = app
        .send_with_token(Method::Post, "/auth/logout-all", &a)
        .await;
    assert_eq!(json_body(res).await["revoked"], 1);
    assert_eq!(
        app.get_with_token("/me", &a).await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn devices_of_other_users_are_not_found(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let alice_access = s(&alice["access"]);
    let bob_device = s(&bob["device_id"]);

    let path = format!("/auth/devices/{bob_device}");
    let res = app
        .send_with_token(Method::Delete, &path, &alice_access)
        .await;
    assert_eq!(res.status(), Status::NotFound);
    let res = app
        .client
        .delete("/auth/device-logout")
        .header(Header::new(
            "Authorization",
            format!("Bearer {alice_access}"),
        ))
        .header(Header::new("Device-Id", bob_device.clone()))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NotFound);
    let tree = format!("/auth/devices/{bob_device}/tokens");
    assert_eq!(
        app.get_with_token(&tree, &alice_access).await.status(),
        Status::NotFound
    );
    assert_eq!(
        app.get_with_token("/me", &s(&bob["access"])).await.status(),
        Status::Ok
    );

    for junk in ["%00", "..", "x".repeat(300).as_str(), "%27%20OR%201%3D1"] {
        let res = app
            .send_with_token(
                Method::Delete,
                &format!("/auth/devices/{junk}"),
                &alice_access,
            )
            .await;
        assert!(
            res.status().code >= 400 && res.status().code < 500,
            "{junk}: {}",
            res.status()
        );
    }

    // Missing header → 400; own device by header → 204.
    let res = app
        .send_with_token(Method::Delete, "/auth/device-logout", &alice_access)
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    let res = app
        .client
        .delete("/auth/device-logout")
        .header(Header::new(
            "Authorization",
            format!("Bearer {alice_access}"),
        ))
        .header(Header::new("Device-Id", s(&alice["device_id"])))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    assert_eq!(
        app.get_with_token("/me", &alice_access).await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn permanent_token_refreshes_access(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("admin").await;
    let permanent = s(&login["permanent_token"]);
    let res = app.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    assert_eq!(body["device_id"], login["device_id"]);
    let access = s(&body["access"]);
    assert_eq!(
        app.get_with_token("/admin/stats", &access).await.status(),
        Status::Ok
    );

    for bad in [
        "",
        "jgp_",
        "Bearer x",
        &format!("jgp_{}", "A".repeat(43)),
        &"jgp_x".repeat(2000),
    ] {
        let res = app.device_refresh(bad).await;
        assert_eq!(res.status(), Status::Unauthorized, "{bad:.20}");
    }
    let none = app.client.post("/auth/device/refresh").dispatch().await;
    assert_eq!(none.status(), Status::Unauthorized);
    app.finish().await;
}

async fn device_expiry_slides_and_expired_devices_are_removed(db: DbKind) {
    // The absolute lifetime defaults to `refresh_window` (7 days); lift it so the
    // sliding window shows.
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "permanent_max_lifetime": "30d" }),
    )
    .await
    else {
        return;
    };
    let login = app.login("alice").await;
    let mut permanent = s(&login["permanent_token"]);
    // Used every 6 days, a 7-day sliding window keeps it alive for 18 days (the
    // token rotating at each use).
    for _ in 0..3 {
        app.clock.advance(6 * 24 * 3600);
        let res = app.device_refresh(&permanent).await;
        assert_eq!(res.status(), Status::Ok);
        permanent = s(&json_body(res).await["permanent_token"]);
    }
    // Then 8 idle days: expired, removed, and a 401.
    app.clock.advance(8 * 24 * 3600);
    let res = app.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("expired"));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_devices")
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
    assert_eq!(left, 0, "the expired device is removed");
    assert_eq!(
        app.device_refresh(&permanent).await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn permanent_tokens_have_an_absolute_lifetime(db: DbKind) {
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "permanent_max_lifetime": "10d" }),
    )
    .await
    else {
        return;
    };
    let login = app.login("alice").await;
    let mut permanent = s(&login["permanent_token"]);
    // Used every 3 days it would slide forever; the absolute lifetime ends it at
    // day 10, however recently it was used.
    for _ in 0..3 {
        app.clock.advance(3 * 24 * 3600);
        let res = app.device_refresh(&permanent).await;
        assert_eq!(res.status(), Status::Ok);
        permanent = s(&json_body(res).await["permanent_token"]);
    }
    let expires_at: i64 =
        sqlx::query_scalar("SELECT expires_at - created_at FROM jwt_guard_devices")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(expires_at, 10 * 24 * 3600, "capped at login + 10 days");
    app.clock.advance(24 * 3600 + 1);
    let res = app.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("expired"));
    app.finish().await;
}

async fn permanent_tokens_rotate_and_a_superseded_one_revokes_the_device(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let first = s(&login["permanent_token"]);
    let res = app.device_refresh(&first).await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    let second = s(&body["permanent_token"]);
    let access = s(&body["access"]);
    assert!(second.starts_with("jgp_") && second != first, "rotated");
    let res = app.device_refresh(&second).await;
    assert_eq!(res.status(), Status::Ok);
    let third = s(&json_body(res).await["permanent_token"]);
    // A thief replays the first (superseded) token: reuse, the device is revoked.
    let res = app.device_refresh(&first).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("already used"));
    assert_eq!(
        app.device_refresh(&third).await.status(),
        Status::Unauthorized,
        "the current token died with its device"
    );
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    let log = app.store().audit_log(None, 10).await.unwrap_or_default();
    assert!(log.iter().any(|e| e.event == "permanent_reuse"), "{log:?}");
    app.finish().await;
}

/// The instance that issued a permanent token remembers its device and skips the
/// device look-up when the token comes back; the rotation still asks the
/// database. So a token superseded, or a device signed out, through another
/// instance is refused there at once — reuse as reuse, a sign-out as a sign-out —
/// though this instance has not heard of either.
async fn a_remembered_device_is_refused_after_changes_made_elsewhere(db: DbKind) {
    // Instance A learns nothing from B in the background.
    let deaf = json!({
        "secret": TEST_SECRET,
        "revocation_poll": "1h",
        "revocation_listen": false,
    });
    let Some(a) = TestApp::on(db, deaf.clone()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, jwt(), a.clock.clone()).await;

    // Superseded on B, then replayed on A (which remembers it as current): reuse.
    let first = s(&a.login("alice").await["permanent_token"]);
    let res = b.device_refresh(&first).await;
    assert_eq!(res.status(), Status::Ok);
    let second = s(&json_body(res).await["permanent_token"]);
    let res = a.device_refresh(&first).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("already used"));
    assert_eq!(
        b.device_refresh(&second).await.status(),
        Status::Unauthorized,
        "the device died of the reuse"
    );

    // Signed out on B while A remembers the device: refused as signed out, and
    // not mistaken for reuse.
    let login = a.login("bob").await;
    let (access, permanent) = (s(&login["access"]), s(&login["permanent_token"]));
    let out = b
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    assert_eq!(out.status(), Status::NoContent);
    let res = a.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("not valid"));
    let log = a.store().audit_log(None, 50).await.unwrap_or_default();
    let reuses: Vec<_> = log
        .iter()
        .filter(|e| e.event == "permanent_reuse")
        .collect();
    assert_eq!(reuses.len(), 1, "alice's only: {log:?}");
    assert_eq!(reuses[0].subject.as_deref(), Some("alice"));

    // A device remembered and untouched elsewhere refreshes as usual, again and again.
    let mut current = s(&a.login("alice").await["permanent_token"]);
    for _ in 0..3 {
        let res = a.device_refresh(&current).await;
        assert_eq!(res.status(), Status::Ok);
        current = s(&json_body(res).await["permanent_token"]);
    }
    assert_eq!(b.device_refresh(&current).await.status(), Status::Ok);
    a.finish().await;
}

/// A logout's revocation is held in memory as long as the device's access
/// tokens can live (`access_ttl` + `leeway`), not as long as its refresh or
/// permanent tokens: those are revoked in the database with the device and every
/// use of them asks it. Once the revocation has left memory, every token of the
/// device is still refused — and the instance that remembered the device (it
/// issued its permanent token) has forgotten it with the logout.
async fn a_device_revocation_leaves_memory_with_its_access_tokens(db: DbKind) {
    let config = json!({
        "secret": TEST_SECRET,
        "access_ttl": "5m",
        "leeway": "10s",
        "revocation": { "poll": "1h", "listen": false },
    });
    let Some(a) = TestApp::on(db, config.clone()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, config, a.clock.clone()).await;
    let login = a.login("alice").await;
    let (access, refresh, permanent) = (
        s(&login["access"]),
        s(&login["refresh"]),
        s(&login["permanent_token"]),
    );
    let out = b
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    assert_eq!(out.status(), Status::NoContent);

    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT until, created_at FROM jwt_guard_revocations WHERE kind = 'device'")
            .fetch_optional(a.pool())
            .await
            .unwrap_or(None);
    let (until, created) = row.unwrap_or_default();
    assert_eq!(until - created, 310, "access_ttl + leeway: {row:?}");

    // A learns of it, and drops it once the device's access tokens have expired.
    let revocations = a.runtime().verifier().revocations();
    let cursor = a
        .store()
        .poll_revocations(Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(revocations.counts().1, 1);
    assert_eq!(
        a.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    a.clock.advance(311);
    let _ = a.store().poll_revocations(cursor).await;
    assert_eq!(revocations.counts().1, 0, "gone from memory");

    // Every token of the device is still refused: the access token by its own
    // expiry, the others by the database.
    assert_eq!(
        a.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    let res = a
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("not valid"));
    let res = a.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(s(&json_body(res).await["error_description"]).contains("not valid"));
    let devices: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_devices WHERE revoked_at IS NULL")
            .fetch_one(a.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(devices, 0, "nothing came back to life");

    // A session started after the revocation left works as usual.
    let again = a.login("alice").await;
    assert_eq!(
        a.get_with_token("/me", &s(&again["access"])).await.status(),
        Status::Ok
    );
    assert_eq!(
        a.device_refresh(&s(&again["permanent_token"]))
            .await
            .status(),
        Status::Ok
    );
    a.finish().await;
}

async fn concurrent_permanent_refreshes_rotate_exactly_once(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("bob").await;
    let permanent = s(&login["permanent_token"]);
    let requests = (0..20).map(|_| app.device_refresh(&permanent));
    let responses = rocket::futures::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().code).collect();
    assert_eq!(
        statuses.iter().filter(|c| **c == 200).count(),
        1,
        "exactly one rotation wins: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|c| *c == 200 || *c == 401),
        "losers are refused, never a server error: {statuses:?}"
    );
    // The losers presented a token that had been superseded: reuse, so the device
    // is revoked and its one rotated token with it.
    let revoked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_devices WHERE revoked_at IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(revoked, 1);
    let access_rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jwt_guard_tokens WHERE kind = 'access' AND parent_jti IS NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(-1);
    assert_eq!(access_rows, 1, "only the winner issued an access token");
    app.finish().await;
}

async fn last_used_is_written_once_per_accuracy_window(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let mut refresh = s(&login["refresh"]);
    let device = s(&login["device_id"]);
    let last_used = || async {
        sqlx::query_scalar::<_, i64>("SELECT last_used FROM jwt_guard_devices WHERE id = $1")
            .bind(device.clone())
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1)
    };
    let rotate = async |refresh: &mut String| {
        let res = app
            .post_json("/auth/token/refresh", json!({ "refresh": *refresh }))
            .await;
        assert_eq!(res.status(), Status::Ok);
        *refresh = s(&json_body(res).await["refresh"]);
    };
    let t0 = last_used().await;
    app.clock.advance(10 * 60);
    for _ in 0..5 {
        rotate(&mut refresh).await;
    }
    assert_eq!(
        last_used().await,
        t0,
        "no write inside the 30-minute window"
    );
    app.clock.advance(25 * 60);
    rotate(&mut refresh).await;
    let t1 = last_used().await;
    assert!(
        t1 >= t0 + 35 * 60,
        "one write once the window passed ({t0} → {t1})"
    );
    rotate(&mut refresh).await;
    assert_eq!(last_used().await, t1);
    app.finish().await;
}

async fn permanent_token_header_is_refused_everywhere_else(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let permanent = s(&login["permanent_token"]);
    let access = s(&login["access"]);

    let res = app
        .client
        .post("/visits")
        .header(Header::new("Permanent-Token", permanent.clone()))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(json_body(res).await["error"], "invalid_request");
    let count = json_body(app.client.get("/visits").dispatch().await).await;
    assert_eq!(count["visits"], 0, "the handler must not have run");

    // Even a junk value, and even with a valid bearer token.
    let res = app
        .client
        .get("/me")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .header(Header::new("Permanent-Token", "junk"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    let res = app
        .client
        .post("/auth/token/refresh")
        .header(Header::new("Permanent-Token", permanent.clone()))
        .body(json!({ "refresh": s(&login["refresh"]) }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);

    // Without the header the route works; the refresh route accepts it.
    let res = app.client.post("/visits").dispatch().await;
    assert_eq!(json_body(res).await["visits"], 1);
    assert_eq!(app.device_refresh(&permanent).await.status(), Status::Ok);
    app.finish().await;
}

async fn device_cap_rejects_or_evicts(db: DbKind) {
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "max_devices": 2, "device_cap_policy": "reject" }),
    )
    .await
    else {
        return;
    };
    app.login_as("alice", "one").await;
    app.login_as("alice", "two").await;
    let third = app
        .post_json(
            "/auth/token",
            json!({"username": "alice", "password": "alice-password"}),
        )
        .await;
    assert_eq!(third.status(), Status::Forbidden);
    assert_eq!(json_body(third).await["error"], "device_limit");
    app.login("bob").await;
    app.finish().await;

    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "max_devices": 2, "device_cap_policy": "evict_oldest" }),
    )
    .await
    else {
        return;
    };
    let first = s(&app.login_as("alice", "one").await["access"]);
    app.clock.advance(5);
    let second = s(&app.login_as("alice", "two").await["access"]);
    app.clock.advance(5);
    let third = s(&app.login_as("alice", "three").await["access"]);
    assert_eq!(
        app.get_with_token("/me", &first).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.get_with_token("/me", &second).await.status(),
        Status::Ok
    );
    let list = json_body(app.get_with_token("/auth/devices", &third).await).await;
    let names: Vec<String> = list
        .as_array()
        .map(|a| a.iter().map(|d| s(&d["name"])).collect())
        .unwrap_or_default();
    assert_eq!(names, ["two", "three"]);
    app.finish().await;
}

async fn grace_period_tolerates_one_retry_only_while_unused(db: DbKind) {
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "refresh_reuse_grace": "10s" }),
    )
    .await
    else {
        return;
    };
    let r1 = s(&app.login("alice").await["refresh"]);
    let first = json_body(
        app.post_json("/auth/token/refresh", json!({ "refresh": r1 }))
            .await,
    )
    .await;
    let r2 = s(&first["refresh"]);
    // The client lost the answer and retries within the grace period: it gets the
    // same successor again, not a second one (HMAC signatures are deterministic,
    // so byte for byte the same tokens).
    for _ in 0..2 {
        let retry = app
            .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
            .await;
        assert_eq!(retry.status(), Status::Ok);
        let body = json_body(retry).await;
        assert_eq!(s(&body["refresh"]), r2);
        assert_eq!(s(&body["access"]), s(&first["access"]));
    }
    let minted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_tokens WHERE kind = 'refresh'")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(minted, 2, "retries mint nothing");
    // The real client moves on with its successor.
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": r2 }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let r3 = s(&json_body(res).await["refresh"]);
    // r2 has been used now: a replay of r1, even within the grace, is reuse.
    let reuse = app
        .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
        .await;
    assert_eq!(reuse.status(), Status::Unauthorized);
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": r3 }))
        .await;
    assert_eq!(
        res.status(),
        Status::Unauthorized,
        "family revoked on reuse"
    );
    let log = app.store().audit_log(None, 10).await.unwrap_or_default();
    assert!(log.iter().any(|e| e.event == "refresh_reuse"), "{log:?}");
    app.finish().await;
}

async fn a_thief_replaying_within_the_grace_cannot_retire_the_real_successor(db: DbKind) {
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "refresh_reuse_grace": "30s" }),
    )
    .await
    else {
        return;
    };
    let stolen = s(&app.login("alice").await["refresh"]);
    // The real client rotates.
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": stolen }))
        .await;
    let real = s(&json_body(res).await["refresh"]);
    // The thief replays the stolen token within the grace: it learns the same
    // successor the real client holds, and nothing is retired.
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": stolen }))
        .await;
    assert_eq!(s(&json_body(res).await["refresh"]), real);
    // The real client's successor was not retired: it still rotates.
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": real }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    // Once the grace has passed, whoever presents `real` again is caught.
    app.clock.advance(31);
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": real }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let devices: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_devices WHERE revoked_at IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(devices, 1, "the device is revoked");
    app.finish().await;
}

storage_tests!(an_app_started_session_is_a_login_like_any_other);

/// `Sessions::start`, for a user the app checked its own way: the body of
/// `/auth/token`, a device, the audit row, the device cap, and a cleared attempt
/// counter.
async fn an_app_started_session_is_a_login_like_any_other(db: DbKind) {
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "max_devices": 2, "device_cap_policy": "reject",
                "login_throttle": { "account_attempts": 3 } }),
    )
    .await
    else {
        return;
    };
    let code =
        |code: &str| app.post_json("/login/code", json!({"username": "alice", "code": code}));
    // Positive control: a wrong code is the app's own refusal, nothing is started.
    assert_eq!(code("000000").await.status(), Status::Unauthorized);

    // Two wrong passwords, then the app's own login: the account starts afresh.
    for _ in 0..2 {
        let res = app
            .post_json(
                "/auth/token",
                json!({"username": "alice", "password": "wrong"}),
            )
            .await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let res = code("424242").await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    for field in [
        "access",
        "refresh",
        "token_type",
        "expires_in",
        "device_id",
        "permanent_token",
    ] {
        assert!(!body[field].is_null(), "{field} missing: {body}");
    }
    let me = json_body(app.get_with_token("/me", &s(&body["access"])).await).await;
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["device_id"], body["device_id"]);
    // Three more wrong passwords are allowed again (the counter was cleared): the
    // third would be refused with 429 had the two before the code login counted.
    for _ in 0..2 {
        let res = app
            .post_json(
                "/auth/token",
                json!({"username": "alice", "password": "wrong"}),
            )
            .await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let log = app
        .store()
        .audit_log(Some("alice"), 20)
        .await
        .unwrap_or_default();
    assert!(
        log.iter().any(|e| e.event == "login_succeeded"
            && e.detail
                .as_deref()
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
                .is_some_and(|d| d["method"] == "code")),
        "{log:?}"
    );

    // The device cap holds as for a password login.
    app.login("alice").await;
    let third = code("424242").await;
    assert_eq!(third.status(), Status::Forbidden);
    assert_eq!(json_body(third).await["error"], "device_limit");
    app.finish().await;
}

storage_tests!(a_stored_successor_rewritten_in_the_database_is_never_signed);

/// With the reuse grace on, a retry answers the stored successor again — rebuilt
/// from the rotation itself, with only its `jti` and `iat` read from the row.
/// Rewriting either stored successor (access or refresh), in any field the
/// rebuild depends on or any claim at all, or its header, must not make the
/// server sign anything: the retry is refused.
async fn a_stored_successor_rewritten_in_the_database_is_never_signed(db: DbKind) {
    use base64::Engine as _;
    let Some(app) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "refresh_reuse_grace": "30s" }),
    )
    .await
    else {
        return;
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    type Edit<'a> = &'a dyn Fn(&mut Value);
    let rewrite = |input: &str, header_change: Edit<'_>, change: Edit<'_>| -> String {
        let (header, payload) = input.split_once('.').unwrap_or_default();
        let decode = |part: &str| -> Value {
            serde_json::from_slice(&b64.decode(part).unwrap_or_default()).unwrap_or_default()
        };
        let (mut header, mut claims) = (decode(header), decode(payload));
        header_change(&mut header);
        change(&mut claims);
        format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        )
    };
    let nothing: Edit<'_> = &|_| {};
    let bump = |field: &'static str, by: i64| {
        move |c: &mut Value| c[field] = json!(c[field].as_i64().unwrap_or(0) + by)
    };
    let (longer, earlier_iat, later_nbf) =
        (bump("exp", 365 * 86_400), bump("iat", -1), bump("nbf", 1));
    let (older_login, older_auth) = (bump("orig_iat", -86_400), bump("auth_time", -86_400));
    type Case<'a> = (&'a str, &'a str, Edit<'a>, Edit<'a>);
    let cases: Vec<Case<'_>> = vec![
        ("another subject", "successor_access", nothing, &|c| {
            c["sub"] = json!("admin")
        }),
        ("more roles", "successor_access", nothing, &|c| {
            c["roles"] = json!(["admin", "user"])
        }),
        ("a longer life", "successor_access", nothing, &longer),
        ("another device", "successor_access", nothing, &|c| {
            c["did"] = json!("someone-elses")
        }),
        ("another id", "successor_access", nothing, &|c| {
            c["jti"] = json!("../../etc")
        }),
        (
            "an earlier issue",
            "successor_access",
            nothing,
            &earlier_iat,
        ),
        ("a later nbf", "successor_access", nothing, &later_nbf),
        ("another issuer", "successor_access", nothing, &|c| {
            c["iss"] = json!("https://evil")
        }),
        ("another audience", "successor_access", nothing, &|c| {
            c["aud"] = json!("elsewhere")
        }),
        ("an older login", "successor_access", nothing, &older_login),
        (
            "an older auth_time",
            "successor_access",
            nothing,
            &older_auth,
        ),
        ("a class", "successor_access", nothing, &|c| {
            c["acr"] = json!("urn:mfa")
        }),
        ("methods", "successor_access", nothing, &|c| {
            c["amr"] = json!(["hwk"])
        }),
        ("a binding", "successor_access", nothing, &|c| {
            c["cnf"] = json!({ "jkt": "x" })
        }),
        ("another kind", "successor_access", nothing, &|c| {
            c["typ"] = json!("refresh")
        }),
        (
            "another kid",
            "successor_access",
            &|h| h["kid"] = json!("other"),
            nothing,
        ),
        (
            "another header typ",
            "successor_access",
            &|h| h["typ"] = json!("JWT"),
            nothing,
        ),
        ("another subject", "successor_refresh", nothing, &|c| {
            c["sub"] = json!("admin")
        }),
        ("a longer life", "successor_refresh", nothing, &longer),
        ("app claims", "successor_refresh", nothing, &|c| {
            c["roles"] = json!(["admin"])
        }),
        ("another id", "successor_refresh", nothing, &|c| {
            c["jti"] = json!("x")
        }),
    ];
    for (what, column, header_change, change) in cases {
        let what = format!("{column}: {what}");
        let r1 = s(&app.login("alice").await["refresh"]);
        let first = app
            .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
            .await;
        assert_eq!(first.status(), Status::Ok);
        let first = json_body(first).await;
        // Positive control: an untouched row answers the retry, with the same
        // successor (same ids).
        let retry = app
            .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
            .await;
        assert_eq!(retry.status(), Status::Ok, "{what}: control");
        let retry = json_body(retry).await;
        let jti_of = |token: &str| {
            jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token)
                .map(|claims| s(&claims["jti"]))
                .unwrap_or_default()
        };
        assert_eq!(jti_of(&s(&retry["refresh"])), jti_of(&s(&first["refresh"])));
        assert_eq!(jti_of(&s(&retry["access"])), jti_of(&s(&first["access"])));
        let jti = jti_of(&r1);
        let stored: String = sqlx::query_scalar(&format!(
            "SELECT {column} FROM jwt_guard_tokens WHERE jti = $1"
        ))
        .bind(&jti)
        .fetch_one(app.pool())
        .await
        .unwrap_or_default();
        sqlx::query(&format!(
            "UPDATE jwt_guard_tokens SET {column} = $1 WHERE jti = $2"
        ))
        .bind(rewrite(&stored, header_change, change))
        .bind(&jti)
        .execute(app.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let res = app
            .post_json("/auth/token/refresh", json!({ "refresh": r1 }))
            .await;
        assert_eq!(res.status(), Status::Unauthorized, "{what} was signed");
        let body = json_body(res).await;
        assert!(body.get("access").is_none(), "{what}: {body}");
    }
    app.finish().await;
}

storage_tests!(a_revocation_outlives_every_token_it_revokes);

/// A user's revocation lasts as long as the longest token that may carry their
/// name: a token minted for `max_minted_ttl` (by default the refresh window, 7 d)
/// must not be accepted again when the revocation row expires.
async fn a_revocation_outlives_every_token_it_revokes(db: DbKind) {
    let Some((url, pg)) = db.fresh().await else {
        return;
    };
    // A stopped clock: the login and the revocation fall in one second.
    let clock = jwt_guard::Clock::fixed(jwt_guard_tests::now());
    let app = TestApp::start_on(&url, jwt(), clock).await;
    app.login("alice").await;
    // A token of no device (an operator's `token mint`), issued this very second.
    let access = app
        .tokens()
        .access("alice")
        .roles(["user"])
        .scope("profile")
        .mint();
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let now = app.store().clock().now();
    app.store()
        .revoke_subject("alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A token issued in the revocation's own second is revoked too (`iat` counts
    // whole seconds).
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    let until: i64 = sqlx::query_scalar(
        "SELECT until FROM jwt_guard_revocations WHERE kind = 'subject' AND value = 'alice'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(0);
    let week = 7 * 86_400;
    assert!(
        u64::try_from(until).unwrap_or(0) >= now + week,
        "the revocation ends at {until}, before a token minted now for 7 d"
    );
    if let Some(pg) = pg {
        pg.drop_database().await;
    }
}

storage_tests!(deleting_a_device_ends_every_token_it_holds);

/// `DELETE /auth/devices/<id>` from another device: the deleted one's access,
/// refresh and permanent tokens are all refused at once; the caller's are not.
async fn deleting_a_device_ends_every_token_it_holds(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let phone = app.login_as("alice", "phone").await;
    let laptop = app.login_as("alice", "laptop").await;
    let laptop_access = s(&laptop["access"]);
    // Positive control: the phone's tokens work before.
    assert_eq!(
        app.get_with_token("/me", &s(&phone["access"]))
            .await
            .status(),
        Status::Ok
    );
    let path = format!("/auth/devices/{}", s(&phone["device_id"]));
    let res = app
        .send_with_token(Method::Delete, &path, &laptop_access)
        .await;
    assert_eq!(res.status(), Status::NoContent);
    assert_eq!(
        app.get_with_token("/me", &s(&phone["access"]))
            .await
            .status(),
        Status::Unauthorized
    );
    let refresh = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": phone["refresh"] }),
        )
        .await;
    assert_eq!(refresh.status(), Status::Unauthorized);
    let permanent = app.device_refresh(&s(&phone["permanent_token"])).await;
    assert_eq!(permanent.status(), Status::Unauthorized);
    // The laptop goes on.
    assert_eq!(
        app.get_with_token("/me", &laptop_access).await.status(),
        Status::Ok
    );
    app.finish().await;
}

storage_tests!(a_session_resting_on_another_login_keeps_its_authentication_time);

/// `Sessions::start_upstream`: a session started on a provider's word carries the
/// provider's `auth_time` and `acr` — through refreshes — so `fresh` routes judge
/// when the user really authenticated; an `auth_time` in the future is refused
/// and starts nothing.
async fn a_session_resting_on_another_login_keeps_its_authentication_time(db: DbKind) {
    let Some(app) = TestApp::on(db, json!({ "secret": TEST_SECRET })).await else {
        return;
    };
    let start = |auth_time: u64| {
        app.post_json(
            "/login/upstream",
            json!({ "username": "alice", "auth_time": auth_time, "acr": "urn:idp:mfa" }),
        )
    };
    let old = now() - 600;
    let body = json_body(start(old).await).await;
    let access = s(&body["access"]);
    let (_, claims) = parts(&access);
    assert_eq!(claims["auth_time"], old);
    assert_eq!(claims["acr"], "urn:idp:mfa");
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let res = app.get_with_token("/me/fresh", &access).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    // A refresh is no new authentication.
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": s(&body["refresh"]) }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let (_, refreshed) = parts(&s(&json_body(res).await["access"]));
    assert_eq!(refreshed["auth_time"], old);
    // Positive control: a recent authentication is fresh.
    let recent = json_body(start(now() - 60).await).await;
    assert_eq!(
        app.get_with_token("/me/fresh", &s(&recent["access"]))
            .await
            .status(),
        Status::Ok
    );
    // `start_at_level`: a login of a class, now.
    let res = app
        .post_json(
            "/login/upstream",
            json!({ "username": "alice", "acr": "urn:app:mfa" }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let (_, leveled) = parts(&s(&json_body(res).await["access"]));
    assert_eq!(leveled["acr"], "urn:app:mfa");
    assert!(leveled["auth_time"].as_u64().unwrap_or(0) >= now() - 5);
    // The future is refused, and no device is created for it.
    let count = "SELECT COUNT(*) FROM jwt_guard_devices WHERE subject = 'alice'";
    let before: i64 = sqlx::query_scalar(count)
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
    let res = start(now() + 3600).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res).await["error"], "invalid_token");
    let after: i64 = sqlx::query_scalar(count)
        .fetch_one(app.pool())
        .await
        .unwrap_or(-2);
    assert_eq!(after, before);
    app.finish().await;
}

storage_tests!(a_device_refresh_keeps_the_login_time);

/// A permanent-token (device) refresh is no new authentication: the access token
/// it issues carries the login's `auth_time`, so `fresh` routes still judge the
/// login.
async fn a_device_refresh_keeps_the_login_time(db: DbKind) {
    let Some(app) = TestApp::on(db, json!({ "secret": TEST_SECRET })).await else {
        return;
    };
    let login = app.login("alice").await;
    let (_, first) = parts(&s(&login["access"]));
    let logged_in = first["auth_time"].as_u64().unwrap_or(0);
    assert!(logged_in > 0, "{first}");
    app.clock.advance(600);
    let res = app
        .client
        .post("/auth/device/refresh")
        .header(Header::new("Permanent-Token", s(&login["permanent_token"])))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let access = s(&json_body(res).await["access"]);
    let (_, refreshed) = parts(&access);
    assert_eq!(refreshed["auth_time"], logged_in);
    assert!(refreshed["iat"].as_u64().unwrap_or(0) >= logged_in + 600);
    // Ten minutes after the login, a five-minute `fresh` route asks again.
    assert_eq!(
        app.get_with_token("/me/fresh", &access).await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}
