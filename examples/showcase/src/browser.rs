//! `GET /app`: a small page (HTML and plain JavaScript, no build step) that uses
//! cookie mode as a browser app would: log in (with a password or a passkey, the
//! latter also offered in the username field's autofill), call `/me`, refresh
//! through the `HttpOnly` cookie, list devices, add a passkey, open a route that
//! needs a phishing-resistant sign-in (stepping up with a passkey), log out.

use jwt_guard::public;
use rocket::http::Header;
use rocket::{get, routes, Responder, Route};

const PAGE: &str = include_str!("../static/app.html");

/// The page, with headers that keep it to itself.
#[derive(Responder)]
#[response(content_type = "html")]
struct Page {
    html: &'static str,
    csp: Header<'static>,
    frames: Header<'static>,
}

#[public]
#[get("/app")]
fn app_page() -> Page {
    Page {
        html: PAGE,
        // Its one inline script and style; requests to this site only; no frames.
        csp: Header::new(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        frames: Header::new("X-Frame-Options", "DENY"),
    }
}

/// The browser page's route.
pub fn routes() -> Vec<Route> {
    routes![app_page]
}
