//! What can go wrong when building a runtime or asking it for something.

use crate::execution::ExecutionStatus;
use crate::store::{ErrorSource, StoreError};

/// The runtime could not be built; lists every problem found.
///
/// Its `Debug` reads as its `Display`: returned with `?` from `main`, it prints the list of
/// problems rather than the structure that holds them (each is in [`problems`](Self::problems)).
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("the runtime cannot be built:{}", list(problems))]
pub struct BuildError {
    pub(super) problems: Vec<Problem>,
}

impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl BuildError {
    /// Every problem found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        return "only predefined `States.*` errors".to_owned();
    }
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  - {problem}"))
        .collect()
}

/// One reason a runtime cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A step needs a resource the runtime does not have.
    #[error(
        "workflow `{workflow}`, state `{state}`: step `{step}` takes `Res<{resource}>`, but no `{resource}` was added; add one with `RuntimeBuilder::resource`"
    )]
    MissingResource {
        /// The workflow's name.
        workflow: String,
        /// The state whose step needs the resource.
        state: String,
        /// The step's name.
        step: String,
        /// The resource's type.
        resource: String,
    },
    /// A step needs a resource that was added wrapped in an `Arc` of its own: with
    /// `resource(Arc::new(value))` where `resource_arc(Arc::new(value))` was meant.
    #[error(
        "workflow `{workflow}`, state `{state}`: step `{step}` takes `Res<{resource}>`, but what was added is an `Arc<{resource}>` (a resource of that type); add the `Arc` with `RuntimeBuilder::resource_arc`, or the value itself with `RuntimeBuilder::resource`"
    )]
    ResourceInArc {
        /// The workflow's name.
        workflow: String,
        /// The state whose step needs the resource.
        state: String,
        /// The step's name.
        step: String,
        /// The resource's type.
        resource: String,
    },
    /// A setting was given a value below its least.
    #[error("`RuntimeBuilder::{setting}` was given {value}, below its least, {least}")]
    OutOfRange {
        /// The builder's method.
        setting: &'static str,
        /// The value given.
        value: String,
        /// The least value it takes.
        least: String,
    },
    /// A retrier or catcher names an error its state never raises.
    #[error(
        "workflow `{workflow}`, state `{state}`: retry or catch names `{error}`, which the state never raises (it raises {}); to name it anyway, write `unchecked \"{error}\"`",
        list_names(raised)
    )]
    UnraisableError {
        /// The workflow's name.
        workflow: String,
        /// The state with the retrier or catcher.
        state: String,
        /// The error name it gives.
        error: String,
        /// What the state can raise.
        raised: Vec<String>,
    },
    /// Two different workflow types share a name and version.
    #[error("two different workflows are named `{workflow}`, both version {version}; give one of them another name, or another version with `#[version(N)]`")]
    DuplicateName {
        /// The shared name.
        workflow: String,
        /// The shared version.
        version: u32,
    },
}

/// A runtime could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The workflow was not registered on this runtime.
    #[error("workflow `{workflow}` is not registered on this runtime; register it with `RuntimeBuilder::register`")]
    NotRegistered {
        /// The workflow's name.
        workflow: String,
    },
    /// The version of a workflow an execution runs on is not registered on this runtime.
    #[error("version {version} of workflow `{workflow}` is not registered on this runtime; an execution runs on the version it started on: register that version's type with `RuntimeBuilder::register` beside the newer ones")]
    VersionNotRegistered {
        /// The workflow's name.
        workflow: String,
        /// The version.
        version: u32,
    },
    /// An execution name that Step Functions would refuse.
    #[error("`{name}` cannot name an execution: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An execution of this workflow already has this name, with another input or closed.
    #[error("an execution of `{workflow}` named `{name}` already exists ({reason}); names of a workflow's executions are unique")]
    ExecutionAlreadyExists {
        /// The workflow's name.
        workflow: String,
        /// The name.
        name: String,
        /// Why it cannot be the same execution.
        reason: String,
    },
    /// The execution has ended already.
    #[error("execution `{id}` is not running: it has ended ({status:?})")]
    NotRunning {
        /// Its id.
        id: String,
        /// How it ended.
        status: ExecutionStatus,
    },
    /// The execution is of another workflow than the one named.
    #[error("execution `{id}` is of workflow `{actual}`, not `{expected}`")]
    OtherWorkflow {
        /// Its id.
        id: String,
        /// The workflow named by the caller.
        expected: String,
        /// The execution's own workflow.
        actual: String,
    },
    /// Only a failed, timed-out or stopped execution can be redriven.
    #[error("execution `{id}` cannot be redriven: it is {status:?}; only failed, timed-out or stopped executions can")]
    NotRedrivable {
        /// Its id.
        id: String,
        /// Its status.
        status: ExecutionStatus,
    },
    /// The Express concurrency limit is reached and the runtime refuses new starts.
    #[error(
        "{limit} Express executions are running, the most this runtime allows; try again later"
    )]
    Overloaded {
        /// The limit.
        limit: usize,
    },
    /// No execution has this id.
    #[error("no execution has the id `{id}`")]
    NoSuchExecution {
        /// The id asked for.
        id: String,
    },
    /// The input or output could not be converted to or from JSON. The message says which
    /// and why; [`source`](std::error::Error::source) is the `serde_json::Error`, where one
    /// caused it.
    #[error("{message}")]
    Payload {
        /// What could not be converted, and why.
        message: String,
        /// The error beneath, if one caused it.
        #[source]
        source: Option<ErrorSource>,
    },
    /// An input refused before anything was stored, because what is stored must read back:
    /// larger than the payload limit, nested too deep, or not reading back as its type (a
    /// float that is NaN or infinite is stored as `null`, for one).
    #[error("the input is refused: {reason}")]
    InvalidInput {
        /// Why.
        reason: String,
    },
    /// An argument the call cannot take (an error name or cause longer than Step Functions
    /// allows, for one).
    #[error("{reason}")]
    InvalidArgument {
        /// Why.
        reason: String,
    },
    /// The runtime has shut down ([`Runtime::shutdown`](super::Runtime::shutdown)), or is
    /// draining before it does ([`Runtime::drain`](super::Runtime::drain)): it starts
    /// nothing more, and its executions go on when a runtime on the same store recovers them.
    #[error("the runtime has shut down; its executions go on when a runtime on the same store recovers them")]
    ShutDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
