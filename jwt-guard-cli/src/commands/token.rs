//! `jwt-guard token`: mint an access token with the configured keys, or inspect one
//! against them and the revocations in the database.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jwt_guard::config::HumanDuration;
use jwt_guard::token::{Grant, TokenKind, REGISTERED_CLAIM_NAMES};
use serde_json::{json, Map, Value};

use crate::args;
use crate::deployment::Deployment;
use crate::error::CliError;

/// Exit code of `token inspect` for a well-formed token that is not valid now.
const EXIT_INVALID_TOKEN: u8 = 2;

/// `jwt-guard token …`.
#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Mint an access token.
    Mint(MintArgs),
    /// Show a token's header and claims, and whether it is valid now (and if not,
    /// why) against the configured keys and the revocations in the database.
    Inspect(InspectArgs),
}

impl TokenCommand {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let deployment = Deployment::load()?;
        match self {
            TokenCommand::Mint(args) => args.run(&deployment, json),
            TokenCommand::Inspect(args) => args.run(&deployment, json).await,
        }
    }
}

/// `jwt-guard token mint`.
#[derive(Args, Debug)]
pub(crate) struct MintArgs {
    /// The subject (`sub`).
    #[arg(long)]
    sub: String,
    /// A role, for the `roles` claim (repeat for several).
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Scopes, space-separated, for the `scope` claim.
    #[arg(long)]
    scope: Option<String>,
    /// Lifetime (`15m`, `1h`); default: the configured `access_ttl`.
    #[arg(long, value_parser = args::duration)]
    ttl: Option<HumanDuration>,
    /// More claims, as a JSON object.
    #[arg(long, value_parser = args::json_object)]
    claims: Option<Map<String, Value>>,
    /// One more claim, `key=value` (repeat for several; JSON values are read as
    /// JSON: `level=3`, `groups=["a"]`).
    #[arg(long = "claim", value_parser = args::claim)]
    claim: Vec<(String, Value)>,
}

impl MintArgs {
    fn run(self, deployment: &Deployment, json: bool) -> Result<ExitCode, CliError> {
        let runtime = deployment.runtime()?;
        let mut payload = self.claims.unwrap_or_default();
        payload.extend(self.claim);
        if let Some(name) = payload
            .keys()
            .find(|k| REGISTERED_CLAIM_NAMES.contains(&k.as_str()))
        {
            return Err(CliError::RegisteredClaim(name.clone()));
        }
        if !self.roles.is_empty() {
            payload.insert("roles".into(), json!(self.roles));
        }
        if let Some(scope) = self.scope {
            payload.insert("scope".into(), json!(scope));
        }
        let ttl = self.ttl.unwrap_or(deployment.config().access_ttl).as_secs();
        if ttl == 0 {
            return Err(CliError::ZeroTtl);
        }
        // Revocations last as long as the longest token may: no longer ones.
        let max = deployment.config().max_minted_lifetime();
        if ttl > max.as_secs() {
            return Err(CliError::TtlTooLong(max));
        }
        let issuer = runtime.issuer();
        let grant = Grant {
            subject: &self.sub,
            device_id: None,
            orig_iat: issuer.clock().now(),
            acr: None,
            amr: &[],
            dpop_jkt: None,
        };
        let token = issuer
            .access_for(&grant, &payload, ttl)
            .map_err(CliError::Mint)?;
        let mut given: Vec<&str> = payload.keys().map(String::as_str).collect();
        given.sort_unstable();
        eprintln!(
            "jwt-guard: note: the token carries {} besides the registered claims; the command \
             cannot know the app's claims type, and the app refuses a token that lacks a field \
             its type requires (401 \"the token's claims do not match\"): give each with \
             --role, --scope or --claim name=value",
            if given.is_empty() {
                "nothing".to_owned()
            } else {
                given.join(", ")
            }
        );
        if json {
            out!(
                "{}",
                json!({ "token": token.token, "jti": token.claims.jti, "exp": token.claims.exp })
            );
        } else {
            out!("{}", token.token);
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `jwt-guard token inspect`.
#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// The token (`-` reads it from standard input).
    #[arg(allow_hyphen_values = true)]
    token: String,
    /// Check signature and times with the configured keys only, without the
    /// database (revocations are then not checked).
    #[arg(long)]
    offline: bool,
}

impl InspectArgs {
    async fn run(self, deployment: &Deployment, json: bool) -> Result<ExitCode, CliError> {
        let token = if self.token == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_line(&mut text)
                .map_err(CliError::Stdin)?;
            text.trim().to_owned()
        } else {
            self.token.trim().to_owned()
        };
        let header =
            jsonwebtoken::decode_header(&token).map_err(|_| CliError::NotAJwt("header"))?;
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token)
            .map_err(|_| CliError::NotAJwt("claims"))?;
        let runtime = if self.offline {
            deployment.runtime()?
        } else {
            deployment.connect().await?.0
        };
        let verifier = runtime.verifier();
        let kind = claims["typ"].as_str().unwrap_or_default();
        let verdict = match kind {
            "refresh" => verifier
                .verify::<Value>(&token, TokenKind::Refresh, None)
                .map(|_| ()),
            "link" => verifier
                .verify::<Value>(&token, TokenKind::Link, claims["aud"].as_str())
                .map(|_| ()),
            _ => verifier.verify_access::<Value>(&token).map(|_| ()),
        };
        let now = runtime.issuer().clock().now();
        let reason = verdict.as_ref().err().map(|e| e.description());
        let report = json!({
            "revocations_checked": !self.offline,
            "header": header,
            "claims": claims,
            "kind": kind,
            "valid": reason.is_none(),
            "reason": reason,
            "expires_in": claims["exp"].as_u64().map(|exp| exp.saturating_sub(now)),
        });
        if json {
            out!("{report}");
        } else {
            out!("header  {}", report["header"]);
            out!("claims  {}", report["claims"]);
            let checked = if self.offline {
                "keys and times checked; revocations NOT checked (--offline)"
            } else {
                "keys and revocations checked"
            };
            match reason {
                None => out!(
                    "valid   yes, for {}s more ({checked})",
                    report["expires_in"]
                ),
                Some(reason) => out!("valid   no: {reason}"),
            }
        }
        Ok(if reason.is_none() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_INVALID_TOKEN)
        })
    }
}
