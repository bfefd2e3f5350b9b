//! Delivering links to the person they are for. A link that goes to someone other
//! than the caller (a magic login, an invitation) must never be returned to the
//! caller — anyone could then ask for anyone's link. The app implements
//! [`LinkMailer`] (e-mail, SMS, …); [`DevOutbox`] is the development stand-in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A link on its way to its recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LinkMessage {
    /// The subject the link was minted for; the mailer finds their address.
    pub recipient: String,
    /// The link's target (the route's target name).
    pub target: String,
    /// The full URL.
    pub url: String,
    /// The link's id.
    pub link_id: String,
    /// When it expires.
    pub expires_at: u64,
}

/// Why a link could not be delivered.
#[derive(Debug, thiserror::Error)]
#[error("the link could not be delivered")]
pub struct DeliveryError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl DeliveryError {
    /// Wraps what went wrong (a mail server's answer, say).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

/// Sends links to their recipients. Give one to
/// [`JwtGuard::link_mailer`](crate::JwtGuard::link_mailer); then
/// [`Links::send`](crate::Links::send) mints and delivers in one step.
///
/// ```
/// use jwt_guard::link::{DeliveryError, LinkMailer, LinkMessage};
///
/// struct Smtp;
///
/// #[rocket::async_trait]
/// impl LinkMailer for Smtp {
///     async fn deliver(&self, message: &LinkMessage) -> Result<(), DeliveryError> {
///         // look up message.recipient's address and send message.url
///         Ok(())
///     }
/// }
/// ```
#[rocket::async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot deliver links",
    note = "implement `jwt_guard::link::LinkMailer` for `{Self}` with `#[rocket::async_trait]`"
)]
pub trait LinkMailer: Send + Sync + 'static {
    /// Delivers `message` to `message.recipient`.
    async fn deliver(&self, message: &LinkMessage) -> Result<(), DeliveryError>;
}

/// Most messages a [`DevOutbox`] keeps; older ones are dropped.
pub const DEV_OUTBOX_CAPACITY: usize = 100;

/// A development [`LinkMailer`]: writes each link to the log and keeps the newest
/// [`DEV_OUTBOX_CAPACITY`] in memory, so a person (or a test) can read them. Never
/// use it in production: the log then holds working links.
#[derive(Clone, Debug, Default)]
pub struct DevOutbox {
    messages: Arc<Mutex<VecDeque<LinkMessage>>>,
}

impl DevOutbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages delivered so far, oldest first.
    pub fn messages(&self) -> Vec<LinkMessage> {
        match self.messages.lock() {
            Ok(messages) => messages.iter().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().iter().cloned().collect(),
        }
    }

    /// The newest message for `recipient`, if any.
    pub fn latest_for(&self, recipient: &str) -> Option<LinkMessage> {
        self.messages()
            .into_iter()
            .rev()
            .find(|m| m.recipient == recipient)
    }
}

#[rocket::async_trait]
impl LinkMailer for DevOutbox {
    async fn deliver(&self, message: &LinkMessage) -> Result<(), DeliveryError> {
        rocket::info!(
            "jwt-guard dev outbox: `{}` link for `{}`: {}",
            message.target,
            message.recipient,
            message.url
        );
        let mut messages = match self.messages.lock() {
            Ok(messages) => messages,
            Err(poisoned) => poisoned.into_inner(),
        };
        if messages.len() >= DEV_OUTBOX_CAPACITY {
            messages.pop_front();
        }
        messages.push_back(message.clone());
        Ok(())
    }
}
