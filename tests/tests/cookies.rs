//! Cookie mode for browsers: the refresh token in an `HttpOnly` cookie (and the
//! access token, for server-rendered apps), rotation and reuse detection through
//! the cookie, logout clearing it, and the CSRF rule for cookie-authenticated
//! requests.

use jwt_guard_tests::{base_figment, json_body, temp_sqlite_url, TEST_SECRET};
use rocket::http::{ContentType, Cookie, Header, SameSite, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};

const REFRESH: &str = "jwt_guard_refresh";
const ACCESS: &str = "jwt_guard_access";
const OURS: &str = "http://127.0.0.1:8000";

/// The test app in cookie mode, on a client that keeps no cookies of its own (each
/// request says exactly what it sends).
async fn app(cookies: Value) -> Client {
    let figment = base_figment(&temp_sqlite_url())
        .merge(("jwt", json!({ "secret": TEST_SECRET, "cookies": cookies })));
    Client::untracked(jwt_guard_tests::app::app(
        figment,
        jwt_guard::Clock::offset(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{:?}", e.kind()))
}

/// What a browser adds to a request of a page of this site, and no script can
/// remove or forge.
fn browser() -> Header<'static> {
    Header::new("Sec-Fetch-Site", "same-origin")
}

fn cookie_value(res: &LocalResponse<'_>, name: &str) -> Option<String> {
    res.cookies().get(name).map(|c| c.value().to_owned())
}

async fn login(client: &Client) -> (String, String, Value) {
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(browser())
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let refresh = cookie_value(&res, REFRESH).unwrap_or_default();
    let body = json_body(res).await;
    (
        body["access"].as_str().unwrap_or_default().to_owned(),
        refresh,
        body,
    )
}

async fn refresh_with<'c>(
    client: &'c Client,
    cookie: &str,
    origin: Option<&str>,
) -> LocalResponse<'c> {
    let mut req = client
        .post("/auth/token/refresh")
        .cookie(Cookie::new(REFRESH, cookie.to_owned()));
    if let Some(origin) = origin {
        req = req.header(Header::new("Origin", origin.to_owned()));
    }
    req.dispatch().await
}

#[rocket::async_test]
async fn login_sets_an_httponly_refresh_cookie_and_the_body_carries_none() {
    let client = app(json!({ "enabled": true })).await;
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(browser())
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let cookie = res
        .cookies()
        .get(REFRESH)
        .cloned()
        .unwrap_or_else(|| panic!("no refresh cookie"));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    assert_eq!(cookie.path(), Some("/auth"));
    assert_ne!(cookie.secure(), Some(true), "plain HTTP: not Secure");
    assert_eq!(cookie.max_age().map(|d| d.whole_seconds()), Some(86_400));
    assert!(
        res.cookies().get(ACCESS).is_none(),
        "no access cookie unless asked"
    );
    let body = json_body(res).await;
    assert!(body.get("refresh").is_none(), "{body}");
    assert!(body["access"].is_string());

    // Configured: Lax, Secure, and the access cookie for server-rendered apps.
    let client =
        app(json!({ "enabled": true, "same_site": "lax", "secure": true, "access_cookie": true }))
            .await;
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(browser())
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    // `Secure` cookies carry the browser-enforced prefixes: `__Host-` for the
    // site-wide access cookie, `__Secure-` for the path-bound refresh cookie.
    assert!(res.cookies().get(REFRESH).is_none());
    let refresh = res
        .cookies()
        .get(&format!("__Secure-{REFRESH}"))
        .cloned()
        .unwrap_or_else(|| panic!("no refresh cookie"));
    assert_eq!(
        (refresh.same_site(), refresh.secure()),
        (Some(SameSite::Lax), Some(true))
    );
    let access = res
        .cookies()
        .get(&format!("__Host-{ACCESS}"))
        .cloned()
        .unwrap_or_else(|| panic!("no access cookie"));
    assert_eq!(access.domain(), None, "__Host- cookies name no domain");
    // And the prefixed cookie is the one a refresh reads.
    let res = client
        .post("/auth/token/refresh")
        .header(Header::new("Origin", OURS))
        .cookie(Cookie::new(
            format!("__Secure-{REFRESH}"),
            refresh.value().to_owned(),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!((access.http_only(), access.path()), (Some(true), Some("/")));
    assert_eq!(access.max_age().map(|d| d.whole_seconds()), Some(300));
}

#[rocket::async_test]
async fn the_cookie_rotates_and_an_old_value_revokes_the_device() {
    let client = app(json!({ "enabled": true })).await;
    let (access, first, _) = login(&client).await;
    let res = refresh_with(&client, &first, Some(OURS)).await;
    assert_eq!(res.status(), Status::Ok);
    let second = cookie_value(&res, REFRESH).unwrap_or_default();
    assert!(
        !second.is_empty() && second != first,
        "the response replaces the cookie"
    );
    let body = json_body(res).await;
    assert!(body.get("refresh").is_none(), "{body}");
    // The old cookie again: reuse. The device is revoked, the new cookie dies too.
    assert_eq!(
        refresh_with(&client, &first, Some(OURS)).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        refresh_with(&client, &second, Some(OURS)).await.status(),
        Status::Unauthorized
    );
    let me = client
        .get("/me")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn cookie_requests_from_other_sites_are_refused() {
    let client = app(json!({ "enabled": true, "access_cookie": true })).await;
    let (access, refresh, _) = login(&client).await;
    // CSRF: another site's page makes the browser send the cookie.
    let res = refresh_with(&client, &refresh, Some("https://evil.example")).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(json_body(res).await["error"], "cross_site_request");
    assert_eq!(
        refresh_with(&client, &refresh, None).await.status(),
        Status::Forbidden,
        "no origin at all"
    );
    let referer = client
        .post("/auth/token/refresh")
        .cookie(Cookie::new(REFRESH, refresh.clone()))
        .header(Header::new("Referer", "https://evil.example/page"))
        .dispatch()
        .await;
    assert_eq!(referer.status(), Status::Forbidden);
    // Nothing was spent by the refused requests: the same cookie still rotates,
    // from our own origin (`localhost` spelling too) or a same-origin fetch.
    let same_site = client
        .post("/auth/token/refresh")
        .cookie(Cookie::new(REFRESH, refresh.clone()))
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .dispatch()
        .await;
    assert_eq!(same_site.status(), Status::Ok);
    let next = cookie_value(&same_site, REFRESH).unwrap_or_default();
    let res = refresh_with(&client, &next, Some("http://localhost:8000")).await;
    assert_eq!(res.status(), Status::Ok);
    let access_now = cookie_value(&res, ACCESS).unwrap_or_default();

    // The access cookie: GETs need no origin; an unsafe method from elsewhere is
    // refused before anything happens.
    let me = client
        .get("/me")
        .cookie(Cookie::new(ACCESS, access_now.clone()))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Ok);
    let forged = client
        .post("/auth/logout")
        .cookie(Cookie::new(ACCESS, access_now.clone()))
        .header(Header::new("Origin", "https://evil.example"))
        .dispatch()
        .await;
    assert_eq!(forged.status(), Status::Forbidden);
    let me = client
        .get("/me")
        .cookie(Cookie::new(ACCESS, access_now.clone()))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Ok, "the forged logout did nothing");
    // Bearer requests are not cookie requests: no origin needed.
    let bearer = client
        .post("/links/unsubscribe")
        .header(Header::new("Authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(bearer.status(), Status::Ok);
}

#[rocket::async_test]
async fn logout_clears_the_cookies() {
    let client = app(json!({ "enabled": true, "access_cookie": true })).await;
    let (_, refresh, _) = login(&client).await;
    let res = refresh_with(&client, &refresh, Some(OURS)).await;
    let access = cookie_value(&res, ACCESS).unwrap_or_default();
    let refresh = cookie_value(&res, REFRESH).unwrap_or_default();
    let out = client
        .post("/auth/logout")
        .cookie(Cookie::new(ACCESS, access.clone()))
        .header(Header::new("Origin", OURS))
        .dispatch()
        .await;
    assert_eq!(out.status(), Status::NoContent);
    for name in [REFRESH, ACCESS] {
        let cleared = out
            .cookies()
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not cleared"));
        assert_eq!(cleared.value(), "", "{name}");
        assert!(
            cleared.max_age().is_some_and(|d| d.whole_seconds() <= 0),
            "{name}"
        );
    }
    assert_eq!(
        refresh_with(&client, &refresh, Some(OURS)).await.status(),
        Status::Unauthorized
    );
    let me = client
        .get("/me")
        .cookie(Cookie::new(ACCESS, access))
        .dispatch()
        .await;
    assert_eq!(me.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn api_clients_still_refresh_with_the_body() {
    let client = app(json!({ "enabled": true })).await;
    let (_, refresh, _) = login(&client).await;
    // An API client of a cookie-mode app sends the token in the body and gets the
    // next one in the body (no cookie, no origin needed).
    let res = client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": refresh }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get(REFRESH).is_none());
    assert!(json_body(res).await["refresh"].is_string());
    // No token at all is no credential: 401, as a protected route answers.
    let none = client.post("/auth/token/refresh").dispatch().await;
    assert_eq!(none.status(), Status::Unauthorized, "no token at all");
    assert_eq!(json_body(none).await["error"], "missing_token");
}

#[rocket::async_test]
async fn one_app_answers_api_clients_in_the_body_and_browsers_in_cookies() {
    let client = app(json!({ "enabled": true })).await;
    let credentials = json!({ "username": "alice", "password": "alice-password" }).to_string();

    // An API client (no Origin, no Sec-Fetch-*): the routes table's body, no cookie.
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(credentials.clone())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(
        res.cookies().iter().next().is_none(),
        "no cookie for an API client"
    );
    let api = json_body(res).await;
    for field in [
        "access",
        "refresh",
        "permanent_token",
        "device_id",
        "device_cookie",
    ] {
        assert!(api[field].is_string(), "{field} missing: {api}");
    }
    // It refreshes with its body token, rotation and reuse detection as without
    // cookie mode.
    let refresh = |token: Value| {
        client
            .post("/auth/token/refresh")
            .header(ContentType::JSON)
            .body(json!({ "refresh": token }).to_string())
            .dispatch()
    };
    let res = refresh(api["refresh"].clone()).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get(REFRESH).is_none());
    let rotated = json_body(res).await;
    assert!(rotated["refresh"].is_string(), "{rotated}");
    assert_eq!(
        refresh(api["refresh"].clone()).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        refresh(rotated["refresh"].clone()).await.status(),
        Status::Unauthorized
    );

    // A browser (Origin of this site): both long-lived tokens only as HttpOnly
    // cookies, none in the JSON.
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("Origin", OURS))
        .body(credentials)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let permanent = res
        .cookies()
        .get("jwt_guard_permanent")
        .cloned()
        .unwrap_or_else(|| panic!("no permanent-token cookie"));
    assert_eq!(
        (permanent.http_only(), permanent.path()),
        (Some(true), Some("/auth"))
    );
    assert!(permanent.value().starts_with("jgp_"));
    let refresh_cookie = cookie_value(&res, REFRESH).unwrap_or_default();
    assert!(!refresh_cookie.is_empty());
    assert!(res.cookies().get("jwt_guard_device").is_some());
    let body = json_body(res).await;
    assert!(
        body.get("refresh").is_none()
            && body.get("permanent_token").is_none()
            && body.get("device_cookie").is_none(),
        "{body}"
    );

    // Its device refreshes through the cookie, which rotates in place.
    let res = client
        .post("/auth/device/refresh")
        .header(Header::new("Origin", OURS))
        .cookie(Cookie::new(
            "jwt_guard_permanent",
            permanent.value().to_owned(),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let next = cookie_value(&res, "jwt_guard_permanent").unwrap_or_default();
    assert!(next.starts_with("jgp_") && next != permanent.value());
    let body = json_body(res).await;
    assert!(
        body["access"].is_string() && body.get("permanent_token").is_none(),
        "{body}"
    );

    // From another site, the cookie is refused (CSRF).
    let res = client
        .post("/auth/device/refresh")
        .header(Header::new("Origin", "https://evil.example"))
        .cookie(Cookie::new("jwt_guard_permanent", next))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
}

/// A browser's known-device cookie (`HttpOnly`, below the cookie path) lets its
/// owner log in while guessing from elsewhere has the account locked.
#[rocket::async_test]
async fn a_browser_known_device_logs_in_through_a_lock_out() {
    let client = app(json!({ "enabled": true })).await;
    let login = |password: &str, device: Option<&str>| {
        let mut req = client
            .post("/auth/token")
            .header(ContentType::JSON)
            .header(browser())
            .body(json!({ "username": "alice", "password": password }).to_string());
        if let Some(device) = device {
            req = req.cookie(Cookie::new("jwt_guard_device", device.to_owned()));
        }
        req.dispatch()
    };
    let res = login("alice-password", None).await;
    assert_eq!(res.status(), Status::Ok);
    let device = res
        .cookies()
        .get("jwt_guard_device")
        .cloned()
        .unwrap_or_else(|| panic!("no known-device cookie"));
    assert_eq!(
        (device.http_only(), device.path()),
        (Some(true), Some("/auth"))
    );
    for _ in 0..5 {
        assert_eq!(login("guess", None).await.status(), Status::Unauthorized);
    }
    assert_eq!(
        login("alice-password", None).await.status(),
        Status::TooManyRequests
    );
    let res = login("alice-password", Some(device.value())).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().get("jwt_guard_device").is_some(), "renewed");
}

#[rocket::async_test]
async fn every_client_gets_cookies_when_configured() {
    let client = app(json!({ "enabled": true, "clients": "all" })).await;
    let res = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(cookie_value(&res, REFRESH).is_some_and(|v| !v.is_empty()));
    let body = json_body(res).await;
    assert!(body.get("refresh").is_none(), "{body}");
}

#[rocket::async_test]
async fn another_site_cannot_log_a_browser_in() {
    let client = app(json!({ "enabled": true })).await;
    let credentials = json!({ "username": "alice", "password": "alice-password" }).to_string();
    // Positive control: this site's page logs in.
    let ours = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("Origin", OURS))
        .body(credentials.clone())
        .dispatch()
        .await;
    assert_eq!(ours.status(), Status::Ok);
    // What a page of another site can send without asking: a text/plain body.
    let plain = client
        .post("/auth/token")
        .header(ContentType::Plain)
        .header(Header::new("Origin", "https://evil.example"))
        .body(credentials.clone())
        .dispatch()
        .await;
    assert_eq!(plain.status(), Status::UnsupportedMediaType);
    assert!(plain.cookies().iter().next().is_none());
    // JSON from another site (a CORS preflight would be needed, but never trust it).
    for headers in [
        vec![Header::new("Origin", "https://evil.example")],
        vec![Header::new("Sec-Fetch-Site", "cross-site")],
    ] {
        let mut req = client
            .post("/auth/token")
            .header(ContentType::JSON)
            .body(credentials.clone());
        for h in headers {
            req = req.header(h);
        }
        let res = req.dispatch().await;
        assert_eq!(res.status(), Status::Forbidden);
        assert!(res.cookies().iter().next().is_none(), "no session cookie");
        assert_eq!(json_body(res).await["error"], "cross_site_request");
    }
    // API clients (neither header) are not browsers: unaffected.
    let api = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(credentials)
        .dispatch()
        .await;
    assert_eq!(api.status(), Status::Ok);
}

/// Cookie tossing: a sibling subdomain plants a `Domain=parent` refresh cookie of
/// its own victim-chosen session, which the browser sends beside the real one.
/// Two values of one session cookie name are refused (400) before either is
/// read, and neither rotates.
#[rocket::async_test]
async fn a_session_cookie_sent_twice_is_refused_and_rotates_nothing() {
    let client = app(json!({ "enabled": true, "access_cookie": true })).await;
    let (_, alice, _) = login(&client).await;
    let bob = {
        let res = client
            .post("/auth/token")
            .header(ContentType::JSON)
            .header(browser())
            .body(json!({ "username": "bob", "password": "bob-password" }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
        cookie_value(&res, REFRESH).unwrap_or_default()
    };
    for tossed in [
        format!("{REFRESH}={alice}; {REFRESH}={bob}"),
        format!("{REFRESH}={bob}; {REFRESH}={alice}"),
    ] {
        let res = client
            .post("/auth/token/refresh")
            .header(Header::new("Cookie", tossed.clone()))
            .header(browser())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::BadRequest, "{tossed}");
        assert!(cookie_value(&res, REFRESH).is_none(), "{tossed}");
        assert_eq!(json_body(res).await["error"], "invalid_request");
    }
    // Two `Cookie` headers are one list too.
    let res = client
        .post("/auth/token/refresh")
        .header(Header::new("Cookie", format!("{REFRESH}={alice}")))
        .header(Header::new("Cookie", format!("{REFRESH}={bob}")))
        .header(browser())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    // The access cookie doubled authenticates nothing either.
    let res = client
        .get("/me")
        .header(Header::new("Cookie", format!("{ACCESS}=a; {ACCESS}=b")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    // Nothing rotated: each cookie alone still refreshes its own session.
    for (who, cookie) in [("alice", &alice), ("bob", &bob)] {
        let res = client
            .post("/auth/token/refresh")
            .cookie(Cookie::new(REFRESH, cookie.clone()))
            .header(browser())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok, "{who}");
        let access = cookie_value(&res, ACCESS).unwrap_or_default();
        let me = client
            .get("/me")
            .cookie(Cookie::new(ACCESS, access))
            .dispatch()
            .await;
        assert_eq!(json_body(me).await["sub"], who);
    }
}

/// `Sec-Fetch-Site: cross-site` is the browser's own word that another site made
/// it send the request: refused whatever `Referer` (or `Origin`) claims.
#[rocket::async_test]
async fn a_cross_site_fetch_is_refused_whatever_the_referer_says() {
    let client = app(json!({ "enabled": true })).await;
    let (_, refresh, _) = login(&client).await;
    let send = |site: &'static str, referer: Option<&'static str>, origin: Option<&'static str>| {
        let mut req = client
            .post("/auth/token/refresh")
            .cookie(Cookie::new(REFRESH, refresh.clone()))
            .header(Header::new("Sec-Fetch-Site", site));
        if let Some(referer) = referer {
            req = req.header(Header::new("Referer", referer));
        }
        if let Some(origin) = origin {
            req = req.header(Header::new("Origin", origin));
        }
        req.dispatch()
    };
    let res = send("cross-site", Some("http://127.0.0.1:8000/app"), None).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(json_body(res).await["error"], "cross_site_request");
    let res = send("cross-site", None, Some(OURS)).await;
    assert_eq!(res.status(), Status::Forbidden);
    // Positive control: the same cookie, from this site, rotates (nothing was
    // spent by the refusals).
    let res = send("same-origin", Some("http://127.0.0.1:8000/app"), None).await;
    assert_eq!(res.status(), Status::Ok);
}

/// `Sessions::start` sets session cookies for browsers, so it makes the login-CSRF
/// check the password and link logins make: another site's page cannot sign the
/// visitor's browser into an account by posting to an app-started login. An
/// identity provider's callback, cross-site by design, opts out.
#[rocket::async_test]
async fn an_app_started_session_refuses_another_sites_browser() {
    let client = app(json!({ "enabled": true })).await;
    let code = |path: &'static str, origin: Option<&'static str>| {
        let mut req = client
            .post(path)
            .header(ContentType::JSON)
            .body(json!({ "username": "alice", "code": "424242" }).to_string());
        if let Some(origin) = origin {
            req = req.header(Header::new("Origin", origin));
        }
        req.dispatch()
    };
    let res = code("/login/code", Some("https://evil.example")).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(cookie_value(&res, REFRESH).is_none());
    assert_eq!(json_body(res).await["error"], "cross_site_request");
    // Positive controls: this site's page, and an API client (no Origin).
    let res = code("/login/code", Some(OURS)).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(cookie_value(&res, REFRESH).is_some());
    let res = code("/login/code", None).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(json_body(res).await["refresh"].is_string());
    // The provider's form-post callback arrives from its own site.
    let res = code("/login/idp-callback", Some("https://idp.example")).await;
    assert_eq!(res.status(), Status::Ok);
}
