//! `#[derive(StepError)]`: Step Functions–style names for the cases of an error type.

mod expand;
mod parse;

use proc_macro2::TokenStream;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2(input).and_then(|input| parse::parse(&input)) {
        Ok(error_type) => expand::expand(&error_type),
        Err(error) => error.to_compile_error(),
    }
}
