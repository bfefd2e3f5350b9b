//! The security part of an OpenAPI 3.1 document, from the route manifest: how
//! every mounted route is protected, said the way OpenAPI clients and tools read
//! it — `components.securitySchemes` and each operation's `security`.
//!
//! ```no_run
//! use jwt_guard::manifest::RouteManifest;
//! use jwt_guard::runtime::JwtRuntime;
//! use jwt_guard::public;
//! use rocket::{get, State};
//! use rocket::serde::json::{Json, Value};
//!
//! #[public]
//! #[get("/openapi.json")]
//! fn openapi(manifest: RouteManifest, rt: &State<JwtRuntime>) -> Json<Value> {
//!     Json(jwt_guard::openapi::document(&manifest.0, rt.config(), "My API", "1.0.0"))
//! }
//! ```

use serde_json::{json, Map, Value};

use crate::config::JwtConfig;
use crate::device::PERMANENT_TOKEN_HEADER;
use crate::link::LINK_TOKEN_PARAM;
use crate::manifest::{Protection, RouteEntry};
use crate::runtime::JwtRuntime;

/// The command-line flag with which an app binary prints its document and exits
/// (see [`of_rocket`]); `jwt-guard openapi --app <binary>` passes it.
pub const PRINT_FLAG: &str = "--print-openapi";

/// The document of an application as it would launch: `rocket` is ignited — its
/// fairings run, jwt-guard mounts its own routes — but not launched, and the
/// manifest of every mounted route is described. For an app's `main`:
///
/// ```no_run
/// # async fn f(rocket: rocket::Rocket<rocket::Build>) {
/// if std::env::args().any(|a| a == jwt_guard::openapi::PRINT_FLAG) {
///     match jwt_guard::openapi::of_rocket(rocket, "My API", "1.0.0").await {
///         Ok(doc) => println!("{doc:#}"),
///         Err(e) => eprintln!("{e}"),
///     }
///     return;
/// }
/// # }
/// ```
pub async fn of_rocket(
    rocket: rocket::Rocket<rocket::Build>,
    title: &str,
    version: &str,
) -> Result<Value, rocket::Error> {
    let rocket = rocket.ignite().await?;
    let config = rocket
        .state::<JwtRuntime>()
        .map(|rt| rt.config().clone())
        .unwrap_or_default();
    Ok(document(
        &crate::manifest::table(rocket.routes()),
        &config,
        title,
        version,
    ))
}

/// Merges the security of `ours` (a [`document`]) into `target`, another OpenAPI
/// document of the same app (one utoipa or a hand-written file describes):
/// `components.securitySchemes` gains jwt-guard's schemes, and every operation of
/// `target` that `ours` knows (same path template and method) gets its `security`
/// and `x-jwt-guard`. Operations `ours` does not know are left alone; none are
/// added.
pub fn merge_security(target: &mut Value, ours: &Value) {
    let Some(target) = target.as_object_mut() else {
        return;
    };
    if let Some(schemes) = ours["components"]["securitySchemes"].as_object() {
        let components = target.entry("components").or_insert_with(|| json!({}));
        if let Some(components) = components.as_object_mut() {
            let existing = components
                .entry("securitySchemes")
                .or_insert_with(|| json!({}));
            if let Some(existing) = existing.as_object_mut() {
                for (name, scheme) in schemes {
                    existing.insert(name.clone(), scheme.clone());
                }
            }
        }
    }
    let Some(paths) = target.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let known = &ours["paths"][path.as_str()][method.as_str()];
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            for key in ["security", "x-jwt-guard"] {
                if let Some(value) = known.get(key) {
                    operation.insert(key.to_owned(), value.clone());
                }
            }
        }
    }
}

/// A `utoipa::Modify` (feature `utoipa`) that adds jwt-guard's security to the
/// document utoipa builds — what utoipa cannot see through Rocket request guards.
/// Build it with the manifest of the running app (a [`RouteManifest`] guard, or
/// [`of_rocket`]'s routes), then `UtoipaSecurity::new(…).modify(&mut doc)`.
///
/// [`RouteManifest`]: crate::manifest::RouteManifest
#[cfg(feature = "utoipa")]
#[derive(Clone, Debug)]
pub struct UtoipaSecurity {
    ours: Value,
}

#[cfg(feature = "utoipa")]
impl UtoipaSecurity {
    /// The security of `routes` under `config`.
    pub fn new(routes: &[RouteEntry], config: &JwtConfig) -> Self {
        Self {
            ours: document(routes, config, "", ""),
        }
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::Modify for UtoipaSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Through JSON: utoipa's types round-trip, and one merge serves every
        // document shape.
        let Ok(mut value) = serde_json::to_value(&*openapi) else {
            return;
        };
        merge_security(&mut value, &self.ours);
        if let Ok(merged) = serde_json::from_value(value) {
            *openapi = merged;
        }
    }
}

/// The scheme names this document uses.
const BEARER: &str = "bearer";
const ACCESS_COOKIE: &str = "accessCookie";
const DPOP: &str = "dpop";
const PERMANENT: &str = "permanentToken";
const LINK: &str = "linkToken";
const CLIENT: &str = "introspectionClient";
const STATIC: &str = "staticToken";

/// The scheme name of the outside issuer `name`.
fn issuer_scheme(name: &str) -> String {
    format!("issuer_{name}")
}

/// A whole OpenAPI 3.1 document for `routes`: `info`, one operation per route
/// (with its path parameters, its `security` and an `x-jwt-guard` extension of
/// what OpenAPI cannot say: roles, `fresh`, `acr`, the check function), and the
/// security schemes they use. Apps that describe their schemas elsewhere merge
/// `paths.*.*.security` and `components.securitySchemes` into theirs.
pub fn document(routes: &[RouteEntry], config: &JwtConfig, title: &str, version: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut ids = std::collections::HashSet::new();
    for route in routes {
        let (template, parameters) = openapi_path(&route.path);
        let mut operation = Map::new();
        if let Some(handler) = &route.handler {
            // Unique in the document (OpenAPI 3.1 §4.8.10): two handlers of one name
            // in different modules get a number.
            let base = format!("{}_{}", route.method.to_lowercase(), handler);
            let id = (1..)
                .map(|n| match n {
                    1 => base.clone(),
                    n => format!("{base}_{n}"),
                })
                .find(|id| !ids.contains(id))
                .unwrap_or(base);
            ids.insert(id.clone());
            operation.insert("operationId".into(), json!(id));
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        let (security, extension, protected) = security_of(route.protection.as_ref(), config);
        if let Some(security) = security {
            operation.insert("security".into(), security);
        }
        operation.insert("x-jwt-guard".into(), extension);
        let mut responses = Map::new();
        responses.insert(
            "default".into(),
            json!({ "description": "the route's answer" }),
        );
        if protected {
            responses.insert(
                "401".into(),
                json!({ "description": "no valid credentials (RFC 6750 challenge in WWW-Authenticate)" }),
            );
            responses.insert(
                "403".into(),
                json!({ "description": "valid credentials without the role or scope the route needs" }),
            );
        }
        operation.insert("responses".into(), Value::Object(responses));
        let item = paths
            .entry(template)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(route.method.to_lowercase(), Value::Object(operation));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": version },
        "paths": paths,
        "components": { "securitySchemes": security_schemes(config) },
    })
}

/// Every scheme a route of this app may ask for.
pub fn security_schemes(config: &JwtConfig) -> Value {
    let mut schemes = Map::new();
    schemes.insert(
        BEARER.into(),
        json!({
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "an access token of this app (`Authorization: Bearer …`)",
        }),
    );
    if config.dpop.enabled() {
        schemes.insert(
            DPOP.into(),
            json!({
                // (OpenAPI allows `bearerFormat` with the `bearer` scheme only.)
                "type": "http", "scheme": "DPoP",
                "description": format!(
                    "an access token bound to the client's key, with a `DPoP` proof header \
                     (RFC 9449; proof algorithms: {})",
                    config.dpop.algorithm_names()
                ),
            }),
        );
    }
    if config.cookies.enabled && config.cookies.access_cookie {
        schemes.insert(
            ACCESS_COOKIE.into(),
            json!({
                "type": "apiKey", "in": "cookie", "name": config.cookies.access_name,
                "description": "the access token in its HttpOnly cookie (cookie mode; `__Host-` prefixed when Secure)",
            }),
        );
    }
    schemes.insert(
        PERMANENT.into(),
        json!({
            "type": "apiKey", "in": "header", "name": PERMANENT_TOKEN_HEADER,
            "description": "a device's permanent token",
        }),
    );
    schemes.insert(
        LINK.into(),
        json!({
            "type": "apiKey", "in": "query", "name": LINK_TOKEN_PARAM,
            "description": "the token of an expiring link",
        }),
    );
    schemes.insert(
        CLIENT.into(),
        json!({
            "type": "http", "scheme": "basic",
            "description": "a client of `jwt.introspection_clients`",
        }),
    );
    schemes.insert(
        STATIC.into(),
        json!({
            "type": "http", "scheme": "bearer",
            "description": "a token configured for the route alone (the metrics endpoint)",
        }),
    );
    for issuer in &config.trusted_issuers {
        let scheme = match &issuer.discovery {
            Some(discovery) => {
                let url = if discovery.contains("/.well-known/") {
                    discovery.clone()
                } else {
                    format!(
                        "{}/.well-known/openid-configuration",
                        discovery.trim_end_matches('/')
                    )
                };
                json!({
                    "type": "openIdConnect", "openIdConnectUrl": url,
                    "description": format!("an access token of `{}`", issuer.issuer),
                })
            }
            None => json!({
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": format!("an access token of `{}`", issuer.issuer),
            }),
        };
        schemes.insert(issuer_scheme(&issuer.name), scheme);
    }
    Value::Object(schemes)
}

/// The operation's `security` (`None`: undeclared, nothing can be said), its
/// `x-jwt-guard` extension, and whether it refuses requests without credentials.
fn security_of(
    protection: Option<&Protection>,
    config: &JwtConfig,
) -> (Option<Value>, Value, bool) {
    let Some(protection) = protection else {
        return (None, json!({ "protection": "undeclared" }), false);
    };
    match protection {
        Protection::Public => (Some(json!([])), json!({ "protection": "public" }), false),
        Protection::PermanentRefresh => (
            Some(json!([{ PERMANENT: [] }])),
            json!({ "protection": "permanent_refresh" }),
            true,
        ),
        Protection::Link {
            target,
            max_uses,
            ttl_secs,
            login,
            confirm,
        } => (
            Some(json!([{ LINK: [] }])),
            json!({
                "protection": "link", "target": target, "max_uses": max_uses,
                "ttl_secs": ttl_secs, "login": login, "confirm": confirm,
            }),
            true,
        ),
        Protection::StaticToken => (
            Some(json!([{ STATIC: [] }])),
            json!({ "protection": "static_token" }),
            true,
        ),
        Protection::Client { scope } => (
            Some(json!([{ CLIENT: [] }, { BEARER: [scope] }])),
            json!({ "protection": "client" }),
            true,
        ),
        Protection::Jwt {
            claims,
            issuer,
            role,
            scope,
            check,
            optional,
            fresh_secs,
            acr,
            dpop,
        } => {
            let scopes: Vec<&str> = scope
                .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            let mut alternatives = Vec::new();
            match issuer {
                Some(name) => alternatives.push(json!({ issuer_scheme(name): scopes })),
                // A route that takes bound tokens only, or an app that does.
                None if *dpop || config.dpop.mode == crate::config::DpopMode::Required => {
                    alternatives.push(json!({ DPOP: scopes }));
                }
                None => {
                    alternatives.push(json!({ BEARER: scopes }));
                    if config.dpop.enabled() {
                        alternatives.push(json!({ DPOP: scopes }));
                    }
                    if config.cookies.enabled && config.cookies.access_cookie {
                        alternatives.push(json!({ ACCESS_COOKIE: scopes }));
                    }
                }
            }
            // `optional`: no credentials at all is fine too (OpenAPI's `{}`).
            if *optional {
                alternatives.push(json!({}));
            }
            let mut extension = Map::new();
            extension.insert("protection".into(), json!("jwt"));
            extension.insert("claims".into(), json!(claims));
            for (key, value) in [
                ("issuer", json!(issuer)),
                ("role", json!(role)),
                ("check", json!(check)),
                ("fresh_secs", json!(fresh_secs)),
                ("acr", json!(acr)),
                ("dpop", json!(dpop.then_some(true))),
            ] {
                if !value.is_null() {
                    extension.insert(key.into(), value);
                }
            }
            (
                Some(Value::Array(alternatives)),
                Value::Object(extension),
                !optional,
            )
        }
    }
}

/// A Rocket path as an OpenAPI path template, and its path parameters:
/// `/auth/devices/<id>` → `/auth/devices/{id}`; `<rest..>` → `{rest}`; a
/// parameter Rocket ignores (`<_>`, `<_rest..>`) gets a name of its own.
fn openapi_path(path: &str) -> (String, Vec<Value>) {
    let mut parameters = Vec::new();
    let segments: Vec<String> = path
        .split('/')
        .enumerate()
        .map(|(i, segment)| {
            let Some(inner) = segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) else {
                return segment.to_owned();
            };
            let name = inner.trim_end_matches("..").trim_start_matches('_');
            let name = if name.is_empty() {
                format!("segment{i}")
            } else {
                name.to_owned()
            };
            parameters.push(json!({
                "name": name, "in": "path", "required": true,
                "schema": { "type": "string" },
            }));
            format!("{{{name}}}")
        })
        .collect();
    (segments.join("/"), parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rocket_paths_become_templates_with_parameters() {
        let (path, params) = openapi_path("/auth/devices/<id>/tokens");
        assert_eq!(path, "/auth/devices/{id}/tokens");
        assert_eq!(params.len(), 1);
        let (path, params) = openapi_path("/.well-known/oauth-protected-resource/<_path..>");
        assert_eq!(path, "/.well-known/oauth-protected-resource/{path}");
        assert_eq!(params[0]["name"], "path");
        assert_eq!(openapi_path("/").0, "/");
    }

    #[test]
    fn optional_routes_admit_no_credentials() {
        let protection = Protection::Jwt {
            claims: "C",
            issuer: None,
            role: None,
            scope: Some("a b"),
            check: None,
            optional: true,
            fresh_secs: Some(300),
            acr: None,
            dpop: false,
        };
        let (security, extension, protected) =
            security_of(Some(&protection), &JwtConfig::default());
        assert_eq!(security, Some(json!([{ "bearer": ["a", "b"] }, {}])));
        assert_eq!(extension["fresh_secs"], 300);
        assert!(!protected);
    }
}
