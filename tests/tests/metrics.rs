//! Metrics through the `metrics` facade, scraped from the Prometheus endpoint: the
//! counters move by exactly what happened, labels stay bounded, and nothing secret
//! shows. One test in its own binary: the recorder is global to the process.

use std::collections::BTreeSet;

use jwt_guard_tests::app::METRICS_TOKEN;
use jwt_guard_tests::{json_body, TestApp};
use rocket::http::{Header, Method, Status};
use serde_json::json;

async fn scrape(app: &TestApp) -> String {
    let res = app
        .client
        .get("/metrics")
        .header(Header::new(
            "Authorization",
            format!("Bearer {METRICS_TOKEN}"),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    res.into_string().await.unwrap_or_default()
}

/// The value of the series `name` whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// Every series (name and labels) in a scrape.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_owned()))
        .collect()
}

#[rocket::async_test]
async fn counters_move_by_what_happened_and_labels_stay_bounded() {
    let app = TestApp::hs256().await;
    // The endpoint is for the scraper alone.
    assert_eq!(
        app.client.get("/metrics").dispatch().await.status(),
        Status::Unauthorized
    );
    let wrong = app
        .client
        .get("/metrics")
        .header(Header::new("Authorization", "Bearer guess"))
        .dispatch()
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);

    // One failed login: the failure counter rises by exactly one.
    let failures = [r#"method="password""#, r#"result="failure""#];
    let before = value(&scrape(&app).await, "jwt_guard_logins_total", &failures);
    let res = app
        .post_json(
            "/auth/token",
            json!({ "username": "alice", "password": "nope" }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let after = value(&scrape(&app).await, "jwt_guard_logins_total", &failures);
    assert_eq!(after - before, 1.0);

    // A reused refresh token: the reuse counter rises by one.
    let login = app.login("alice").await;
    let reuse = [r#"result="reuse""#];
    let before = value(&scrape(&app).await, "jwt_guard_refreshes_total", &reuse);
    let refresh = json!({ "refresh": login["refresh"] });
    assert_eq!(
        app.post_json("/auth/token/refresh", refresh.clone())
            .await
            .status(),
        Status::Ok
    );
    assert_eq!(
        app.post_json("/auth/token/refresh", refresh).await.status(),
        Status::Unauthorized
    );
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "jwt_guard_refreshes_total", &reuse) - before,
        1.0
    );
    assert!(value(&text, "jwt_guard_refreshes_total", &[r#"result="rotated""#]) >= 1.0);
    assert!(value(&text, "jwt_guard_revocations_total", &[r#"kind="device""#]) >= 1.0);

    // Labels are route templates: 100 random ids add no series.
    let token = app.access_token("bob").await;
    let path = |n: u32| format!("/auth/devices/random-{n}-{}", n * 7919);
    app.send_with_token(Method::Delete, &path(0), &token).await;
    let before = scrape(&app).await;
    let known = series(&before);
    for n in 1..=100 {
        let res = app.send_with_token(Method::Delete, &path(n), &token).await;
        assert_eq!(res.status(), Status::NotFound);
        let _ = json_body(res).await;
    }
    let text = scrape(&app).await;
    let new: Vec<String> = series(&text).difference(&known).cloned().collect();
    assert!(new.is_empty(), "new series: {new:?}");
    // Each request counted once, under its route and scheme (the guard holds
    // its handles: the same series, not new ones).
    let moved =
        |name: &str, labels: &[&str]| value(&text, name, labels) - value(&before, name, labels);
    let allowed = [r#"route="/auth/devices/<id>""#, r#"result="allowed""#];
    assert_eq!(
        moved("jwt_guard_authorizations_total", &allowed),
        100.0,
        "{text}"
    );
    let bearer = [r#"scheme="bearer""#, r#"result="success""#];
    assert_eq!(
        moved("jwt_guard_authentications_total", &bearer),
        100.0,
        "{text}"
    );
    assert_eq!(
        moved("jwt_guard_authentication_duration_seconds_count", &bearer),
        100.0,
        "{text}"
    );
    // A token that fails counts under its error, and is not an authorization.
    let res = app.get_with_token("/me", "not.a.token").await;
    assert_eq!(res.status(), Status::Unauthorized);
    let after = scrape(&app).await;
    let failed = [r#"scheme="bearer""#, r#"result="invalid_token""#];
    assert_eq!(
        value(&after, "jwt_guard_authentications_total", &failed)
            - value(&text, "jwt_guard_authentications_total", &failed),
        1.0,
        "{after}"
    );
    assert_eq!(
        value(
            &after,
            "jwt_guard_authorizations_total",
            &[r#"route="/me""#]
        ) - value(&text, "jwt_guard_authorizations_total", &[r#"route="/me""#]),
        0.0
    );
    // A revocation made on another instance of the same database is timed from
    // its commit to its arrival here (by the poll, on SQLite).
    let config = json!({ "secret": jwt_guard_tests::TEST_SECRET, "revocation_poll": "1s" });
    let other = TestApp::start_on(&app.database_url, config, jwt_guard::Clock::offset()).await;
    let leaving = app.login_as("alice", "leaving").await;
    let access = leaving["access"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        other.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let arrived = |text: &str| value(text, "jwt_guard_revocation_propagation_seconds_count", &[]);
    let before = arrived(&scrape(&app).await);
    assert_eq!(
        other
            .send_with_token(Method::Post, "/auth/logout", &access)
            .await
            .status(),
        Status::NoContent
    );
    jwt_guard_tests::eventually(
        "the logout reaches the first instance",
        std::time::Duration::from_secs(5),
        || async { app.get_with_token("/me", &access).await.status() == Status::Unauthorized },
    )
    .await;
    let text = scrape(&app).await;
    assert!(arrived(&text) >= before + 1.0, "{text}");

    // Nothing secret: no token, no permanent token, no subject.
    for secret in ["eyJ", "jgp_", "alice", "bob", "random-"] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }

    // Histogram samples are folded without a scrape too (an instance nobody
    // scrapes would otherwise keep one a request): the recorder's upkeep thread.
    let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        threads
            .iter()
            .any(|name| name == jwt_guard::prometheus::UPKEEP_THREAD),
        "{threads:?}"
    );
}
