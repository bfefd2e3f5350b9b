//! RFC 9728 protected-resource metadata: `GET /.well-known/oauth-protected-resource`
//! for a resource without a path (the app as a whole) and the path-inserted form
//! for one with a path (`…/oauth-protected-resource/mcp` for `https://host/mcp`,
//! RFC 9728 §3.1) — each resource's own document at its own URL. Mounted by the
//! fairing when `jwt.resource` or `jwt.resources` names one.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use rocket::http::uri::{fmt::Path, Segments};
use rocket::http::Header;
use rocket::serde::json::Json;
use rocket::{get, routes, Request, Route, State};
use serde_json::{json, Map, Value};

use crate::config::{JwtConfig, ResourceConfig, RESOURCE_METADATA_PATH as WELL_KNOWN};
use crate::error::{AuthError, Rejection};
use crate::manifest::{declare_route, table, Protection};
use crate::request::RequestRef;
use crate::runtime::JwtRuntime;

/// Each resource's document by the path it is served at, built on the first
/// request (the route manifest is complete by then) and kept.
#[derive(Default)]
pub(crate) struct ResourceMetadata(OnceLock<Vec<(String, Value)>>);

/// The RFC 9728 §2 document of `resource`.
fn document(req: &Request<'_>, config: &JwtConfig, resource: &ResourceConfig) -> Value {
    let mut doc = Map::new();
    // §2 `resource`: byte for byte what is configured (§3.3 has clients compare it
    // with the identifier they asked about).
    doc.insert("resource".into(), json!(resource.resource));
    let servers = resource
        .authorization_servers
        .clone()
        .unwrap_or_else(|| route_issuers(req, config, resource));
    if !servers.is_empty() {
        doc.insert("authorization_servers".into(), json!(servers));
    }
    let scopes = resource
        .scopes_supported
        .clone()
        .unwrap_or_else(|| route_scopes(req, resource));
    doc.insert("scopes_supported".into(), json!(scopes));
    // §2 `bearer_methods_supported`: RFC 6750 methods; jwt-guard reads the
    // `Authorization` header (cookies are not an RFC 6750 method).
    doc.insert("bearer_methods_supported".into(), json!(["header"]));
    // RFC 9728 §2: the DPoP algorithms proofs may use, and whether only bound
    // tokens are accepted (RFC 9449 §5.1's names).
    if config.dpop.enabled() {
        let algs: Vec<String> = config
            .dpop
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect();
        doc.insert("dpop_signing_alg_values_supported".into(), json!(algs));
        doc.insert(
            "dpop_bound_access_tokens_required".into(),
            json!(config.dpop.mode == crate::config::DpopMode::Required),
        );
    }
    if let Some(name) = &resource.resource_name {
        doc.insert("resource_name".into(), json!(name));
    }
    if let Some(page) = &resource.resource_documentation {
        doc.insert("resource_documentation".into(), json!(page));
    }
    Value::Object(doc)
}

/// Every scope a mounted route of `resource` requires, from the route
/// manifest, sorted.
fn route_scopes(req: &Request<'_>, resource: &ResourceConfig) -> Vec<String> {
    let mut scopes = BTreeSet::new();
    for entry in table(req.rocket().routes()) {
        if !resource.covers(&entry.path) {
            continue;
        }
        if let Some(Protection::Jwt {
            scope: Some(scope), ..
        }) = entry.protection
        {
            scopes.extend(
                scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    scopes.into_iter().collect()
}

/// The issuers whose tokens the routes of `resource` take (a trusted issuer's
/// `issuer`, or `jwt.issuer` for the app's own tokens), in route order; every
/// issuer the app trusts when its routes name none.
fn route_issuers(req: &Request<'_>, config: &JwtConfig, resource: &ResourceConfig) -> Vec<String> {
    let mut named: Vec<&String> = Vec::new();
    for entry in table(req.rocket().routes()) {
        if !resource.covers(&entry.path) {
            continue;
        }
        if let Some(Protection::Jwt { issuer, .. }) = &entry.protection {
            match issuer {
                Some(name) => named.extend(
                    config
                        .trusted_issuers
                        .iter()
                        .filter(|i| i.name == *name)
                        .map(|i| &i.issuer),
                ),
                None => named.extend(config.issuer.iter()),
            }
        }
    }
    if named.is_empty() {
        named.extend(config.issuer.iter());
        named.extend(config.trusted_issuers.iter().map(|i| &i.issuer));
    }
    let mut servers: Vec<String> = Vec::new();
    for issuer in named {
        if !servers.contains(issuer) {
            servers.push(issuer.clone());
        }
    }
    servers
}

/// The metadata answer: `200` JSON (§3.2), cacheable for an hour.
pub(crate) struct MetadataAnswer(Json<Value>);

impl<'r> rocket::response::Responder<'r, 'static> for MetadataAnswer {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut res = self.0.respond_to(req)?;
        res.set_header(Header::new("Cache-Control", "public, max-age=3600"));
        Ok(res)
    }
}

/// The document served at `path`: the resource whose metadata lives there.
fn answer(
    req: &Request<'_>,
    rt: &JwtRuntime,
    kept: &ResourceMetadata,
    path: &str,
) -> Result<MetadataAnswer, AuthError> {
    let config = rt.config();
    let documents = kept.0.get_or_init(|| {
        config
            .protected_resources()
            .filter_map(|r| Some((r.metadata_path()?, document(req, config, r))))
            .collect()
    });
    match documents.iter().find(|(served, _)| served == path) {
        Some((_, doc)) => Ok(MetadataAnswer(Json(doc.clone()))),
        None if path == WELL_KNOWN => Err(Rejection::NoProtectedResource.into()),
        None => Err(Rejection::NoResourceAtPath.into()),
    }
}

#[get("/.well-known/oauth-protected-resource")]
fn metadata(
    req: RequestRef<'_>,
    rt: &State<JwtRuntime>,
    kept: &State<ResourceMetadata>,
) -> Result<MetadataAnswer, AuthError> {
    answer(req.0, rt, kept, WELL_KNOWN)
}

/// §3.1: the path-inserted form. Any segments are taken (none can fail to
/// parse), and only a resource's own path is served.
#[get("/.well-known/oauth-protected-resource/<_path..>")]
fn metadata_for_path(
    _path: Segments<'_, Path>,
    req: RequestRef<'_>,
    rt: &State<JwtRuntime>,
    kept: &State<ResourceMetadata>,
) -> Result<MetadataAnswer, AuthError> {
    answer(req.0, rt, kept, req.0.uri().path().as_str())
}

declare_route!(
    metadata,
    Get,
    "/.well-known/oauth-protected-resource",
    Protection::Public
);
declare_route!(
    metadata_for_path,
    Get,
    "/.well-known/oauth-protected-resource/<_path..>",
    Protection::Public
);

/// The RFC 9728 metadata routes (the fairing mounts them at `/` when a resource
/// is configured: the well-known location is fixed by the host, not the API's
/// mount point).
pub fn protected_resource_routes() -> Vec<Route> {
    routes![metadata, metadata_for_path]
}
