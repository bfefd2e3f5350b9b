use jwt_guard::{Claims, Scopes};
use serde::{Deserialize, Serialize};

#[derive(Claims, Serialize, Deserialize)]
struct AppClaims {
    #[claims(rol)]
    roles: Vec<String>,
    #[claims(roles)]
    more_roles: Vec<String>,
    #[claims(roles)]
    extra_roles: Vec<String>,
    #[claims(scopes)]
    scope: Scopes,
}

fn main() {}
