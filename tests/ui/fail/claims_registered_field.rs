use jwt_guard::Claims;
use serde::{Deserialize, Serialize};

#[derive(Claims, Serialize, Deserialize)]
struct AppClaims {
    sub: String,
    #[serde(rename = "exp")]
    expires: u64,
    tenant: String,
}

fn main() {}
