//! The old flat names of the family tables' keys (`permanent_ttl`, not
//! `permanent.ttl`): still read, moved into their tables as the `jwt` table is
//! read, and named once at launch with their new names. Setting a key both ways
//! to two different values is a conflict, refused as the table is read.

use super::families::{ArchiveConfig, DevicesConfig, PermanentConfig, RevocationConfig};
use super::JwtConfig;

/// A key read under its old name: `jwt.<old>` is now `jwt.<new>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RenamedKey {
    pub(crate) old: &'static str,
    pub(crate) new: &'static str,
}

/// Moves one old key's value into its table; a conflict when the table says
/// something else that is not its default.
fn adopt<T: PartialEq>(
    renamed: &mut Vec<RenamedKey>,
    conflicts: &mut Vec<RenamedKey>,
    key: RenamedKey,
    legacy: Option<T>,
    slot: &mut T,
    default: T,
) {
    let Some(value) = legacy else {
        return;
    };
    if *slot != default && *slot != value {
        conflicts.push(key);
        return;
    }
    *slot = value;
    renamed.push(key);
}

/// Each old key, the table field it now fills, and that field's default.
macro_rules! adopt_all {
    ($config:ident, $renamed:ident, $conflicts:ident;
     $($old:ident => $table:ident . $field:ident from $defaults:ident $(as $wrap:ident)?;)*) => {$(
        adopt(
            &mut $renamed,
            &mut $conflicts,
            RenamedKey {
                old: stringify!($old),
                new: concat!(stringify!($table), ".", stringify!($field)),
            },
            $config.$old.take()$(.map($wrap))?,
            &mut $config.$table.$field,
            $defaults.$field,
        );
    )*};
}

impl JwtConfig {
    /// Moves the old keys' values into their tables; the keys that conflict.
    pub(super) fn adopt_legacy_keys(&mut self) -> Result<(), String> {
        let (mut renamed, mut conflicts) = (Vec::new(), Vec::new());
        let permanent = PermanentConfig::default();
        let revocation = RevocationConfig::default();
        let archive = ArchiveConfig::default();
        let devices = DevicesConfig::default();
        let config = self;
        adopt_all! { config, renamed, conflicts;
            permanent_ttl => permanent.ttl from permanent;
            permanent_max_lifetime => permanent.max_lifetime from permanent as Some;
            permanent_accuracy => permanent.accuracy from permanent;
            revocation_poll => revocation.poll from revocation;
            revocation_listen => revocation.listen from revocation;
            revocation_max_staleness => revocation.max_staleness from revocation as Some;
            revocation_staleness => revocation.staleness from revocation;
            archive_after => archive.after from archive;
            archive_interval => archive.interval from archive as Some;
            audit_retention => archive.audit_retention from archive;
            max_devices => devices.max from devices as Some;
            device_cap_policy => devices.cap_policy from devices;
            device_page_size => devices.page_size from devices;
        }
        if !conflicts.is_empty() {
            let listed: Vec<String> = conflicts
                .iter()
                .map(|k| {
                    format!(
                        "jwt.{} and jwt.{} are both set, to different values",
                        k.old, k.new
                    )
                })
                .collect();
            return Err(format!(
                "{}; keep the new one (jwt.{})",
                listed.join("; "),
                conflicts[0].new
            ));
        }
        config.renamed = renamed;
        Ok(())
    }

    /// The keys this configuration was written with under their old names.
    pub(crate) fn renamed_keys(&self) -> &[RenamedKey] {
        &self.renamed
    }
}
