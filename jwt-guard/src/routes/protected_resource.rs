//! RFC 9728 protected-resource metadata: `GET /.well-known/oauth-protected-resource`
//! and its path-inserted form (`…/oauth-protected-resource/mcp` for a resource
//! `https://host/mcp`, RFC 9728 §3.1). Mounted by the fairing when
//! `jwt.resource.resource` is set.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use rocket::http::Header;
use rocket::serde::json::Json;
use rocket::{get, routes, Request, Route, State};
use serde_json::{json, Map, Value};

use crate::config::JwtConfig;
use crate::error::{AuthError, Rejection};
use crate::manifest::{declare_route, table, Protection};
use crate::request::RequestRef;
use crate::runtime::JwtRuntime;

/// The metadata document, built on the first request (the route manifest is
/// complete by then) and kept.
#[derive(Default)]
pub(crate) struct ResourceMetadata(OnceLock<Value>);

/// The RFC 9728 §2 document of this app.
fn document(req: &Request<'_>, config: &JwtConfig) -> Value {
    let resource = &config.resource;
    let mut doc = Map::new();
    // §2 `resource`: byte for byte what is configured (§3.3 has clients compare it
    // with the identifier they asked about).
    doc.insert("resource".into(), json!(resource.resource));
    let servers = resource.authorization_servers.clone().unwrap_or_else(|| {
        let mut servers: Vec<String> = config.issuer.iter().cloned().collect();
        for issuer in &config.trusted_issuers {
            if !servers.contains(&issuer.issuer) {
                servers.push(issuer.issuer.clone());
            }
        }
        servers
    });
    if !servers.is_empty() {
        doc.insert("authorization_servers".into(), json!(servers));
    }
    let scopes = resource
        .scopes_supported
        .clone()
        .unwrap_or_else(|| route_scopes(req));
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

/// Every scope a mounted route requires, from the route manifest, sorted.
fn route_scopes(req: &Request<'_>) -> Vec<String> {
    let mut scopes = BTreeSet::new();
    for entry in table(req.rocket().routes()) {
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

/// The metadata answer: `200` JSON (§3.2), cacheable for an hour.
pub(crate) struct MetadataAnswer(Json<Value>);

impl<'r> rocket::response::Responder<'r, 'static> for MetadataAnswer {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut res = self.0.respond_to(req)?;
        res.set_header(Header::new("Cache-Control", "public, max-age=3600"));
        Ok(res)
    }
}

fn answer(
    req: &Request<'_>,
    rt: &JwtRuntime,
    kept: &ResourceMetadata,
) -> Result<MetadataAnswer, AuthError> {
    if rt.config().resource.resource.is_none() {
        return Err(Rejection::NoProtectedResource.into());
    }
    let doc = kept.0.get_or_init(|| document(req, rt.config()));
    Ok(MetadataAnswer(Json(doc.clone())))
}

#[get("/.well-known/oauth-protected-resource")]
fn metadata(
    req: RequestRef<'_>,
    rt: &State<JwtRuntime>,
    kept: &State<ResourceMetadata>,
) -> Result<MetadataAnswer, AuthError> {
    answer(req.0, rt, kept)
}

/// §3.1: the path-inserted form; only the resource's own path is served.
#[get("/.well-known/oauth-protected-resource/<_path..>")]
fn metadata_for_path(
    _path: PathBuf,
    req: RequestRef<'_>,
    rt: &State<JwtRuntime>,
    kept: &State<ResourceMetadata>,
) -> Result<MetadataAnswer, AuthError> {
    let served = rt.config().resource.metadata_path();
    if served.as_deref() != Some(req.0.uri().path().as_str()) {
        return Err(Rejection::NoResourceAtPath.into());
    }
    answer(req.0, rt, kept)
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
