//! The deployment the command works on: the app's configuration, read as the app
//! reads it, and — for the commands that need it — its database.

use std::sync::Arc;

use jwt_guard::config::JwtConfig;
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::store::{JwtPool, PoolSettings, Store};
use jwt_guard::Clock;
use rocket::figment::Figment;

use crate::error::CliError;

/// The app's configuration, from Rocket's figment.
pub(crate) struct Deployment {
    figment: Figment,
    config: JwtConfig,
}

/// `url` without the password of its user, for messages.
fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (user_info, host) = rest.rsplit_once('@').unwrap_or(("", rest));
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        _ => url.to_owned(),
    }
}

impl Deployment {
    /// Reads the configuration the app would read.
    pub(crate) fn load() -> Result<Self, CliError> {
        let figment = rocket::Config::figment();
        let config = figment
            .extract_inner::<JwtConfig>("jwt")
            .map_err(|e| CliError::JwtTable(Box::new(e)))?;
        Ok(Self { figment, config })
    }

    /// The settings.
    pub(crate) fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The runtime (keys, verifier, issuer) alone, with no revocations loaded.
    pub(crate) fn runtime(&self) -> Result<JwtRuntime, CliError> {
        Ok(JwtRuntime::new(
            self.config.clone(),
            Clock::system(),
            Arc::default(),
        )?)
    }

    /// The runtime and the store, with the database's revocations loaded into the
    /// runtime's verifier.
    pub(crate) async fn connect(&self) -> Result<(JwtRuntime, Store), CliError> {
        let table = self.figment.focus("databases.jwt_guard");
        let settings = PoolSettings::from_figment(&table).map_err(CliError::DatabaseTable)?;
        let url = without_password(&settings.url);
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| CliError::Database {
            url: url.clone(),
            source: e,
        };
        let pool = JwtPool::connect(&settings)
            .await
            .map_err(|e| fail(Box::new(e)))?;
        let revocations = Arc::default();
        let runtime = JwtRuntime::new(
            self.config.clone(),
            Clock::system(),
            Arc::clone(&revocations),
        )?;
        let store = Store::new(&pool, Clock::system(), &self.config, revocations);
        store.migrate().await.map_err(|e| fail(Box::new(e)))?;
        store
            .load_revocations()
            .await
            .map_err(|e| fail(Box::new(e)))?;
        Ok((runtime, store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            without_password("postgres://app:hunter2@db:5432/x"),
            "postgres://app@db:5432/x"
        );
        assert_eq!(without_password("sqlite://app.db"), "sqlite://app.db");
    }
}
