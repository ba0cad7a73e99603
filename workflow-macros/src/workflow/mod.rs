//! `workflow!`: a named, typed state machine over steps.

mod expand;
mod index;
mod parse;
mod types;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn workflow(input: TokenStream) -> TokenStream {
    let (ast, mut errors) = match parse::parse(input) {
        Ok(parsed) => parsed,
        Err(error) => return error.to_compile_error(),
    };
    if !errors.is_empty() {
        // The states did not all parse, so wiring checks would report phantom problems.
        return expand::parse_failure(&ast, &errors);
    }
    let model = validate::validate(&ast, &mut errors);
    expand::expand(&model, &mut errors)
}
