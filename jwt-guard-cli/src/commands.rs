//! What each subcommand does: a few calls into jwt-guard's runtime and store.

use std::process::ExitCode;

use jwt_guard::config::parse_duration;
use jwt_guard::token::{Grant, TokenKind, REGISTERED_CLAIM_NAMES};
use serde_json::{json, Map, Value};

use crate::deployment::{CliError, Deployment};
use crate::output::print;
use crate::{Command, DevicesCommand, KeysCommand, LinksCommand, RevokeCommand, TokenCommand};

/// Exit code of `token inspect` for a well-formed token that is not valid now.
const EXIT_INVALID_TOKEN: u8 = 2;

/// Runs `command`; `Ok` carries the exit code.
pub(crate) async fn run(command: Command, json: bool) -> Result<ExitCode, CliError> {
    if let Command::Keys(KeysCommand::Generate { alg, out }) = &command {
        return generate_key(alg, out.as_deref(), json);
    }
    let deployment = Deployment::load()?;
    match command {
        Command::Keys(KeysCommand::Generate { .. }) => Ok(ExitCode::SUCCESS),
        Command::Keys(KeysCommand::Jwks) => {
            let runtime = deployment.runtime()?;
            println!("{}", json!(runtime.keys().jwks()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Mint {
            sub,
            roles,
            scope,
            ttl,
            claims,
        }) => mint(&deployment, &sub, roles, scope, ttl, claims, json),
        Command::Token(TokenCommand::Inspect { token }) => inspect(&deployment, &token, json).await,
        Command::Devices(DevicesCommand::List { user }) => {
            let (_, store) = deployment.connect().await?;
            let devices = store.devices_of(&user).await.map_err(db)?;
            print(
                json,
                &devices,
                &[
                    "id",
                    "name",
                    "browser",
                    "os",
                    "ip",
                    "created_at",
                    "last_used",
                    "expires_at",
                ],
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices(DevicesCommand::Revoke { id }) => {
            let (_, store) = deployment.connect().await?;
            let revoked = store
                .revoke_device(&id, "revoked by an operator (jwt-guard command)")
                .await
                .map_err(db)?;
            if !revoked {
                return Err(CliError::Input(format!("no active device `{id}`")));
            }
            print(json, &json!({ "revoked_device": id }), &[]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke(RevokeCommand::User { user }) => {
            let (_, store) = deployment.connect().await?;
            store.revoke_subject(&user).await.map_err(db)?;
            print(json, &json!({ "revoked_user": user }), &[]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke(RevokeCommand::Token { jti }) => {
            let (runtime, store) = deployment.connect().await?;
            // A token of the registry goes with everything issued from it; one the
            // registry never saw (minted by hand) is revoked by id.
            let revoked = match store.token_subject(&jti).await.map_err(db)? {
                Some(subject) => store.force_expire(&subject, &jti).await.map_err(db)?,
                None => {
                    let config = runtime.config();
                    let longest = config
                        .access_ttl
                        .as_secs()
                        .max(config.refresh_ttl.as_secs())
                        .saturating_add(config.leeway.as_secs());
                    let until = store.clock().now().saturating_add(longest);
                    store.revoke_jti(&jti, until).await.map_err(db)?;
                    vec![jti]
                }
            };
            print(json, &json!({ "revoked_tokens": revoked }), &[]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Links(LinksCommand::List { user }) => {
            let (_, store) = deployment.connect().await?;
            let links = store.links_of(&user, 200).await.map_err(db)?;
            print(
                json,
                &links,
                &[
                    "id",
                    "target",
                    "use_count",
                    "max_uses",
                    "created_at",
                    "expires_at",
                    "revoked_at",
                ],
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Links(LinksCommand::Revoke { id }) => {
            let (_, store) = deployment.connect().await?;
            if !store.revoke_link(&id).await.map_err(db)? {
                return Err(CliError::Input(format!("no live link `{id}`")));
            }
            print(json, &json!({ "revoked_link": id }), &[]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Links(LinksCommand::Uses { id }) => {
            let (_, store) = deployment.connect().await?;
            if store.link(&id).await.map_err(db)?.is_none() {
                return Err(CliError::Input(format!("no link `{id}`")));
            }
            let uses = store.link_uses(&id).await.map_err(db)?;
            print(
                json,
                &uses,
                &["at", "outcome", "status", "use_number", "ip", "user_agent"],
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { user, since, limit } => {
            let (_, store) = deployment.connect().await?;
            let since = match since {
                Some(text) => {
                    let ago = parse_duration(&text)
                        .map_err(|e| CliError::Input(format!("--since: {e}")))?;
                    store.clock().now().saturating_sub(ago.as_secs())
                }
                None => 0,
            };
            let events = store
                .audit_log_since(user.as_deref(), since, limit)
                .await
                .map_err(db)?;
            print(
                json,
                &events,
                &["at", "event", "subject", "device_id", "detail"],
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Archive => {
            let (_, store) = deployment.connect().await?;
            let report = store.archive().await.map_err(db)?;
            print(json, &report, &[]);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn db(e: jwt_guard::store::StoreError) -> CliError {
    CliError::Database {
        url: "jwt_guard".to_owned(),
        source: Box::new(e),
    }
}

fn generate_key(
    alg: &str,
    out: Option<&std::path::Path>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let key = crate::keygen::generate(alg)?;
    match out {
        Some(path) => {
            crate::keygen::write_private(path, &key)?;
            print(
                json,
                &json!({ "written": path.display().to_string(), "alg": alg }),
                &[],
            );
        }
        None if json => println!("{}", json!({ "alg": alg, "key": key })),
        None => println!("{}", key.trim_end()),
    }
    Ok(ExitCode::SUCCESS)
}

fn mint(
    deployment: &Deployment,
    sub: &str,
    roles: Vec<String>,
    scope: Option<String>,
    ttl: Option<String>,
    claims: Option<String>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let runtime = deployment.runtime()?;
    let mut payload = Map::new();
    if let Some(text) = claims {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(extra)) => payload.extend(extra),
            Ok(_) => return Err(CliError::Input("--claims must be a JSON object".into())),
            Err(e) => return Err(CliError::Input(format!("--claims is not JSON: {e}"))),
        }
    }
    if let Some(name) = payload
        .keys()
        .find(|k| REGISTERED_CLAIM_NAMES.contains(&k.as_str()))
    {
        return Err(CliError::Input(format!(
            "--claims may not set `{name}`: jwt-guard writes the registered claims itself"
        )));
    }
    if !roles.is_empty() {
        payload.insert("roles".into(), json!(roles));
    }
    if let Some(scope) = scope {
        payload.insert("scope".into(), json!(scope));
    }
    let ttl = match ttl {
        Some(text) => parse_duration(&text)
            .map_err(|e| CliError::Input(format!("--ttl: {e}")))?
            .as_secs(),
        None => deployment.config().access_ttl.as_secs(),
    };
    if ttl == 0 {
        return Err(CliError::Input("--ttl must be at least 1s".into()));
    }
    let issuer = runtime.issuer();
    let grant = Grant {
        subject: sub,
        device_id: None,
        orig_iat: issuer.clock().now(),
    };
    let token = issuer
        .access_for(&grant, &payload, ttl)
        .map_err(|e| CliError::Keys(e.to_string()))?;
    if json {
        println!(
            "{}",
            json!({ "token": token.token, "jti": token.claims.jti, "exp": token.claims.exp })
        );
    } else {
        println!("{}", token.token);
    }
    Ok(ExitCode::SUCCESS)
}

async fn inspect(deployment: &Deployment, token: &str, json: bool) -> Result<ExitCode, CliError> {
    let token = if token == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_line(&mut text)
            .map_err(|e| CliError::Input(format!("cannot read the token: {e}")))?;
        text.trim().to_owned()
    } else {
        token.trim().to_owned()
    };
    let header = jsonwebtoken::decode_header(&token)
        .map_err(|_| CliError::Input("not a JWT: the header cannot be read".into()))?;
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token)
        .map_err(|_| CliError::Input("not a JWT: the claims cannot be read".into()))?;
    let (runtime, _store) = deployment.connect().await?;
    let verifier = runtime.verifier();
    let kind = claims["typ"].as_str().unwrap_or_default();
    let verdict = match kind {
        "access" => verifier.verify_access::<Value>(&token).map(|_| ()),
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
        "header": header,
        "claims": claims,
        "kind": kind,
        "valid": reason.is_none(),
        "reason": reason,
        "expires_in": claims["exp"].as_u64().map(|exp| exp.saturating_sub(now)),
    });
    if json {
        println!("{report}");
    } else {
        println!("header  {}", report["header"]);
        println!("claims  {}", report["claims"]);
        match reason {
            None => println!(
                "valid   yes, for {}s more (keys and revocations checked)",
                report["expires_in"]
            ),
            Some(reason) => println!("valid   no: {reason}"),
        }
    }
    Ok(if reason.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID_TOKEN)
    })
}
