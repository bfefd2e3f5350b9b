//! The old flat names of the family tables' keys (`permanent_ttl`, not
//! `permanent.ttl`): still read, moved into their tables as the `jwt` table is
//! read, and named once at launch with their new names. Setting a key both ways
//! to two different values is a conflict, refused as the table is read.

/// A key read under its old name: `jwt.<old>` is now `jwt.<new>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RenamedKey {
    pub(crate) old: &'static str,
    pub(crate) new: &'static str,
}

/// Moves one old key's value into its table; a conflict when the table says
/// something else that is not its default.
pub(super) fn adopt<T: PartialEq>(
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
        $crate::config::legacy::adopt(
            &mut $renamed,
            &mut $conflicts,
            $crate::config::legacy::RenamedKey {
                old: stringify!($old),
                new: concat!(stringify!($table), ".", stringify!($field)),
            },
            $config.$old.take()$(.map($wrap))?,
            &mut $config.$table.$field,
            $defaults.$field,
        );
    )*};
}

pub(super) use adopt_all;
