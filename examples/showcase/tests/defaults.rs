//! The showcase's own behaviour: its development defaults.

use serde_json::{json, Value};

#[test]
fn showcase_defaults_do_not_override_given_configuration() {
    let given = rocket::figment::Figment::new().merge((
        "jwt",
        json!({ "algorithm": "RS256", "private_key": "x.pem" }),
    ));
    let merged = showcase::with_defaults(given);
    let jwt: Value = merged.extract_inner("jwt").unwrap_or(Value::Null);
    assert!(jwt.get("secret").is_none(), "dev secret leaked into {jwt}");
    let bare = showcase::with_defaults(rocket::figment::Figment::new());
    let jwt: Value = bare.extract_inner("jwt").unwrap_or(Value::Null);
    assert_eq!(jwt["secret"], showcase::DEV_SECRET);
}
