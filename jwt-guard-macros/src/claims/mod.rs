//! `#[derive(Claims)]`: parse (find the roles and scopes fields) → validate
//! (registered claims, shapes) → expand (the `Claims` impl). On any mistake the
//! errors are emitted beside a fallback impl, so one mistake is one error rather
//! than one more at every use of the type.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let written = parse::parse(&mut cx, &input);
    let fields = validate::validate(&mut cx, written);
    match cx.into_compile_errors() {
        None => expand::expand(&input, &fields),
        Some(errors) => {
            let fallback = expand::fallback(&input);
            quote::quote!(#errors #fallback)
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn a_mistake_still_gives_the_type_an_impl() {
        let out = super::expand(quote! {
            struct App { #[claims(rols)] roles: Vec<String> }
        })
        .to_string();
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
        assert!(out.contains("Claims for App"), "{out}");
    }
}
