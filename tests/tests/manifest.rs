//! The route-protection manifest: every route with what its attribute declared,
//! the built-in routes included, whatever the mount point; and deny-by-default.

use jwt_guard::manifest::{Protection, RouteEntry};
use jwt_guard::{public, use_jwt, JwtGuard, StandardClaims};
use jwt_guard_tests::{base_figment, temp_sqlite_url, TestApp, TEST_SECRET};
use rocket::local::asynchronous::Client;
use rocket::{get, routes};

fn entry<'a>(manifest: &'a [RouteEntry], method: &str, path: &str) -> &'a RouteEntry {
    manifest
        .iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is not in the manifest: {manifest:#?}"))
}

#[rocket::async_test]
async fn every_route_of_the_test_app_is_declared() {
    let app = TestApp::hs256().await;
    let manifest = JwtGuard::manifest(app.client.rocket());
    let undeclared: Vec<&RouteEntry> = manifest.iter().filter(|e| e.protection.is_none()).collect();
    assert!(undeclared.is_empty(), "undeclared: {undeclared:#?}");
    assert!(manifest.len() > 25, "{}", manifest.len());

    match entry(&manifest, "GET", "/admin/stats").protection {
        Some(Protection::Jwt {
            claims,
            role,
            optional,
            ..
        }) => {
            assert_eq!(
                (claims, role, optional),
                ("AppClaims", Some("Role::Admin"), false)
            );
        }
        other => panic!("{other:?}"),
    }
    match entry(&manifest, "GET", "/reports").protection {
        Some(Protection::Jwt { scope, .. }) => assert_eq!(scope, Some("reports:read")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        entry(&manifest, "GET", "/hello").protection,
        Some(Protection::Jwt { optional: true, .. })
    ));
    assert_eq!(
        entry(&manifest, "POST", "/auth/magic").protection,
        Some(Protection::Link {
            target: "magic_login",
            max_uses: Some(1),
            ttl_secs: 15 * 60,
            login: true,
            confirm: true,
        })
    );
    assert_eq!(
        entry(&manifest, "POST", "/auth/device/refresh").protection,
        Some(Protection::PermanentRefresh)
    );
    assert_eq!(
        entry(&manifest, "GET", "/visits").protection,
        Some(Protection::Public)
    );
    // Built-in routes declare theirs.
    assert_eq!(
        entry(&manifest, "POST", "/auth/token").protection,
        Some(Protection::Public)
    );
    assert!(matches!(
        entry(&manifest, "GET", "/auth/devices").protection,
        Some(Protection::Jwt {
            claims: "NoClaims",
            ..
        })
    ));
    // As JSON, for an admin route or a script.
    let json = serde_json::to_value(entry(&manifest, "GET", "/admin/stats")).unwrap_or_default();
    assert_eq!(json["protection"]["kind"], "jwt");
    assert_eq!(json["handler"], "admin_stats");
}

#[use_jwt]
#[get("/open-secret")]
fn guarded() -> &'static str {
    "guarded"
}

#[public]
#[get("/status")]
fn status() -> &'static str {
    "up"
}

#[get("/forgotten")]
fn forgotten() -> &'static str {
    "nobody decided about me"
}

async fn launch(require: bool, with_forgotten: bool) -> Result<Client, String> {
    let figment = base_figment(&temp_sqlite_url()).merge((
        "jwt",
        serde_json::json!({ "secret": TEST_SECRET, "require_protection": require }),
    ));
    let mut rocket = rocket::custom(figment)
        .attach(JwtGuard::fairing())
        .mount("/api", routes![guarded, status]);
    if with_forgotten {
        rocket = rocket.mount("/api", routes![forgotten]);
    }
    Client::tracked(rocket)
        .await
        .map_err(|e| format!("{:?}", e.kind()))
}

#[rocket::async_test]
async fn deny_by_default_refuses_to_launch_with_an_undeclared_route() {
    let refused = launch(true, true).await.err().unwrap_or_default();
    assert!(
        refused.contains("FailedFairings") && refused.contains("jwt-guard"),
        "an undeclared route must stop launch, by jwt-guard's fairing: {refused}"
    );
    let client = launch(true, false).await.unwrap_or_else(|e| panic!("{e}"));
    // Mounted under /api, still matched to its declaration.
    let manifest = JwtGuard::manifest(client.rocket());
    assert!(matches!(
        entry(&manifest, "GET", "/api/open-secret").protection,
        Some(Protection::Jwt {
            claims: "StandardClaims",
            ..
        })
    ));
    assert_eq!(
        entry(&manifest, "GET", "/api/status").protection,
        Some(Protection::Public)
    );
    // Off by default: launch goes on, and the route is listed as unprotected.
    let client = launch(false, true).await.unwrap_or_else(|e| panic!("{e}"));
    let manifest = JwtGuard::manifest(client.rocket());
    assert_eq!(entry(&manifest, "GET", "/api/forgotten").protection, None);
    let _ = StandardClaims::default();
}
