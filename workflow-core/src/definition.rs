//! The static description of a workflow: its states, their kinds and transitions.
//!
//! `workflow!` builds one [`Definition`] per workflow type (`Workflow::definition()` in the
//! `workflow` crate). It is plain data: the engine reads it for names and policies,
//! [renderers](crate::render) draw it, stores record it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::mode::Mode;
use crate::program::Program;
use crate::retry::{Catcher, Retrier};

/// A workflow's states and wiring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Definition {
    /// The workflow's name (the type's name in `workflow!`).
    pub name: String,
    /// The workflow's version (`#[version(N)]` in `workflow!`), from 1. Versions of one name
    /// run side by side: each execution runs on the version it started with. Left out of
    /// the serialised form when 1, so that the fingerprints of unversioned workflows stay.
    #[serde(default = "first_version", skip_serializing_if = "is_first_version")]
    pub version: u32,
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
    /// Every state, in declaration order, those inside Parallel and Map branches included
    /// (state names are unique across the whole workflow); a [`StateId`] indexes this list.
    pub states: Vec<State>,
    /// How long an execution may run (`TimeoutSeconds`); the mode's limit applies when unset.
    #[serde(default, with = "crate::serde_duration::option")]
    pub timeout: Option<Duration>,
    /// What runs a workflow defined at run time (an ASL machine); empty for `workflow!`
    /// workflows, and then left out of the serialised form (so their fingerprints stay).
    #[serde(default, skip_serializing_if = "Program::is_empty")]
    pub program: Program,
}

/// A workflow's version when its declaration gives none.
pub const FIRST_VERSION: u32 = 1;

fn first_version() -> u32 {
    FIRST_VERSION
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_first_version(version: &u32) -> bool {
    *version == FIRST_VERSION
}

impl Definition {
    /// The state with this id.
    ///
    /// Returns `None` only for an id from another definition.
    #[inline]
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

    /// A fingerprint of the definition: the same for the same states, kinds, transitions,
    /// step types and policies, different when any of them changes. Each durable execution
    /// keeps the fingerprint of the definition it started with.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        // The JSON of a definition is deterministic: fields in declaration order, no maps.
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&json);
        digest
            .iter()
            .take(12)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The ids of the top-level states: those outside every Parallel and Map branch.
    pub fn top_level(&self) -> Vec<StateId> {
        let nested: std::collections::HashSet<StateId> = self
            .states
            .iter()
            .flat_map(|state| match &state.kind {
                StateKind::Parallel(parallel) => parallel
                    .branches
                    .iter()
                    .flat_map(|b| b.states.clone())
                    .collect(),
                StateKind::Map(map) => map.iterator.states.clone(),
                _ => Vec::new(),
            })
            .collect();
        (0..self.states.len())
            .map(StateId)
            .filter(|id| !nested.contains(id))
            .collect()
    }

    /// The error names a state can raise (the predefined `States.*` aside): a task's step's, or
    /// those of every task and Fail state inside a Parallel or Map state's branches.
    pub fn raisable_errors(&self, id: StateId) -> Vec<String> {
        let mut names = Vec::new();
        self.collect_raisable(id, &mut names, 0);
        names
    }

    fn collect_raisable(&self, id: StateId, names: &mut Vec<String>, depth: usize) {
        // Branches nest no deeper than there are states, unless stored data is corrupt.
        if depth > self.states.len() {
            return;
        }
        let Some(state) = self.state(id) else { return };
        let mut add = |name: &String| {
            if !names.contains(name) {
                names.push(name.clone());
            }
        };
        let branches: Vec<&Branch> = match &state.kind {
            StateKind::Task(task) => {
                task.step.error_names.iter().for_each(&mut add);
                return;
            }
            StateKind::Fail(fail) => {
                if let Some(error) = &fail.error {
                    add(error);
                }
                return;
            }
            StateKind::Parallel(parallel) => parallel.branches.iter().collect(),
            StateKind::Map(map) => vec![&map.iterator],
            _ => return,
        };
        for branch in branches {
            for &inner in &branch.states {
                self.collect_raisable(inner, names, depth + 1);
            }
        }
    }

    /// Whether a state can raise error names no definition lists: it is, or its branches hold,
    /// a Fail state whose error is computed from its input.
    pub fn raises_computed_errors(&self, id: StateId) -> bool {
        self.any_within(
            id,
            0,
            &|state| matches!(&state.kind, StateKind::Fail(fail) if fail.error_function.is_some()),
        )
    }

    /// Whether `test` holds for the state or for any state inside its branches.
    fn any_within(&self, id: StateId, depth: usize, test: &dyn Fn(&State) -> bool) -> bool {
        let Some(state) = self.state(id) else {
            return false;
        };
        if test(state) {
            return true;
        }
        // Branches nest no deeper than there are states, unless stored data is corrupt.
        if depth > self.states.len() {
            return false;
        }
        let branches: Vec<&Branch> = match &state.kind {
            StateKind::Parallel(parallel) => parallel.branches.iter().collect(),
            StateKind::Map(map) => vec![&map.iterator],
            _ => return false,
        };
        branches
            .iter()
            .flat_map(|branch| &branch.states)
            .any(|&inner| self.any_within(inner, depth + 1, test))
    }

    /// [`raisable_errors`](Self::raisable_errors) of the state named `name`.
    pub fn raisable_errors_of(&self, name: &str) -> Vec<String> {
        self.state_by_name(name)
            .map(|(id, _)| self.raisable_errors(id))
            .unwrap_or_default()
    }

    /// `(state, error)` for every error name a retrier or catcher names that its state can
    /// never raise: a mistake the compiler could not see (an error named by a string, on a
    /// nested workflow or a Parallel or Map state). A state that can raise computed error names
    /// ([`raises_computed_errors`](Self::raises_computed_errors)) may raise any name, and the
    /// names of an `unchecked` retrier or catcher are taken as written.
    pub fn unraisable_errors(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (index, state) in self.states.iter().enumerate() {
            if self.raises_computed_errors(StateId(index)) {
                continue;
            }
            let (retry, catch) = match &state.kind {
                StateKind::Task(task) => (&task.retry, &task.catch),
                StateKind::Parallel(parallel) => (&parallel.retry, &parallel.catch),
                StateKind::Map(map) => (&map.retry, &map.catch),
                _ => continue,
            };
            let raisable = self.raisable_errors(StateId(index));
            let named = retry
                .iter()
                .filter(|retrier| !retrier.unchecked)
                .flat_map(|retrier| &retrier.errors)
                .chain(
                    catch
                        .iter()
                        .filter(|catcher| !catcher.unchecked)
                        .flat_map(|catcher| &catcher.errors),
                );
            for error in named {
                if !error.starts_with("States.") && !raisable.contains(error) {
                    problems.push((state.name.clone(), error.clone()));
                }
            }
        }
        problems
    }

    /// How long an execution may run: the workflow's timeout, or its mode's limit.
    pub fn execution_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.mode.max_duration())
    }

    /// The state's name, or `"?"` for an id from another definition.
    #[inline]
    pub fn state_name(&self, id: StateId) -> &str {
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
    /// Every state this one can go to next at its own level, catch targets and Choice
    /// branches included (the states inside Parallel and Map branches are not).
    pub fn successors(&self) -> Vec<StateId> {
        let mut next = Vec::new();
        let catchers: &[Catcher] = match &self.kind {
            StateKind::Task(task) => {
                next.extend(task.next.state());
                &task.catch
            }
            StateKind::Parallel(parallel) => {
                next.extend(parallel.next.state());
                &parallel.catch
            }
            StateKind::Map(map) => {
                next.extend(map.next.state());
                &map.catch
            }
            StateKind::Choice(choice) => {
                next.extend(choice.choices.iter().map(|rule| rule.next));
                next.extend(choice.default);
                &[]
            }
            StateKind::Wait(wait) => {
                next.extend(wait.next.state());
                &[]
            }
            StateKind::Pass(pass) => {
                next.extend(pass.next.state());
                &[]
            }
            StateKind::Succeed | StateKind::Fail(_) => &[],
        };
        next.extend(catchers.iter().map(|catcher| catcher.next));
        next
    }

    /// Whether an execution (or a branch) can end in this state.
    pub fn is_terminal(&self) -> bool {
        match &self.kind {
            StateKind::Task(task) => task.next == Next::End,
            StateKind::Parallel(parallel) => parallel.next == Next::End,
            StateKind::Map(map) => map.next == Next::End,
            StateKind::Wait(wait) => wait.next == Next::End,
            StateKind::Pass(pass) => pass.next == Next::End,
            StateKind::Choice(_) => false,
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
    /// Goes to the first branch whose condition holds, or to the default.
    Choice(ChoiceState),
    /// Waits for a duration or until a time, then goes on with its input.
    Wait(WaitState),
    /// Passes its input on, unchanged or transformed by a pure function.
    Pass(PassState),
    /// Runs branches concurrently on the same input; the output holds each branch's output.
    Parallel(Box<ParallelState>),
    /// Runs a branch for every item of a collection; the output holds each item's output.
    Map(Box<MapState>),
    /// Ends the execution successfully with the state's input as output.
    Succeed,
    /// Ends the execution with an error.
    Fail(FailState),
}

impl StateKind {
    /// The States Language name of the kind: `Task`, `Choice`, `Wait`, ...
    pub fn name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Pass(_) => "Pass",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
        }
    }
}

/// A Choice state: ordered rules, and a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceState {
    /// The rules, tried in order.
    pub choices: Vec<ChoiceRule>,
    /// Where the execution goes when no rule holds; without a default, the state fails with
    /// `States.NoChoiceMatched`.
    // A default serializes as the bare id it was before it became optional, so definitions
    // with one keep their fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<StateId>,
}

/// One rule of a Choice state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceRule {
    /// The condition as written in `workflow!` (Rust code, for documentation).
    pub condition: String,
    /// Where the execution goes when the condition holds.
    pub next: StateId,
}

/// A Wait state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WaitState {
    /// How long, or until when.
    pub wait: WaitFor,
    /// Where the execution goes after the wait.
    pub next: Next,
}

/// What a Wait state waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum WaitFor {
    /// A fixed duration (`Seconds`).
    Duration(#[serde(with = "crate::serde_duration")] Duration),
    /// A time taken from the input (`TimestampPath`); the selector as written in `workflow!`.
    Until(String),
    /// A duration worked out from the input (`SecondsPath`); the function as written in
    /// `workflow!`.
    DurationFrom(String),
}

/// A Pass state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PassState {
    /// The transforming function as written in `workflow!`, if any.
    pub transform: Option<String>,
    /// Where the execution goes next.
    pub next: Next,
}

/// A sub-machine: one branch of a Parallel state, or the iteration of a Map state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Branch {
    /// The state the branch starts in.
    pub start_at: StateId,
    /// The branch's states (their entries in [`Definition::states`]).
    pub states: Vec<StateId>,
}

/// A Parallel state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParallelState {
    /// The branches, run concurrently.
    pub branches: Vec<Branch>,
    /// Where the execution goes when every branch has succeeded.
    pub next: Next,
    /// Retry policies for the state as a whole.
    #[serde(default)]
    pub retry: Vec<Retrier>,
    /// Fallbacks for the state as a whole.
    #[serde(default)]
    pub catch: Vec<Catcher>,
}

/// A Map state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MapState {
    /// The selector of the items, as written in `workflow!`.
    pub items: String,
    /// The branch run for every item.
    pub iterator: Branch,
    /// How many items run at once; 0 means no limit.
    pub max_concurrency: u32,
    /// Items run as child executions, each with its own history, and the state's own
    /// history records the map run instead of the iterations (Step Functions' distributed
    /// mode).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distributed: bool,
    /// How many items may fail before the state fails.
    pub tolerated_failure_count: Option<u32>,
    /// What share of items (0–100 %) may fail before the state fails.
    pub tolerated_failure_percentage: Option<f64>,
    /// The Rust function working out `max_concurrency` from the input
    /// (`MaxConcurrencyPath`), as written in `workflow!`.
    // Settings from the input are left out when unset, so definitions without them keep
    // their fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency_function: Option<String>,
    /// The Rust function working out the tolerated failure count from the input
    /// (`ToleratedFailureCountPath`), as written in `workflow!`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count_function: Option<String>,
    /// The Rust function working out the tolerated failure percentage from the input
    /// (`ToleratedFailurePercentagePath`), as written in `workflow!`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage_function: Option<String>,
    /// Where the execution goes next.
    pub next: Next,
    /// Retry policies for the state as a whole.
    #[serde(default)]
    pub retry: Vec<Retrier>,
    /// Fallbacks for the state as a whole.
    #[serde(default)]
    pub catch: Vec<Catcher>,
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
    /// The Rust function working out the timeout from the input (`TimeoutSecondsPath`), as
    /// written in `workflow!`; it takes the place of `timeout`.
    // Left out when unset, so definitions without it keep their fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_function: Option<String>,
    /// The Rust function working out the heartbeat interval from the input
    /// (`HeartbeatSecondsPath`), as written in `workflow!`; it takes the place of `heartbeat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_function: Option<String>,
    /// Retry policies, evaluated in order.
    #[serde(default)]
    pub retry: Vec<Retrier>,
    /// Fallbacks once retries are exhausted, evaluated in order.
    #[serde(default)]
    pub catch: Vec<Catcher>,
}

/// A Fail state: ends the execution with an error name and cause, each given, computed from
/// the state's input (`ErrorPath`, `CausePath`), or left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailState {
    /// The error name, e.g. `OrderRejected`, when the state gives one.
    pub error: Option<String>,
    /// A human-readable cause, when the state gives one.
    pub cause: Option<String>,
    /// The Rust function computing the error name from the input, as written in `workflow!`.
    // Left out when unset, so definitions without computed errors keep their fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_function: Option<String>,
    /// The Rust function computing the cause from the input, as written in `workflow!`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_function: Option<String>,
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
    /// Whether the step is a nested workflow, run as a child execution.
    #[serde(default)]
    pub child_workflow: bool,
    /// Whether the step is a callback step: its state waits for a task token's completion.
    // Left out when false, so definitions without callbacks keep their fingerprints.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callback: bool,
    /// How long one attempt may run, by `#[step(timeout = "...")]`.
    #[serde(default, with = "crate::serde_duration::option")]
    pub timeout: Option<Duration>,
    /// The longest silence allowed between heartbeats, by `#[step(heartbeat = "...")]`.
    #[serde(default, with = "crate::serde_duration::option")]
    pub heartbeat: Option<Duration>,
    /// The resources the step takes, by type name.
    pub resources: Vec<String>,
    /// Which events record the task's attempts (`Task*` unless a Lambda function or an
    /// activity runs it); left out for `Task*`, so that definitions keep their fingerprints.
    #[serde(default, skip_serializing_if = "TaskEvents::is_task")]
    pub events: TaskEvents,
}

/// Which events record a Task state's attempts: Step Functions names them by what runs the
/// task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskEvents {
    /// `TaskScheduled`, `TaskStarted`, `TaskSucceeded`...: a step, a service integration.
    #[default]
    Task,
    /// `LambdaFunctionScheduled`...: a Lambda function named by its ARN.
    LambdaFunction,
    /// `ActivityScheduled`...: an activity.
    Activity,
}

impl TaskEvents {
    /// Whether these are the `Task*` events.
    pub fn is_task(&self) -> bool {
        *self == TaskEvents::Task
    }
}
