//! Why a command could not run: one variant per failure, each keeping its source.
//! Printed as one line (`jwt-guard: error: …`), exit code 1.

use jwt_guard::runtime::SetupError;
use jwt_guard::token::IssueError;
use rocket::figment;

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// No configuration where the command looked.
    #[error(
        "no jwt-guard configuration here ({dir}): looked for `{rocket_toml}` with \
         [default.jwt] and [default.databases.jwt_guard], `JwtGuard.toml`, and ROCKET_JWT / \
         ROCKET_DATABASES. Run the command in the app's directory (where it runs, with \
         its Rocket.toml), or set e.g. ROCKET_DATABASES='{{jwt_guard={{url=\"sqlite://app.db\"}}}}' \
         and ROCKET_JWT='{{secret_file=\"app.secret\"}}'"
    )]
    NoConfiguration {
        /// The working directory.
        dir: String,
        /// The Rocket configuration file looked for.
        rocket_toml: String,
    },
    /// `ROCKET_JWT` or `ROCKET_DATABASES` is no table.
    #[error(transparent)]
    Environment(jwt_guard::config::ConfigError),
    /// The database cannot be opened, with its cause and what to do.
    #[error(transparent)]
    DatabaseProblem(#[from] jwt_guard::store::DatabaseProblem),
    /// The `jwt` table cannot be read.
    #[error(transparent)]
    JwtTable(jwt_guard::config::ConfigError),
    /// The `databases.jwt_guard` table cannot be read.
    #[error(
        "cannot read the configuration's `databases.jwt_guard` table \
         (e.g. ROCKET_DATABASES='{{jwt_guard={{url=\"sqlite://app.db\"}}}}')"
    )]
    DatabaseTable(#[source] Box<figment::Error>),
    /// The keys or settings are unusable.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The database cannot be reached or failed.
    #[error("database {url}")]
    Database {
        /// Where (password removed).
        url: String,
        /// What happened.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `keys jwks` with an HMAC secret: nothing public to publish.
    #[error(
        "no public keys: this deployment signs with {0:?}, a shared secret (HMAC) that is \
         never published; a JWKS needs an asymmetric key (`jwt-guard keys generate --alg \
         ES256`, then jwt.algorithm and jwt.private_key)"
    )]
    NoPublicKeys(jsonwebtoken::Algorithm),
    /// The id names nothing live of its kind.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for: "active device", "live link", "link".
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The token given to `revoke token` does not verify with the configured keys.
    #[error("not a valid token of this deployment: {0}")]
    NotOurs(&'static str),
    /// `--claims` names a claim jwt-guard writes itself.
    #[error("--claims may not set `{0}`: jwt-guard writes the registered claims itself")]
    RegisteredClaim(String),
    /// `--ttl 0s`.
    #[error("--ttl must be at least 1s")]
    ZeroTtl,
    /// `--ttl` longer than `jwt.max_minted_ttl`.
    #[error("--ttl is at most {0} (jwt.max_minted_ttl), so that revocations outlive every token")]
    TtlTooLong(jwt_guard::config::HumanDuration),
    /// `openapi --app`: the app binary could not be run, or failed.
    #[error("cannot get the document from {app}")]
    App {
        /// The binary.
        app: String,
        /// What went wrong.
        #[source]
        problem: AppProblem,
    },
    /// `openapi --app`: routes without any jwt-guard attribute.
    #[error("{0} route(s) carry no jwt-guard attribute: {1}")]
    Undeclared(usize, String),
    /// A token could not be read from standard input.
    #[error("cannot read the token")]
    Stdin(#[source] std::io::Error),
    /// The text given as a token is not a JWT.
    #[error("not a JWT: the {0} cannot be read")]
    NotAJwt(&'static str),
    /// A token could not be signed.
    #[error("cannot sign the token")]
    Mint(#[source] IssueError),
    /// A key could not be generated.
    #[error("cannot generate {0} key")]
    KeyGeneration(&'static str),
    /// An HMAC secret asked to be written as a PEM file.
    #[error("an HMAC secret is not a PEM key: write it to a file such as `jwt.secret` (--out)")]
    SecretAsPem,
    /// The SQLite database file does not exist (the command creates none).
    #[error(
        "no database at {0}: run the app once to create it, or point ROCKET_DATABASES at \
         its file (the jwt-guard command creates none)"
    )]
    NoSqliteFile(String),
    /// A key file could not be written.
    #[error("cannot {action} {path}")]
    KeyFile {
        /// "create" or "write".
        action: &'static str,
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Why `openapi --app` got no document from the app binary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppProblem {
    /// It could not be run.
    #[error("it cannot be run")]
    Run(#[source] std::io::Error),
    /// It exited with a failure; the last line it wrote to standard error.
    #[error("it exited with {status} ({last})")]
    Failed {
        /// How it exited.
        status: std::process::ExitStatus,
        /// Its last line on standard error.
        last: String,
    },
    /// Its output is not JSON.
    #[error("its output is not an OpenAPI document; does it handle --print-openapi?")]
    NotJson(#[source] serde_json::Error),
    /// Its JSON names no OpenAPI version.
    #[error("its output names no OpenAPI version")]
    NoVersion,
    /// The document could not be written.
    #[error("the document cannot be written")]
    Write(#[source] std::io::Error),
}

/// An error and its sources, `: `-separated: messages never repeat their
/// source, so the one line printed is the chain.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            write!(f, ": {source}")?;
            next = source.source();
        }
        Ok(())
    }
}

/// A failure of the deployment's `jwt_guard` database, during a command.
impl From<jwt_guard::store::StoreError> for CliError {
    fn from(e: jwt_guard::store::StoreError) -> Self {
        CliError::Database {
            url: "jwt_guard".to_owned(),
            source: Box::new(e),
        }
    }
}
