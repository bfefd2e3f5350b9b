use jwt_guard::Claims;
use serde::{Deserialize, Serialize};

#[derive(Claims, Serialize, Deserialize)]
struct AppClaims {
    #[claims(roles)]
    roles: String,
    #[claims(scopes)]
    scope: u32,
}

fn main() {}
