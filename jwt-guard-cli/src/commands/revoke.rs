//! `jwt-guard revoke`: everything of a user, or one token with what was issued from
//! it. Revocations reach every running instance as an API revocation does.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jwt_guard::store::{Jti, Subject};
use jwt_guard::token::TokenKind;
use jwt_guard::verifier::VerifyError;
use serde_json::json;

use super::devices::UserArg;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard revoke …`.
#[derive(Subcommand, Debug)]
pub(crate) enum RevokeCommand {
    /// Every token, device and link of a user.
    User(RevokeUserArgs),
    /// One token, with everything issued from it: its `jti` (a token of the
    /// registry), or the token itself (any token signed with the configured keys,
    /// revoked until it expires).
    Token(JtiArg),
}

/// `jwt-guard revoke user`.
#[derive(Args, Debug)]
pub(crate) struct RevokeUserArgs {
    #[command(flatten)]
    user: UserArg,
    /// Revoke even a user jwt-guard has no device or link of (tokens minted by
    /// hand, say); without it such a user is taken for a typing mistake.
    #[arg(long)]
    force: bool,
}

/// A token id.
#[derive(Args, Debug)]
pub(crate) struct JtiArg {
    /// The token id, or the token.
    #[arg(allow_hyphen_values = true)]
    jti: String,
}

impl RevokeCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (runtime, store) = Deployment::load()?.connect().await?;
        match self {
            RevokeCommand::User(RevokeUserArgs {
                user: UserArg { user },
                force,
            }) => {
                if !force && !store.knows_subject(&user).await? {
                    return Err(CliError::NotFound {
                        what: "user with a device or link (--force revokes anyway)",
                        id: user,
                    });
                }
                store.revoke_subject(&user).await?;
                print(json, &json!({ "revoked_user": user }), &[]);
            }
            RevokeCommand::Token(JtiArg { jti: given }) => {
                let revoked = if given.matches('.').count() == 2 {
                    // The token itself: ours if it verifies, revoked until it expires
                    // (however long it was minted for).
                    let verifier = runtime.verifier();
                    // An access token, else a refresh token; the error told is the
                    // access token's unless the token is a refresh token.
                    let verified =
                        match verifier.verify::<serde_json::Value>(&given, TokenKind::Access, None)
                        {
                            Err(VerifyError::WrongKind { .. }) => {
                                verifier.verify(&given, TokenKind::Refresh, None)
                            }
                            other => other,
                        };
                    let token = match verified {
                        Ok(token) => token,
                        // Revoking twice changes nothing: said, and a success.
                        Err(VerifyError::Revoked) => {
                            let answer = json!({ "revoked_tokens": [], "already_revoked": true });
                            print(json, &answer, &[]);
                            return Ok(ExitCode::SUCCESS);
                        }
                        Err(e) => return Err(CliError::NotOurs(e.description())),
                    };
                    let claims = token.registered;
                    let until = claims.exp.saturating_add(runtime.config().leeway.as_secs());
                    match store.token_subject(&claims.jti).await? {
                        Some(subject) => {
                            store
                                .force_expire(Subject(&subject), Jti(&claims.jti))
                                .await?
                        }
                        None => {
                            store.revoke_jti(&claims.jti, until).await?;
                            vec![claims.jti]
                        }
                    }
                } else {
                    // A token of the registry goes with everything issued from it.
                    let Some(subject) = store.token_subject(&given).await? else {
                        return Err(CliError::NotFound {
                            what: "token in the registry (pass the token itself to revoke one minted by hand)",
                            id: given,
                        });
                    };
                    store.force_expire(Subject(&subject), Jti(&given)).await?
                };
                print(json, &json!({ "revoked_tokens": revoked }), &[]);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
