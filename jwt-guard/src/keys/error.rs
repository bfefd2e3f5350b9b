//! Why a key could not be loaded.

use jsonwebtoken::Algorithm;

/// Why a key could not be loaded. Reported at launch, never at request time; the
/// message names the setting and never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A required setting is missing.
    #[error("{setting} is missing; {algorithm:?} needs {needs}")]
    Missing {
        /// The setting, e.g. `jwt.secret`.
        setting: String,
        /// The algorithm that needs it.
        algorithm: Algorithm,
        /// What it needs, e.g. "a secret of at least 32 bytes".
        needs: String,
    },
    /// Two settings that say the same thing are both set: keep one.
    #[error("{} and {} are both set; keep one of them", settings.0, settings.1)]
    Conflict {
        /// The two settings.
        settings: (&'static str, &'static str),
    },
    /// A setting that does not belong to the algorithm is set.
    #[error("{setting} is set but the algorithm is {algorithm:?}, which uses {instead}")]
    Misplaced {
        /// The setting that should not be there.
        setting: String,
        /// The configured algorithm.
        algorithm: Algorithm,
        /// The setting that algorithm uses.
        instead: &'static str,
    },
    /// An HMAC secret is shorter than its hash.
    #[error("{setting} is {len} bytes; {algorithm:?} needs a secret of at least {min} bytes")]
    SecretTooShort {
        /// The setting.
        setting: String,
        /// Its length.
        len: usize,
        /// The algorithm.
        algorithm: Algorithm,
        /// The least length.
        min: usize,
    },
    /// A key file could not be read.
    #[error("{setting}: cannot read {what} file `{path}`")]
    Unreadable {
        /// The setting.
        setting: String,
        /// What the file holds: "PEM", "secret".
        what: &'static str,
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is not of the kind the algorithm needs, or does not fit it.
    #[error("{setting} is not a {family} key in PEM form for {algorithm:?}")]
    WrongKey {
        /// The setting.
        setting: String,
        /// What kind of key was expected, e.g. "RSA private".
        family: String,
        /// The algorithm.
        algorithm: Algorithm,
        /// What the key parser reported.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// Two keys carry one `kid`.
    #[error("{setting}: kid `{kid}` is used twice")]
    DuplicateKid {
        /// The setting.
        setting: String,
        /// The repeated `kid`.
        kid: String,
    },
    /// The signing key failed to sign and verify a probe with its algorithm.
    #[error("the jwt signing key does not work with {algorithm:?}")]
    SelfTest {
        /// The algorithm.
        algorithm: Algorithm,
        /// What failed.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}
