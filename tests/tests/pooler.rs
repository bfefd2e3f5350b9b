//! Behind a real transaction-mode PgBouncer (`pooler = "transaction"`): an
//! instance through the pooler and one direct on one database launch, log in,
//! refresh, device-refresh and log out on either, keep the one-winner promise
//! when many clients share two server connections, and refuse the other's
//! revocations within the poll bound (or at once with a direct `listen_url`).

use std::time::{Duration, Instant};

use jwt_guard::Clock;
use jwt_guard_tests::pgbouncer;
use jwt_guard_tests::{base_figment, json_body, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Method, Status};
use serde_json::{json, Value};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Login, refresh, device refresh and logout on `app`, each answered as promised.
async fn every_stateful_route_works(app: &TestApp, who: &str) {
    let login = app.login(who).await;
    let access = s(&login["access"]);
    assert!(!access.is_empty(), "{who}: login answered {login}");
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );

    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": s(&login["refresh"]) }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok, "{who}: refresh");
    let rotated = json_body(res).await;
    assert!(rotated["refresh"].is_string(), "{who}: {rotated}");

    let res = app.device_refresh(&s(&login["permanent_token"])).await;
    assert_eq!(res.status(), Status::Ok, "{who}: device refresh");
    assert!(json_body(res).await["permanent_token"].is_string());

    let res = app
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    assert_eq!(res.status(), Status::NoContent, "{who}: logout");
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized,
        "{who}: a logged-out token is refused on its own instance at once"
    );
}

/// Waits until `app` refuses `access`; fails after `bound`. Returns the wait.
async fn refused_within(app: &TestApp, access: &str, bound: Duration, what: &str) -> Duration {
    let start = Instant::now();
    while app.get_with_token("/me", access).await.status() != Status::Unauthorized {
        assert!(
            start.elapsed() < bound,
            "{what}: still accepted after {bound:?}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[rocket::async_test]
async fn instances_behind_a_transaction_mode_pgbouncer_work_beside_direct_ones() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    // The server the test database setting names, not a fixed address.
    let server = pg.server();
    let (host, port) = server
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
        .unwrap_or_else(|| panic!("no host:port in {server}"));
    let Some(bouncer) = pgbouncer::start((&host, port), 2) else {
        pg.drop_database().await;
        return;
    };
    let poll = json!({ "secret": TEST_SECRET, "revocation_poll": "1s" });
    let pooled_url = bouncer.url_for(&pg.url);
    // The pooled instance launches first, on the fresh database: jwt-guard's
    // migrations run through PgBouncer.
    let pooled = TestApp::start_with(
        base_figment(&pooled_url).merge(("databases.jwt_guard.pooler", "transaction")),
        poll.clone(),
        Clock::offset(),
    )
    .await;
    let migrated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_migrations")
        .fetch_one(pooled.pool())
        .await
        .unwrap_or(-1);
    assert!(
        migrated >= 8,
        "migrations ran through the pooler: {migrated}"
    );
    let direct = TestApp::start_on(&pg.url, poll.clone(), Clock::offset()).await;
    // A second pooled instance that hears revocations at once over a direct
    // `LISTEN` connection, though it polls only once a minute.
    let listening = TestApp::start_with(
        base_figment(&pooled_url)
            .merge(("databases.jwt_guard.pooler", "transaction"))
            .merge(("databases.jwt_guard.listen_url", pg.url.as_str())),
        json!({ "secret": TEST_SECRET, "revocation_poll": "60s" }),
        Clock::offset(),
    )
    .await;

    // Through the pooler without `pooler = "transaction"`: the pool sees the
    // pooler's shared server sessions, and launch stops (a direct pool does not).
    let settings = |url: &str| {
        jwt_guard::store::PoolSettings::from_figment(
            &base_figment(url).focus("databases.jwt_guard"),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let undeclared = jwt_guard::store::JwtPool::connect(&settings(&pooled_url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        undeclared.behind_transaction_pooler().await,
        "the probe sees PgBouncer"
    );
    let plain = jwt_guard::store::JwtPool::connect(&settings(&pg.url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !plain.behind_transaction_pooler().await,
        "a direct pool is no pooler"
    );
    let refused = rocket::local::asynchronous::Client::untracked(jwt_guard_tests::app::app(
        base_figment(&pooled_url).merge(("jwt", poll.clone())),
        Clock::offset(),
    ))
    .await;
    let refused = refused.map(|_| ()).map_err(|e| format!("{:?}", e.kind()));
    assert!(
        matches!(&refused, Err(kind) if kind.contains("jwt-guard")),
        "an undeclared pooler stops launch: {refused:?}"
    );

    every_stateful_route_works(&pooled, "alice").await;
    every_stateful_route_works(&direct, "bob").await;

    // A kept (named) prepared statement cannot work behind such a pooler: asking
    // for one is an error at once, not a failure later on another connection.
    let prepared = sqlx::Executor::prepare(pooled.pool(), "SELECT 1").await;
    assert!(
        matches!(&prepared, Err(sqlx::Error::Configuration(why)) if why.to_string().contains("pooler")),
        "{:?}",
        prepared.map(|_| ())
    );
    assert!(sqlx::Executor::prepare(direct.pool(), "SELECT 1")
        .await
        .is_ok());

    // Twenty clients refresh one token at once through two server connections:
    // exactly one wins, the rest are refused (no statement of one client runs
    // with another's arguments, none fails as a server error).
    let refresh = s(&pooled.login("admin").await["refresh"]);
    let requests = (0..20).map(|_| {
        pooled
            .client
            .post("/auth/token/refresh")
            .header(ContentType::JSON)
            .body(json!({ "refresh": refresh }).to_string())
            .dispatch()
    });
    let statuses: Vec<u16> = rocket::futures::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.status().code)
        .collect();
    assert_eq!(
        statuses.iter().filter(|c| **c == 200).count(),
        1,
        "exactly one rotation wins behind the pooler: {statuses:?}; PgBouncer log:\n{}",
        bouncer.log()
    );
    assert!(
        statuses.iter().all(|c| *c == 200 || *c == 401),
        "{statuses:?}"
    );

    // A logout on the direct instance reaches the pooled one by its poll (1 s)
    // and the listening one by its announcement (its poll is a minute).
    let access = s(&direct.login("alice").await["access"]);
    assert_eq!(
        pooled.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    assert_eq!(
        listening.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let status = direct
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await
        .status();
    assert_eq!(
        status,
        Status::NoContent,
        "the logout on the direct instance"
    );
    let polled = refused_within(&pooled, &access, Duration::from_millis(3500), "pooled").await;
    let heard = refused_within(&listening, &access, Duration::from_secs(5), "listen_url").await;
    println!("behind PgBouncer: refused after {polled:?} (poll 1 s), {heard:?} (LISTEN)");

    // And the other way: a logout through the pooler reaches the direct instance.
    let access = s(&pooled.login("bob").await["access"]);
    assert_eq!(
        direct.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let status = pooled
        .send_with_token(Method::Post, "/auth/logout", &access)
        .await
        .status();
    assert_eq!(status, Status::NoContent, "the logout through the pooler");
    refused_within(&direct, &access, Duration::from_millis(3500), "direct").await;

    drop(listening);
    drop(pooled);
    drop(direct);
    drop(bouncer);
    pg.drop_database().await;
}
