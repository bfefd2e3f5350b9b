//! Password guessing is throttled per account (in the database, so instances share
//! it) and per client address, password checks are bounded, and messages to an
//! account are limited — on SQLite and on PostgreSQL.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use jwt_guard_tests::app::PasswordChecks;
use jwt_guard_tests::{json_body, storage_tests, DbKind, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

fn jwt() -> Value {
    json!({ "secret": TEST_SECRET })
}

fn checks(app: &TestApp) -> &PasswordChecks {
    app.client
        .rocket()
        .state::<PasswordChecks>()
        .unwrap_or_else(|| panic!("PasswordChecks is not managed"))
}

async fn login<'a>(app: &'a TestApp, user: &str, password: &str) -> LocalResponse<'a> {
    app.post_json(
        "/auth/token",
        json!({ "username": user, "password": password }),
    )
    .await
}

fn retry_after(res: &LocalResponse<'_>) -> u64 {
    res.headers()
        .get_one("Retry-After")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

storage_tests!(
    one_accounts_credential_never_spends_anothers_budget,
    one_accounts_success_never_clears_anothers_lock_out,
    one_accounts_failures_never_lock_out_another,
    names_are_told_apart_as_the_store_tells_them_apart,
    guessing_locks_the_account_with_growing_back_off,
    unknown_usernames_are_throttled_the_same_way,
    concurrent_guessing_checks_at_most_the_budget,
    messages_to_an_account_are_limited,
    guessing_never_locks_out_a_known_device,
);

/// Three checks per account and window: small enough to lock quickly.
fn three_attempts() -> Value {
    json!({ "secret": TEST_SECRET, "login_throttle": { "account_attempts": 3 } })
}

/// Adds `name` to the test app's user table (case-sensitive, as the app's
/// `WHERE username = $1` is): its password is `<name>-password`.
async fn add_user(app: &TestApp, name: &str) {
    sqlx::query("INSERT INTO app_users (username, roles, scope) VALUES ($1, 'user', '')")
        .bind(name)
        .execute(app.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The attack of a second account named like the victim (`ALICE` beside `alice`
/// in a store that tells them apart), first step: `ALICE`'s own known-device
/// credential is no credential for `alice`, so guesses at `alice` sent with it
/// spend `alice`'s budget and meet `alice`'s lock-out.
async fn one_accounts_credential_never_spends_anothers_budget(db: DbKind) {
    let Some(app) = TestApp::on(db, three_attempts()).await else {
        return;
    };
    add_user(&app, "ALICE").await;
    let body = json_body(login(&app, "ALICE", "ALICE-password").await).await;
    let attacker = body["device_cookie"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(attacker.starts_with("eyJ"), "{body}");
    // Positive control: the credential is a working one, for its own account.
    assert_eq!(
        login_from(&app, &attacker, "ALICE", "ALICE-password")
            .await
            .status(),
        Status::Ok
    );
    let statuses = [
        login_from(&app, &attacker, "alice", "guess")
            .await
            .status()
            .code,
        login_from(&app, &attacker, "alice", "guess")
            .await
            .status()
            .code,
        login_from(&app, &attacker, "alice", "guess")
            .await
            .status()
            .code,
        login_from(&app, &attacker, "alice", "guess")
            .await
            .status()
            .code,
    ];
    assert_eq!(statuses, [401, 401, 401, 429]);
    // alice is locked for strangers: the attacker's credential changed nothing.
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::TooManyRequests
    );
    app.finish().await;
}

/// Second step: a success on `ALICE` clears `ALICE`'s counter, never `alice`'s.
async fn one_accounts_success_never_clears_anothers_lock_out(db: DbKind) {
    let Some(app) = TestApp::on(db, three_attempts()).await else {
        return;
    };
    add_user(&app, "ALICE").await;
    assert_eq!(
        login(&app, "alice", "guess").await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        login(&app, "alice", "guess").await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        login(&app, "ALICE", "ALICE-password").await.status(),
        Status::Ok
    );
    // The third guess at alice still counts as the third.
    assert_eq!(
        login(&app, "alice", "guess").await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::TooManyRequests
    );
    app.finish().await;
}

/// Third step: failures on `ALICE` lock `ALICE` out, never `alice`.
async fn one_accounts_failures_never_lock_out_another(db: DbKind) {
    let Some(app) = TestApp::on(db, three_attempts()).await else {
        return;
    };
    add_user(&app, "ALICE").await;
    for _ in 0..3 {
        assert_eq!(
            login(&app, "ALICE", "guess").await.status(),
            Status::Unauthorized
        );
    }
    // Positive control: ALICE is locked out.
    assert_eq!(
        login(&app, "ALICE", "ALICE-password").await.status(),
        Status::TooManyRequests
    );
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::Ok
    );
    app.finish().await;
}

/// Names a Unicode-aware fold would join (the Kelvin sign `\u{212A}` lower-cases to
/// `k`) are two accounts when the store keeps them apart: each its own budget.
async fn names_are_told_apart_as_the_store_tells_them_apart(db: DbKind) {
    let Some(app) = TestApp::on(db, three_attempts()).await else {
        return;
    };
    let kelvin = "\u{212A}im";
    add_user(&app, kelvin).await;
    add_user(&app, "kim").await;
    for _ in 0..3 {
        login(&app, kelvin, "guess").await;
    }
    assert_eq!(
        login(&app, kelvin, &format!("{kelvin}-password"))
            .await
            .status(),
        Status::TooManyRequests
    );
    assert_eq!(
        login(&app, "kim", "kim-password").await.status(),
        Status::Ok
    );
    app.finish().await;
}

async fn login_from<'a>(
    app: &'a TestApp,
    device_cookie: &str,
    user: &str,
    password: &str,
) -> LocalResponse<'a> {
    app.client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("Device-Cookie", device_cookie.to_owned()))
        .body(json!({ "username": user, "password": password }).to_string())
        .dispatch()
        .await
}

/// OWASP's device-cookie scheme: the owner's device keeps its own budget while
/// strangers lock the account; guessing with a stolen credential spends only that
/// credential's budget; a credential counts only for the account it was issued to.
async fn guessing_never_locks_out_a_known_device(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let body = json_body(login(&app, "alice", "alice-password").await).await;
    let known = body["device_cookie"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(known.starts_with("eyJ"), "{body}");

    // Anyone, anywhere: five guesses lock alice out for unknown clients.
    for _ in 0..5 {
        assert_eq!(
            login(&app, "alice", "guess").await.status(),
            Status::Unauthorized
        );
    }
    let res = login(&app, "alice", "alice-password").await;
    assert_eq!(res.status(), Status::TooManyRequests);
    // Her own device is not locked out; it is handed a fresh credential.
    let res = login_from(&app, &known, "alice", "alice-password").await;
    assert_eq!(res.status(), Status::Ok);
    let renewed = json_body(res).await["device_cookie"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(renewed.starts_with("eyJ") && renewed != known);
    // ...and strangers are still locked out.
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::TooManyRequests
    );

    // alice's credential is nobody else's: for bob it is an unknown client, and a
    // tampered one too.
    for _ in 0..5 {
        assert_eq!(
            login(&app, "bob", "guess").await.status(),
            Status::Unauthorized
        );
    }
    assert_eq!(
        login_from(&app, &renewed, "bob", "bob-password")
            .await
            .status(),
        Status::TooManyRequests
    );
    let tampered = format!("{}x", &renewed[..renewed.len() - 1]);
    assert_eq!(
        login_from(&app, &tampered, "alice", "alice-password")
            .await
            .status(),
        Status::TooManyRequests
    );
    // An access token is not a device credential.
    let access = body["access"].as_str().unwrap_or_default();
    assert_eq!(
        login_from(&app, access, "alice", "alice-password")
            .await
            .status(),
        Status::TooManyRequests
    );

    // Guessing with a (stolen) credential spends its own budget only: five misses
    // lock that credential, not the one alice's other device holds.
    let other = json_body(login_from(&app, &renewed, "alice", "alice-password").await).await
        ["device_cookie"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, &renewed, "alice", "guess").await.status(),
            Status::Unauthorized
        );
    }
    assert_eq!(
        login_from(&app, &renewed, "alice", "alice-password")
            .await
            .status(),
        Status::TooManyRequests
    );
    assert_eq!(
        login_from(&app, &other, "alice", "alice-password")
            .await
            .status(),
        Status::Ok
    );
    let log = app.store().audit_log(None, 100).await.unwrap_or_default();
    let known_failures = log
        .iter()
        .filter(|e| e.event == "login_failed")
        .filter(|e| {
            e.detail
                .as_deref()
                .unwrap_or_default()
                .contains("\"known_device\":true")
        })
        .count();
    assert_eq!(known_failures, 5, "{log:?}");
    app.finish().await;
}

async fn guessing_locks_the_account_with_growing_back_off(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(
            login(&app, "alice", "guess").await.status(),
            Status::Unauthorized
        );
    }
    let before = checks(&app).total.load(Ordering::SeqCst);
    // Locked: even the right password gets 429, and it is not even checked.
    let res = login(&app, "alice", "alice-password").await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait = retry_after(&res);
    assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");
    assert_eq!(json_body(res).await["error"], "too_many_requests");
    assert_eq!(checks(&app).total.load(Ordering::SeqCst), before);

    // The first lock-out lasts the window (15 min); the right password then works
    // and resets the account.
    app.clock.advance(15 * 60 + 1);
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::Ok
    );
    for _ in 0..4 {
        assert_eq!(
            login(&app, "alice", "guess").await.status(),
            Status::Unauthorized
        );
    }
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::Ok,
        "a success reset the counter"
    );

    // Guessing again: 15 min, then 30 min of lock-out.
    for lockout in [15 * 60, 30 * 60] {
        for _ in 0..5 {
            assert_eq!(
                login(&app, "alice", "guess").await.status(),
                Status::Unauthorized
            );
        }
        app.clock.advance(lockout - 60);
        assert_eq!(
            login(&app, "alice", "alice-password").await.status(),
            Status::TooManyRequests,
            "still locked a minute before {lockout}s"
        );
        app.clock.advance(61);
    }
    assert_eq!(
        login(&app, "alice", "alice-password").await.status(),
        Status::Ok
    );
    let log = app.store().audit_log(None, 100).await.unwrap_or_default();
    for event in ["login_failed", "login_throttled", "login_succeeded"] {
        assert!(log.iter().any(|e| e.event == event), "{event}: {log:?}");
    }
    // Details are JSON fields; what was typed as a username is kept only as a
    // digest (it may be a password typed into the wrong field, or forged text).
    for entry in log.iter().filter(|e| e.event == "login_failed") {
        let detail = entry.detail.as_deref().unwrap_or_default();
        let fields: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
        assert_eq!(
            fields["username_sha256"].as_str().map(str::len),
            Some(64),
            "{detail}"
        );
        assert!(!detail.contains("alice"), "{detail}");
    }
    app.finish().await;
}

async fn unknown_usernames_are_throttled_the_same_way(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let mut answers = Vec::new();
    for user in ["bob", "nobody-such"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let res = login(&app, user, "guess").await;
            statuses.push(res.status().code);
            answers.push(json_body(res).await["error"].clone());
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "{user}");
    }
    // Word for word the same answers: nothing tells the accounts apart.
    assert_eq!(answers[..6], answers[6..]);
    // The test app's store compares names exactly: ` BOB ` is another account
    // (unknown), with a budget of its own.
    assert_eq!(
        login(&app, " BOB ", "guess").await.status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn concurrent_guessing_checks_at_most_the_budget(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let requests = (0..30).map(|_| login(&app, "bob", "guess"));
    let responses = rocket::futures::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().code).collect();
    assert_eq!(
        statuses.iter().filter(|c| **c == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 429).count(),
        25,
        "{statuses:?}"
    );
    assert_eq!(checks(&app).total.load(Ordering::SeqCst), 5);
    app.finish().await;
}

async fn messages_to_an_account_are_limited(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    for user in ["alice", "nobody-such"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let res = app
                .post_json("/links/magic-login", json!({ "username": user }))
                .await;
            statuses.push(res.status().code);
        }
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "{user}");
    }
    let minted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_links")
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
    assert_eq!(minted, 10);
    app.finish().await;
}

#[rocket::async_test]
async fn two_instances_on_one_database_share_the_account_budget() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let a = TestApp::start_on(&pg.url, jwt(), jwt_guard::Clock::offset()).await;
    let b = TestApp::start_on(&pg.url, jwt(), jwt_guard::Clock::offset()).await;
    for app in [&a, &a, &a, &b, &b] {
        assert_eq!(
            login(app, "alice", "guess").await.status(),
            Status::Unauthorized
        );
    }
    // Spread over both instances, the five guesses were the account's budget.
    assert_eq!(
        login(&a, "alice", "guess").await.status(),
        Status::TooManyRequests
    );
    assert_eq!(
        login(&b, "alice", "alice-password").await.status(),
        Status::TooManyRequests
    );
    pg.drop_database().await;
}

#[rocket::async_test]
async fn a_client_address_has_its_own_budget() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "ip_attempts": 10 },
    }))
    .await;
    let from = |addr: &str, user: String| {
        let remote: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("{e}"));
        app.client
            .post("/auth/token")
            .remote(remote)
            .header(ContentType::JSON)
            .body(json!({ "username": user, "password": "guess" }).to_string())
            .dispatch()
    };
    // Ten different accounts from one address: its budget.
    for n in 0..10 {
        let res = from("127.0.0.2:4000", format!("user{n}")).await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let res = from("127.0.0.2:4000", "user10".into()).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(retry_after(&res) >= 1);
    // Another address is not affected.
    let res = from("127.0.0.3:4000", "user11".into()).await;
    assert_eq!(res.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn a_claimed_address_counts_only_from_a_trusted_proxy() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "ip_attempts": 5 },
        "trusted_proxies": ["10.0.0.0/8"],
    }))
    .await;
    let claiming = |peer: &str, claimed: String| {
        let remote: SocketAddr = peer.parse().unwrap_or_else(|e| panic!("{e}"));
        let username = format!("{peer}-{claimed}");
        app.client
            .post("/auth/token")
            .remote(remote)
            .header(ContentType::JSON)
            .header(Header::new("X-Real-IP", claimed))
            // Every guess for another account: only the address budget is at play.
            .body(json!({ "username": username, "password": "guess" }).to_string())
            .dispatch()
    };
    // A client that claims a new address with every guess is still one client.
    let mut statuses = Vec::new();
    for n in 0..8 {
        statuses.push(
            claiming("198.51.100.20:4000", format!("203.0.113.{n}"))
                .await
                .status(),
        );
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == Status::Unauthorized)
            .count(),
        5
    );
    assert_eq!(
        statuses.last(),
        Some(&Status::TooManyRequests),
        "{statuses:?}"
    );
    // Through the trusted proxy, each forwarded client has its own budget.
    for n in 0..8 {
        let res = claiming("10.1.2.3:4000", format!("192.0.2.{n}")).await;
        assert_eq!(res.status(), Status::Unauthorized, "client {n}");
    }
    // IPv6 clients are budgeted per /64: another address of the same prefix is
    // the same client.
    for n in 0..5 {
        let peer = format!("[2001:db8:7:7::{n}]:4000");
        let res = claiming(&peer, format!("198.51.100.{n}")).await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let res = claiming("[2001:db8:7:7:ffff::1]:4000", "198.51.100.99".into()).await;
    assert_eq!(res.status(), Status::TooManyRequests);
}

#[rocket::async_test]
async fn password_checks_queue_and_a_flood_gets_503() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "max_concurrent_checks": 2, "check_queue_timeout": "450ms" },
    }))
    .await;
    // Eight slow (300 ms) checks at once, each for its own account.
    let app = &app;
    let requests = (0..8).map(|n| {
        let user = format!("sloth{n}");
        async move { login(app, &user, "guess").await.status().code }
    });
    let statuses = rocket::futures::future::join_all(requests).await;
    let peak = checks(app).peak.load(Ordering::SeqCst);
    assert!(peak <= 2, "{peak} checks ran at once");
    // Two run, two more wait their turn (done by 600 ms < 450 ms + 300 ms)…
    assert!(
        statuses.iter().filter(|c| **c == 401).count() >= 2,
        "{statuses:?}"
    );
    // …and the rest are told to come back, not left hanging.
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|c| *c == 401 || *c == 503),
        "{statuses:?}"
    );
}

#[rocket::async_test]
async fn a_device_refreshing_in_a_loop_is_throttled() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "refreshes_per_device_per_minute": 3 },
    }))
    .await;
    let refresh = |token: String| app.post_json("/auth/token/refresh", json!({ "refresh": token }));
    let mut token = app.login("alice").await["refresh"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for n in 0..3 {
        let res = refresh(token.clone()).await;
        assert_eq!(res.status(), Status::Ok, "refresh {n}");
        let body = jwt_guard_tests::json_body(res).await;
        token = body["refresh"].as_str().unwrap_or_default().to_owned();
    }
    let res = refresh(token.clone()).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(retry_after(&res) >= 1);
    // The refused refresh spent nothing: the token was not rotated (so it works
    // once the minute is over, and no reuse is detected).
    let jti = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&token)
        .map(|claims| claims["jti"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let used: Option<i64> =
        sqlx::query_scalar("SELECT used_at FROM jwt_guard_tokens WHERE jti = $1")
            .bind(&jti)
            .fetch_one(app.pool())
            .await
            .unwrap_or(Some(-1));
    assert_eq!(used, None, "the refused refresh rotated the token");
    let other = app.login("alice").await["refresh"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        refresh(other).await.status(),
        Status::Ok,
        "another device is not affected"
    );
}

/// A free port on the dual-stack wildcard address.
fn free_dual_stack_port() -> u16 {
    std::net::TcpListener::bind("[::]:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The test app served for real on `[::]` (both IPv4 and IPv6: an IPv4 client
/// arrives as `::ffff:a.b.c.d`), reached from the loopback address `from`.
struct DualStack {
    port: u16,
}

impl DualStack {
    async fn start(jwt: Value) -> DualStack {
        let port = free_dual_stack_port();
        let figment = jwt_guard_tests::base_figment(&jwt_guard_tests::temp_sqlite_url())
            .merge(("address", "::"))
            .merge(("port", port))
            .merge(("ip_header", "X-Forwarded-For"))
            .merge(("shutdown.ctrlc", false))
            .merge(("jwt", jwt));
        let rocket = jwt_guard_tests::app::app(figment, jwt_guard::Clock::system());
        rocket::tokio::spawn(rocket.launch());
        let server = DualStack { port };
        for _ in 0..200 {
            if server
                .client([127, 0, 0, 1])
                .get(server.url("/visits"))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the dual-stack app did not start on port {port}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn client(&self, from: [u8; 4]) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(from))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A login as `user` from the IPv4 address `from`, with an
    /// `X-Forwarded-For` of `forwarded` if given.
    async fn login(
        &self,
        from: [u8; 4],
        user: &str,
        password: &str,
        forwarded: Option<&str>,
    ) -> u16 {
        let mut req = self
            .client(from)
            .post(self.url("/auth/token"))
            .header("Content-Type", "application/json")
            .body(json!({ "username": user, "password": password }).to_string());
        if let Some(forwarded) = forwarded {
            req = req.header("X-Forwarded-For", forwarded);
        }
        req.send()
            .await
            .map(|res| res.status().as_u16())
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// On a dual-stack listener every IPv4 client has its own address budget (each
/// was `::ffff:…`, once all one IPv6 `/64`), and an IPv4 proxy CIDR matches its
/// mapped peer, whose right-most forwarded address is the client.
#[rocket::async_test]
async fn ipv4_clients_of_a_dual_stack_listener_are_told_apart() {
    let server = DualStack::start(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "ip_attempts": 4 },
        "trusted_proxies": ["127.0.0.10/32"],
    }))
    .await;
    // 127.0.0.2 spends its budget (four logins, each for another account).
    let mut statuses = Vec::new();
    for n in 0..5 {
        statuses.push(
            server
                .login([127, 0, 0, 2], &format!("nobody{n}"), "guess", None)
                .await,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    // 127.0.0.3 is another client: its correct login passes.
    assert_eq!(
        server
            .login([127, 0, 0, 3], "alice", "alice-password", None)
            .await,
        200
    );
    // 127.0.0.2 cannot claim another address: it is no trusted proxy.
    assert_eq!(
        server
            .login([127, 0, 0, 2], "bob", "bob-password", Some("192.0.2.9"))
            .await,
        429
    );
    // The trusted IPv4 proxy is matched though it arrives mapped: clients behind
    // it are told apart by the right-most address it appended, whatever a client
    // wrote to the left of it.
    for n in 0..5 {
        let forwarded = format!("127.0.0.2, 198.51.100.{n}");
        let status = server
            .login(
                [127, 0, 0, 10],
                &format!("nobody{n}"),
                "guess",
                Some(&forwarded),
            )
            .await;
        assert_eq!(status, 401, "client {n} behind the proxy");
    }
    for _ in 0..4 {
        server
            .login(
                [127, 0, 0, 10],
                "nobody",
                "guess",
                Some("1.2.3.4, 203.0.113.5"),
            )
            .await;
    }
    let status = server
        .login(
            [127, 0, 0, 10],
            "nobody",
            "guess",
            Some("5.6.7.8, 203.0.113.5"),
        )
        .await;
    assert_eq!(
        status, 429,
        "one client behind the proxy, whatever it forged on the left"
    );
}
