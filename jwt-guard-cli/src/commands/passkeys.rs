//! `jwt-guard passkeys`: a user's passkeys, and revoking one. Revoking a passkey
//! ends no session it started: log the user's devices out too when a device is
//! lost (`jwt-guard devices revoke`, `jwt-guard revoke user`).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jwt_guard::store::PasskeyView;
use serde_json::json;

use crate::commands::devices::UserArg;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard passkeys …`.
#[derive(Subcommand, Debug)]
pub(crate) enum PasskeysCommand {
    /// A user's passkeys (no key material).
    List(UserArg),
    /// Delete one of a user's passkeys: it signs in no more (its sessions go on).
    Revoke(PasskeyArg),
}

/// A user and one of their passkeys.
#[derive(Args, Debug)]
pub(crate) struct PasskeyArg {
    /// The user (subject).
    #[arg(allow_hyphen_values = true)]
    user: String,
    /// The passkey's id (its credential id, as `passkeys list` shows it).
    #[arg(allow_hyphen_values = true)]
    id: String,
}

impl PasskeysCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (_, store) = Deployment::load()?.connect().await?;
        match self {
            PasskeysCommand::List(UserArg { user }) => {
                let passkeys: Vec<PasskeyView> = store
                    .passkeys_of(&user)
                    .await?
                    .iter()
                    .map(PasskeyView::from)
                    .collect();
                let columns = [
                    "id",
                    "label",
                    "synced",
                    "transports",
                    "aaguid",
                    "created_at",
                    "last_used_at",
                ];
                print(json, &passkeys, &columns);
            }
            PasskeysCommand::Revoke(PasskeyArg { user, id }) => {
                if !store.delete_passkey(&user, &id).await? {
                    return Err(CliError::NotFound {
                        what: "passkey of that user",
                        id,
                    });
                }
                print(json, &json!({ "revoked_passkey": id }), &[]);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
