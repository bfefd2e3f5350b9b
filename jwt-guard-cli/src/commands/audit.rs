//! `jwt-guard audit` and `jwt-guard archive`: reading the audit log, and removing
//! rows that can no longer matter.

use std::process::ExitCode;

use clap::Args;
use jwt_guard::config::HumanDuration;

use crate::args;
use crate::deployment::Deployment;
use crate::error::CliError;
use crate::output::print;

/// `jwt-guard audit`.
#[derive(Args, Debug)]
pub(crate) struct AuditArgs {
    /// Only this user's events.
    #[arg(long)]
    user: Option<String>,
    /// Only events this recent (`1h`, `7d`).
    #[arg(long, value_parser = args::duration)]
    since: Option<HumanDuration>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

impl AuditArgs {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (_, store) = Deployment::load()?.connect().await?;
        let since = self
            .since
            .map_or(0, |ago| store.clock().now().saturating_sub(ago.as_secs()));
        let events = store
            .audit_log_since(self.user.as_deref(), since, self.limit)
            .await?;
        print(
            json,
            &events,
            &["at", "event", "subject", "device_id", "detail"],
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// `jwt-guard archive`: runs the archiver once.
pub(crate) async fn archive(json: bool) -> Result<ExitCode, CliError> {
    let (_, store) = Deployment::load()?.connect().await?;
    let report = store.archive().await?;
    print(json, &report, &[]);
    Ok(ExitCode::SUCCESS)
}

/// `jwt-guard signals`: logouts and security events received from outside
/// issuers, newest first — what each was and how many sessions it ended.
#[derive(Args, Debug)]
pub(crate) struct SignalsArgs {
    /// At most this many signals.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

impl SignalsArgs {
    pub(crate) async fn run(self, json: bool) -> Result<ExitCode, CliError> {
        let (_, store) = Deployment::load()?.connect().await?;
        let signals = store.signals(self.limit).await?;
        print(
            json,
            &signals,
            &[
                "received_at",
                "issuer",
                "delivery",
                "event",
                "subject_digest",
                "sessions_ended",
                "jti",
            ],
        );
        Ok(ExitCode::SUCCESS)
    }
}
