//! What the showcase's test binaries share.

/// Whether this is a CI run: `CI` set to a true value (`true`, `1`, `yes`, any
/// case). `CI=false`, `CI=0` or an empty `CI` is a developer's machine.
#[allow(dead_code)] // not every test binary needs something CI must have
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        ["true", "1", "yes"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
    })
}

pub(crate) mod served;
