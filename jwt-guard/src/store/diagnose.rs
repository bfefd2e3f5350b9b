//! Why jwt-guard's database did not open, said once with what to do about it:
//! a misspelt scheme, a bare SQLite path, a missing folder, a refused connection,
//! a database that does not exist. The URL is shown without its password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A database that cannot be opened at launch: the URL (password hidden), the
/// cause in one line and, when one is known, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseProblem {
    /// The setting's value, its password replaced by `***`.
    pub url: String,
    /// What went wrong, said once.
    pub cause: String,
    /// What to do about it, when known.
    pub advice: Option<String>,
}

impl fmt::Display for DatabaseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot open the database `databases.jwt_guard.url = \"{}\"`: {}",
            self.url, self.cause
        )?;
        if let Some(advice) = &self.advice {
            write!(f, "; {advice}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DatabaseProblem {}

const SCHEMES: [&str; 3] = ["sqlite", "postgres", "postgresql"];

impl DatabaseProblem {
    fn new(url: &str, cause: impl Into<String>, advice: Option<String>) -> Self {
        Self {
            url: without_password(url),
            cause: cause.into(),
            advice,
        }
    }

    /// What can be told from the URL alone, before any connection is tried.
    pub fn before_connecting(url: &str) -> Option<Self> {
        let Some((scheme, rest)) = url.split_once(':') else {
            let advice = format!("for a SQLite file write `sqlite://{url}`");
            return Some(Self::new(url, "the URL has no scheme", Some(advice)));
        };
        if !SCHEMES.contains(&scheme) {
            let meant = SCHEMES
                .iter()
                .map(|s| (strsim::levenshtein(scheme, s), *s))
                .min()
                .filter(|(distance, _)| *distance <= 2)
                .map(|(_, s)| format!("did you mean `{s}:{rest}`?"));
            let advice = meant.or_else(|| {
                Some("jwt-guard opens `sqlite://…` and `postgres://…` URLs".to_owned())
            });
            let cause = format!("`{scheme}:` is no database jwt-guard knows");
            return Some(Self::new(url, cause, advice));
        }
        if scheme == "sqlite" {
            let path = sqlite_file(url)?;
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(folder) = folder.filter(|f| !f.is_dir()) {
                let cause = format!("the folder `{}` does not exist", folder.display());
                let advice = format!(
                    "create it (`mkdir -p {}`) or name another",
                    folder.display()
                );
                return Some(Self::new(url, cause, Some(advice)));
            }
        }
        None
    }

    /// The cause of a failed connection, found by one direct attempt when the pool
    /// only said it timed out.
    pub async fn after_failure(url: &str, error: sqlx::Error, timeout: Duration) -> Self {
        let error = match error {
            sqlx::Error::PoolTimedOut => direct_attempt(url, timeout).await.unwrap_or(error),
            other => other,
        };
        Self::from_error(url, &error)
    }

    fn from_error(url: &str, error: &sqlx::Error) -> Self {
        if let sqlx::Error::Io(io) = error {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                let advice = "is the server running and listening there? \
                              (`pg_isready -h <host> -p <port>` tells)";
                return Self::new(url, format!("{io}"), Some(advice.to_owned()));
            }
        }
        if let sqlx::Error::Database(db) = error {
            match db.code().as_deref() {
                // invalid_catalog_name
                Some("3D000") => {
                    let name = database_name(url).unwrap_or("<name>");
                    let advice =
                        format!("create it: `createdb {name}` (or `CREATE DATABASE {name};`)");
                    return Self::new(url, db.message().to_owned(), Some(advice));
                }
                // invalid_password, invalid_authorization_specification
                Some("28P01") | Some("28000") => {
                    let advice = "check the user and password in the URL".to_owned();
                    return Self::new(url, db.message().to_owned(), Some(advice));
                }
                _ => {}
            }
        }
        if let sqlx::Error::PoolTimedOut = error {
            let advice = "the server did not answer within `connect_timeout`".to_owned();
            return Self::new(url, "no connection in time", Some(advice));
        }
        Self::new(url, error.to_string(), None)
    }
}

/// One connection outside the pool, for its error (the pool retries and then
/// reports only that it timed out).
async fn direct_attempt(url: &str, timeout: Duration) -> Option<sqlx::Error> {
    use sqlx::ConnectOptions as _;
    let options = url.parse::<sqlx::any::AnyConnectOptions>().ok()?;
    match rocket::tokio::time::timeout(timeout, options.connect()).await {
        Ok(Err(e)) => Some(e),
        _ => None,
    }
}

/// The file of a SQLite URL (`sqlite://app.db`, `sqlite:app.db?mode=rwc`);
/// `None` for other databases and for an in-memory one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The database a PostgreSQL URL names (`postgres://u@h/app?x` → `app`).
fn database_name(url: &str) -> Option<&str> {
    let after_host = url.split_once("://")?.1.split_once('/')?.1;
    let name = after_host.split('?').next()?;
    (!name.is_empty()).then_some(name)
}

/// `url` with its password (between `user:` and `@`) replaced by `***`.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(url: &str) -> String {
        DatabaseProblem::before_connecting(url)
            .map(|p| p.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_misspelt_scheme_gets_the_one_meant() {
        let said = advice("postgress://u@localhost/app");
        assert!(said.contains("`postgress:` is no database"), "{said}");
        assert!(
            said.contains("did you mean `postgres://u@localhost/app`?"),
            "{said}"
        );
        assert!(!said.contains("failed to initialize"), "{said}");
    }

    #[test]
    fn a_bare_path_is_told_to_be_a_sqlite_url() {
        let said = advice("showcase.db");
        assert!(said.contains("`sqlite://showcase.db`"), "{said}");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let said = advice("sqlite://no/such/folder/x.db");
        assert!(
            said.contains("the folder `no/such/folder` does not exist"),
            "{said}"
        );
        assert!(said.contains("mkdir -p no/such/folder"), "{said}");
        assert_eq!(advice("sqlite://x.db"), "");
        assert_eq!(advice("sqlite::memory:"), "");
        assert_eq!(advice("postgres://u@h/db"), "");
    }

    #[test]
    fn sqlite_files_are_found_in_their_urls() {
        assert_eq!(
            sqlite_file("sqlite://dir/app.db?mode=rwc"),
            Some("dir/app.db".into())
        );
        assert_eq!(sqlite_file("sqlite:app.db"), Some("app.db".into()));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            without_password("postgres://app:s3cret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            without_password("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(
            database_name("postgres://app@db/orders?sslmode=require"),
            Some("orders")
        );
    }
}
