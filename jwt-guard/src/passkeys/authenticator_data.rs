//! The one thing read from an attestation object by hand: the authenticator's
//! model (AAGUID), for the user's list. WebAuthn §6.5: the attestation object is
//! a CBOR map whose `authData` is a byte string; in it the attested credential
//! data (flag AT, 0x40) starts at byte 37 with the 16-byte AAGUID (§6.5.1).

/// The AAGUID in `attestation_object`, as a UUID string; `None` when the object
/// has no attested credential data.
pub(super) fn aaguid(attestation_object: &[u8]) -> Option<String> {
    let auth_data = auth_data(attestation_object)?;
    let flags = *auth_data.get(32)?;
    if flags & 0x40 == 0 {
        return None;
    }
    let id = auth_data.get(37..53)?;
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The `authData` byte string of the CBOR map: the text key `authData` (major
/// type 3, length 8), then a byte string (major type 2) of 1-, 2- or 4-byte
/// length.
fn auth_data(object: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\x68authData";
    let at = object.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let head = *object.get(at)?;
    if head >> 5 != 2 {
        return None;
    }
    let (len, start) = match head & 0x1f {
        n @ 0..=23 => (usize::from(n), at + 1),
        24 => (usize::from(*object.get(at + 1)?), at + 2),
        25 => {
            let b = object.get(at + 1..at + 3)?;
            (usize::from(u16::from_be_bytes([b[0], b[1]])), at + 3)
        }
        26 => {
            let b = object.get(at + 1..at + 5)?;
            let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (usize::try_from(len).ok()?, at + 5)
        }
        _ => return None,
    };
    object.get(start..start.checked_add(len)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aaguid_is_read_from_attested_credential_data() {
        let mut auth_data = vec![0u8; 32];
        auth_data.push(0x45); // UP, UV, AT
        auth_data.extend([0, 0, 0, 1]);
        auth_data.extend(0x10u8..0x20);
        auth_data.extend([0, 2, 9, 9]);
        let mut object = b"\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData".to_vec();
        object.push(0x58);
        object.push(u8::try_from(auth_data.len()).unwrap_or_default());
        object.extend(&auth_data);
        assert_eq!(
            aaguid(&object).as_deref(),
            Some("10111213-1415-1617-1819-1a1b1c1d1e1f")
        );
        // Without the AT flag there is no AAGUID; garbage is no panic.
        let mut no_at = object.clone();
        let flags = no_at.len() - auth_data.len() + 32;
        no_at[flags] = 0x05;
        assert_eq!(aaguid(&no_at), None);
        assert_eq!(aaguid(b"\x68authData\x58"), None);
        assert_eq!(aaguid(&[]), None);
    }
}
