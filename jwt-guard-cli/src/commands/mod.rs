//! The subcommands, one module each: its arguments and its `run`, a few calls into
//! jwt-guard's runtime and store.

pub(crate) mod audit;
pub(crate) mod devices;
pub(crate) mod keys;
pub(crate) mod links;
pub(crate) mod openapi;
pub(crate) mod passkeys;
pub(crate) mod revoke;
pub(crate) mod token;
