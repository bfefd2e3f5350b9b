//! How routes are protected, as OpenAPI says it: `components.securitySchemes`
//! and each operation's `security`, with an `x-jwt-guard` extension for what
//! OpenAPI cannot say (roles, `fresh`, `acr`, the check function).

use serde_json::{json, Map, Value};

use crate::config::JwtConfig;
use crate::device::PERMANENT_TOKEN_HEADER;
use crate::link::LINK_TOKEN_PARAM;
use crate::manifest::Protection;

/// The scheme names this document uses.
const BEARER: &str = "bearer";
const ACCESS_COOKIE: &str = "accessCookie";
const DPOP: &str = "dpop";
const PERMANENT: &str = "permanentToken";
const LINK: &str = "linkToken";
const CLIENT: &str = "introspectionClient";
const STATIC: &str = "staticToken";

/// The scheme name of the outside issuer `name`.
pub(super) fn issuer_scheme(name: &str) -> String {
    format!("issuer_{name}")
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
pub(super) fn security_of(
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

#[cfg(test)]
mod tests {
    use super::*;

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
