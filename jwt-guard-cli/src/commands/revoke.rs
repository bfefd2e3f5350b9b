//! `jwt-guard revoke`: everything of a user, or one token with what was issued from
//! it. Revocations reach every running instance as an API revocation does.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jwt_guard::store::{Jti, Subject};
use serde_json::json;

use super::devices::UserArg;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard revoke …`.
#[derive(Subcommand, Debug)]
pub(crate) enum RevokeCommand {
    /// Every token, device and link of a user.
    User(UserArg),
    /// One token, by its `jti`, with everything issued from it.
    Token(JtiArg),
}

/// A token id.
#[derive(Args, Debug)]
pub(crate) struct JtiArg {
    /// The token id.
    #[arg(allow_hyphen_values = true)]
    jti: String,
}

impl RevokeCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (runtime, store) = Deployment::load()?.connect().await?;
        match self {
            RevokeCommand::User(UserArg { user }) => {
                store.revoke_subject(&user).await?;
                print(json, &json!({ "revoked_user": user }), &[]);
            }
            RevokeCommand::Token(JtiArg { jti }) => {
                // A token of the registry goes with everything issued from it; one
                // the registry never saw (minted by hand) is revoked by id.
                let revoked = match store.token_subject(&jti).await? {
                    Some(subject) => store.force_expire(Subject(&subject), Jti(&jti)).await?,
                    None => {
                        let config = runtime.config();
                        let longest = config
                            .access_ttl
                            .as_secs()
                            .max(config.refresh_ttl.as_secs())
                            .saturating_add(config.leeway.as_secs());
                        let until = store.clock().now().saturating_add(longest);
                        store.revoke_jti(&jti, until).await?;
                        vec![jti]
                    }
                };
                print(json, &json!({ "revoked_tokens": revoked }), &[]);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
