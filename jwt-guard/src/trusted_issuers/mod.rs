//! Tokens from outside identity providers (resource-server mode): issuers named in
//! `trusted_issuers`, their keys fetched from a JWKS (a URL, an OpenID Connect
//! discovery document, or a file), cached, refreshed on the provider's
//! `Cache-Control: max-age` and on an unknown `kid` (rate-limited), and the tokens
//! they sign verified as strictly as the app's own.

mod fetch;
mod issuer;
mod key_set;

pub(crate) use fetch::provider_client as signal_client;
pub use fetch::{DocumentProblem, FetchError};
pub use issuer::{OutsideIssuer, TrustedIssuers};
