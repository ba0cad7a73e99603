//! Constructors of definitions, for the code the macros generate and for the runtime. Not a
//! public API: it may change in any release.

use std::time::Duration;

use crate::definition::{
    Branch, ChoiceRule, ChoiceState, Definition, FailState, MapState, Next, ParallelState,
    PassState, State, StateId, StateKind, StepDefinition, TaskState, WaitFor, WaitState,
};
use crate::mode::Mode;
use crate::retry::{Catcher, Jitter, Retrier};

/// Builds a workflow's [`Definition`].
#[allow(clippy::too_many_arguments)]
pub fn definition(
    name: &str,
    mode: Mode,
    comment: Option<&str>,
    timeout_ms: Option<u64>,
    input_type: &str,
    output_type: &str,
    start_at: usize,
    states: Vec<State>,
) -> Definition {
    Definition {
        name: name.to_owned(),
        version: crate::definition::FIRST_VERSION,
        mode,
        comment: comment.map(str::to_owned),
        input_type: input_type.to_owned(),
        output_type: output_type.to_owned(),
        start_at: StateId(start_at),
        states,
        timeout: timeout_ms.map(Duration::from_millis),
        program: crate::program::Program::default(),
    }
}

/// What a task state declares besides its step and next state.
#[derive(Default)]
pub struct TaskOptions {
    /// `timeout ...` on the state.
    pub timeout_ms: Option<u64>,
    /// `heartbeat ...` on the state.
    pub heartbeat_ms: Option<u64>,
    /// `timeout |input| ...`: the function, as written.
    pub timeout_function: Option<String>,
    /// `heartbeat |input| ...`: the function, as written.
    pub heartbeat_function: Option<String>,
    /// `retry ...` clauses.
    pub retry: Vec<Retrier>,
    /// `catch ...` clauses.
    pub catch: Vec<Catcher>,
}

/// A retrier; `None` takes Step Functions' default.
pub fn retrier(
    errors: Vec<String>,
    interval_ms: Option<u64>,
    max_attempts: Option<u32>,
    backoff_rate: Option<f64>,
    max_delay_ms: Option<u64>,
    jitter: Jitter,
) -> Retrier {
    let mut retrier = Retrier::new(errors);
    if let Some(ms) = interval_ms {
        retrier.interval = Duration::from_millis(ms);
    }
    if let Some(max_attempts) = max_attempts {
        retrier.max_attempts = max_attempts;
    }
    if let Some(rate) = backoff_rate {
        retrier.backoff_rate = rate;
    }
    retrier.max_delay = max_delay_ms.map(Duration::from_millis);
    retrier.jitter = jitter;
    retrier
}

/// A catcher going to state `next`.
pub fn catcher(errors: Vec<String>, next: usize) -> Catcher {
    Catcher {
        errors,
        next: StateId(next),
        unchecked: false,
    }
}

/// A retrier whose error names are not checked against what its state raises.
pub fn unchecked_retrier(mut retrier: Retrier) -> Retrier {
    retrier.unchecked = true;
    retrier
}

/// A catcher whose error names are not checked against what its state raises.
pub fn unchecked_catcher(mut catcher: Catcher) -> Catcher {
    catcher.unchecked = true;
    catcher
}

/// A Succeed state.
pub fn succeed_state(name: &str, comment: Option<&str>) -> State {
    state(name, comment, StateKind::Succeed)
}

/// How a Fail state gives its error name or its cause.
#[derive(Debug, Clone, Copy)]
pub enum FailText<'a> {
    /// Not at all.
    None,
    /// As this text.
    Given(&'a str),
    /// Computed from the input by this function (as written).
    Computed(&'a str),
}

impl<'a> FailText<'a> {
    fn split(self) -> (Option<String>, Option<String>) {
        match self {
            FailText::None => (None, None),
            FailText::Given(text) => (Some(text.to_owned()), None),
            FailText::Computed(function) => (None, Some(function.to_owned())),
        }
    }
}

/// A Fail state with its error name and cause.
pub fn fail_state(
    name: &str,
    comment: Option<&str>,
    error: FailText<'_>,
    cause: FailText<'_>,
) -> State {
    let (error, error_function) = error.split();
    let (cause, cause_function) = cause.split();
    state(
        name,
        comment,
        StateKind::Fail(FailState {
            error,
            cause,
            error_function,
            cause_function,
        }),
    )
}

fn state(name: &str, comment: Option<&str>, kind: StateKind) -> State {
    State {
        name: name.to_owned(),
        comment: comment.map(str::to_owned),
        kind,
    }
}

/// A Choice state: `(condition as written, next)` per rule, and the default, if any.
pub fn choice_state(
    name: &str,
    comment: Option<&str>,
    rules: Vec<(&str, usize)>,
    default: Option<usize>,
) -> State {
    state(
        name,
        comment,
        StateKind::Choice(ChoiceState {
            choices: rules
                .into_iter()
                .map(|(condition, next)| ChoiceRule {
                    condition: condition.to_owned(),
                    next: StateId(next),
                })
                .collect(),
            default: default.map(StateId),
        }),
    )
}

/// What a Wait state waits for, as the macros write it.
#[derive(Debug, Clone, Copy)]
pub enum Wait<'a> {
    /// A fixed number of milliseconds.
    Millis(u64),
    /// Until the time this function (as written) selects from the input.
    Until(&'a str),
    /// For the duration this function (as written) works out from the input.
    DurationFrom(&'a str),
}

/// A Wait state.
pub fn wait_state(name: &str, comment: Option<&str>, wait: Wait<'_>, next: Option<usize>) -> State {
    let wait = match wait {
        Wait::Millis(ms) => WaitFor::Duration(Duration::from_millis(ms)),
        Wait::Until(selector) => WaitFor::Until(selector.to_owned()),
        Wait::DurationFrom(function) => WaitFor::DurationFrom(function.to_owned()),
    };
    state(
        name,
        comment,
        StateKind::Wait(WaitState {
            wait,
            next: next_of(next),
        }),
    )
}

/// A Pass state, with its transforming function as written, if any.
pub fn pass_state(
    name: &str,
    comment: Option<&str>,
    transform: Option<&str>,
    next: Option<usize>,
) -> State {
    state(
        name,
        comment,
        StateKind::Pass(PassState {
            transform: transform.map(str::to_owned),
            next: next_of(next),
        }),
    )
}

fn next_of(next: Option<usize>) -> Next {
    next.map_or(Next::End, |next| Next::State(StateId(next)))
}

/// A Parallel state with its branches (`(start, states)` each) and policies.
pub fn parallel_state(
    name: &str,
    comment: Option<&str>,
    branches: Vec<(usize, Vec<usize>)>,
    next: Option<usize>,
    retry: Vec<Retrier>,
    catch: Vec<Catcher>,
) -> State {
    state(
        name,
        comment,
        StateKind::Parallel(Box::new(ParallelState {
            branches: branches.into_iter().map(branch).collect(),
            next: next_of(next),
            retry,
            catch,
        })),
    )
}

/// What a Map state declares besides its selector and iteration.
#[derive(Default)]
pub struct MapOptions {
    /// `max_concurrency N`.
    pub max_concurrency: u32,
    /// Items run as child executions (Step Functions' distributed mode).
    pub distributed: bool,
    /// `tolerate N`.
    pub tolerated_failure_count: Option<u32>,
    /// `tolerate N%`.
    pub tolerated_failure_percentage: Option<f64>,
    /// `max_concurrency |input| ...`: the function, as written.
    pub max_concurrency_function: Option<String>,
    /// `tolerate |input| ...`: the function, as written.
    pub tolerated_failure_count_function: Option<String>,
    /// `tolerate |input| ... %`: the function, as written.
    pub tolerated_failure_percentage_function: Option<String>,
    /// `retry ...` clauses.
    pub retry: Vec<Retrier>,
    /// `catch ...` clauses.
    pub catch: Vec<Catcher>,
}

/// A Map state: its selector (as written), its iteration (`(start, states)`) and options.
pub fn map_state(
    name: &str,
    comment: Option<&str>,
    items: &str,
    iterator: (usize, Vec<usize>),
    next: Option<usize>,
    options: MapOptions,
) -> State {
    state(
        name,
        comment,
        StateKind::Map(Box::new(MapState {
            items: items.to_owned(),
            iterator: branch(iterator),
            max_concurrency: options.max_concurrency,
            distributed: options.distributed,
            tolerated_failure_count: options.tolerated_failure_count,
            tolerated_failure_percentage: options.tolerated_failure_percentage,
            max_concurrency_function: options.max_concurrency_function,
            tolerated_failure_count_function: options.tolerated_failure_count_function,
            tolerated_failure_percentage_function: options.tolerated_failure_percentage_function,
            next: next_of(next),
            retry: options.retry,
            catch: options.catch,
        })),
    )
}

fn branch((start, states): (usize, Vec<usize>)) -> Branch {
    Branch {
        start_at: StateId(start),
        states: states.into_iter().map(StateId).collect(),
    }
}

/// Every error name an execution of `definition` can end with: its steps' and its Fail
/// states' (the predefined `States.*` names aside).
pub fn workflow_error_names(definition: &Definition) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for state in &definition.states {
        let raised: Vec<String> = match &state.kind {
            StateKind::Task(task) => task.step.error_names.clone(),
            StateKind::Fail(fail) => fail.error.iter().cloned().collect(),
            _ => Vec::new(),
        };
        for name in raised {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// What a Task state knows about its step.
#[allow(clippy::too_many_arguments)]
pub fn step_definition(
    name: &str,
    function: &str,
    doc: Option<&str>,
    input_type: &str,
    output_type: &str,
    error_type: &str,
    error_names: Vec<String>,
    child_workflow: bool,
    timeout: Option<Duration>,
    heartbeat: Option<Duration>,
    resources: Vec<String>,
) -> StepDefinition {
    StepDefinition {
        name: name.to_owned(),
        function: function.to_owned(),
        doc: doc.map(str::to_owned),
        input_type: input_type.to_owned(),
        output_type: output_type.to_owned(),
        error_type: error_type.to_owned(),
        error_names,
        child_workflow,
        callback: false,
        timeout,
        heartbeat,
        resources,
        events: crate::definition::TaskEvents::Task,
    }
}

/// A Task state running `step`; `next` is `None` for `-> end`. The state's own timeout and
/// heartbeat win over the step's.
pub fn task_state(
    name: &str,
    comment: Option<&str>,
    step: StepDefinition,
    next: Option<usize>,
    options: TaskOptions,
) -> State {
    // A setting worked out from the input takes the place of the state's and the step's own.
    let timeout = options
        .timeout_ms
        .filter(|_| options.timeout_function.is_none());
    let heartbeat = options
        .heartbeat_ms
        .filter(|_| options.heartbeat_function.is_none());
    let mut task = TaskState {
        timeout: timeout.map(Duration::from_millis),
        heartbeat: heartbeat.map(Duration::from_millis),
        timeout_function: options.timeout_function,
        heartbeat_function: options.heartbeat_function,
        step,
        next: next_of(next),
        retry: options.retry,
        catch: options.catch,
    };
    crate::embed::fall_back_on_step_timers(&mut task);
    state(name, comment, StateKind::Task(Box::new(task)))
}
