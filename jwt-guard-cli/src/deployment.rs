//! The deployment the command works on: the app's configuration, read as the app
//! reads it, and — for the commands that need it — its database.

use jwt_guard::config::{ConfigError, JwtConfig};
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::store::{sqlite_file, DatabaseProblem, JwtPool, PoolSettings, Store};
use jwt_guard::Clock;
use rocket::figment::providers::{Format as _, Toml};
use rocket::figment::Figment;

use crate::error::CliError;

/// The file beside a deployment that fills in what `Rocket.toml` and `ROCKET_*`
/// leave out.
pub(crate) const DEPLOYMENT_FILE: &str = "JwtGuard.toml";

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
        // Rocket.toml and ROCKET_* as the app reads them; then `JwtGuard.toml`
        // (which an app such as the showcase writes with the settings it chose)
        // fills in what they leave out.
        let figment = rocket::Config::figment().join(Toml::file(DEPLOYMENT_FILE).nested());
        jwt_guard::config::check_environment(&figment).map_err(CliError::Environment)?;
        if figment.find_value("jwt").is_err() && figment.find_value("databases").is_err() {
            let dir = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".to_owned());
            let rocket_toml = std::env::var("ROCKET_CONFIG").unwrap_or("Rocket.toml".to_owned());
            return Err(CliError::NoConfiguration { dir, rocket_toml });
        }
        // No `jwt` table is every default; what is then missing is named by the
        // step that needs it (a key, for one).
        let config = match figment.find_value("jwt") {
            Err(_) => JwtConfig::default(),
            Ok(_) => figment
                .extract_inner::<JwtConfig>("jwt")
                .map_err(|e| CliError::JwtTable(ConfigError::Unreadable(Box::new(e))))?,
        };
        Ok(Self { figment, config })
    }

    /// The settings.
    pub(crate) fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The runtime (keys, verifier, issuer) alone, with no revocations loaded.
    pub(crate) fn runtime(&self) -> Result<JwtRuntime, CliError> {
        Ok(JwtRuntime::new(self.config.clone(), Clock::system())?)
    }

    /// The runtime and the store, with the database's revocations loaded into the
    /// runtime's verifier.
    pub(crate) async fn connect(&self) -> Result<(JwtRuntime, Store), CliError> {
        let table = self.figment.focus("databases.jwt_guard");
        let settings = PoolSettings::from_figment(&table).map_err(CliError::DatabaseTable)?;
        let url = without_password(&settings.url);
        if let Some(path) = sqlite_file(&settings.url) {
            if !path.exists() {
                return Err(CliError::NoSqliteFile(path.display().to_string()));
            }
        }
        if let Some(problem) = DatabaseProblem::before_connecting(&settings.url) {
            return Err(problem.into());
        }
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| CliError::Database {
            url: url.clone(),
            source: e,
        };
        let pool = match JwtPool::connect(&settings).await {
            Ok(pool) => pool,
            // The cause said once, with what to do (a refused connection, a
            // database that does not exist), as the app says it at launch.
            Err(e) => {
                let problem = DatabaseProblem::after_failure(&settings.url, e, settings.timeout());
                return Err(problem.await.into());
            }
        };
        let runtime = JwtRuntime::new(self.config.clone(), Clock::system())?;
        let store = runtime.store(&pool);
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
