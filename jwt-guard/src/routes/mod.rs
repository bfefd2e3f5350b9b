//! The built-in HTTP routes: obtain, refresh and verify tokens, the JWKS
//! ([`token_routes`]), and list and log out devices ([`device_routes`]).
//!
//! [`JwtGuard`](crate::JwtGuard) mounts both when given an
//! [`Authenticator`](crate::Authenticator); mount them by hand to put them
//! elsewhere. Each route is a thin shell over the session steps
//! and the [`Store`](crate::store::Store).

pub(crate) mod devices;
mod introspection;
#[cfg(feature = "passkeys")]
mod passkeys;
mod presented_token;
mod protected_resource;
mod revocation;
mod signals;
mod token;

pub use devices::{device_routes, DeviceView, ExpireResponse, LogoutResponse};
pub use introspection::{introspection_routes, INTROSPECT_SCOPE};
#[cfg(feature = "passkeys")]
pub use passkeys::{
    passkey_routes, PasskeyLogin, PasskeyRegistered, PasskeyRegistration, PasskeyRename,
    PasskeyStepUp,
};
pub(crate) use presented_token::TokenForm;
pub use protected_resource::protected_resource_routes;
pub(crate) use protected_resource::ResourceMetadata;
pub use revocation::revocation_routes;
pub use signals::signal_routes;
pub(crate) use signals::LogoutForm;
pub use token::{
    token_routes, verification_routes, LoginRequest, RefreshRequest, VerifyRequest, VerifyResponse,
    MAX_CREDENTIAL_BYTES,
};
