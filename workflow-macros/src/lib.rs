//! Procedural macros of the [`workflow`](https://docs.rs/workflow) crate.
//!
//! Use them through `workflow` (`use workflow::prelude::*;`), which documents them: the code
//! they generate refers to `::workflow::__private_v0_1` (see `private.rs`).
//!
//! Every macro runs in three stages, each in its own module: *parse* (tokens to a typed view
//! that keeps the user's spans), *validate* (every check, errors accumulated, not stopping at
//! the first), and *expand* (tokens out).

mod diagnostics;
mod docs;
mod duration;
mod names;
mod private;
mod step;
mod step_error;
mod test;
mod workflow;

use proc_macro::TokenStream;

#[doc = include_str!("../docs/step.md")]
#[proc_macro_attribute]
pub fn step(attr: TokenStream, item: TokenStream) -> TokenStream {
    step::step(attr.into(), item.into()).into()
}

#[doc = include_str!("../docs/workflow.md")]
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    workflow::workflow(input.into()).into()
}

#[doc = include_str!("../docs/step_error.md")]
#[proc_macro_derive(StepError, attributes(step_error))]
pub fn derive_step_error(input: TokenStream) -> TokenStream {
    step_error::derive(input.into()).into()
}

#[doc = include_str!("../docs/test.md")]
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test::test(attr.into(), item.into()).into()
}
