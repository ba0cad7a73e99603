//! `#[step]`: an `async fn` becomes a step type implementing `Step`.

mod expand;
mod parse;

use crate::diagnostics::Errors;
use proc_macro2::TokenStream;

/// Expands `#[step(...)]` on `item`. On error, the function is emitted unchanged beside the
/// errors and a step type that never runs (see [`expand::fallback`]), so that neither its own
/// uses nor a workflow naming it report anything but the mistake.
pub(crate) fn step(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[step]` goes on an `async fn`: `#[step] async fn charge(order: Order) -> Result<Receipt, PaymentError>`",
            );
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            return tokens;
        }
    };
    let mut errors = Errors::default();
    let options = parse::options(attr, &mut errors);
    let signature = parse::signature(&func, &mut errors);
    if errors.is_empty() {
        expand::expand(&func, &options, &signature)
    } else {
        expand::fallback(&func, &options, &signature, &errors)
    }
}
