//! `jwt-guard links`: the links minted for a user, revoking one, and its use log.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::devices::UserArg;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard links …`.
#[derive(Subcommand, Debug)]
pub(crate) enum LinksCommand {
    /// The links minted for a user, newest first.
    List(UserArg),
    /// Revoke a link.
    Revoke(LinkArg),
    /// Every attempt to use a link.
    Uses(LinkArg),
}

/// A link id.
#[derive(Args, Debug)]
pub(crate) struct LinkArg {
    /// The link id.
    #[arg(allow_hyphen_values = true)]
    id: String,
}

/// Most links `links list` shows.
const LIST_LIMIT: u32 = 200;

impl LinksCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (_, store) = Deployment::load()?.connect().await?;
        match self {
            LinksCommand::List(UserArg { user }) => {
                let links = store.links_of(&user, LIST_LIMIT).await?;
                let columns = [
                    "id",
                    "target",
                    "use_count",
                    "max_uses",
                    "created_at",
                    "expires_at",
                    "revoked_at",
                ];
                print(json, &links, &columns);
            }
            LinksCommand::Revoke(LinkArg { id }) => {
                if !store.revoke_link(&id).await? {
                    return Err(CliError::NotFound {
                        what: "live link",
                        id,
                    });
                }
                print(json, &json!({ "revoked_link": id }), &[]);
            }
            LinksCommand::Uses(LinkArg { id }) => {
                if store.link(&id).await?.is_none() {
                    return Err(CliError::NotFound { what: "link", id });
                }
                let uses = store.link_uses(&id).await?;
                let columns = ["at", "outcome", "status", "use_number", "ip", "user_agent"];
                print(json, &uses, &columns);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
