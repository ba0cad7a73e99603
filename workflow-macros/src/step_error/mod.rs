//! `#[derive(StepError)]`: Step Functions–style names for the cases of an error type.

mod expand;
mod parse;

use proc_macro2::TokenStream;

use crate::diagnostics::Errors;

/// Derives `StepError`. On error, the implementation is emitted all the same beside the
/// errors, from the names as far as they read, so that the steps raising the type and the
/// workflows handling its variants report nothing more than the mistake.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let error_type = parse::parse(&input, &mut errors);
    let mut tokens = errors.to_compile_errors();
    tokens.extend(expand::expand(&error_type));
    tokens
}
