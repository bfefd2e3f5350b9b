//! `jwt-guard devices`: a user's logins, and logging one out everywhere.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jwt_guard::store::DeviceId;
use serde_json::json;

use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard devices …`.
#[derive(Subcommand, Debug)]
pub(crate) enum DevicesCommand {
    /// A user's active devices.
    List(UserArg),
    /// Log a device out: its tokens stop working on every instance.
    Revoke(DeviceArg),
}

/// A user (subject).
#[derive(Args, Debug)]
pub(crate) struct UserArg {
    /// The user (subject).
    #[arg(allow_hyphen_values = true)]
    pub(crate) user: String,
}

/// A device id.
#[derive(Args, Debug)]
pub(crate) struct DeviceArg {
    /// The device id.
    #[arg(allow_hyphen_values = true)]
    id: String,
}

impl DevicesCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (_, store) = Deployment::load()?.connect().await?;
        match self {
            DevicesCommand::List(UserArg { user }) => {
                let devices = store.devices_of(&user).await?;
                let columns = [
                    "id",
                    "name",
                    "browser",
                    "os",
                    "ip",
                    "created_at",
                    "last_used",
                    "expires_at",
                    // The DPoP key's thumbprint, shortened (empty: a bearer session).
                    "dpop_key",
                    // How the session was signed in (password, passkey, link, …).
                    "signed_in_with",
                ];
                print(json, &devices, &columns);
            }
            DevicesCommand::Revoke(DeviceArg { id }) => {
                let revoked = store
                    .revoke_device(DeviceId(&id), "revoked by an operator (jwt-guard command)")
                    .await?;
                if !revoked {
                    return Err(CliError::NotFound {
                        what: "active device",
                        id,
                    });
                }
                print(json, &json!({ "revoked_device": id }), &[]);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
