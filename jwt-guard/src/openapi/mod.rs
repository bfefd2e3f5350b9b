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

mod builtin;
mod operation;
mod security;

use rocket::http::Method;
use serde_json::{json, Map, Value};

use crate::config::JwtConfig;
use crate::manifest::RouteEntry;
use crate::runtime::JwtRuntime;

use operation::Schemas;
pub use operation::{ErrorBody, Operation};
use security::security_of;
pub use security::security_schemes;

/// The path segment of jwt-guard's internal routes, left out of the document.
const INTERNAL_PREFIX: &str = "/__jwt_guard/";

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
    of_rocket_with(rocket, title, version, &[]).await
}

/// [`of_rocket`], with the app's own routes described (see [`document_with`]).
pub async fn of_rocket_with(
    rocket: rocket::Rocket<rocket::Build>,
    title: &str,
    version: &str,
    described: &[(Method, &str, Operation)],
) -> Result<Value, rocket::Error> {
    let rocket = rocket.ignite().await?;
    let config = rocket
        .state::<JwtRuntime>()
        .map(|rt| rt.config().clone())
        .unwrap_or_default();
    Ok(document_with(
        &crate::manifest::table(rocket.routes()),
        &config,
        title,
        version,
        described,
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

/// A whole OpenAPI 3.1 document for `routes`: `info`, one operation per route
/// (with its path parameters, its `security` and an `x-jwt-guard` extension of
/// what OpenAPI cannot say: roles, `fresh`, `acr`, the check function), and the
/// security schemes they use. jwt-guard's own routes are described whole —
/// bodies, parameters and every answer, from their types; describe the app's own
/// with [`document_with`].
pub fn document(routes: &[RouteEntry], config: &JwtConfig, title: &str, version: &str) -> Value {
    document_with(routes, config, title, version, &[])
}

/// [`document`], with the app's own routes described too: each `(method, path,
/// operation)` names a route by its method and its full path as Rocket mounts it
/// (`/notes/<id>`). A protected route answers 401 and 403 whether or not its
/// description says so.
///
/// ```
/// use jwt_guard::openapi::{document_with, Operation};
/// use rocket::http::Method;
/// # #[derive(serde::Serialize, schemars::JsonSchema)] struct Me { sub: String }
/// # fn f(routes: &[jwt_guard::manifest::RouteEntry], config: &jwt_guard::config::JwtConfig) {
/// let described = [(Method::Get, "/me", Operation::new("Who the token speaks for").answers::<Me>(200, "the caller"))];
/// let doc = document_with(routes, config, "My API", "1.0.0", &described);
/// # }
/// ```
pub fn document_with(
    routes: &[RouteEntry],
    config: &JwtConfig,
    title: &str,
    version: &str,
    described: &[(Method, &str, Operation)],
) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut ids = std::collections::HashSet::new();
    let mut schemas = Schemas::new();
    let own = builtin::operations();
    for route in routes {
        // Where jwt-guard routes requests internally (link previews, misplaced
        // permanent tokens): not part of the API.
        if route.path.contains(INTERNAL_PREFIX) {
            continue;
        }
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
        let method = route.method.to_uppercase();
        let description = described
            .iter()
            .find(|(m, path, _)| m.as_str() == method && *path == route.path)
            .or_else(|| {
                own.iter()
                    .find(|(m, suffix, _)| m.as_str() == method && route.path.ends_with(suffix))
            })
            .map(|(_, _, op)| op);
        // A route that takes credentials refuses bad ones with 401, an optional
        // one too; one that requires them refuses too few rights with 403.
        let takes_credentials = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        match description {
            Some(op) => {
                // Any route refuses a `Permanent-Token` header it does not take
                // (drf-jwt-devices' rule): 400.
                let mut op = op.clone().errors(&[400]);
                if takes_credentials {
                    op = op.errors(&[401]);
                }
                if protected {
                    op = op.errors(&[403]);
                }
                op.write(&mut operation, &mut schemas);
            }
            None => {
                operation.insert("responses".into(), undescribed_responses(protected));
            }
        }
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

/// What a route nobody described answers, as far as its protection says.
fn undescribed_responses(protected: bool) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "default".into(),
        json!({ "description": "the route's answer (not described)" }),
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
    Value::Object(responses)
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
}
