#![deny(warnings, missing_docs, unused_qualifications)]
//! `#[public]` routes compile clean and add no parameter.

use jwt_guard::public;
use rocket::{get, post, routes};

/// Deliberately open.
#[public]
#[get("/health")]
pub fn health() -> &'static str {
    "ok"
}

/// Open, with the handler's own parameters untouched.
#[public]
#[post("/echo/<word>?<times>", data = "<body>")]
pub async fn echo(word: &str, times: Option<usize>, body: String) -> String {
    format!("{}{body}", word.repeat(times.unwrap_or(1)))
}

fn main() {
    let _ = routes![health, echo];
}
