//! The showcase's own behaviour: its development defaults, and the walkthrough's
//! promises that matter for security (links to other people are delivered, never
//! returned).

mod support;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

fn temp_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("showcase-test-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn figment_in(dir: &std::path::Path) -> rocket::figment::Figment {
    let url = format!("sqlite://{}", dir.join("showcase.sqlite").display());
    rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("databases.jwt_guard.url", url))
}

#[test]
fn the_signing_secret_is_random_per_install_and_private() {
    let (one, two) = (temp_dir(), temp_dir());
    let secret_of = |dir: &std::path::Path| -> String {
        let figment = showcase::with_defaults(figment_in(dir)).unwrap_or_else(|e| panic!("{e}"));
        figment.extract_inner("jwt.secret").unwrap_or_default()
    };
    let first = secret_of(&one);
    assert!(first.len() >= 64, "a strong secret: {first}");
    assert_eq!(secret_of(&one), first, "kept across restarts");
    assert_ne!(secret_of(&two), first, "every install has its own");
    let file = one.join("showcase.sqlite.jwt-secret");
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }
    // The source carries no fallback constant to forge tokens with.
    let lib = include_str!("../src/lib.rs");
    assert!(!lib.contains("DEV_SECRET"));
}

#[test]
fn given_configuration_wins_over_the_defaults() {
    let dir = temp_dir();
    let given = figment_in(&dir)
        .merge((
            "jwt",
            json!({ "algorithm": "RS256", "private_key": "x.pem" }),
        ))
        .merge(("ip_header", "X-Forwarded-For"));
    let merged = showcase::with_defaults(given).unwrap_or_else(|e| panic!("{e}"));
    let jwt: Value = merged.extract_inner("jwt").unwrap_or(Value::Null);
    assert!(jwt.get("secret").is_none(), "no secret added to {jwt}");
    assert!(!dir.join("showcase.sqlite.jwt-secret").exists());
    let ip_header: String = merged.extract_inner("ip_header").unwrap_or_default();
    assert_eq!(ip_header, "X-Forwarded-For");
    let bare = showcase::with_defaults(figment_in(&dir)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bare.extract_inner::<bool>("ip_header").ok(), Some(false));
}

async fn client(dir: &std::path::Path) -> Client {
    let figment = showcase::with_defaults(figment_in(dir)).unwrap_or_else(|e| panic!("{e}"));
    Client::tracked(showcase::app(figment, jwt_guard::Clock::system()))
        .await
        .unwrap_or_else(|e| panic!("showcase failed to launch: {:?}", e.kind()))
}

/// A demo user's access token, through the real login route.
async fn login(client: &Client, user: &str) -> String {
    let password = format!("{user}-password");
    jwt_guard::testing::login(client, user, &password)
        .await
        .tokens
        .access
}

#[rocket::async_test]
async fn magic_login_links_are_delivered_not_returned() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let ask = |username: &'static str| {
        client
            .post("/links/magic-login")
            .header(ContentType::JSON)
            .body(json!({ "username": username }).to_string())
            .dispatch()
    };
    // JSON only: a form or `text/plain` post (what any page can send) gets 415,
    // and asks for nothing.
    for content_type in [ContentType::Form, ContentType::Plain] {
        let res = client
            .post("/links/magic-login")
            .header(content_type.clone())
            .body("username=admin")
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::UnsupportedMediaType, "{content_type}");
        let body: Value =
            serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or_default();
        assert_eq!(body["error"], "unsupported_media_type");
    }
    let known = ask("admin").await;
    assert_eq!(known.status(), Status::Accepted);
    let known_body = known.into_string().await.unwrap_or_default();
    assert!(
        !known_body.contains("token") && !known_body.contains("http"),
        "{known_body}"
    );
    let unknown = ask("nobody").await;
    assert_eq!(unknown.status(), Status::Accepted);
    assert_eq!(
        unknown.into_string().await.unwrap_or_default(),
        known_body,
        "the answer does not reveal whether the account exists"
    );

    // The outbox is for administrators only.
    let alice = login(&client, "alice").await;
    let res = client
        .get("/admin/outbox")
        .header(Header::new("Authorization", format!("Bearer {alice}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    let admin = login(&client, "admin").await;
    let res = client
        .get("/admin/outbox")
        .header(Header::new("Authorization", format!("Bearer {admin}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    // Links are credentials: never cached, even by an HTTP/1.0 cache.
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(res.headers().get_one("Pragma"), Some("no-cache"));
    let outbox: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    let messages = outbox.as_array().cloned().unwrap_or_default();
    assert_eq!(
        messages.len(),
        1,
        "only the existing account got a link: {outbox}"
    );
    assert_eq!(messages[0]["recipient"], "admin");
    assert!(messages[0]["url"]
        .as_str()
        .unwrap_or_default()
        .contains("/auth/magic?token="));
}

#[rocket::async_test]
async fn the_route_manifest_is_for_admins_and_every_route_is_declared() {
    let dir = temp_dir();
    // The showcase launches with `require_protection`: that it launched at all
    // means every route carries a jwt-guard attribute.
    let client = client(&dir).await;
    let get = |token: String| {
        client
            .get("/admin/routes")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
    };
    assert_eq!(
        get(login(&client, "alice").await).await.status(),
        Status::Forbidden
    );
    let res = get(login(&client, "admin").await).await;
    assert_eq!(res.status(), Status::Ok);
    let routes: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    let routes = routes.as_array().cloned().unwrap_or_default();
    assert!(routes.len() > 20, "{routes:?}");
    assert!(
        routes.iter().all(|r| r["protection"].is_object()),
        "{routes:?}"
    );
    let find = |method: &str, path: &str| {
        routes
            .iter()
            .find(|r| r["method"] == method && r["path"] == path)
            .map(|r| r["protection"]["kind"].clone())
    };
    assert_eq!(find("GET", "/admin/routes"), Some(json!("jwt")));
    assert_eq!(find("POST", "/auth/token"), Some(json!("public")));
    assert_eq!(find("GET", "/newsletter/unsubscribe"), Some(json!("link")));
    assert_eq!(find("POST", "/oauth/revoke"), Some(json!("public")));
    assert_eq!(find("POST", "/oauth/introspect"), Some(json!("client")));
    assert_eq!(find("POST", "/mcp"), Some(json!("jwt")));
    assert_eq!(find("GET", "/metrics"), Some(json!("static_token")));
    assert_eq!(
        find("GET", "/.well-known/oauth-protected-resource"),
        Some(json!("public"))
    );
    assert_eq!(
        find("POST", "/auth/device/refresh"),
        Some(json!("permanent_refresh"))
    );
}

#[rocket::async_test]
async fn partner_tokens_reach_partner_me_and_nothing_else() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let res = client
        .post("/partner/demo-token")
        .header(ContentType::JSON)
        .body(json!({ "sub": "pat" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    // A public route, but its answer carries a token.
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(res.headers().get_one("Pragma"), Some("no-cache"));
    let body: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    let partner = body["access"].as_str().unwrap_or_default().to_owned();
    let get = |path: &'static str, token: String| {
        client
            .get(path)
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
    };
    let me = get("/partner/me", partner.clone()).await;
    assert_eq!(me.status(), Status::Ok);
    let me: Value =
        serde_json::from_str(&me.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(me["sub"], "pat");
    assert_eq!(me["iss"], "http://127.0.0.1:8000/partner");
    // The partner's token is not one of ours, nor ours one of the partner's.
    assert_eq!(
        get("/me", partner.clone()).await.status(),
        Status::Unauthorized
    );
    let own = login(&client, "alice").await;
    let refused = get("/partner/me", own.clone()).await;
    assert_eq!(refused.status(), Status::Unauthorized);
    let refused: Value = serde_json::from_str(&refused.into_string().await.unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(
        refused["error_description"],
        "this route accepts tokens of the issuer `partner` only"
    );

    // An own session for the partner's user: answered like `/auth/token`.
    let start = |token: String| {
        client
            .post("/partner/login")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
    };
    assert_eq!(start(own).await.status(), Status::Unauthorized);
    let res = start(partner).await;
    assert_eq!(res.status(), Status::Ok);
    let session: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    for field in ["access", "refresh", "device_id", "permanent_token"] {
        assert!(session[field].is_string(), "{field} missing: {session}");
    }
    let me = get(
        "/me",
        session["access"].as_str().unwrap_or_default().to_owned(),
    )
    .await;
    assert_eq!(me.status(), Status::Ok);
    let me: Value =
        serde_json::from_str(&me.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(me["sub"], "partner:pat");
    assert_eq!(me["roles"], json!(["user"]));
    // It refreshes like any session (the app knows what a partner's user may do).
    let res = client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": session["refresh"] }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

#[rocket::async_test]
async fn api_clients_and_browsers_each_get_what_the_routes_table_promises() {
    let dir = temp_dir();
    let figment = showcase::with_defaults(figment_in(&dir)).unwrap_or_else(|e| panic!("{e}"));
    // Untracked: each request carries exactly the cookies it is given.
    let client = Client::untracked(showcase::app(figment, jwt_guard::Clock::system()))
        .await
        .unwrap_or_else(|e| panic!("showcase failed to launch: {:?}", e.kind()));
    let login = |origin: Option<&'static str>| {
        let mut req = client
            .post("/auth/token")
            .header(ContentType::JSON)
            .header(Header::new("X-Device-Model", "test phone"))
            .body(json!({ "username": "bob", "password": "bob-password" }).to_string());
        if let Some(origin) = origin {
            req = req.header(Header::new("Origin", origin));
        }
        req.dispatch()
    };

    // A mobile app or a script: everything in the body, no cookie, although the
    // showcase runs in cookie mode.
    let res = login(None).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.cookies().iter().next().is_none());
    let body: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
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
    let res = client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": body["refresh"] }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let res = client
        .post("/auth/device/refresh")
        .header(Header::new(
            "Permanent-Token",
            body["permanent_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let device: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    assert!(device["permanent_token"].is_string(), "{device}");

    // The browser page: the long-lived tokens only as HttpOnly cookies.
    let res = login(Some("http://127.0.0.1:8000")).await;
    assert_eq!(res.status(), Status::Ok);
    let names: Vec<String> = res.cookies().iter().map(|c| c.name().to_owned()).collect();
    assert!(
        names.iter().any(|n| n == "jwt_guard_refresh")
            && names.iter().any(|n| n == "jwt_guard_permanent"),
        "{names:?}"
    );
    let body: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or(Value::Null);
    assert!(body["access"].is_string());
    assert!(
        body.get("refresh").is_none() && body.get("permanent_token").is_none(),
        "{body}"
    );
}

#[rocket::async_test]
async fn every_error_an_api_client_meets_has_one_shape() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let shape = |body: &str| -> Value { serde_json::from_str(body).unwrap_or(Value::Null) };
    // Rocket's own answers and the app's: no route, a body that is not JSON, a
    // JSON body of the wrong shape.
    let cases = [
        (
            client.get("/no/such/route").dispatch().await,
            404,
            "not_found",
        ),
        (
            client
                .post("/links/magic-login")
                .header(ContentType::JSON)
                .body("{not json")
                .dispatch()
                .await,
            400,
            "invalid_request",
        ),
        (
            client
                .post("/partner/demo-token")
                .header(ContentType::JSON)
                .body(json!({ "name": 1 }).to_string())
                .dispatch()
                .await,
            422,
            "invalid_request",
        ),
        // The showcase signs with HMAC: no public keys to publish.
        (
            client.get("/.well-known/jwks.json").dispatch().await,
            404,
            "not_found",
        ),
        // jwt-guard's own, for contrast: the same shape.
        (client.get("/me").dispatch().await, 401, "missing_token"),
        (
            client.post("/auth/device/refresh").dispatch().await,
            401,
            "missing_token",
        ),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status().code, status, "{code}");
        assert_eq!(res.content_type(), Some(ContentType::JSON), "{code}");
        let body = shape(&res.into_string().await.unwrap_or_default());
        assert_eq!(body["error"], code, "{body}");
        assert!(body["error_description"].is_string(), "{body}");
    }
    let res = client.post("/auth/device/refresh").dispatch().await;
    let body = shape(&res.into_string().await.unwrap_or_default());
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("Permanent-Token"),
        "{body}"
    );
}

#[test]
fn a_partial_jwt_table_keeps_every_other_default() {
    let dir = temp_dir();
    let given = figment_in(&dir).merge(("jwt", json!({ "access_ttl": "1m" })));
    let merged = showcase::with_defaults(given).unwrap_or_else(|e| panic!("{e}"));
    let jwt: Value = merged.extract_inner("jwt").unwrap_or(Value::Null);
    assert_eq!(jwt["access_ttl"], "1m", "{jwt}");
    assert!(
        jwt["secret"].as_str().is_some_and(|s| s.len() >= 64),
        "{jwt}"
    );
    assert_eq!(jwt["cookies"]["enabled"], true, "{jwt}");
    assert_eq!(jwt["trusted_issuers"][0]["name"], "partner", "{jwt}");
    // The demo partner's keys are built in: no path of the build machine.
    let jwks = jwt["trusted_issuers"][0]["jwks"]
        .as_str()
        .unwrap_or_default();
    assert!(jwks.trim_start().starts_with('{'), "{jwks}");
    let config: Result<jwt_guard::config::JwtConfig, _> = merged.extract_inner("jwt");
    assert!(config.is_ok(), "{:?}", config.err());
}

#[test]
fn the_showcase_tells_the_command_where_its_deployment_is() {
    let dir = temp_dir();
    let figment = showcase::with_defaults(figment_in(&dir)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        showcase::write_deployment_file(&figment, &dir).ok(),
        Some(true)
    );
    let text = std::fs::read_to_string(dir.join(showcase::DEPLOYMENT_FILE)).unwrap_or_default();
    assert!(text.contains("[default.databases.jwt_guard]"), "{text}");
    assert!(text.contains("secret_file = "), "{text}");
    assert!(!text.contains(
        &figment
            .extract_inner::<String>("jwt.secret")
            .unwrap_or_default()
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(showcase::DEPLOYMENT_FILE))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600, "the file is the owner's alone");
    }
    // Written once.
    assert_eq!(
        showcase::write_deployment_file(&figment, &dir).ok(),
        Some(false)
    );
    // With the operator's own key and a database with a password: the file is
    // written (the command finds the deployment), naming neither.
    let other = temp_dir();
    let given = figment_in(&other)
        .merge(("jwt.secret", "a secret of the operator's own, 32+ bytes"))
        .merge((
            "databases.jwt_guard.url",
            "postgres://app:hunter2-password@127.0.0.1:5432/app",
        ));
    let given = showcase::with_defaults(given).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        showcase::write_deployment_file(&given, &other).ok(),
        Some(true)
    );
    let text = std::fs::read_to_string(other.join(showcase::DEPLOYMENT_FILE)).unwrap_or_default();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("operator's own"), "{text}");
    assert!(!text.contains("secret_file"), "{text}");
    assert!(text.contains("ROCKET_DATABASES"), "{text}");
    assert!(text.contains("audience = "), "{text}");
}

#[rocket::async_test]
async fn a_magic_link_used_from_another_site_logs_no_one_in() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let sent = client
        .post("/links/magic-login")
        .header(ContentType::JSON)
        .body(json!({ "username": "bob" }).to_string())
        .dispatch()
        .await;
    assert_eq!(sent.status(), Status::Accepted);
    let admin = login(&client, "admin").await;
    let outbox = client
        .get("/admin/outbox")
        .header(Header::new("Authorization", format!("Bearer {admin}")))
        .dispatch()
        .await;
    let outbox: Value = serde_json::from_str(&outbox.into_string().await.unwrap_or_default())
        .unwrap_or(Value::Null);
    let url = outbox[0]["url"].as_str().unwrap_or_default().to_owned();
    let path = url[url.find("/auth/magic").unwrap_or(0)..].to_owned();
    let post = |origin: &'static str| {
        client
            .post(path.clone())
            .header(Header::new("Origin", origin))
            .dispatch()
    };
    let refused = post("https://evil.example").await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert!(refused.cookies().get("jwt_guard_refresh").is_none());
    // The link was not used up: the recipient's own click still works.
    let ours = post("http://127.0.0.1:8000").await;
    assert_eq!(ours.status(), Status::Ok);
    assert!(ours.cookies().get("jwt_guard_refresh").is_some());
}

/// The value of `name` in a `WWW-Authenticate` challenge (quoted-string, with
/// quoted-pairs undone).
fn param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let mut value = String::new();
    let mut chars = challenge[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?),
            '"' => return Some(value),
            c => value.push(c),
        }
    }
    None
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The MCP authorization dance, as an agent client does it (MCP 2025-06-18, RFC
/// 9728, RFC 6750): no token → 401 pointing to the metadata; the metadata names
/// the resource, its authorization server and scopes; a token issued for the
/// resource with the scope → 200; without the scope → 403 naming it; issued for
/// another audience → 401.
#[rocket::async_test]
async fn an_mcp_client_discovers_how_to_get_a_token() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let resource = "http://127.0.0.1:8000/mcp";
    let call = |token: Option<String>| {
        let mut req = client
            .post("/mcp")
            .header(ContentType::JSON)
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        if let Some(token) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        req.dispatch()
    };
    let res = call(None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let metadata_url = param(&challenge, "resource_metadata").unwrap_or_default();
    assert_eq!(
        metadata_url,
        "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
    );
    assert_eq!(param(&challenge, "scope").as_deref(), Some("mcp:tools"));

    // The metadata, at the path-inserted location (RFC 9728 §3.1).
    let path = metadata_url.trim_start_matches("http://127.0.0.1:8000");
    let res = client.get(path.to_owned()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let metadata = json_of(&res.into_string().await.unwrap_or_default());
    assert_eq!(metadata["resource"], resource, "byte for byte: {metadata}");
    // Its authorization server is the partner, the only issuer `/mcp` takes; its
    // scopes are those of the routes below it.
    assert_eq!(
        metadata["authorization_servers"],
        json!(["http://127.0.0.1:8000/partner"])
    );
    assert_eq!(metadata["scopes_supported"], json!(["mcp:tools"]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    // Another resource's metadata is not here.
    let res = client
        .get("/.well-known/oauth-protected-resource/other")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NotFound);

    // Tokens from the authorization server.
    let token = |scope: &str, aud: &str| {
        let body = json!({ "sub": "agent", "scope": scope, "aud": aud }).to_string();
        let client = &client;
        async move {
            let res = client
                .post("/partner/demo-token")
                .header(ContentType::JSON)
                .body(body)
                .dispatch()
                .await;
            json_of(&res.into_string().await.unwrap_or_default())["access"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let res = call(Some(token("mcp:tools", resource).await)).await;
    assert_eq!(res.status(), Status::Ok);
    let answer = json_of(&res.into_string().await.unwrap_or_default());
    assert_eq!(answer["id"], 1);
    let tools: Vec<&str> = answer["result"]["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tools, ["whoami", "orders.list"], "{answer}");

    let res = call(Some(token("orders:read", resource).await)).await;
    assert_eq!(res.status(), Status::Forbidden);
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default();
    assert_eq!(
        param(challenge, "error").as_deref(),
        Some("insufficient_scope")
    );
    assert_eq!(param(challenge, "scope").as_deref(), Some("mcp:tools"));
    assert_eq!(
        param(challenge, "resource_metadata").as_deref(),
        Some(metadata_url.as_str())
    );

    let res = call(Some(token("mcp:tools", "https://other.example/mcp").await)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default();
    assert_eq!(param(challenge, "error").as_deref(), Some("invalid_token"));
}

/// RFC 9470 step-up on `POST /account/password` (`fresh = "5m"`): a refreshed
/// token still carries its login's `auth_time`, so six minutes after the login
/// the route asks for a new one with `max_age="300"`; a new login passes.
#[rocket::async_test]
async fn changing_the_password_needs_a_recent_login() {
    let dir = temp_dir();
    let figment = showcase::with_defaults(figment_in(&dir)).unwrap_or_else(|e| panic!("{e}"));
    let clock = jwt_guard::Clock::offset();
    let client = Client::tracked(showcase::app(figment, clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("{:?}", e.kind()));
    let change = |token: String| {
        client
            .post("/account/password")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
    };
    let login = jwt_guard::testing::login(&client, "alice", "alice-password").await;
    let claims: Value =
        jsonwebtoken::dangerous::insecure_decode_claims(&login.tokens.access).unwrap_or_default();
    let header = jsonwebtoken::decode_header(&login.tokens.access).unwrap_or_default();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 typing");
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
    assert!(claims["auth_time"].is_u64(), "{claims}");
    assert_eq!(
        change(login.tokens.access.clone()).await.status(),
        Status::NoContent
    );

    clock.advance(6 * 60);
    let res = client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": login.tokens.refresh }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let refreshed = json_of(&res.into_string().await.unwrap_or_default())["access"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = change(refreshed).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default();
    assert_eq!(
        param(challenge, "error").as_deref(),
        Some("insufficient_user_authentication"),
        "{challenge}"
    );
    assert_eq!(param(challenge, "max_age").as_deref(), Some("300"));

    let again = login_with(&client, "alice").await;
    assert_eq!(change(again).await.status(), Status::NoContent);
}

async fn login_with(client: &Client, user: &str) -> String {
    login(client, user).await
}

/// Where an OpenAPI validator is: `OPENAPI_SPEC_VALIDATOR` (set by `.ci/run`,
/// which installs `openapi-spec-validator`), else one on the `PATH`.
fn openapi_validator() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("OPENAPI_SPEC_VALIDATOR") {
        return Some(path.into());
    }
    std::process::Command::new("openapi-spec-validator")
        .arg("--help")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "openapi-spec-validator".into())
}

/// `GET /openapi.json`: a valid OpenAPI 3.1 document with an operation for every
/// route of the manifest, whose `security` says what the manifest says.
#[rocket::async_test]
async fn the_openapi_document_says_how_every_route_is_protected() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let res = client.get("/openapi.json").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let text = res.into_string().await.unwrap_or_default();
    let doc = json_of(&text);
    assert_eq!(doc["openapi"], "3.1.0");

    let admin = login(&client, "admin").await;
    let manifest = client
        .get("/admin/routes")
        .header(Header::new("Authorization", format!("Bearer {admin}")))
        .dispatch()
        .await;
    let manifest = json_of(&manifest.into_string().await.unwrap_or_default());
    let routes = manifest.as_array().cloned().unwrap_or_default();
    assert!(routes.len() > 20, "{manifest}");
    let template = |path: &str| -> String {
        path.split('/')
            .map(
                |seg| match seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                    Some(name) => format!(
                        "{{{}}}",
                        name.trim_end_matches("..").trim_start_matches('_')
                    ),
                    None => seg.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    };
    for route in &routes {
        let path = template(route["path"].as_str().unwrap_or_default());
        let method = route["method"].as_str().unwrap_or_default().to_lowercase();
        let op = &doc["paths"][&path][&method];
        // Where jwt-guard routes requests internally is no part of the API.
        if path.starts_with("/__jwt_guard/") {
            assert!(op.is_null(), "{method} {path} is documented");
            continue;
        }
        assert!(op.is_object(), "no operation for {method} {path}");
        // Described whole: a summary, and every answer by its status.
        assert!(
            op["summary"].is_string(),
            "{method} {path} is not described"
        );
        let responses = op["responses"].as_object().cloned().unwrap_or_default();
        assert!(
            !responses.is_empty() && !responses.contains_key("default"),
            "{method} {path}: {responses:?}"
        );
        let kind = route["protection"]["kind"].as_str().unwrap_or_default();
        assert_eq!(op["x-jwt-guard"]["protection"], kind, "{method} {path}");
        let security = op["security"].clone();
        match kind {
            "public" => assert_eq!(security, json!([]), "{path}"),
            "permanent_refresh" => assert_eq!(security, json!([{ "permanentToken": [] }])),
            "link" => assert_eq!(security, json!([{ "linkToken": [] }])),
            "static_token" => assert_eq!(security, json!([{ "staticToken": [] }])),
            "client" => assert_eq!(
                security,
                json!([{ "introspectionClient": [] }, { "bearer": ["token:introspect"] }])
            ),
            "jwt" => {
                let p = &route["protection"];
                let scopes: Vec<Value> = p["scope"]
                    .as_str()
                    .map(|s| s.split(' ').map(|s| json!(s)).collect())
                    .unwrap_or_default();
                let scheme = match p["issuer"].as_str() {
                    Some(issuer) => format!("issuer_{issuer}"),
                    None => "bearer".to_owned(),
                };
                let first = json!({ scheme: scopes });
                assert_eq!(security[0], first, "{method} {path}");
                let optional = p["optional"].as_bool().unwrap_or(false);
                assert_eq!(
                    security.as_array().is_some_and(|a| a.contains(&json!({}))),
                    optional,
                    "{method} {path}"
                );
            }
            other => panic!("{method} {path}: undeclared ({other})"),
        }
    }
    assert_eq!(
        doc["paths"]["/account/password"]["post"]["x-jwt-guard"]["fresh_secs"],
        300
    );
    // The document against the design's routes table, written out by hand: the
    // manifest above is jwt-guard's own output, so it cannot be the only judge.
    for (method, path, expected) in [
        ("post", "/auth/token", json!([])),
        ("get", "/openapi.json", json!([])),
        ("get", "/.well-known/jwks.json", json!([])),
        // The showcase offers DPoP (RFC 9449) beside Bearer for its own tokens.
        ("get", "/me", json!([{ "bearer": [] }, { "dpop": [] }])),
        (
            "get",
            "/admin/stats",
            json!([{ "bearer": [] }, { "dpop": [] }]),
        ),
        ("get", "/partner/me", json!([{ "issuer_partner": [] }])),
        ("post", "/mcp", json!([{ "issuer_partner": ["mcp:tools"] }])),
        (
            "post",
            "/auth/device/refresh",
            json!([{ "permanentToken": [] }]),
        ),
        (
            "get",
            "/newsletter/unsubscribe",
            json!([{ "linkToken": [] }]),
        ),
        ("get", "/metrics", json!([{ "staticToken": [] }])),
        // Passkeys: signing in needs nothing; the vault a phishing-resistant
        // token of the showcase's own.
        ("post", "/auth/passkeys/login", json!([])),
        (
            "post",
            "/auth/passkeys/register",
            json!([{ "bearer": [] }, { "dpop": [] }]),
        ),
        (
            "get",
            "/account/vault",
            json!([{ "bearer": [] }, { "dpop": [] }]),
        ),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"], expected,
            "{method} {path}"
        );
    }
    // And against the server's behaviour: an operation that names no anonymous
    // alternative refuses a request with no credentials (401, or 403 for a link)
    // with a status it documents, and one whose security is empty never answers 401.
    let mut challenged = 0;
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            let Ok(m) = method.to_uppercase().parse::<rocket::http::Method>() else {
                continue;
            };
            let security = op["security"].as_array().cloned().unwrap_or_default();
            let res = client
                .req(m, concrete.clone())
                .header(ContentType::JSON)
                .body("{}")
                .dispatch()
                .await;
            let status = res.status();
            if security.is_empty() {
                // A public operation answers 401 only where it says so: one whose
                // credential travels in the body (a refresh token, a token to check).
                if status == Status::Unauthorized {
                    assert!(
                        op["responses"].get("401").is_some(),
                        "{method} {path} is public and answered 401"
                    );
                }
            } else if !security.contains(&json!({})) {
                // A link route refuses a missing link as it refuses a bad one.
                let refusal = if security == [json!({ "linkToken": [] })] {
                    Status::Forbidden
                } else {
                    Status::Unauthorized
                };
                assert_eq!(status, refusal, "{method} {path}: {security:?}");
                let code = status.code.to_string();
                assert!(
                    op["responses"].get(&code).is_some(),
                    "{method} {path}: {code} is not documented"
                );
                challenged += 1;
            }
        }
    }
    assert!(
        challenged > 15,
        "only {challenged} protected operations tried"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Valid OpenAPI 3.1, by an independent validator.
    let Some(validator) = openapi_validator() else {
        assert!(
            !support::in_ci(),
            "CI must validate the document: .ci/run installs openapi-spec-validator"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (not a pass): OpenAPI validation: openapi-spec-validator is not installed"
        );
        return;
    };
    let file = dir.join("openapi.json");
    std::fs::write(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", validator.display()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `GET /metrics` answers the scraper that sends the demo token, and nobody else.
#[rocket::async_test]
async fn metrics_are_for_the_scraper_with_the_token() {
    let dir = temp_dir();
    let client = client(&dir).await;
    let _ = login(&client, "alice").await;
    assert_eq!(
        client.get("/metrics").dispatch().await.status(),
        Status::Unauthorized
    );
    let res = client
        .get("/metrics")
        .header(Header::new(
            "Authorization",
            format!("Bearer {}", showcase::DEMO_METRICS_TOKEN),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let text = res.into_string().await.unwrap_or_default();
    assert!(text.contains("jwt_guard_logins_total"), "{text}");
    assert!(!text.contains("eyJ") && !text.contains("alice"), "{text}");
}

/// `guard-ratio`'s routes answer alike for a valid token, and each guard refuses
/// what it should: the numbers it reports compare like with like.
#[rocket::async_test]
async fn the_bench_routes_differ_only_in_their_guard() {
    let dir = temp_dir();
    let figment = showcase::with_defaults(figment_in(&dir))
        .unwrap_or_else(|e| panic!("{e}"))
        .merge(("bench_routes", true));
    let client = Client::tracked(showcase::app(figment, jwt_guard::Clock::system()))
        .await
        .unwrap_or_else(|e| panic!("showcase failed to launch: {:?}", e.kind()));
    let access = login(&client, "alice").await;
    let get = |path: &'static str, token: Option<String>| {
        let client = &client;
        async move {
            let mut req = client.get(path);
            if let Some(token) = token {
                req = req.header(Header::new("Authorization", format!("Bearer {token}")));
            }
            let res = req.dispatch().await;
            let status = res.status();
            let no_store = res.headers().get_one("Cache-Control") == Some("no-store");
            let body: Value = res.into_json().await.unwrap_or(Value::Null);
            (status, body, no_store)
        }
    };
    let ok = json!({ "ok": true });
    for path in [
        "/bench/open",
        "/bench/guarded",
        "/bench/handwritten",
        "/bench/floor",
    ] {
        let (status, body, _) = get(path, Some(access.clone())).await;
        assert_eq!((status, &body), (Status::Ok, &ok), "{path}");
    }
    // Only jwt-guard's guard marks its answer private.
    assert!(get("/bench/guarded", Some(access.clone())).await.2);
    assert!(!get("/bench/handwritten", Some(access.clone())).await.2);
    // Without a token, or with a forged one, both checking guards refuse; the
    // floor takes any bearer string, and refuses none.
    let mut forged = access.clone();
    forged.push('x');
    assert_eq!(get("/bench/floor", None).await.0, Status::Unauthorized);
    assert_eq!(
        get("/bench/floor", Some(forged.clone())).await.0,
        Status::Ok
    );
    for path in ["/bench/guarded", "/bench/handwritten"] {
        assert_eq!(get(path, None).await.0, Status::Unauthorized, "{path}");
        assert_eq!(
            get(path, Some(forged.clone())).await.0,
            Status::Unauthorized,
            "{path}"
        );
    }
    assert_eq!(get("/bench/open", None).await.0, Status::Ok);
    // Off by default.
    let plain = crate::client(&temp_dir()).await;
    assert_eq!(
        plain.get("/bench/open").dispatch().await.status(),
        Status::NotFound
    );
}
