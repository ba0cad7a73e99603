//! Procedural macros of the [`workflow`](https://docs.rs/workflow) crate.
//!
//! Use them through `workflow` (`use workflow::prelude::*;`), which documents them: the code
//! they generate refers to `::workflow::__private`.
//!
//! Every macro runs in three stages, each in its own module: *parse* (tokens to a typed view
//! that keeps the user's spans), *validate* (every check, errors accumulated, not stopping at
//! the first), and *expand* (tokens out).

mod diagnostics;
mod docs;
mod duration;
mod names;
mod step;
mod step_error;
mod test;
mod workflow;

use proc_macro::TokenStream;

/// Turns an `async fn` into a workflow step. See the `workflow` crate's documentation.
#[proc_macro_attribute]
pub fn step(attr: TokenStream, item: TokenStream) -> TokenStream {
    step::step(attr.into(), item.into()).into()
}

/// Declares a workflow: a typed state machine over steps. See the `workflow` crate's
/// documentation.
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    workflow::workflow(input.into()).into()
}

/// Gives every variant of an error enum a Step Functions–style name (`Enum.Variant`). See the
/// `workflow` crate's documentation.
#[proc_macro_derive(StepError, attributes(step_error))]
pub fn derive_step_error(input: TokenStream) -> TokenStream {
    step_error::derive(input.into()).into()
}

/// An async test on virtual time: `#[tokio::test]` on a current-thread runtime whose clock is
/// paused, so waits, retry delays and timeouts complete at once. Needs the `testing` feature.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test::test(attr.into(), item.into()).into()
}
