//! `#[step]`: an `async fn` becomes a step type implementing `Step`.

mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Expands `#[step(...)]` on `item`. On error, the function is emitted unchanged beside the
/// errors, so its own uses (and IDEs) keep working.
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
    let options = parse::options(attr);
    let signature = parse::signature(&func);
    match (options, signature) {
        (Ok(options), Ok(signature)) => expand::expand(&func, &options, &signature),
        (options, signature) => {
            let mut tokens = func.to_token_stream();
            for error in [options.err(), signature.err()].into_iter().flatten() {
                tokens.extend(error.to_compile_error());
            }
            tokens
        }
    }
}
