//! `jwt-guard keys`: new signing keys, and the public JWKS of the configured ones.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::args::KeyAlgorithm;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::keygen;
use crate::output::print;

/// `jwt-guard keys …`.
#[derive(Subcommand, Debug)]
pub(crate) enum KeysCommand {
    /// A new signing key: PEM for RS/PS/ES/EdDSA, a random secret for HS.
    Generate(GenerateArgs),
    /// The public JWKS of the configured keys.
    Jwks,
}

impl KeysCommand {
    pub(crate) fn run(self, json: bool) -> Result<ExitCode, CliError> {
        match self {
            KeysCommand::Generate(args) => args.run(json),
            KeysCommand::Jwks => {
                let runtime = Deployment::load()?.runtime()?;
                let set = runtime.keys().jwks();
                if set.keys.is_empty() {
                    return Err(CliError::NoPublicKeys(runtime.config().algorithm));
                }
                out!("{}", json!(set));
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// `jwt-guard keys generate`.
#[derive(Args, Debug)]
pub(crate) struct GenerateArgs {
    /// The algorithm the key signs with.
    #[arg(long, value_enum, ignore_case = true)]
    alg: KeyAlgorithm,
    /// Write it to this file (owner-only permissions) instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
}

impl GenerateArgs {
    fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let hmac = matches!(
            self.alg,
            KeyAlgorithm::HS256 | KeyAlgorithm::HS384 | KeyAlgorithm::HS512
        );
        let pem_file = self
            .out
            .as_deref()
            .and_then(|p| p.extension())
            .is_some_and(|ext| ext.eq_ignore_ascii_case("pem"));
        if hmac && pem_file {
            return Err(CliError::SecretAsPem);
        }
        let key = keygen::generate(self.alg)?;
        let alg = self.alg.name();
        match self.out {
            Some(path) => {
                keygen::write_private(&path, &key)?;
                print(
                    json,
                    &json!({ "written": path.display().to_string(), "alg": alg }),
                    &[],
                );
            }
            None if json => out!("{}", json!({ "alg": alg, "key": key })),
            None => out!("{}", key.trim_end()),
        }
        Ok(ExitCode::SUCCESS)
    }
}
