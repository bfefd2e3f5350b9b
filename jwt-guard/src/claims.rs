//! Claims: the registered ones jwt-guard owns, and the application's own.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// What a token is for. Written into every token as the `typ` claim, and checked on
/// every decode, so a refresh token is never accepted where an access token is
/// expected, nor the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A short-lived token sent in `Authorization`.
    Access,
    /// A token exchanged for a new access token.
    Refresh,
    /// A token inside an expiring link.
    Link,
    /// A known-device credential: proves that a login from this client succeeded
    /// before for one account, so that guessing elsewhere cannot lock it out. Never
    /// accepted where any other kind is expected.
    Device,
}

impl TokenKind {
    /// The `typ` claim value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Link => "link",
            TokenKind::Device => "device",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims jwt-guard writes and checks itself. Applications never declare these
/// in their own claims type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClaims {
    /// What kind of token this is.
    pub typ: TokenKind,
    /// The subject (user id).
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Unique token id.
    pub jti: String,
    /// The device (login) this token belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
    /// Time of the original login this token descends from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_iat: Option<u64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// When the user authenticated (OpenID Connect `auth_time`; what RFC 9470
    /// step-up and `#[use_jwt(fresh = …)]` check). Own tokens carry their login's
    /// time through every refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// The authentication context class reference (`acr`), what
    /// `#[use_jwt(acr = …)]` checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods (`amr`, RFC 8176): own logins say `["pwd"]`
    /// (password), `["otp"]` (a one-time login link) or what the app named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The key this token is bound to (`cnf`, RFC 7800): with DPoP (RFC 9449
    /// §6.1), the thumbprint of the client's key. A bound token is only accepted
    /// with a proof signed by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// A token's confirmation claim (`cnf`, RFC 7800 §3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 SHA-256 thumbprint of the key the token is bound to (RFC 9449
    /// §6.1), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

impl RegisteredClaims {
    /// The thumbprint of the DPoP key this token is bound to, if it is bound.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf.as_ref().and_then(|c| c.jkt.as_deref())
    }
}

/// A decoded token: the registered claims and the application's claims side by side
/// in one JSON object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Token<C> {
    /// The claims jwt-guard manages.
    #[serde(flatten)]
    pub registered: RegisteredClaims,
    /// The application's claims.
    #[serde(flatten)]
    pub claims: C,
}

/// An application's own claims, carried in every access token next to the
/// registered ones.
///
/// Derive it: `#[derive(Claims, Serialize, Deserialize)]`. Mark the field holding
/// roles with `#[claims(roles)]` and the one holding OAuth scopes with
/// `#[claims(scopes)]`; both are optional.
///
/// ```
/// use jwt_guard::{Claims, Scopes};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// #[serde(rename_all = "lowercase")]
/// enum Role { User, Admin }
///
/// #[derive(Claims, Serialize, Deserialize)]
/// struct AppClaims {
///     #[claims(roles)]
///     roles: Vec<Role>,
///     #[claims(scopes)]
///     scope: Scopes,
///     tenant: String,
/// }
///
/// let c = AppClaims { roles: vec![Role::Admin], scope: "a b".parse().unwrap(), tenant: "t".into() };
/// assert_eq!(c.roles(), &[Role::Admin]);
/// assert!(c.has_scope("b"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a jwt-guard claims type",
    label = "this type does not implement `jwt_guard::Claims`",
    note = "add `#[derive(jwt_guard::Claims, serde::Serialize, serde::Deserialize)]` to `{Self}`, or use `jwt_guard::StandardClaims`"
)]
pub trait Claims: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The type of one role (an enum of the app's roles, or `String`).
    type Role: PartialEq + Send + Sync + 'static;

    /// The roles this token grants.
    fn roles(&self) -> &[Self::Role];

    /// Whether this token grants the OAuth scope `scope`.
    fn has_scope(&self, scope: &str) -> bool;
}

/// The claims used when a route names none: string roles and OAuth scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardClaims {
    /// Role names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// OAuth scopes.
    #[serde(default, skip_serializing_if = "Scopes::is_empty")]
    pub scope: Scopes,
}

impl Claims for StandardClaims {
    type Role = String;

    fn roles(&self) -> &[String] {
        &self.roles
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.scope.contains(scope)
    }
}

/// A claims type with nothing in it, for tokens that carry only registered claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoClaims {}

/// The role type of claims that carry no roles: it has no values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRole {}

/// Lets `role = "name"` compile against claims without roles (it never matches).
impl AsRef<str> for NoRole {
    fn as_ref(&self) -> &str {
        match *self {}
    }
}

impl Claims for NoClaims {
    type Role = NoRole;

    fn roles(&self) -> &[NoRole] {
        &[]
    }

    fn has_scope(&self, _scope: &str) -> bool {
        false
    }
}

/// OAuth 2.0 scopes (RFC 6749 §3.3): written as one space-separated string, read from
/// that form or from a JSON array.
///
/// ```
/// use jwt_guard::Scopes;
/// let s: Scopes = "reports:read profile".parse().unwrap();
/// assert!(s.contains("profile"));
/// assert!(!s.contains("reports"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Whether `scope` is one of these scopes (exact match).
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether there are no scopes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::str::FromStr for Scopes {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.split_ascii_whitespace().collect())
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Scopes(iter.into_iter().map(Into::into).collect())
    }
}

/// Written as the space-separated string, read from one or from an array.
impl schemars::JsonSchema for Scopes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scopes".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "OAuth scopes: a space-separated string (or, when read, an array)",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.join(" "))
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopesVisitor;

        impl<'de> Visitor<'de> for ScopesVisitor {
            type Value = Scopes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a space-separated scope string or an array of scopes")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scopes, E> {
                Ok(v.split_ascii_whitespace().collect())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scopes, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Scopes(out))
            }
        }

        deserializer.deserialize_any(ScopesVisitor)
    }
}

pub use jwt_guard_grammar::REGISTERED_CLAIM_NAMES;

/// Field types that can hold roles (`#[claims(roles)]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold roles",
    note = "a `#[claims(roles)]` field must be a `Vec<Role>`, `Box<[Role]>`, `jwt_guard::NestedRoles` or `Option` of one"
)]
pub trait RoleField {
    /// One role.
    type Role: PartialEq + Send + Sync + 'static;
    /// The roles as a slice.
    fn as_roles(&self) -> &[Self::Role];
}

impl<R: PartialEq + Send + Sync + 'static> RoleField for Vec<R> {
    type Role = R;
    fn as_roles(&self) -> &[R] {
        self
    }
}

impl<R: PartialEq + Send + Sync + 'static> RoleField for Box<[R]> {
    type Role = R;
    fn as_roles(&self) -> &[R] {
        self
    }
}

impl<T: RoleField> RoleField for Option<T> {
    type Role = T::Role;
    fn as_roles(&self) -> &[T::Role] {
        match self {
            Some(roles) => roles.as_roles(),
            None => &[],
        }
    }
}

/// Roles nested in an object — `{"roles": ["admin"]}` — as Keycloak writes them in
/// `realm_access`:
///
/// ```
/// use jwt_guard::{Claims, NestedRoles};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Claims, Serialize, Deserialize)]
/// struct KeycloakClaims {
///     #[claims(roles)]
///     #[serde(default)]
///     realm_access: NestedRoles,
/// }
///
/// let c: KeycloakClaims =
///     serde_json::from_str(r#"{"realm_access":{"roles":["admin","user"]}}"#).unwrap();
/// assert_eq!(c.roles(), ["admin", "user"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedRoles {
    /// The role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl RoleField for NestedRoles {
    type Role = String;
    fn as_roles(&self) -> &[String] {
        &self.roles
    }
}

/// Field types that can hold scopes (`#[claims(scopes)]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold scopes",
    note = "a `#[claims(scopes)]` field must be `jwt_guard::Scopes`, a space-separated `String`, or `Vec<String>`"
)]
pub trait ScopeField {
    /// Whether `scope` is granted.
    fn contains_scope(&self, scope: &str) -> bool;
}

impl ScopeField for Scopes {
    fn contains_scope(&self, scope: &str) -> bool {
        self.contains(scope)
    }
}

impl ScopeField for String {
    fn contains_scope(&self, scope: &str) -> bool {
        self.split_ascii_whitespace().any(|s| s == scope)
    }
}

impl ScopeField for Vec<String> {
    fn contains_scope(&self, scope: &str) -> bool {
        self.iter().any(|s| s == scope)
    }
}

impl<T: ScopeField> ScopeField for Option<T> {
    fn contains_scope(&self, scope: &str) -> bool {
        self.as_ref().is_some_and(|s| s.contains_scope(scope))
    }
}
