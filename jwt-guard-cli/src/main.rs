//! `jwt-guard`: the operator's command beside a jwt-guard deployment. It reads the
//! same configuration as the app (Rocket's figment: `Rocket.toml`, `ROCKET_PROFILE`,
//! `ROCKET_JWT`, `ROCKET_DATABASES`) and works on the same database, so what it
//! revokes reaches running instances exactly as an API revocation does.

mod commands;
mod deployment;
mod keygen;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keys, tokens, devices, links, revocation and the audit log of a jwt-guard
/// deployment. Reads Rocket.toml and ROCKET_* like the app does.
#[derive(Parser, Debug)]
#[command(name = "jwt-guard", version, about)]
struct Cli {
    /// Print JSON instead of readable tables (for scripts).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate signing keys; print the configured public keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Mint or inspect tokens with the configured keys.
    #[command(subcommand)]
    Token(TokenCommand),
    /// List or revoke a user's devices (logins).
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Revoke everything of a user, or one token.
    #[command(subcommand)]
    Revoke(RevokeCommand),
    /// List, revoke and audit expiring links.
    #[command(subcommand)]
    Links(LinksCommand),
    /// The audit log (newest first).
    Audit {
        /// Only this user's events.
        #[arg(long)]
        user: Option<String>,
        /// Only events this recent (`1h`, `7d`).
        #[arg(long)]
        since: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Run the archiver once: remove rows that can no longer matter.
    Archive,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// A new signing key: PEM for RS256/ES256/EdDSA, a random secret for HS256.
    Generate {
        /// RS256, ES256, EdDSA or HS256.
        #[arg(long)]
        alg: String,
        /// Write it to this file (owner-only permissions) instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The public JWKS of the configured keys.
    Jwks,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Mint an access token.
    Mint {
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
        #[arg(long)]
        ttl: Option<String>,
        /// More claims, as a JSON object.
        #[arg(long)]
        claims: Option<String>,
    },
    /// Show a token's header and claims, and whether it is valid now (and if not,
    /// why) against the configured keys and the revocations in the database.
    Inspect {
        /// The token (`-` reads it from standard input).
        #[arg(allow_hyphen_values = true)]
        token: String,
    },
}

#[derive(Subcommand, Debug)]
enum DevicesCommand {
    /// A user's active devices.
    List {
        /// The user (subject).
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Log a device out: its tokens stop working on every instance.
    Revoke {
        /// The device id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum RevokeCommand {
    /// Every token, device and link of a user.
    User {
        /// The user (subject).
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// One token, by its `jti`, with everything issued from it.
    Token {
        /// The token id.
        #[arg(allow_hyphen_values = true)]
        jti: String,
    },
}

#[derive(Subcommand, Debug)]
enum LinksCommand {
    /// The links minted for a user, newest first.
    List {
        /// The user (subject).
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Revoke a link.
    Revoke {
        /// The link id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Every attempt to use a link.
    Uses {
        /// The link id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("jwt-guard: error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command, cli.json)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jwt-guard: error: {e}");
            ExitCode::FAILURE
        }
    }
}
