//! What each stateful route costs the database, counted — not timed, so it is the
//! same on a loaded machine: SQL statements per request on SQLite (sqlx's
//! statement log, with the `BEGIN`/`COMMIT` jwt-guard logs beside it), round trips per request on PostgreSQL (on the wire, through a
//! counting relay). A route that needs more than its budget fails the build.
//!
//! Steady state: each route is warmed up first (connections open, statements
//! prepared), then measured over sequential requests. Its own test binary, so
//! the process-wide statement log hears this test alone.

use std::sync::atomic::{AtomicU64, Ordering};

use jwt_guard::Clock;
use jwt_guard_tests::wire::WireCounter;
use jwt_guard_tests::{base_figment, json_body, temp_sqlite_url, PgDatabase, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

/// Statements sqlx logged (target `sqlx::query`).
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

struct StatementLog;

impl log::Log for StatementLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("sqlx::query")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
            // `BUDGET_TRACE=1`: which statements a route runs.
            if std::env::var_os("BUDGET_TRACE").is_some() {
                let text = record.args().to_string();
                let summary = text.split("summary=").nth(1).unwrap_or(&text);
                eprintln!("  sql: {}", summary.chars().take(120).collect::<String>());
            }
        }
    }

    fn flush(&self) {}
}

/// Requests measured per route, after as many for warming up.
const MEASURED: u64 = 12;

/// The budgets: (route, SQL statements per request on SQLite — a transaction's
/// `BEGIN` and `COMMIT` count — round trips a request waits for on PostgreSQL).
/// Today's costs; lower them as routes get cheaper. On PostgreSQL a refresh and
/// a device refresh are one statement of jwt-guard's (plus the app's own claims
/// look-up; the device behind a permanent token this instance issued is
/// remembered, not looked up), a logout one, a link
/// use one (its log row written with it); a login is jwt-guard's throttle check and its
/// session start (one statement below the device cap), plus the test app's user
/// look-up and its last-login write.
const BUDGETS: &[(&str, f64, f64)] = &[
    ("login", 10.0, 4.0),
    ("refresh", 6.0, 2.0),
    ("device refresh", 6.0, 2.0),
    ("link use", 2.0, 1.0),
    ("logout", 8.0, 1.0),
];

fn jwt() -> Value {
    json!({
        "secret": TEST_SECRET,
        // Nothing in the background during the count.
        "revocation_poll": "1h",
        "revocation_listen": false,
        // The count signs alice in some 50 times within a second or two: at the
        // default cap (50) a login would evict a device the logout count still
        // holds a token of (the least recently used, ties broken arbitrarily
        // within a second), and that logout would answer 401.
        "max_devices": 1000,
    })
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

async fn login(app: &TestApp) -> Value {
    let res = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    json_body(res).await
}

/// One client's requests of `route`: what each needs is prepared before the
/// count starts (sessions, links), so only the route itself is counted.
struct Route<'a> {
    app: &'a TestApp,
    refresh: String,
    permanent: String,
    links: Vec<String>,
    sessions: Vec<String>,
}

impl<'a> Route<'a> {
    async fn prepare(app: &'a TestApp, route: &str, n: u64) -> Route<'a> {
        let first = login(app).await;
        let mut links = Vec::new();
        let mut sessions = Vec::new();
        if route == "link use" {
            let bearer = format!("Bearer {}", text(&first, "access"));
            for _ in 0..n {
                let res = app
                    .client
                    .post("/links/unsubscribe")
                    .header(Header::new("Authorization", bearer.clone()))
                    .dispatch()
                    .await;
                let url = text(&json_body(res).await, "url");
                let path = url.find("/newsletter").map(|at| url[at..].to_owned());
                links.push(path.unwrap_or_default());
            }
        }
        if route == "logout" {
            for _ in 0..n {
                sessions.push(text(&login(app).await, "access"));
            }
        }
        Route {
            app,
            refresh: text(&first, "refresh"),
            permanent: text(&first, "permanent_token"),
            links,
            sessions,
        }
    }

    /// One request of `route`; asserts it succeeded.
    async fn once(&mut self, route: &str) {
        let client = &self.app.client;
        let status = match route {
            "login" => {
                login(self.app).await;
                Status::Ok
            }
            "refresh" => {
                let res = client
                    .post("/auth/token/refresh")
                    .header(ContentType::JSON)
                    .body(json!({ "refresh": self.refresh }).to_string())
                    .dispatch()
                    .await;
                let status = res.status();
                self.refresh = text(&json_body(res).await, "refresh");
                status
            }
            "device refresh" => {
                let res = client
                    .post("/auth/device/refresh")
                    .header(Header::new("Permanent-Token", self.permanent.clone()))
                    .dispatch()
                    .await;
                let status = res.status();
                self.permanent = text(&json_body(res).await, "permanent_token");
                status
            }
            "link use" => {
                let path = self.links.pop().unwrap_or_default();
                client.get(path).dispatch().await.status()
            }
            _ => {
                let token = self.sessions.pop().unwrap_or_default();
                let res = client
                    .post("/auth/logout")
                    .header(Header::new("Authorization", format!("Bearer {token}")))
                    .dispatch()
                    .await;
                match res.status() {
                    Status::NoContent => Status::Ok,
                    other => other,
                }
            }
        };
        assert_eq!(status, Status::Ok, "{route}");
    }
}

/// Each route's cost per request in steady state, by `count`: the median and
/// the most of the measured requests, each a whole number.
async fn costs(app: &TestApp, count: &dyn Fn() -> [u64; 2]) -> Vec<(&'static str, [f64; 2], f64)> {
    let mut found = Vec::new();
    for (route, _, _) in BUDGETS {
        let mut requests = Route::prepare(app, route, 2 * MEASURED).await;
        for _ in 0..MEASURED {
            requests.once(route).await;
        }
        let mut each = [Vec::new(), Vec::new()];
        for _ in 0..MEASURED {
            if std::env::var_os("BUDGET_TRACE").is_some() {
                eprintln!("{route}:");
            }
            let before = count();
            requests.once(route).await;
            let after = count();
            for (k, counts) in each.iter_mut().enumerate() {
                counts.push(after[k] - before[k]);
            }
        }
        let median = |mut counts: Vec<u64>| {
            counts.sort_unstable();
            counts[counts.len() / 2] as f64
        };
        let most = each[0].iter().copied().max().unwrap_or(0) as f64;
        let [first, second] = each;
        found.push((*route, [median(first), median(second)], most));
    }
    found
}

#[rocket::async_test]
async fn every_stateful_route_stays_within_its_database_budget() {
    // Before any Rocket starts: Rocket then keeps its own logger out.
    let _ = log::set_logger(&StatementLog);
    log::set_max_level(log::LevelFilter::Info);
    let statements = || [STATEMENTS.load(Ordering::SeqCst), 0];
    let mut over = Vec::new();
    let mut table = String::from(
        "| route | SQLite statements | PostgreSQL round trips | pings on release (not waited for) | round trips with `pooler = \"transaction\"` |\n",
    );

    let figment =
        base_figment(&temp_sqlite_url()).merge(("databases.jwt_guard.log_statements", true));
    let sqlite = TestApp::start_with(figment, jwt(), Clock::offset()).await;
    let sqlite_costs = costs(&sqlite, &statements).await;

    let mut pg_costs = None;
    if let Some(pg) = PgDatabase::create().await {
        let upstream = pg.server();
        let wire = WireCounter::start(&upstream).await;
        // A fixed pool, opened at launch: a connection opened during the count
        // would prepare its statements there (a round trip of its own, once).
        // Three connections, not two: sequential requests take connections in
        // turn, and with two a route of an even number of statements can meet
        // each statement on one connection only through the warm-up, then pay
        // its preparation on the other during the count once the turn shifts.
        // With three, every statement meets every connection in the warm-up.
        let figment = base_figment(&wire.url_for(&pg.url))
            .merge(("databases.jwt_guard.log_statements", true))
            .merge(("databases.jwt_guard.min_connections", 3))
            .merge(("databases.jwt_guard.max_connections", 3));
        let app = TestApp::start_with(figment, jwt(), Clock::offset()).await;
        let round_trips = || [wire.round_trips(), wire.pings()];
        pg_costs = Some(costs(&app, &round_trips).await);
        pg.drop_database().await;
    }
    // Behind a transaction-mode pooler each statement is one simple-protocol
    // message with its arguments as literals: the same round trips as direct.
    // (Counted on the wire to PostgreSQL itself: a pooler adds none of its own.)
    let mut pooled_costs = None;
    if let Some(pg) = PgDatabase::create().await {
        let wire = WireCounter::start(&pg.server()).await;
        let figment = base_figment(&wire.url_for(&pg.url))
            .merge(("databases.jwt_guard.log_statements", true))
            .merge(("databases.jwt_guard.pooler", "transaction"))
            .merge(("databases.jwt_guard.min_connections", 2))
            .merge(("databases.jwt_guard.max_connections", 2));
        let app = TestApp::start_with(figment, jwt(), Clock::offset()).await;
        let round_trips = || [wire.round_trips(), wire.pings()];
        pooled_costs = Some(costs(&app, &round_trips).await);
        pg.drop_database().await;
    }

    for (i, (route, statement_budget, trip_budget)) in BUDGETS.iter().enumerate() {
        let (statements, most_statements) = (sqlite_costs[i].1[0], sqlite_costs[i].2);
        let trips = pg_costs.as_ref().map(|c| c[i].1[0]);
        let most_trips = pg_costs.as_ref().map(|c| c[i].2);
        let pings = pg_costs.as_ref().map(|c| c[i].1[1]);
        let pooled = pooled_costs.as_ref().map(|c| (c[i].1[0], c[i].2));
        table.push_str(&format!(
            "| {route} | {statements:.0}, at most {most_statements:.0} (budget {statement_budget}) | {} | {} | {} |\n",
            trips.zip(most_trips).map_or("not run".to_owned(), |(t, m)| format!(
                "{t:.0}, at most {m:.0} (budget {trip_budget})"
            )),
            pings.map_or("not run".to_owned(), |p| format!("{p:.0}")),
            pooled.map_or("not run".to_owned(), |(t, m)| format!(
                "{t:.0}, at most {m:.0} (budget {trip_budget})"
            )),
        ));
        if let Some((pooled_trips, most_pooled)) = pooled {
            if most_pooled > *trip_budget {
                over.push(format!(
                    "{route}: {most_pooled} round trips behind a transaction-mode pooler (the most) > {trip_budget}"
                ));
            }
            assert!(
                pooled_trips > 0.0,
                "{route}: no pooled round trip counted\n{table}"
            );
        }
        // The median is the cost; the most is held to the budget too, so that no
        // share of the requests can go over it unseen.
        if most_statements > *statement_budget {
            over.push(format!(
                "{route}: {most_statements:.1} statements on SQLite (the most) > {statement_budget}"
            ));
        }
        if most_trips.is_some_and(|t| t > *trip_budget) {
            over.push(format!(
                "{route}: {most_trips:?} round trips on PostgreSQL (the most) > {trip_budget}"
            ));
        }
        // A count of zero would mean the counter is not counting.
        assert!(statements > 0.0, "{route}: no statement counted\n{table}");
        assert!(
            trips.is_none_or(|t| t > 0.0),
            "{route}: no round trip counted\n{table}"
        );
    }
    println!("{table}");
    assert!(over.is_empty(), "over budget: {over:#?}\n{table}");
}
