//! The log of every attempt to use a link, written once the response is known.

use rocket::http::Header;
use rocket::request::Request;
use rocket::response::Response;

use super::RecordedAttempt;
use crate::client::{client_ip, user_agent};
use crate::private_response::mark_private;
use crate::store::Store;

/// After the response: link headers, and one log row per attempt.
pub(crate) async fn finish_link_response(req: &Request<'_>, res: &mut Response<'_>) {
    let Some(attempt) = RecordedAttempt::get(req) else {
        return;
    };
    res.set_header(Header::new("Referrer-Policy", "no-referrer"));
    mark_private(req);
    let Some(store) = req.rocket().state::<Store>() else {
        return;
    };
    let ip = client_ip(req);
    let user_agent = user_agent(req);
    if let Err(e) = store
        .log_link_use(
            attempt.link_id.as_deref(),
            attempt.target,
            ip.as_deref(),
            user_agent.as_deref(),
            res.status().code,
            attempt.outcome,
            attempt.use_number,
        )
        .await
    {
        rocket::warn!("jwt-guard: cannot log link use: {e}");
    }
}
