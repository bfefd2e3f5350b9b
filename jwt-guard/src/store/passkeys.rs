//! Passkeys as stored: users' random handles, registered credentials with their
//! signature counters, and the open ceremonies (single-use, shared by every
//! instance). The WebAuthn checks themselves live in `crate::passkeys`.

// The tables exist in every build (one schema); the ceremonies only with the
// `passkeys` feature.
#![cfg_attr(not(feature = "passkeys"), allow(dead_code))]

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::handle::{Store, StoreError};
use super::sql::{opt, secs, ts};

/// A registered passkey. `credential` is the relying party's record of it
/// (public key, algorithm, registration policy) as JSON; the rest is what a user
/// and an operator see.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasskeyRecord {
    /// The credential id (base64url), as the authenticator gave it.
    pub credential_id: String,
    /// Whose it is.
    pub subject: String,
    /// The user handle it was registered under (base64url).
    pub user_handle: String,
    /// The relying party's record of the credential, JSON.
    pub credential: String,
    /// The signature counter last seen (0: the authenticator keeps none).
    pub sign_count: u32,
    /// The authenticator may sync it to the user's other devices (WebAuthn
    /// §6.1, flag BE).
    pub backup_eligible: bool,
    /// It is synced now (flag BS).
    pub backup_state: bool,
    /// How the client reached the authenticator (`internal`, `usb`, `hybrid`…).
    pub transports: Vec<String>,
    /// The authenticator's model (AAGUID), all zeros when it says none.
    pub aaguid: String,
    /// The user's name for it.
    pub label: String,
    /// When it was registered.
    pub created_at: u64,
    /// When it last signed a user in.
    pub last_used_at: Option<u64>,
}

/// A passkey as its owner (and an operator) sees it: no key material.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct PasskeyView {
    /// The credential id (base64url): the passkey's id in the routes.
    pub id: String,
    /// The user's name for it.
    pub label: String,
    /// Synced to the user's other devices (backup state), or bound to one.
    pub synced: bool,
    /// Whether it may be synced (backup eligible).
    pub backup_eligible: bool,
    /// How the client reached the authenticator.
    pub transports: Vec<String>,
    /// The authenticator's model (AAGUID).
    pub aaguid: String,
    /// When it was registered.
    pub created_at: u64,
    /// When it last signed the user in.
    pub last_used_at: Option<u64>,
}

impl From<&PasskeyRecord> for PasskeyView {
    fn from(record: &PasskeyRecord) -> Self {
        Self {
            id: record.credential_id.clone(),
            label: record.label.clone(),
            synced: record.backup_state,
            backup_eligible: record.backup_eligible,
            transports: record.transports.clone(),
            aaguid: record.aaguid.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
        }
    }
}

/// What a ceremony was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CeremonyKind {
    /// A signed-in user registers a passkey.
    Register,
    /// Anyone signs in with a passkey.
    Login,
}

impl CeremonyKind {
    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Login => "login",
        }
    }
}

/// What an open ceremony holds: its subject (registration) and the relying
/// party's state, JSON.
pub(crate) struct OpenCeremony {
    pub(crate) subject: Option<String>,
    pub(crate) state: String,
}

const COLUMNS: &str = "credential_id, subject, user_handle, credential, sign_count, \
     backup_eligible, backup_state, transports, aaguid, label, created_at, last_used_at";

fn record(row: &AnyRow) -> Result<PasskeyRecord, sqlx::Error> {
    let transports: String = row.try_get("transports")?;
    Ok(PasskeyRecord {
        credential_id: row.try_get("credential_id")?,
        subject: row.try_get("subject")?,
        user_handle: row.try_get("user_handle")?,
        credential: row.try_get("credential")?,
        sign_count: u32::try_from(row.try_get::<i64, _>("sign_count")?).unwrap_or(u32::MAX),
        backup_eligible: row.try_get::<i64, _>("backup_eligible")? != 0,
        backup_state: row.try_get::<i64, _>("backup_state")? != 0,
        transports: transports.split_whitespace().map(str::to_owned).collect(),
        aaguid: row.try_get("aaguid")?,
        label: row.try_get("label")?,
        created_at: secs(row.try_get("created_at")?),
        last_used_at: opt::<i64>(row, "last_used_at")?.map(secs),
    })
}

impl Store {
    /// The user handle of `subject`, made from `fresh` on first use: random, so it
    /// tells nothing of the user and cannot be guessed from a name. Two first
    /// registrations at once agree on one.
    pub(crate) async fn passkey_user_handle(
        &self,
        subject: &str,
        fresh: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO jwt_guard_passkey_users (subject, user_handle) VALUES ($1, $2)
             ON CONFLICT (subject) DO NOTHING",
        )
        .bind(subject)
        .bind(fresh)
        .execute(&self.writer)
        .await?;
        let handle: String = sqlx::query_scalar(
            "SELECT user_handle FROM jwt_guard_passkey_users WHERE subject = $1",
        )
        .bind(subject)
        .fetch_one(&self.writer)
        .await?;
        Ok(handle)
    }

    /// Opens a ceremony under `id` (a digest of the token the client holds) until
    /// `expires_at`.
    pub(crate) async fn open_ceremony(
        &self,
        id: &str,
        kind: CeremonyKind,
        subject: Option<&str>,
        state: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jwt_guard_passkey_ceremonies (id, kind, subject, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(subject)
        .bind(state)
        .bind(ts(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes the open ceremony `id` of `kind`, in one statement: it is gone
    /// afterwards, so a challenge is answered once across every instance. `None`:
    /// unknown, already taken, expired, or of the other kind.
    pub(crate) async fn take_ceremony(
        &self,
        id: &str,
        kind: CeremonyKind,
    ) -> Result<Option<OpenCeremony>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM jwt_guard_passkey_ceremonies
             WHERE id = $1 AND kind = $2 AND expires_at > $3
             RETURNING subject, state",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(ts(self.now()))
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(OpenCeremony {
            subject: opt::<String>(&row, "subject")?,
            state: row.try_get("state")?,
        }))
    }

    /// Stores a newly registered passkey; `false` when its credential id is
    /// registered already (to anyone).
    pub(crate) async fn add_passkey(&self, record: &PasskeyRecord) -> Result<bool, StoreError> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO jwt_guard_passkeys ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (credential_id) DO NOTHING"
        ))
        .bind(&record.credential_id)
        .bind(&record.subject)
        .bind(&record.user_handle)
        .bind(&record.credential)
        .bind(i64::from(record.sign_count))
        .bind(i64::from(record.backup_eligible))
        .bind(i64::from(record.backup_state))
        .bind(record.transports.join(" "))
        .bind(&record.aaguid)
        .bind(&record.label)
        .bind(ts(record.created_at))
        .bind(record.last_used_at.map(ts))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The passkey with credential id `id`.
    pub(crate) async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jwt_guard_passkeys WHERE credential_id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    /// Records a sign-in by passkey `id` whose counter the authenticator now
    /// says is `counter`, in one compare-and-swap: only from the counter that was
    /// read (`seen`), and only forwards — or both zero, for authenticators that
    /// keep no counter (WebAuthn §6.1.1). `false`: another sign-in moved it first,
    /// or it went backwards (a cloned authenticator).
    pub(crate) async fn passkey_signed_in(
        &self,
        id: &str,
        seen: u32,
        counter: u32,
        backup_state: bool,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE jwt_guard_passkeys
             SET sign_count = $3, backup_state = $4, last_used_at = $5
             WHERE credential_id = $1 AND sign_count = $2
               AND ($3 > $2 OR ($3 = 0 AND $2 = 0))",
        )
        .bind(id)
        .bind(i64::from(seen))
        .bind(i64::from(counter))
        .bind(i64::from(backup_state))
        .bind(ts(self.now()))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// `subject`'s passkeys, oldest first.
    pub async fn passkeys_of(&self, subject: &str) -> Result<Vec<PasskeyRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM jwt_guard_passkeys WHERE subject = $1
             ORDER BY created_at, credential_id"
        ))
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }

    /// Renames `subject`'s passkey `id`; `false` when `subject` has none of that id.
    pub(crate) async fn rename_passkey(
        &self,
        subject: &str,
        id: &str,
        label: &str,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE jwt_guard_passkeys SET label = $3 WHERE subject = $1 AND credential_id = $2",
        )
        .bind(subject)
        .bind(id)
        .bind(label)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Deletes `subject`'s passkey `id` (sessions it started go on); `false` when
    /// `subject` has none of that id.
    pub async fn delete_passkey(&self, subject: &str, id: &str) -> Result<bool, StoreError> {
        let deleted =
            sqlx::query("DELETE FROM jwt_guard_passkeys WHERE subject = $1 AND credential_id = $2")
                .bind(subject)
                .bind(id)
                .execute(&self.writer)
                .await?
                .rows_affected();
        Ok(deleted == 1)
    }
}
