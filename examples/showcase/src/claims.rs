//! The showcase's claims: roles as an enum, OAuth scopes.

use jwt_guard::{Claims, Scopes};
use serde::{Deserialize, Serialize};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary user.
    User,
    /// An administrator.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl AsRef<str> for Role {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The claims every showcase access token carries.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
pub struct AppClaims {
    /// The user's roles.
    #[claims(roles)]
    pub roles: Vec<Role>,
    /// The user's OAuth scopes.
    #[claims(scopes)]
    pub scope: Scopes,
}
