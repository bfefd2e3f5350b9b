//! The one background task: keeps this instance's revocations current and, if
//! asked, runs the archiver, until Rocket shuts down.

use std::time::Duration;

use crate::store::{Announcement, RevocationCursor, RevocationListener, Store, StoreError};
use crate::throttle::LoginThrottle;

/// How often client addresses whose login budget has refilled are forgotten.
const FORGET_ADDRESSES_EVERY: Duration = Duration::from_secs(60);

/// Keeps revocations current (and archives, if asked) until shutdown: PostgreSQL
/// announces each revocation (`LISTEN`/`NOTIFY`), and polling every `poll` is the
/// fallback that bounds staleness on SQLite and across a lost notification.
pub(crate) async fn keep_current(
    store: Store,
    throttle: Option<LoginThrottle>,
    mut cursor: RevocationCursor,
    poll: Duration,
    archive: Option<Duration>,
    listen: bool,
    mut shutdown: rocket::Shutdown,
) {
    let mut poll_timer = rocket::tokio::time::interval(poll);
    let mut archive_timer =
        rocket::tokio::time::interval(archive.unwrap_or(Duration::from_secs(3600)));
    let mut forget_timer = rocket::tokio::time::interval(FORGET_ADDRESSES_EVERY);
    let announced = if listen { store.listen().await } else { None };
    let mut listener = match announced {
        Some(Ok(listener)) => Some(listener),
        Some(Err(e)) => {
            rocket::warn!(
                "jwt-guard: cannot LISTEN for revocations, polling only: {}",
                crate::observe::Chain(&e)
            );
            None
        }
        None => None,
    };
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => break,
            _ = poll_timer.tick() => {
                match store.poll_revocations(cursor).await {
                    Ok(next) => {
                        cursor = next;
                        store.flush_pending_logouts().await;
                        let (tokens, devices, subjects) = store.revocations().counts();
                        crate::observe::revocation_set_size(tokens + devices + subjects);
                    }
                    Err(e) => rocket::warn!("jwt-guard: revocation poll failed: {}", crate::observe::Chain(&e)),
                }
            }
            notice = next_announcement(&mut listener) => match notice {
                Ok(Some(announced)) => {
                    let revocations = store.revocations();
                    if let (false, Some(at)) =
                        (revocations.covers(&announced.revocation), announced.committed_ms)
                    {
                        crate::observe::revocation_arrived(at);
                    }
                    store.apply_revocation(&announced.revocation);
                }
                Ok(None) => {}
                Err(e) => {
                    // The listener reconnects by itself; an announcement may have
                    // been lost meanwhile, so read what the poll would have.
                    rocket::warn!("jwt-guard: revocation listener: {}", crate::observe::Chain(&e));
                    if let Ok(next) = store.poll_revocations(cursor).await {
                        cursor = next;
                    }
                }
            },
            _ = forget_timer.tick() => {
                if let Some(throttle) = &throttle {
                    throttle.forget_idle_addresses();
                }
            }
            _ = archive_timer.tick(), if archive.is_some() => {
                if let Err(e) = store.archive().await {
                    rocket::warn!("jwt-guard: archiver failed: {}", crate::observe::Chain(&e));
                }
            }
        }
    }
}

/// The next announced revocation; pends forever without a listener.
async fn next_announcement(
    listener: &mut Option<RevocationListener>,
) -> Result<Option<Announcement>, StoreError> {
    match listener {
        Some(listener) => listener.recv().await,
        None => std::future::pending().await,
    }
}
