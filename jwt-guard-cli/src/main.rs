//! `jwt-guard`: the operator's command beside a jwt-guard deployment. It reads the
//! same configuration as the app (Rocket's figment: `Rocket.toml`, `ROCKET_PROFILE`,
//! `ROCKET_JWT`, `ROCKET_DATABASES`) and works on the same database, so what it
//! revokes reaches running instances exactly as an API revocation does.

/// `println!` for the command's output, except that a reader who went away
/// (`jwt-guard audit | head -1`) ends the command quietly instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod deployment;
mod error;
mod keygen;
mod output;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use commands::audit::{self, AuditArgs, SignalsArgs};
use commands::devices::DevicesCommand;
use commands::keys::KeysCommand;
use commands::links::LinksCommand;
use commands::openapi::OpenApiArgs;
use commands::passkeys::PasskeysCommand;
use commands::revoke::RevokeCommand;
use commands::token::TokenCommand;
use error::CliError;

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
    /// List or revoke a user's passkeys.
    #[command(subcommand)]
    Passkeys(PasskeysCommand),
    /// Revoke everything of a user, or one token.
    #[command(subcommand)]
    Revoke(RevokeCommand),
    /// List, revoke and audit expiring links.
    #[command(subcommand)]
    Links(LinksCommand),
    /// The audit log (newest first).
    Audit(AuditArgs),
    /// Logouts and security events received from outside issuers (newest first).
    Signals(SignalsArgs),
    /// Run the archiver once: remove rows that can no longer matter.
    Archive,
    /// The OpenAPI 3.1 security of an app binary's routes, from its manifest.
    Openapi(OpenApiArgs),
}

impl Command {
    /// Runs the subcommand; `Ok` carries the exit code.
    async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        match self {
            Command::Keys(command) => command.run(json),
            Command::Token(command) => command.run(json).await,
            Command::Devices(command) => command.run(json).await,
            Command::Passkeys(command) => command.run(json).await,
            Command::Revoke(command) => command.run(json).await,
            Command::Links(command) => command.run(json).await,
            Command::Audit(args) => args.run(json).await,
            Command::Signals(args) => args.run(json).await,
            Command::Archive => audit::archive(json).await,
            Command::Openapi(args) => args.run(),
        }
    }
}

/// A value clap refused (a bad `--alg`, `--ttl`, `--since`, `--claims`): one line
/// and exit code 1, as every other failure; usage mistakes keep clap's own answer.
fn refused_value(e: &clap::Error) -> Option<String> {
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let text = e.to_string();
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"));
    let first = lines.next()?.trim_start_matches("error: ").to_owned();
    Some(lines.fold(first, |line, more| format!("{line} {more}")))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match refused_value(&e) {
            Some(line) => {
                eprintln!("jwt-guard: error: {line}");
                return ExitCode::FAILURE;
            }
            None => e.exit(),
        },
    };
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
    match runtime.block_on(cli.command.run(cli.json)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jwt-guard: error: {}", error::Chain(&e));
            ExitCode::FAILURE
        }
    }
}
