//! Collects every mistake in an attribute so one build reports them all.

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub(crate) fn error_spanned_by(&mut self, tokens: impl ToTokens, msg: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, msg));
    }

    pub(crate) fn error_at(&mut self, span: proc_macro2::Span, msg: impl Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    pub(crate) fn syn_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every error collected, beside the untouched `item`: one mistake gives its
    /// own error and no follow-on ones, and `routes![]` and rust-analyzer still see
    /// the function.
    pub(crate) fn finish(self, item: TokenStream) -> TokenStream {
        let errors = self.into_compile_errors().unwrap_or_default();
        quote::quote!(#errors #item)
    }

    /// All errors as `compile_error!` invocations, or `None` when there were none.
    pub(crate) fn into_compile_errors(self) -> Option<TokenStream> {
        let mut iter = self.errors.into_iter();
        let mut first = iter.next()?;
        for e in iter {
            first.combine(e);
        }
        Some(first.to_compile_error())
    }
}

/// Records `value` into `slot`, reporting "`name` given twice" on a repeat.
pub(crate) fn set_once<T>(
    cx: &mut Ctxt,
    slot: &mut Option<T>,
    value: T,
    at: &syn::Path,
    attribute: &str,
) {
    if slot.is_some() {
        cx.error_spanned_by(
            at,
            format!(
                "`{}` given twice in `#[{attribute}]`",
                at.to_token_stream().to_string().replace(' ', "")
            ),
        );
    } else {
        *slot = Some(value);
    }
}

/// Reports an option `#[attribute]` does not know, listing the `expected` ones.
pub(crate) fn unknown_option(cx: &mut Ctxt, path: &syn::Path, attribute: &str, expected: &str) {
    let name = path.to_token_stream().to_string().replace(' ', "");
    cx.error_spanned_by(
        path,
        format!("unknown `#[{attribute}]` option `{name}`; expected {expected}"),
    );
}
