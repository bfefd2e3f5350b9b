//! What a device is: the record of one login as stored and listed, what a login
//! says of a new one, and the row mapping. Plain data, below everything that
//! stores or remembers devices.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::sql::{opt, secs};

/// Longest device name kept (from `X-Device-Model` or the user agent).
pub const DEVICE_NAME_MAX: usize = 100;

/// What a device is, as its login described it: the same for a new device and a
/// stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeviceDescription {
    /// Display name (`X-Device-Model`, or browser and OS).
    pub name: String,
    /// Parsed browser name.
    pub browser: Option<String>,
    /// Parsed operating system.
    pub os: Option<String>,
    /// Parsed device kind (`pc`, `smartphone`, `crawler`, …).
    pub kind: Option<String>,
    /// Client IP at login (Rocket's `ip_header` respected).
    pub ip: Option<String>,
}

/// Where a login comes from.
#[derive(Clone, Debug, Default)]
pub struct NewDevice {
    /// The subject logging in.
    pub subject: String,
    /// What the device is.
    pub description: DeviceDescription,
    /// The raw `User-Agent`, truncated (stored, never listed).
    pub user_agent: Option<String>,
}

/// A stored device, as listed to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct DeviceRecord {
    /// Device id.
    pub id: String,
    /// Owner.
    pub subject: String,
    /// What the device is (its fields appear at the top level in JSON).
    #[serde(flatten)]
    pub description: DeviceDescription,
    /// Login time.
    pub created_at: u64,
    /// Last use of its permanent or refresh token (at the configured accuracy).
    pub last_used: u64,
    /// When it expires unless used again.
    pub expires_at: u64,
    /// Original login time of the family.
    pub orig_iat: u64,
    /// The thumbprint of the DPoP key the device is bound to (RFC 9449), if any.
    /// Listed as `dpop_key`, its first characters only: enough to tell keys
    /// apart, nothing to impersonate with.
    #[serde(
        rename = "dpop_key",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "thumbprint_prefix"
    )]
    pub dpop_jkt: Option<String>,
    /// How the session was signed in: `password`, `passkey`, `link`, or the
    /// method an app named (`Sessions::start`). Listed as `signed_in_with`.
    #[serde(
        rename = "signed_in_with",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub login_method: Option<String>,
}

/// Characters of a thumbprint shown in device lists.
pub(crate) const THUMBPRINT_SHOWN: usize = 8;

fn thumbprint_prefix<S: serde::Serializer>(jkt: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let shown = jkt
        .as_deref()
        .map(|j| j.chars().take(THUMBPRINT_SHOWN).collect::<String>());
    shown.serialize(s)
}

pub(super) const DEVICE_COLUMNS: &str =
    "id, subject, name, browser, os, device_kind, ip, created_at, last_used, expires_at, orig_iat, dpop_jkt, \
     login_method";

pub(super) fn device_from_row(row: &AnyRow) -> Result<DeviceRecord, sqlx::Error> {
    Ok(DeviceRecord {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        description: DeviceDescription {
            name: row.try_get("name")?,
            browser: opt(row, "browser")?,
            os: opt(row, "os")?,
            kind: opt(row, "device_kind")?,
            ip: opt(row, "ip")?,
        },
        created_at: secs(row.try_get("created_at")?),
        last_used: secs(row.try_get("last_used")?),
        expires_at: secs(row.try_get("expires_at")?),
        orig_iat: secs(row.try_get("orig_iat")?),
        dpop_jkt: opt(row, "dpop_jkt")?,
        login_method: opt(row, "login_method")?,
    })
}
