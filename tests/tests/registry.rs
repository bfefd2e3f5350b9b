//! The token registry (tree, force-expiry), the archiver, revocations shared between
//! instances, and the promise that no raw secret is ever stored — on SQLite and on
//! PostgreSQL.

use std::time::{Duration, Instant};

use jwt_guard::store::{DeviceId, Subject};
use jwt_guard::testing::DpopKey;
use jwt_guard::{Algorithm, Clock};
use jwt_guard_tests::{eventually, json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::{json, Value};

fn jwt() -> Value {
    json!({ "secret": TEST_SECRET })
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn jti(token: &str) -> String {
    s(&jwt_guard_tests::parts(token).1["jti"])
}

storage_tests!(
    token_tree_and_force_expiry_of_a_subtree,
    a_chain_of_twenty_thousand_rotations_is_served_and_crashes_nothing,
    archiver_removes_only_dead_rows,
    no_table_holds_a_raw_token,
    revocations_reach_other_instances_within_the_poll_bound,
    polling_alone_enforces_revocations_within_the_bound,
    a_revocation_from_an_instance_with_a_slow_clock_is_not_missed,
    a_new_instance_starts_with_the_revocations_in_force,
);

async fn refresh(app: &TestApp, token: &str) -> Value {
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": token }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    json_body(res).await
}

/// Every refresh adds a level to a device's tree; a long chain once overflowed the
/// stack (an abort of the whole server) when the tree was built or serialised.
async fn a_chain_of_twenty_thousand_rotations_is_served_and_crashes_nothing(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let device = s(&login["device_id"]);
    let access = s(&login["access"]);
    let root = jti(&s(&login["refresh"]));
    // 20,000 rotations, written straight into the registry as rotation writes
    // them: r_i replaced r_{i-1}, one level deeper under the login's root.
    let mut tx = app.pool().begin().await.unwrap_or_else(|e| panic!("{e}"));
    let now = jwt_guard_tests::now();
    let root_at: i64 = sqlx::query_scalar("SELECT root_at FROM jwt_guard_tokens WHERE jti = $1")
        .bind(&root)
        .fetch_one(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for batch in 0..40 {
        let mut sql = String::from(
            "INSERT INTO jwt_guard_tokens
             (jti, device_id, parent_jti, kind, subject, issued_at, expires_at, used_at,
              depth, root_jti, root_at) VALUES ",
        );
        let rows: Vec<String> = (0..500)
            .map(|k| {
                let i = batch * 500 + k;
                let parent = if i == 0 {
                    root.clone()
                } else {
                    format!("chain-{}", i - 1)
                };
                format!(
                    "('chain-{i}', '{device}', '{parent}', 'refresh', 'alice', {now}, {}, {now}, \
                     {}, '{root}', {root_at})",
                    now + 3600,
                    i + 1
                )
            })
            .collect();
        sql.push_str(&rows.join(", "));
        sqlx::query(&sql)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

    let res = app
        .get_with_token(
            &format!("/auth/devices/{device}/tokens?offset=19990&limit=500"),
            &access,
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = json_body(res).await;
    assert_eq!(page["total"], 20_002, "login pair + 20,000");
    let deepest = page["tokens"]
        .as_array()
        .and_then(|t| t.iter().find(|n| n["jti"] == "chain-19999").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(deepest["depth"], 20_000, "{deepest}");
    // A page is bounded whatever is asked for.
    let res = app
        .get_with_token(
            &format!("/auth/devices/{device}/tokens?limit=100000"),
            &access,
        )
        .await;
    let page = json_body(res).await;
    assert_eq!(page["tokens"].as_array().map(Vec::len), Some(500));
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    app.finish().await;
}

async fn token_tree_and_force_expiry_of_a_subtree(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let device = s(&login["device_id"]);
    let (a1, r1) = (s(&login["access"]), s(&login["refresh"]));
    app.clock.advance(1);
    let second = refresh(&app, &r1).await;
    let (a2, r2) = (s(&second["access"]), s(&second["refresh"]));
    app.clock.advance(1);
    let third = refresh(&app, &r2).await;
    let (a3, r3) = (s(&third["access"]), s(&third["refresh"]));

    let res = app
        .get_with_token(&format!("/auth/devices/{device}/tokens"), &a3)
        .await;
    assert_eq!(res.status(), Status::Ok);
    let tree = json_body(res).await;
    // device → r1 → {a1, r2 → {a2, r3 → {a3}}}, flat in pre-order.
    assert_eq!(tree["total"], 6, "{tree}");
    assert!(tree["next_offset"].is_null(), "{tree}");
    let nodes = tree["tokens"].as_array().cloned().unwrap_or_default();
    let root = &nodes[0];
    assert_eq!(root["jti"], jti(&r1).as_str());
    assert_eq!(
        (root["kind"].clone(), root["depth"].clone()),
        (json!("refresh"), json!(0))
    );
    assert!(root["parent"].is_null());
    assert!(root["used_at"].is_number(), "r1 was rotated");
    let parent_of = |token: &str| {
        nodes
            .iter()
            .find(|n| n["jti"] == jti(token).as_str())
            .map(|n| (s(&n["parent"]), n["depth"].as_u64().unwrap_or(99)))
            .unwrap_or_default()
    };
    assert_eq!(parent_of(&a1), (jti(&r1), 1));
    assert_eq!(parent_of(&r2), (jti(&r1), 1));
    assert_eq!(parent_of(&a2), (jti(&r2), 2));
    assert_eq!(parent_of(&r3), (jti(&r2), 2));
    assert_eq!(parent_of(&a3), (jti(&r3), 3));
    // Pre-order: each refresh token, the access token issued with it, then its
    // successor — also for a rotation within the same second.
    let fourth = refresh(&app, &r3).await;
    let (a4, r4) = (s(&fourth["access"]), s(&fourth["refresh"]));
    let expected: Vec<String> = [&r1, &a1, &r2, &a2, &r3, &a3, &r4, &a4]
        .iter()
        .map(|t| jti(t))
        .collect();
    // Pages of two, walked by the database, make up the whole tree in order.
    let mut walked = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let page = json_body(
            app.get_with_token(
                &format!("/auth/devices/{device}/tokens?offset={at}&limit=2"),
                &a3,
            )
            .await,
        )
        .await;
        assert_eq!(page["total"], 8, "{page}");
        let tokens = page["tokens"].as_array().cloned().unwrap_or_default();
        assert_eq!(tokens.len(), 2, "{page}");
        walked.extend(tokens.iter().map(|n| s(&n["jti"])));
        offset = page["next_offset"].as_u64();
    }
    assert_eq!(walked, expected);
    // Past the end: no tokens, the total still told.
    let past = json_body(
        app.get_with_token(&format!("/auth/devices/{device}/tokens?offset=50"), &a3)
            .await,
    )
    .await;
    assert_eq!(
        (past["total"].clone(), past["next_offset"].clone()),
        (json!(8), Value::Null)
    );
    assert_eq!(past["tokens"].as_array().map(Vec::len), Some(0));

    // Force-expire r2: r2, a2, r3, a3, r4, a4 die; a1 (outside the subtree) lives.
    let res = app
        .send_with_token(Method::Delete, &format!("/auth/tokens/{}", jti(&r2)), &a1)
        .await;
    assert_eq!(res.status(), Status::Ok);
    let revoked: Vec<String> = json_body(res).await["revoked"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    for t in [&r2, &a2, &r3, &a3, &r4, &a4] {
        assert!(
            revoked.contains(&jti(t)),
            "{} missing from {revoked:?}",
            jti(t)
        );
    }
    assert_eq!(revoked.len(), 6);
    assert_eq!(
        app.get_with_token("/me", &a3).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.get_with_token("/me", &a2).await.status(),
        Status::Unauthorized
    );
    assert_eq!(app.get_with_token("/me", &a1).await.status(), Status::Ok);
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": r3 }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);

    // Someone else's token is not found; neither is junk.
    let bob = s(&app.login("bob").await["access"]);
    let res = app
        .send_with_token(Method::Delete, &format!("/auth/tokens/{}", jti(&a1)), &bob)
        .await;
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(app.get_with_token("/me", &a1).await.status(), Status::Ok);
    app.finish().await;
}

async fn archiver_removes_only_dead_rows(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let gone = s(&app.login_as("alice", "old").await["access"]);
    app.send_with_token(Method::Post, "/auth/logout", &gone)
        .await;
    let kept = app.login_as("alice", "kept").await;

    // Nothing is old enough yet.
    let report = app.store().archive().await.unwrap_or_default();
    assert_eq!((report.devices, report.tokens), (0, 0), "{report:?}");

    // 31 days on: the revoked device and its tokens go, the revocation (whose tokens
    // have all expired) goes; the live device's row stays while it is used.
    app.clock.advance(6 * 24 * 3600);
    assert_eq!(
        app.device_refresh(&s(&kept["permanent_token"]))
            .await
            .status(),
        Status::Ok
    );
    app.clock.advance(25 * 24 * 3600);
    let report = app
        .store()
        .archive()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.devices, 1, "{report:?}");
    assert!(report.tokens >= 2, "{report:?}");
    assert!(report.revocations >= 1, "{report:?}");
    let devices: Vec<String> = sqlx::query_scalar("SELECT name FROM jwt_guard_devices")
        .fetch_all(app.pool())
        .await
        .unwrap_or_default();
    assert_eq!(devices, ["kept"]);
    app.finish().await;
}

/// Every row of every table in the app's database (jwt-guard's, the app's users,
/// the migrations' own), every column, as text — tables and columns read from the
/// database's own catalogue, so a column added later is searched too.
async fn dump(app: &TestApp) -> String {
    let postgres = app.database_url.starts_with("postgres");
    let tables: Vec<String> = if postgres {
        sqlx::query_scalar(
            "SELECT table_name::TEXT FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
    } else {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    .fetch_all(app.pool())
    .await
    .unwrap_or_else(|e| panic!("catalogue: {e}"));
    assert!(tables.len() >= 8, "{tables:?}");
    let mut out = String::new();
    for table in tables {
        let columns: Vec<(String, String)> = if postgres {
            sqlx::query_as(
                "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(&table)
        } else {
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1)").bind(&table)
        }
        .fetch_all(app.pool())
        .await
        .unwrap_or_else(|e| panic!("columns of {table}: {e}"));
        // Bytes as the bytes they are: PostgreSQL prints `bytea` cast to text as
        // hex, where a stored token would never match, so it is read with
        // `encode(…, 'escape')`; SQLite's cast of a BLOB to TEXT is the bytes.
        let concat = columns
            .iter()
            .map(|(c, ty)| match ty.as_str() {
                "bytea" => format!("COALESCE(encode(\"{c}\", 'escape'), '')"),
                _ => format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"),
            })
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {concat} FROM \"{table}\""))
            .fetch_all(app.pool())
            .await
            .unwrap_or_else(|e| panic!("dump {table}: {e}"));
        out.push_str(&rows.join("\n"));
        out.push('\n');
    }
    out
}

/// Every kind of secret the catalogue could hold is created — session pairs (one
/// rotated, one reused), a permanent token and its refresh, the known-device
/// credential (issued and presented), a DPoP-bound session with its proofs, a
/// one-time link and a magic-login link with the session it started — then no
/// table holds any of them, nor a JWT's signature.
async fn no_table_holds_a_raw_token(db: DbKind) {
    let config = json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed", "public_url": DPOP_URL },
    });
    let Some(app) = TestApp::on(db, config).await else {
        return;
    };
    let login = app.login("alice").await;
    let permanent = s(&login["permanent_token"]);
    let device_cookie = s(&login["device_cookie"]);
    assert!(device_cookie.starts_with("eyJ"), "{login}");
    let mut secrets = vec![
        permanent.clone(),
        permanent["jgp_".len()..].to_owned(),
        device_cookie.clone(),
        s(&login["access"]),
        s(&login["refresh"]),
        "alice-password".to_owned(),
    ];
    // The known-device credential, presented: a login that renews it, then a
    // failed login that spends the credential's own budget (a row keyed by it).
    let with_credential = Header::new("Device-Cookie", device_cookie.clone());
    let again = login_with(&app, "alice-password", with_credential.clone()).await;
    assert_eq!(again.status(), Status::Ok);
    let again = json_body(again).await;
    secrets.extend(["access", "refresh", "permanent_token", "device_cookie"].map(|k| s(&again[k])));
    let failed = login_with(&app, "wrong", with_credential).await;
    assert_eq!(failed.status(), Status::Unauthorized);

    // A link, minted and used (its row, its use log).
    let minted = json_body(
        app.send_with_token(
            rocket::http::Method::Post,
            "/links/unsubscribe",
            &s(&login["access"]),
        )
        .await,
    )
    .await;
    let link_url = s(&minted["url"]);
    let local = link_url[link_url.find("/newsletter").unwrap_or(0)..].to_owned();
    assert_eq!(app.client.get(local).dispatch().await.status(), Status::Ok);
    secrets.push(token_in(&link_url));

    // A magic-login link, delivered and used: it starts a session of its own.
    let magic = app
        .post_json("/links/magic-login", json!({ "username": "bob" }))
        .await;
    let magic = s(&json_body(magic).await["url"]);
    let local = magic[magic.find("/auth/").unwrap_or(0)..].to_owned();
    let res = app.client.post(local).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let magic_session = json_body(res).await;
    secrets.push(token_in(&magic));
    secrets.extend(["access", "refresh", "permanent_token"].map(|k| s(&magic_session[k])));

    // A DPoP-bound session: signed in, used and refreshed with proofs.
    let key = DpopKey::from_pem(Algorithm::ES256, &jwt_guard_tests::key_pem("ec256.pem"));
    let proof = key.proof("POST", &format!("{DPOP_URL}/auth/token")).sign();
    let res = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("DPoP", proof.clone()))
        .body(json!({ "username": "bob", "password": "bob-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let bound = json_body(res).await;
    assert_eq!(bound["token_type"], "DPoP", "{bound}");
    let bound_access = s(&bound["access"]);
    let use_proof = key
        .proof("GET", &format!("{DPOP_URL}/me"))
        .access_token(&bound_access)
        .sign();
    let res = app
        .client
        .get("/me")
        .header(Header::new("Authorization", format!("DPoP {bound_access}")))
        .header(Header::new("DPoP", use_proof.clone()))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let refresh_proof = key
        .proof("POST", &format!("{DPOP_URL}/auth/token/refresh"))
        .sign();
    let res = app
        .client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .header(Header::new("DPoP", refresh_proof.clone()))
        .body(json!({ "refresh": bound["refresh"] }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let rotated = json_body(res).await;
    secrets.extend(["access", "refresh", "permanent_token", "device_cookie"].map(|k| s(&bound[k])));
    secrets.extend([s(&rotated["access"]), s(&rotated["refresh"])]);
    secrets.extend([proof, use_proof, refresh_proof]);

    let second = refresh(&app, &s(&login["refresh"])).await;
    let device = json_body(app.device_refresh(&permanent).await).await;
    // Reuse, to get audit rows written too.
    app.post_json(
        "/auth/token/refresh",
        json!({ "refresh": login["refresh"] }),
    )
    .await;
    secrets.extend([
        s(&second["access"]),
        s(&second["refresh"]),
        s(&device["access"]),
    ]);

    let dumped = dump(&app).await;
    // Positive controls: the dump reads the rows these requests wrote.
    for stored in [
        jti(&s(&rotated["refresh"])),
        jti(&s(&magic_session["refresh"])),
    ] {
        assert!(
            dumped.contains(&stored),
            "the dump misses the registry: {stored}"
        );
    }
    let empty = secrets.iter().filter(|s| s.is_empty()).count();
    assert_eq!(empty, 0, "every secret named was issued: {secrets:?}");
    // Signatures are the unforgeable part of a JWT: none may appear either.
    for token in secrets.clone() {
        if let Some(sig) = token.rsplit('.').next().filter(|_| token.contains('.')) {
            secrets.push(sig.to_owned());
        }
    }
    for secret in &secrets {
        assert!(
            !dumped.contains(secret.as_str()),
            "a raw secret is stored: {secret:.24}…"
        );
    }
    // What is stored instead: the digest of the permanent token.
    let digest = jwt_guard::secret::TokenDigest::of(permanent.as_bytes());
    assert!(
        !dumped.contains(digest.as_str()),
        "the digest is cleared on revocation"
    );
    app.finish().await;
}

/// `POST /auth/token` as alice with `password`, sending `header`.
async fn login_with<'a>(
    app: &'a TestApp,
    password: &str,
    header: Header<'static>,
) -> rocket::local::asynchronous::LocalResponse<'a> {
    app.client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(header)
        .body(json!({ "username": "alice", "password": password }).to_string())
        .dispatch()
        .await
}

/// Proofs name the app by its configured address.
const DPOP_URL: &str = "https://api.test";

/// The `token` parameter of a link's URL.
fn token_in(url: &str) -> String {
    url.split("token=").nth(1).unwrap_or_default().to_owned()
}

async fn revocations_reach_other_instances_within_the_poll_bound(db: DbKind) {
    revoked_on_one_instance_is_refused_by_another(db, json!({})).await;
}

/// A logout on instance A; instance B (its settings plus `b_extra`) refuses the
/// token within three polls of 1 s.
async fn revoked_on_one_instance_is_refused_by_another(db: DbKind, b_extra: Value) {
    let Some(a) = TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "revocation_poll": "1s" }),
    )
    .await
    else {
        return;
    };
    let mut b_jwt = json!({ "secret": TEST_SECRET, "revocation_poll": "1s" });
    if let (Some(map), Value::Object(extra)) = (b_jwt.as_object_mut(), b_extra) {
        map.extend(extra);
    }
    let b = TestApp::start_on(&a.database_url, b_jwt, Clock::offset()).await;
    let access = s(&a.login("alice").await["access"]);
    assert_eq!(b.get_with_token("/me", &access).await.status(), Status::Ok);

    let out = a
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    assert_eq!(out.status(), Status::NoContent);
    let revoked_at = Instant::now();
    assert_eq!(
        a.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );

    let bound = Duration::from_secs(1) * 3 + Duration::from_millis(500);
    loop {
        if b.get_with_token("/me", &access).await.status() == Status::Unauthorized {
            break;
        }
        assert!(
            revoked_at.elapsed() < bound,
            "instance B still accepts a token revoked on A after {:?}",
            revoked_at.elapsed()
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "revocation staleness across instances ({db:?}, poll 1s): {:?}",
        revoked_at.elapsed()
    );
    b.finish().await;
    a.finish().await;
}

/// Polling once compared one instance's clock with another's, so a revocation
/// written by an instance whose clock ran a minute behind was never read. Rows are
/// now stamped with a sequence number at commit and polled by it.
async fn a_revocation_from_an_instance_with_a_slow_clock_is_not_missed(db: DbKind) {
    let config = json!({ "secret": TEST_SECRET, "revocation_poll": "1s" });
    let Some(a) = TestApp::on(db, config.clone()).await else {
        return;
    };
    let slow = Clock::offset();
    slow.advance(-60);
    let b = TestApp::start_on(&a.database_url, config, slow).await;
    let login = a.login("alice").await;
    let access = s(&login["access"]);
    assert_eq!(a.get_with_token("/me", &access).await.status(), Status::Ok);
    // B, a minute behind, logs the device out: its row says "60 s ago". (Through
    // B's store: B's own guard would call A's fresh token not yet valid.)
    let revoked = b
        .store()
        .revoke_device_of(Subject("alice"), DeviceId(&s(&login["device_id"])), "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(revoked);
    let revoked_at = Instant::now();
    let stamped: i64 = sqlx::query_scalar("SELECT MAX(created_at) FROM jwt_guard_revocations")
        .fetch_one(a.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stamped as u64 + 50 < a.clock.now(),
        "the row carries the slow clock's time"
    );
    let bound = Duration::from_secs(3);
    while a.get_with_token("/me", &access).await.status() != Status::Unauthorized {
        assert!(
            revoked_at.elapsed() < bound,
            "instance A still accepts the token {:?} after B revoked it",
            revoked_at.elapsed()
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.finish().await;
}

async fn a_new_instance_starts_with_the_revocations_in_force(db: DbKind) {
    let Some(a) = TestApp::on(db, jwt()).await else {
        return;
    };
    let first = s(&a.login_as("alice", "one").await["access"]);
    let second = s(&a.login_as("alice", "two").await["access"]);
    a.send_with_token(Method::Post, "/auth/logout", &first)
        .await;
    let c = TestApp::start_on(&a.database_url, jwt(), Clock::offset()).await;
    assert_eq!(
        c.get_with_token("/me", &first).await.status(),
        Status::Unauthorized
    );
    assert_eq!(c.get_with_token("/me", &second).await.status(), Status::Ok);
    a.finish().await;
}

/// On PostgreSQL a revocation is announced (`NOTIFY`) and reaches another instance
/// long before its next poll.
#[rocket::async_test]
async fn postgres_announces_revocations_before_the_poll() {
    let slow_poll = json!({ "secret": TEST_SECRET, "revocation_poll": "60s" });
    let Some(a) = TestApp::on(DbKind::Postgres, slow_poll.clone()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, slow_poll, Clock::offset()).await;
    let access = s(&a.login("alice").await["access"]);
    assert_eq!(b.get_with_token("/me", &access).await.status(), Status::Ok);
    // Ready when the server says so: both instances' listeners have run `LISTEN`
    // (a readiness signal, not a guessed pause).
    let database = a
        .database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    eventually("both listeners are up", Duration::from_secs(10), || async {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = $1 AND query ILIKE 'LISTEN%'",
        )
        .bind(database.clone())
        .fetch_one(a.pool())
        .await
        .unwrap_or(0);
        listening >= 2
    })
    .await;
    a.send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    let revoked_at = Instant::now();
    loop {
        if b.get_with_token("/me", &access).await.status() == Status::Unauthorized {
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "no announcement reached instance B within 5 s (its poll is 60 s)"
        );
        rocket::tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "revocation staleness with LISTEN/NOTIFY: {:?}",
        revoked_at.elapsed()
    );
    a.finish().await;
}

/// Without `LISTEN` (a pooler that cannot hold one, or a lost notification), the
/// poll alone makes another instance refuse a revoked token within the bound.
async fn polling_alone_enforces_revocations_within_the_bound(db: DbKind) {
    revoked_on_one_instance_is_refused_by_another(db, json!({ "revocation_listen": false })).await;
}
