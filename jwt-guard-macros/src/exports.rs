//! Every path an expansion may emit, in one table (as rocket_codegen's `exports`):
//! expansions reach the runtime only through `::jwt_guard::__private`, so a user's
//! own dependency names never matter, and no expander spells a path of its own.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// `::jwt_guard::__private`, spanned onto `span` (the user's token, where a trait
/// error should point).
pub(crate) fn private(span: Span) -> TokenStream {
    quote_spanned!(span=> ::jwt_guard::__private)
}

/// `::core`, for `Option`, `Result` and friends.
pub(crate) fn core(span: Span) -> TokenStream {
    quote_spanned!(span=> ::core)
}
