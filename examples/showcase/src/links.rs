//! The showcase's expiring links: unsubscribe, verify e-mail, magic login, and a
//! scanner-safe confirmation. Links for the caller are returned to the caller (they
//! would be e-mailed in a real app, but they are the caller's own). A magic-login
//! link is for someone else — whoever owns the username — so it is *delivered*
//! (here to the development outbox, which admins may read) and never returned.

use jwt_guard::link::{DevOutbox, LinkError, LinkMessage};
use jwt_guard::store::JwtDb;
use jwt_guard::store::Store;
use jwt_guard::throttle::LoginThrottle;
use jwt_guard::{
    expiring_link, public, use_jwt, AuthError, CarriesCredentials, Jwt, LinkUse, Links, MintedLink,
};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};

use crate::api::{Detail, LinkLog, MagicLoginRequest, Revoked, Subscribed, Unsubscribed, Verified};
use crate::claims::{AppClaims, Role};

/// Mints an unsubscribe link for the caller.
#[use_jwt(claims = AppClaims)]
#[post("/links/unsubscribe")]
async fn mint_unsubscribe(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<MintedLink, AuthError> {
    links
        .mint::<unsubscribe>(jwt.subject())
        .await
        .map_err(AuthError::unavailable)
}

/// One click unsubscribes; the link works once, for a week.
#[expiring_link(unsubscribe, max_uses = 1, ttl = "7d")]
#[get("/newsletter/unsubscribe")]
fn unsubscribe(link: LinkUse) -> Json<Unsubscribed> {
    Json(Unsubscribed {
        unsubscribed: link.subject().to_owned(),
        link: link.link_id().to_owned(),
    })
}

/// Mints an e-mail verification link for the caller (a second target).
#[use_jwt(claims = AppClaims)]
#[post("/links/verify-email")]
async fn mint_verify_email(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<MintedLink, AuthError> {
    links
        .mint::<verify_email>(jwt.subject())
        .await
        .map_err(AuthError::unavailable)
}

/// Marks the recipient's e-mail as verified.
#[expiring_link(verify_email, max_uses = 1, ttl = "2d")]
#[get("/links/verify-email")]
fn verify_email_link(link: LinkUse) -> Json<Verified> {
    Json(Verified {
        verified: link.subject().to_owned(),
    })
}

/// Sends a magic-login link to `username`'s owner. Answers `202` with the same body
/// whether or not the user exists, and never the link itself.
#[public]
#[post("/links/magic-login", data = "<body>")]
async fn send_magic_login(
    content_type: Option<&rocket::http::ContentType>,
    body: Result<Json<MagicLoginRequest>, rocket::serde::json::Error<'_>>,
    links: &State<Links>,
    db: &State<JwtDb>,
    throttle: &State<LoginThrottle>,
    store: &State<Store>,
) -> Result<(Status, Json<Detail>), AuthError> {
    // JSON only, like a login: a form or `text/plain` post is what any page of
    // another site can send without asking.
    if !content_type.is_some_and(|ct| ct.is_json()) {
        return Err(AuthError::for_status(Status::UnsupportedMediaType));
    }
    let body = body.map_err(|_| AuthError::invalid_request("expected {\"username\": \"…\"}"))?;
    if body.username.is_empty() || body.username.len() > 64 {
        return Err(AuthError::invalid_request(
            "username must be 1 to 64 characters",
        ));
    }
    // At most a few mails per account and window — counted by the name asked for,
    // before the lookup, so a 429 says nothing about whether the account exists.
    throttle.limit_messages(store, &body.username).await?;
    let exists = crate::users::claims_of(db, &body.username)
        .await
        .map_err(AuthError::unavailable)?
        .is_some();
    if exists {
        match links.send::<magic_login>(&body.username).await {
            Ok(_) => {}
            Err(LinkError::Store(e)) => return Err(AuthError::unavailable(e)),
            // Delivery trouble is the operator's, and must not tell the caller
            // whether the account exists.
            Err(e) => rocket::error!("showcase: magic-login link not sent: {e}"),
        }
    }
    Ok((
        Status::Accepted,
        Json(Detail {
            detail: "if the account exists, a sign-in link is on its way".into(),
        }),
    ))
}

/// The development outbox: every delivered link (administrators only).
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/outbox")]
fn outbox(outbox: &State<DevOutbox>) -> CarriesCredentials<Json<Vec<LinkMessage>>> {
    CarriesCredentials(Json(outbox.messages()))
}

/// Logs the recipient in: a new device and its tokens. Opening the link shows a
/// confirmation page (so mail scanners and previews log nobody in); its button
/// POSTs here.
#[expiring_link(magic_login, login, confirm, max_uses = 1, ttl = "15m")]
#[post("/auth/magic")]
fn magic(link: LinkUse) -> Result<Json<jwt_guard::LoginResponse>, AuthError> {
    link.login()
        .cloned()
        .map(Json)
        .ok_or_else(|| AuthError::invalid_link("this link does not log in"))
}

/// Mints a newsletter confirmation link, safe against e-mail scanners: opening it
/// shows a page; only its button uses the link.
#[use_jwt(claims = AppClaims)]
#[post("/links/newsletter-confirm")]
async fn mint_confirm(jwt: Jwt<AppClaims>, links: &State<Links>) -> Result<MintedLink, AuthError> {
    links
        .mint::<confirm_subscription>(jwt.subject())
        .await
        .map_err(AuthError::unavailable)
}

/// Confirms the subscription (the POST from the confirmation page).
#[expiring_link(confirm_subscription, confirm, max_uses = 1, ttl = "3d")]
#[post("/newsletter/confirm")]
fn confirm_subscription_link(link: LinkUse) -> Json<Subscribed> {
    Json(Subscribed {
        subscribed: link.subject().to_owned(),
    })
}

/// Revokes one of the caller's links after it was sent.
#[use_jwt(claims = AppClaims)]
#[delete("/links/minted/<id>")]
async fn revoke_link(
    id: &str,
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<Status, AuthError> {
    let link = links.get(id).await.map_err(AuthError::unavailable)?;
    if link.as_ref().map(|l| l.subject.as_str()) != Some(jwt.subject()) {
        return Err(AuthError::not_found("no such link"));
    }
    links.revoke(id).await.map_err(AuthError::unavailable)?;
    Ok(Status::NoContent)
}

/// Revokes all of the caller's links.
#[use_jwt(claims = AppClaims)]
#[delete("/links")]
async fn revoke_all_links(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<Json<Revoked>, AuthError> {
    let n = links
        .revoke_all(jwt.subject())
        .await
        .map_err(AuthError::unavailable)?;
    Ok(Json(Revoked { revoked: n }))
}

/// The audit log of one link (administrators).
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/links/<id>/uses")]
async fn link_uses(id: &str, links: &State<Links>) -> Result<Json<LinkLog>, AuthError> {
    let link = links
        .get(id)
        .await
        .map_err(AuthError::unavailable)?
        .ok_or_else(|| AuthError::not_found("no such link"))?;
    let uses = links.uses(id).await.map_err(AuthError::unavailable)?;
    Ok(Json(LinkLog { link, uses }))
}

/// The link routes.
pub fn routes() -> Vec<Route> {
    routes![
        mint_unsubscribe,
        unsubscribe,
        mint_verify_email,
        verify_email_link,
        send_magic_login,
        outbox,
        magic,
        mint_confirm,
        confirm_subscription_link,
        revoke_link,
        revoke_all_links,
        link_uses
    ]
}
