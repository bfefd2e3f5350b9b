//! The pages a person sees when opening a link in a browser: the confirmation page
//! of `confirm` links and the "this link cannot be used" page. jwt-guard ships
//! plain, self-contained ones (a viewport, a small inline stylesheet, no external
//! resources); an application supplies its own with [`LinkPages`].

use rocket::http::Status;

/// What a link page is about, handed to [`LinkPages::render`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum LinkPage<'a> {
    /// The link can be used: nothing has happened yet. The page must offer a form
    /// that POSTs to `action` (it carries the token).
    Confirm {
        /// The link's target (`#[expiring_link(target)]`).
        target: &'a str,
        /// Where the confirmation form posts.
        action: &'a str,
    },
    /// The link cannot be used.
    Refused {
        /// The link's target.
        target: &'a str,
        /// The status the page is sent with (410 used up or expired, 403 not valid
        /// here, 503 try again later).
        status: Status,
        /// A short reason, safe to show.
        reason: &'a str,
    },
    /// There is no link route at this address.
    NotFound,
}

/// An application's own link pages. Implement it and pass it to
/// [`JwtGuard::link_pages`](crate::JwtGuard::link_pages).
///
/// ```
/// use jwt_guard::link::{LinkPage, LinkPages};
///
/// struct Branded;
///
/// impl LinkPages for Branded {
///     fn render(&self, page: &LinkPage<'_>) -> String {
///         match page {
///             LinkPage::Confirm { action, .. } => format!(
///                 "<!doctype html><title>Acme</title>\
///                  <form method=post action=\"{action}\"><button>Yes, go on</button></form>"
///             ),
///             LinkPage::Refused { reason, .. } => format!("<!doctype html><p>{reason}</p>"),
///             _ => "<!doctype html><p>Not found</p>".to_owned(),
///         }
///     }
/// }
/// ```
///
/// Whatever the pages look like, jwt-guard sends them with `noindex`-friendly
/// headers: `Referrer-Policy: no-referrer` (the token must not leak to other
/// sites), `Cache-Control: no-store`, `X-Robots-Tag: noindex`, and the
/// [`content_security_policy`](LinkPages::content_security_policy).
pub trait LinkPages: Send + Sync + 'static {
    /// The HTML of `page`. Text from `page` is already safe to embed (it never holds
    /// markup), but escape anything of your own that comes from users.
    fn render(&self, page: &LinkPage<'_>) -> String;

    /// The `Content-Security-Policy` the pages are sent with. The default allows
    /// inline styles and a form posting to this site, nothing else; return `None`
    /// (or a policy of your own) when your pages load other resources.
    fn content_security_policy(&self) -> Option<&str> {
        Some(DEFAULT_CSP)
    }
}

/// The policy of jwt-guard's own pages: nothing from anywhere, inline styles, forms
/// to this site only, never in a frame.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The application's link pages, as managed state.
#[derive(Clone)]
pub(crate) struct AppLinkPages(pub(crate) std::sync::Arc<dyn LinkPages>);

impl Default for AppLinkPages {
    fn default() -> Self {
        Self(std::sync::Arc::new(DefaultLinkPages))
    }
}

/// jwt-guard's own pages.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultLinkPages;

const STYLE: &str = "body{margin:0;padding:0 1rem;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;\
background:#f4f5f7;color:#1d2330}main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;\
border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.4rem;margin:0 0 .75rem}\
p{margin:0 0 1.25rem}form{margin:0 0 1.25rem}button{font:inherit;font-weight:600;color:#fff;background:#2357d9;border:0;\
border-radius:8px;padding:.7rem 1.4rem;cursor:pointer;width:100%}button:focus{outline:3px solid #9db5f5}\
.muted{color:#5b6475;font-size:.9rem}@media (prefers-color-scheme:dark){body{background:#15181f;\
color:#e6e9ef}main{background:#1e222b;box-shadow:none}.muted{color:#9aa3b5}}";

/// Keeps text safe inside HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    )
}

impl LinkPages for DefaultLinkPages {
    fn render(&self, page: &LinkPage<'_>) -> String {
        match page {
            LinkPage::Confirm { action, .. } => document(
                "Please confirm",
                &format!(
                    "<p>Press the button to continue. Nothing happens until you do.</p>\
                     <form method=\"post\" action=\"{}\"><button type=\"submit\" id=\"confirm\">Confirm</button></form>\
                     <p class=\"muted\">You opened a link that acts on your behalf.</p>",
                    escape(action)
                ),
            ),
            LinkPage::Refused { reason, .. } => document(
                "This link cannot be used",
                &format!(
                    "<p>{}.</p><p class=\"muted\">Ask for a new link if you still need one.</p>",
                    escape(reason)
                ),
            ),
            LinkPage::NotFound => document("Not found", "<p>There is nothing here.</p>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_self_contained_and_mobile_ready() {
        let html = DefaultLinkPages.render(&LinkPage::Confirm {
            target: "t",
            action: "/x?token=a\"b",
        });
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("<style>"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
        assert!(html.contains("action=\"/x?token=a&quot;b\""), "{html}");
    }
}
