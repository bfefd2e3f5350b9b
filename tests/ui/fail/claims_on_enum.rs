use jwt_guard::Claims;
use serde::{Deserialize, Serialize};

#[derive(Claims, Serialize, Deserialize)]
enum AppClaims {
    A,
}

fn main() {}
