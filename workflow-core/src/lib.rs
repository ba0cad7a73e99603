//! The data of [`workflow`](https://docs.rs/workflow): a workflow's [`Definition`] (states,
//! kinds, transitions, policies), retry policies, predefined error names, and the renderings of
//! a definition. It runs nothing and depends on no async runtime, so both the runtime and the
//! macros (which draw a workflow's diagram into its documentation) use it.

pub mod definition;
mod mode;
pub mod names;
pub mod program;
pub mod render;
pub mod retry;
#[doc(hidden)]
pub mod serde_duration;
mod states;

#[doc(hidden)]
pub mod build;
#[doc(hidden)]
pub mod embed;

pub use definition::Definition;
pub use mode::Mode;
pub use states::States;
