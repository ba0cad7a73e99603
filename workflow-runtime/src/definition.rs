//! The static description of a workflow: its states, their kinds and transitions.
//!
//! `workflow!` builds one [`Definition`] per workflow type ([`Workflow::definition`]). It is plain
//! data: the engine reads it for names and policies, renderers draw it, stores record it.
//!
//! [`Workflow::definition`]: crate::Workflow::definition

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::mode::Mode;
use crate::retry::{Catcher, Retrier};

/// A workflow's states and wiring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Definition {
    /// The workflow's name (the type's name in `workflow!`).
    pub name: String,
    /// Standard or Express.
    pub mode: Mode,
    /// The workflow's doc comment.
    pub comment: Option<String>,
    /// The Rust type of the workflow's input.
    pub input_type: String,
    /// The Rust type of the workflow's output.
    pub output_type: String,
    /// The state an execution starts in.
    pub start_at: StateId,
    /// Every state, in declaration order; a [`StateId`] indexes this list.
    pub states: Vec<State>,
    /// How long an execution may run (`TimeoutSeconds`); the mode's limit applies when unset.
    #[serde(default, with = "crate::serde_duration::option")]
    pub timeout: Option<Duration>,
}

impl Definition {
    /// The state with this id.
    ///
    /// Returns `None` only for an id from another definition.
    pub fn state(&self, id: StateId) -> Option<&State> {
        self.states.get(id.0)
    }

    /// The state with this name, and its id.
    pub fn state_by_name(&self, name: &str) -> Option<(StateId, &State)> {
        self.states
            .iter()
            .enumerate()
            .find(|(_, state)| state.name == name)
            .map(|(index, state)| (StateId(index), state))
    }

    /// How long an execution may run: the workflow's timeout, or its mode's limit.
    pub fn execution_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.mode.max_duration())
    }

    /// The state's name, or `"?"` for an id from another definition.
    pub(crate) fn state_name(&self, id: StateId) -> &str {
        self.state(id).map_or("?", |state| state.name.as_str())
    }
}

/// The index of a state in [`Definition::states`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StateId(pub usize);

impl fmt::Display for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One state of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct State {
    /// The state's name, unique within its workflow.
    pub name: String,
    /// The state's doc comment.
    pub comment: Option<String>,
    /// What the state does.
    pub kind: StateKind,
}

impl State {
    /// Every state this one can go to next, catch targets included.
    pub fn successors(&self) -> impl Iterator<Item = StateId> + '_ {
        let (next, catchers) = match &self.kind {
            StateKind::Task(task) => (task.next.state(), task.catch.as_slice()),
            StateKind::Succeed | StateKind::Fail(_) => (None, &[][..]),
        };
        next.into_iter()
            .chain(catchers.iter().map(|catcher| catcher.next))
    }

    /// Whether an execution can end in this state.
    pub fn is_terminal(&self) -> bool {
        match &self.kind {
            StateKind::Task(task) => task.next == Next::End,
            StateKind::Succeed | StateKind::Fail(_) => true,
        }
    }
}

/// The kind of a state, with what that kind needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StateKind {
    /// Runs a step.
    Task(Box<TaskState>),
    /// Ends the execution successfully with the state's input as output.
    Succeed,
    /// Ends the execution with an error.
    Fail(FailState),
}

impl StateKind {
    /// The States Language name of the kind: `Task`, `Succeed`, `Fail`, ...
    pub fn name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "Task",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
        }
    }
}

/// A Task state: runs one step, then goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskState {
    /// The step the state runs.
    pub step: StepDefinition,
    /// Where the execution goes when the step succeeds.
    pub next: Next,
    /// How long one attempt may run (`TimeoutSeconds`): the state's own or else the step's.
    #[serde(default, with = "crate::serde_duration::option")]
    pub timeout: Option<Duration>,
    /// The longest silence allowed between heartbeats (`HeartbeatSeconds`).
    #[serde(default, with = "crate::serde_duration::option")]
    pub heartbeat: Option<Duration>,
    /// Retry policies, evaluated in order.
    #[serde(default)]
    pub retry: Vec<Retrier>,
    /// Fallbacks once retries are exhausted, evaluated in order.
    #[serde(default)]
    pub catch: Vec<Catcher>,
}

/// A Fail state: ends the execution with an error name and cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailState {
    /// The error name, e.g. `OrderRejected`.
    pub error: String,
    /// A human-readable cause.
    pub cause: Option<String>,
}

/// Where an execution goes after a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Next {
    /// To this state.
    State(StateId),
    /// The execution ends with the state's output.
    End,
}

impl Next {
    /// The next state, unless this is the end.
    pub fn state(self) -> Option<StateId> {
        match self {
            Next::State(id) => Some(id),
            Next::End => None,
        }
    }
}

/// What a Task state knows about its step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepDefinition {
    /// The step's name.
    pub name: String,
    /// The full path of the step's function.
    pub function: String,
    /// The step's doc comment.
    pub doc: Option<String>,
    /// The Rust type of the step's input.
    pub input_type: String,
    /// The Rust type of the step's output.
    pub output_type: String,
    /// The Rust type of the step's error.
    pub error_type: String,
    /// Every error name the step can return.
    pub error_names: Vec<String>,
    /// How long one attempt may run, by `#[step(timeout = "...")]`.
    #[serde(default, with = "crate::serde_duration::option")]
    pub timeout: Option<Duration>,
    /// The longest silence allowed between heartbeats, by `#[step(heartbeat = "...")]`.
    #[serde(default, with = "crate::serde_duration::option")]
    pub heartbeat: Option<Duration>,
    /// The resources the step takes, by type name.
    pub resources: Vec<String>,
}
