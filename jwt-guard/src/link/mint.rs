//! Minting, revoking and inspecting links.

use std::sync::Arc;

use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::{Build, Rocket};
use serde::{Deserialize, Serialize};

use super::{LinkRoutes, LinkTarget, LINK_TOKEN_PARAM};
use crate::error::AuthError;
use crate::issuer::{IssueError, Issuer};
use crate::secret::random_id;
use crate::store::{LinkRecord, LinkUseRecord, Store, StoreError};

/// `http://address:port` from Rocket's own configuration: where links point when
/// `link_base_url` is not set. Never taken from a request's `Host` header.
pub(crate) fn default_base_url(rocket: &Rocket<Build>) -> String {
    let figment = rocket.figment();
    let address = figment
        .extract_inner::<std::net::IpAddr>("address")
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let port = figment.extract_inner::<u16>("port").unwrap_or(8000);
    match address {
        std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        v4 => format!("http://{v4}:{port}"),
    }
}

/// A freshly minted link.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MintedLink {
    /// The link's id (to revoke it or read its log).
    pub id: String,
    /// The full URL to send.
    pub url: String,
    /// When it expires.
    pub expires_at: u64,
    /// Uses allowed; `None` for unlimited until expiry.
    pub max_uses: Option<u32>,
}

/// Why a link could not be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The target route is not mounted on this Rocket.
    #[error("link target `{0}` is not mounted")]
    NotMounted(&'static str),
    /// The link token could not be signed.
    #[error("cannot mint link")]
    Sign(#[from] IssueError),
    /// The link's row could not be stored.
    #[error("cannot mint link")]
    Store(#[from] StoreError),
}

impl<'r> Responder<'r, 'static> for LinkError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        AuthError::unavailable(self).respond_to(req)
    }
}

/// Per-link overrides of the route's defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct MintOptions {
    /// Lifetime in seconds instead of the route's `ttl`.
    pub ttl: Option<u64>,
    /// Uses instead of the route's `max_uses` (`Some(None)`: unlimited).
    pub max_uses: Option<Option<u32>>,
}

/// Mints, revokes and inspects expiring links. Take it as `&State<Links>`.
pub struct Links {
    store: Store,
    issuer: Issuer,
    base_url: String,
    routes: Arc<LinkRoutes>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Links {
    pub(crate) fn new(
        store: Store,
        issuer: Issuer,
        base_url: String,
        routes: Arc<LinkRoutes>,
    ) -> Self {
        Self {
            store,
            issuer,
            base_url: base_url.trim_end_matches('/').to_owned(),
            routes,
        }
    }

    /// Mints a link to route `T` for `subject` with the route's own `ttl` and
    /// `max_uses`, and returns its full URL.
    pub async fn mint<T: LinkTarget>(&self, subject: &str) -> Result<MintedLink, LinkError> {
        self.mint_with::<T>(subject, MintOptions::default()).await
    }

    /// Mints a link to route `T` with overrides.
    pub async fn mint_with<T: LinkTarget>(
        &self,
        subject: &str,
        options: MintOptions,
    ) -> Result<MintedLink, LinkError> {
        let path = self
            .routes
            .path_of(T::TARGET)
            .ok_or(LinkError::NotMounted(T::TARGET))?;
        let ttl = options.ttl.unwrap_or(T::TTL_SECS);
        let max_uses = options
            .max_uses
            .unwrap_or((T::MAX_USES > 0).then_some(T::MAX_USES))
            .filter(|m| *m > 0);
        let id = random_id();
        let token = self.issuer.link(subject, T::TARGET, &id, ttl)?;
        self.store
            .create_link(&id, subject, T::TARGET, max_uses, token.claims.exp)
            .await?;
        Ok(MintedLink {
            url: format!("{}{path}?{LINK_TOKEN_PARAM}={}", self.base_url, token.token),
            id,
            expires_at: token.claims.exp,
            max_uses,
        })
    }

    /// Revokes a link after it was sent; returns whether it was live.
    pub async fn revoke(&self, link_id: &str) -> Result<bool, StoreError> {
        self.store.revoke_link(link_id).await
    }

    /// Revokes every live link of `subject`; returns how many.
    pub async fn revoke_all(&self, subject: &str) -> Result<u64, StoreError> {
        self.store.revoke_links_of(subject).await
    }

    /// A link's row.
    pub async fn get(&self, link_id: &str) -> Result<Option<LinkRecord>, StoreError> {
        self.store.link(link_id).await
    }

    /// Every attempt to use a link, oldest first.
    pub async fn uses(&self, link_id: &str) -> Result<Vec<LinkUseRecord>, StoreError> {
        self.store.link_uses(link_id).await
    }
}
