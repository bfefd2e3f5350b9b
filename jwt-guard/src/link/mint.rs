//! Minting, revoking and inspecting links.

use std::sync::Arc;

use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Build, Rocket};
use serde::{Deserialize, Serialize};

use super::delivery::{DeliveryError, LinkMailer, LinkMessage};
use super::{LinkRoutes, LinkTarget, LINK_TOKEN_PARAM};
use crate::error::AuthError;
use crate::private_response::CarriesCredentials;
use crate::secret::random_id;
use crate::signer::{IssueError, Issuer};
use crate::store::{LinkId, LinkRecord, LinkUseRecord, Store, StoreError, Subject};

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

/// A freshly minted link. As a handler's answer it is JSON carrying a credential
/// (`Cache-Control: no-store`, `Pragma: no-cache`), on a protected route or a
/// public one: return it as it is rather than wrapped in `Json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[non_exhaustive]
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
    /// [`MintOptions`] asked for something impossible (zero uses, zero lifetime).
    #[error("invalid link options: {0}")]
    InvalidOptions(&'static str),
    /// [`Links::send`] was called but no [`LinkMailer`] is configured.
    #[error("no link mailer is configured; give one to `JwtGuard::link_mailer`")]
    NoMailer,
    /// The mailer failed; the minted link was revoked.
    #[error("cannot deliver link")]
    Delivery(#[from] DeliveryError),
}

/// A link minted and handed to the [`LinkMailer`]: what the sender may know (never
/// the URL).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[non_exhaustive]
pub struct SentLink {
    /// The link's id (to revoke it or read its log).
    pub id: String,
    /// When it expires.
    pub expires_at: u64,
}

impl<'r> Responder<'r, 'static> for MintedLink {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        CarriesCredentials(Json(self)).respond_to(req)
    }
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
    /// Uses instead of the route's `max_uses` (`Some(None)`: unlimited;
    /// `Some(Some(0))` is refused).
    pub max_uses: Option<Option<u32>>,
}

/// Mints, revokes and inspects expiring links. Take it as `&State<Links>`.
pub struct Links {
    store: Store,
    issuer: Issuer,
    base_url: String,
    routes: Arc<LinkRoutes>,
    mailer: Option<Arc<dyn LinkMailer>>,
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
        mailer: Option<Arc<dyn LinkMailer>>,
    ) -> Self {
        Self {
            store,
            issuer,
            base_url: base_url.trim_end_matches('/').to_owned(),
            routes,
            mailer,
        }
    }

    /// Mints a link to route `T` for `recipient` and delivers it through the
    /// configured [`LinkMailer`]. The URL is never returned: use this for links that
    /// go to someone other than the caller. If delivery fails the link is revoked.
    pub async fn send<T: LinkTarget>(&self, recipient: &str) -> Result<SentLink, LinkError> {
        let mailer = self.mailer.as_ref().ok_or(LinkError::NoMailer)?;
        let minted = self.mint::<T>(recipient).await?;
        let message = LinkMessage {
            recipient: recipient.to_owned(),
            target: T::TARGET.to_owned(),
            url: minted.url,
            link_id: minted.id.clone(),
            expires_at: minted.expires_at,
        };
        if let Err(e) = mailer.deliver(&message).await {
            // An undelivered link must not stay usable somewhere (a log, a queue).
            let _ = self.store.revoke_link(&minted.id).await;
            return Err(e.into());
        }
        Ok(SentLink {
            id: minted.id,
            expires_at: minted.expires_at,
        })
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
        if options.max_uses == Some(Some(0)) {
            return Err(LinkError::InvalidOptions(
                "max_uses must be at least 1 (None for unlimited)",
            ));
        }
        if options.ttl == Some(0) {
            return Err(LinkError::InvalidOptions("ttl must be at least 1 second"));
        }
        let ttl = options.ttl.unwrap_or(T::TTL_SECS);
        let max_uses = options
            .max_uses
            .unwrap_or((T::MAX_USES > 0).then_some(T::MAX_USES));
        let id = random_id();
        let token = self.issuer.link(subject, T::TARGET, &id, ttl)?;
        self.store
            .create_link(
                LinkId(&id),
                Subject(subject),
                T::TARGET,
                max_uses,
                token.claims.exp,
            )
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
