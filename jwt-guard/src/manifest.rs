//! The route-protection manifest: every jwt-guard attribute (`#[use_jwt]`,
//! `#[expiring_link]`, `#[permanent_refresh]`, `#[public]`) declares its route and
//! protection as data, collected at link time; matched against the routes Rocket
//! has mounted, it says how each one is protected, and which are not.

use rocket::http::Method;
use rocket::Route;
use serde::Serialize;

/// How a route is protected, as its attribute declared it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Protection {
    /// `#[use_jwt]`: an access token of the app's own (or of `issuer`).
    Jwt {
        /// The claims type, as written.
        claims: &'static str,
        /// The outside issuer whose tokens are accepted, if not the app's own.
        issuer: Option<&'static str>,
        /// The role expression, as written.
        role: Option<&'static str>,
        /// Required scopes, space-separated.
        scope: Option<&'static str>,
        /// The check function, as written.
        check: Option<&'static str>,
        /// Whether a request without a token still reaches the handler.
        optional: bool,
        /// Most seconds since login (`fresh`).
        fresh_secs: Option<u64>,
        /// Accepted authentication context classes (`acr`), space-separated.
        acr: Option<&'static str>,
        /// Whether only DPoP-bound tokens are accepted (`dpop`, RFC 9449).
        dpop: bool,
    },
    /// `#[expiring_link]`: a link token for this target.
    Link {
        /// The target links are minted for.
        target: &'static str,
        /// Uses per link; `None` for unlimited.
        max_uses: Option<u32>,
        /// Lifetime of a minted link, in seconds.
        ttl_secs: u64,
        /// Whether using the link logs the recipient in.
        login: bool,
        /// Whether a GET shows a confirmation page first.
        confirm: bool,
    },
    /// `#[permanent_refresh]`: a device's permanent token.
    PermanentRefresh,
    /// `#[public]`: deliberately open.
    Public,
    /// A caller that authenticates itself to the route: HTTP Basic client
    /// credentials, or an access token with `scope` (RFC 7662 introspection).
    Client {
        /// The scope an access token must carry instead of client credentials.
        scope: &'static str,
    },
    /// A token configured for this route alone (the Prometheus endpoint).
    StaticToken,
}

/// A route as an attribute declared it: registered by the macros, collected by
/// [`inventory`] from every crate in the binary.
#[derive(Debug)]
#[doc(hidden)]
pub struct DeclaredRoute {
    /// The handler's name (Rocket's route name).
    pub handler: &'static str,
    /// The route's method.
    pub method: Method,
    /// The route's path as written in the route attribute (mount point excluded).
    pub path: &'static str,
    /// Its protection.
    pub protection: Protection,
}

inventory::collect!(DeclaredRoute);

/// Declares one of jwt-guard's own routes (the macros do this for the app's).
macro_rules! declare_route {
    ($handler:ident, $method:ident, $path:literal, $protection:expr) => {
        inventory::submit! {
            $crate::manifest::DeclaredRoute {
                handler: stringify!($handler),
                method: rocket::http::Method::$method,
                path: $path,
                protection: $protection,
            }
        }
    };
}
pub(crate) use declare_route;

/// What jwt-guard's own routes that need an access token declare.
pub(crate) const OWN_ACCESS_TOKEN: Protection = Protection::Jwt {
    claims: "NoClaims",
    issuer: None,
    role: None,
    scope: None,
    check: None,
    optional: false,
    fresh_secs: None,
    acr: None,
    dpop: false,
};

/// One mounted route and its protection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RouteEntry {
    /// `GET`, `POST`, …
    pub method: String,
    /// The full path, mount point included.
    pub path: String,
    /// Rocket's rank.
    pub rank: isize,
    /// The handler's name.
    pub handler: Option<String>,
    /// How it is protected; `None` when no jwt-guard attribute declared it.
    pub protection: Option<Protection>,
}

/// The declaration of `route`: same handler name and method, and a mounted path
/// that ends with the declared one.
fn declaration_of(route: &Route) -> Option<&'static DeclaredRoute> {
    let name = route.name.as_deref()?;
    let path: &str = route.uri.path();
    inventory::iter::<DeclaredRoute>
        .into_iter()
        .filter(|d| d.handler == name && d.method == route.method)
        .filter(|d| path.ends_with(declared_path(d.path)))
        // The longest declared path is the most specific match.
        .max_by_key(|d| d.path.len())
}

/// The path part of a declared URI (before `?`), without a trailing `/` that Rocket
/// drops when mounting.
fn declared_path(uri: &str) -> &str {
    let path = uri.split('?').next().unwrap_or(uri);
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

/// The manifest of `routes`: each route, in Rocket's order, with its protection.
pub fn table<'a>(routes: impl Iterator<Item = &'a Route>) -> Vec<RouteEntry> {
    routes
        .map(|route| RouteEntry {
            method: route.method.as_str().to_owned(),
            path: route.uri.path().to_string(),
            rank: route.rank,
            handler: route.name.as_deref().map(str::to_owned),
            protection: declaration_of(route).map(|d| d.protection),
        })
        .collect()
}

/// Mounted routes that no jwt-guard attribute declared, one line each.
#[derive(Debug, thiserror::Error)]
#[error(
    "require_protection is on, and {} mounted route(s) carry none of #[use_jwt], \
     #[expiring_link], #[permanent_refresh] or #[public]:",
    .0.len()
)]
pub struct Undeclared(pub Vec<String>);

/// Deny by default: `Err` naming every route of `routes` without a declaration.
pub fn require_declared<'a>(routes: impl Iterator<Item = &'a Route>) -> Result<(), Undeclared> {
    let undeclared: Vec<String> = table(routes)
        .iter()
        .filter(|entry| entry.protection.is_none())
        .map(describe)
        .collect();
    if undeclared.is_empty() {
        Ok(())
    } else {
        Err(Undeclared(undeclared))
    }
}

/// One line of the manifest, as the launch log shows it.
pub(crate) fn describe(entry: &RouteEntry) -> String {
    let protection = match &entry.protection {
        None => "UNPROTECTED (no jwt-guard attribute)".to_owned(),
        Some(Protection::Public) => "public".to_owned(),
        Some(Protection::StaticToken) => "a configured token".to_owned(),
        Some(Protection::Client { scope }) => {
            format!("client credentials, or a token with scope `{scope}`")
        }
        Some(Protection::PermanentRefresh) => "permanent token".to_owned(),
        Some(Protection::Link { target, .. }) => format!("link `{target}`"),
        Some(Protection::Jwt {
            claims,
            issuer,
            role,
            scope,
            optional,
            dpop,
            ..
        }) => {
            let mut text = format!("jwt {claims}");
            if *dpop {
                text.push_str(" (DPoP-bound)");
            }
            if let Some(issuer) = issuer {
                text.push_str(&format!(" from `{issuer}`"));
            }
            if let Some(role) = role {
                text.push_str(&format!(", role {role}"));
            }
            if let Some(scope) = scope {
                text.push_str(&format!(", scope `{scope}`"));
            }
            if *optional {
                text.push_str(", optional");
            }
            text
        }
    };
    format!(
        "{} {} ({}): {protection}",
        entry.method,
        entry.path,
        entry.handler.as_deref().unwrap_or("unnamed")
    )
}

/// The manifest of the application serving the request, as a request guard: hand
/// it to an admin route (`Json(manifest.0)`).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RouteManifest(pub Vec<RouteEntry>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for RouteManifest {
    type Error = std::convert::Infallible;

    async fn from_request(
        req: &'r rocket::Request<'_>,
    ) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(RouteManifest(table(req.rocket().routes())))
    }
}
