//! The log of every attempt to use a link, written once the response is known.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rocket::http::Header;
use rocket::request::Request;
use rocket::response::Response;

use super::RecordedAttempt;
use crate::device_description::user_agent;
use crate::peer::{budget_key, client_addr, client_ip};
use crate::store::{LinkId, Store};

/// How many log rows requests without a valid link token may write, per client
/// address and minute (`invalid_link_logs_per_minute`); past it they are still
/// refused, just not logged.
pub(crate) struct UnverifiedLogBudget {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// Every so many checks, addresses whose budget has refilled are forgotten, so the
/// memory held stays bounded by the addresses seen recently.
const FORGET_EVERY: u64 = 1024;

impl UnverifiedLogBudget {
    pub(crate) fn new(per_minute: u32) -> Self {
        let n = std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(n)),
            checks: AtomicU64::new(0),
        }
    }

    fn allows(&self, ip: Option<IpAddr>) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.by_address.retain_recent();
        }
        // Requests with no address (local clients) share one budget.
        let key = ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        self.by_address.check_key(&key).is_ok()
    }
}

/// The status a link's handler is expected to answer with: a use logged in the
/// statement that counted it (PostgreSQL) carries it, and only a handler that
/// answers otherwise costs a second write.
pub(crate) const ASSUMED_STATUS: u16 = 200;

/// After the response: link headers, and one log row per attempt.
pub(crate) async fn finish_link_response(req: &Request<'_>, res: &mut Response<'_>) {
    let Some(attempt) = RecordedAttempt::get(req) else {
        return;
    };
    res.set_header(Header::new("Referrer-Policy", "no-referrer"));
    let Some(store) = req.rocket().state::<Store>() else {
        return;
    };
    if let Some(row) = &attempt.logged {
        let status = res.status().code;
        if status != ASSUMED_STATUS {
            if let Err(e) = store.set_link_use_status(row, status).await {
                rocket::warn!(
                    "jwt-guard: cannot log link use: {}",
                    crate::observe::Chain(&e)
                );
            }
        }
        return;
    }
    // Anyone can send requests without a verified link token, without limit: the
    // rows they write are budgeted per client address.
    if attempt.outcome.unverified() {
        let within = req
            .rocket()
            .state::<UnverifiedLogBudget>()
            .is_none_or(|budget| budget.allows(client_addr(req).map(budget_key)));
        if !within {
            return;
        }
    }
    let ip = client_ip(req);
    let user_agent = user_agent(req);
    if let Err(e) = store
        .log_link_use(
            attempt.link_id.as_deref().map(LinkId),
            attempt.target,
            ip.as_deref(),
            user_agent.as_deref(),
            res.status().code,
            attempt.outcome.as_str(),
            attempt.use_number,
        )
        .await
    {
        rocket::warn!(
            "jwt-guard: cannot log link use: {}",
            crate::observe::Chain(&e)
        );
    }
}
