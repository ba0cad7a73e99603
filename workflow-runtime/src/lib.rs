//! The runtime of [`workflow`](https://docs.rs/workflow): definitions, the execution engine,
//! execution history and the runtime that runs registered workflows.
//!
//! Use it through the `workflow` crate, which adds the macros (`#[step]`, `workflow!`,
//! `#[derive(StepError)]`) and re-exports everything here.

pub mod clock;
mod engine;
mod execution;
pub mod history;
mod logging;
mod metrics;
mod names;
mod resources;
mod runtime;
pub mod step;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod timestamp;
mod type_map;
mod workflow;

// Named after the release, as the macros of the same release spell it
// (`workflow-macros/src/private.rs`): a mismatched pair fails to compile.
#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private_v0_1;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use execution::{ChildExecution, Execution, ExecutionFailure, ExecutionId, ExecutionStatus};
pub use history::{Event, EventType, History};
pub use logging::{LogLevel, Logging};
pub use runtime::{
    Backpressure, BuildError, CallbackError, DeployCheck, Drained, ExecutionHandle, Problem,
    Recovery, Runtime, RuntimeBuilder, RuntimeError, VersionCheck, Worker,
};
pub use step::{
    Callback, Caught, CaughtError, ChildFailure, Never, Payload, Res, States, Step, StepContext,
    StepError, StepInfo, TaskToken,
};
pub use workflow::Workflow;
pub use workflow_core::{definition, render, retry, Definition, Mode};

/// The names most workflows need: `use workflow::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "sqlite")]
    pub use crate::store::SqliteStore;
    pub use crate::{
        Callback, Caught, CaughtError, Execution, ExecutionFailure, ExecutionId, Never, Res,
        Runtime, RuntimeError, States, StepContext, StepError, TaskToken, Workflow,
    };
}
