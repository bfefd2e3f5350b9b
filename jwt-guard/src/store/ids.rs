//! Ids as the store is asked about them: borrowed newtypes, so a call that names a
//! user, a device and a reason cannot take them in the wrong order
//! (`revoke_device_of(Subject(sub), DeviceId(id), reason)`). Free to make; `.0` is
//! the text.

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $name<'a>(pub &'a str);

            impl std::fmt::Display for $name<'_> {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.0)
                }
            }
        )*
    };
}

ids! {
    /// A user: the `sub` of their tokens.
    Subject;
    /// A device (one login).
    DeviceId;
    /// A token's `jti`.
    Jti;
    /// A link's id (its token's `jti`).
    LinkId;
}
