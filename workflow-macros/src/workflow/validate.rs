//! Every check on a parsed workflow, in one place: names, start, targets, task options,
//! reachability, termination. Each check pushes its errors and goes on, so one run reports
//! every mistake. (Type checks are left to rustc; see `expand`.)

use std::collections::{HashMap, VecDeque};

use proc_macro2::Span;
use syn::{Ident, Lit};

use super::parse::{
    ErrorRef, Item, RetryParam, RetryValue, StateBody, StateDecl, TaskOption, WaitFor, WorkflowAst,
    END,
};
use crate::diagnostics::Errors;
use crate::duration::DurationLit;
use crate::names;

/// The workflow mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Standard,
    Express,
}

impl Mode {
    fn max_millis(self) -> u64 {
        match self {
            Mode::Standard => 365 * 24 * 3_600_000,
            Mode::Express => 5 * 60_000,
        }
    }

    fn limit_text(self) -> &'static str {
        match self {
            Mode::Standard => "a Standard workflow runs for at most a year",
            Mode::Express => "an Express workflow runs for at most 5 minutes",
        }
    }
}

/// The longest an Express execution may run, in milliseconds.
pub(super) const EXPRESS_MAX_MILLIS: u64 = 5 * 60_000;

/// A checked workflow: its states with transitions resolved to indices.
pub(super) struct Model<'a> {
    pub(super) ast: &'a WorkflowAst,
    pub(super) mode: Mode,
    /// `timeout ...;` of the whole workflow.
    pub(super) timeout: Option<DurationLit>,
    /// The start transition, if `start` named a state.
    pub(super) start: Option<Edge<'a>>,
    /// The states, in declaration order; a second declaration of a name is left out.
    pub(super) states: Vec<StateModel<'a>>,
}

pub(super) struct StateModel<'a> {
    pub(super) decl: &'a StateDecl,
    /// Where a task, wait or pass state goes next.
    pub(super) next: Option<Edge<'a>>,
    /// A task's options.
    pub(super) task: Option<TaskModel<'a>>,
    /// A Choice state's rules, in order, and its default.
    pub(super) choice: Option<ChoiceModel<'a>>,
}

/// A Choice state's targets.
pub(super) struct ChoiceModel<'a> {
    pub(super) rules: Vec<Edge<'a>>,
    pub(super) default: Option<Edge<'a>>,
}

/// What a task state declares besides its step and next state.
#[derive(Default)]
pub(super) struct TaskModel<'a> {
    pub(super) timeout: Option<DurationLit>,
    pub(super) heartbeat: Option<DurationLit>,
    pub(super) retries: Vec<RetryModel<'a>>,
    pub(super) catches: Vec<CatchModel<'a>>,
}

impl TaskModel<'_> {
    /// Where the first `retry` or `catch` keyword was written, if any.
    pub(super) fn policy_span(&self) -> Option<Span> {
        let retry = self.retries.first().map(|retry| retry.keyword.span());
        retry.or_else(|| self.catches.first().map(|catch| catch.keyword.span()))
    }
}

pub(super) struct RetryModel<'a> {
    pub(super) keyword: &'a Ident,
    pub(super) errors: Vec<ErrorModel<'a>>,
    pub(super) interval_ms: Option<u64>,
    pub(super) max_attempts: Option<u32>,
    pub(super) backoff_rate: Option<f64>,
    pub(super) max_delay_ms: Option<u64>,
    pub(super) full_jitter: bool,
}

pub(super) struct CatchModel<'a> {
    pub(super) keyword: &'a Ident,
    pub(super) errors: Vec<ErrorModel<'a>>,
    pub(super) edge: Edge<'a>,
}

/// An error named in `retry` or `catch`.
pub(super) enum ErrorModel<'a> {
    /// `States::X`: a predefined name.
    Predefined {
        name: &'static str,
        written: &'a ErrorRef,
    },
    /// `Type::Variant` (or a struct error type): checked against the step's error type by rustc.
    Variant(&'a ErrorRef),
    /// `Type::*`: every variant.
    AllOf(&'a ErrorRef),
}

/// A transition and the tokens that wrote it.
#[derive(Clone, Copy)]
pub(super) struct Edge<'a> {
    pub(super) target: Target,
    pub(super) written: &'a Ident,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    State(usize),
    End,
    /// A name that is not a state; reported already.
    Unknown {
        /// The state the name probably meant, for graph checks.
        likely: Option<usize>,
    },
}

impl Model<'_> {
    pub(super) fn state(&self, index: usize) -> &StateDecl {
        self.states[index].decl
    }

    /// Every transition out of a state (next, then catch targets), including unresolved ones.
    pub(super) fn edges(&self, index: usize) -> impl Iterator<Item = Edge<'_>> + '_ {
        let state = &self.states[index];
        let catches = state
            .task
            .iter()
            .flat_map(|task| task.catches.iter().map(|catch| catch.edge));
        let choices = state
            .choice
            .iter()
            .flat_map(|choice| choice.rules.iter().copied().chain(choice.default));
        state.next.into_iter().chain(catches).chain(choices)
    }
}

pub(super) fn validate<'a>(ast: &'a WorkflowAst, errors: &mut Errors) -> Model<'a> {
    let mode = check_mode(&ast.mode, errors);
    check_name(&ast.name, "workflow", errors);

    let mut states: Vec<StateModel<'a>> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for item in &ast.items {
        let Item::State(decl) = item else { continue };
        let name = decl.name.to_string();
        check_name(&decl.name, "state", errors);
        if name == END {
            errors.at(
                decl.name.span(),
                "`end` is reserved: `-> end` ends the execution; give the state another name",
            );
            continue;
        }
        if index_of.contains_key(&name) {
            errors.at(
                decl.name.span(),
                format!("state `{name}` is declared more than once"),
            );
            continue;
        }
        if let StateBody::Fail { error, .. } = &decl.body {
            if error.value().trim().is_empty() {
                errors.at(error.span(), "a Fail state's error name cannot be empty");
            }
        }
        index_of.insert(name, states.len());
        states.push(StateModel {
            decl,
            next: None,
            task: None,
            choice: None,
        });
    }

    let state_names: Vec<String> = states
        .iter()
        .map(|state| state.decl.name.to_string())
        .collect();
    let resolve = |written: &'a Ident, allow_end: bool, errors: &mut Errors| -> Edge<'a> {
        let wanted = written.to_string();
        let target = if allow_end && wanted == END {
            Target::End
        } else if let Some(&index) = index_of.get(&wanted) {
            Target::State(index)
        } else if wanted == END {
            errors.at(
                written.span(),
                "this transition needs a state to go to, not `end`: add a `succeed` or `fail` state and go there",
            );
            Target::Unknown { likely: None }
        } else {
            let likely = names::suggest(&wanted, state_names.iter().map(String::as_str));
            let hint = match likely {
                Some(close) => format!("; did you mean `{close}`?"),
                None if state_names.is_empty() => String::new(),
                None => format!("; the states are {}", list(&state_names)),
            };
            errors.at(written.span(), format!("unknown state `{wanted}`{hint}"));
            Target::Unknown {
                likely: likely.and_then(|close| index_of.get(close).copied()),
            }
        };
        Edge { target, written }
    };

    let mut start = None;
    let mut timeout = None;
    for item in &ast.items {
        match item {
            Item::Start { keyword, target } => {
                if start.is_some() {
                    errors.at(
                        keyword.span(),
                        "`start` is given more than once; a workflow has one start state",
                    );
                    continue;
                }
                start = Some(resolve(target, false, errors));
            }
            Item::Timeout { keyword, duration } => {
                if timeout.replace(*duration).is_some() {
                    errors.at(
                        keyword.span(),
                        "the workflow's `timeout` is given more than once",
                    );
                }
                if duration.millis > mode.max_millis() {
                    errors.at(
                        duration.span,
                        format!(
                            "this timeout is longer than the mode allows: {}",
                            mode.limit_text()
                        ),
                    );
                }
            }
            Item::State(_) => {}
        }
    }
    if start.is_none() {
        errors.at(
            ast.name.span(),
            format!(
                "workflow `{}` has no start state; add `start <State>;` to its body",
                ast.name
            ),
        );
    }
    for state in &mut states {
        match &state.decl.body {
            StateBody::Task { next, options, .. } => {
                state.next = Some(resolve(next, true, errors));
                state.task = Some(task_model(options, mode, errors, &mut |target, errors| {
                    resolve(target, false, errors)
                }));
            }
            StateBody::Wait { wait, next, .. } => {
                if let WaitFor::Duration(duration) = wait {
                    if mode == Mode::Express && duration.millis > EXPRESS_MAX_MILLIS {
                        errors.at(
                            duration.span,
                            format!(
                                "this wait is longer than the mode allows: {}",
                                Mode::Express.limit_text()
                            ),
                        );
                    }
                }
                state.next = Some(resolve(next, true, errors));
            }
            StateBody::Pass { next, .. } => state.next = Some(resolve(next, true, errors)),
            StateBody::Choice {
                keyword,
                rules,
                default,
            } => {
                if rules.is_empty() {
                    errors.at(
                        keyword.span(),
                        "a Choice state needs at least one rule: `|input: &T| condition => State`",
                    );
                }
                if default.is_none() {
                    errors.at(
                        keyword.span(),
                        "a Choice state needs a default branch, last: `_ => State`; to fail when no rule holds, make the default a `fail` state",
                    );
                }
                state.choice = Some(ChoiceModel {
                    rules: rules
                        .iter()
                        .map(|rule| resolve(&rule.target, false, errors))
                        .collect(),
                    default: default
                        .as_ref()
                        .map(|default| resolve(default, false, errors)),
                });
            }
            StateBody::Succeed | StateBody::Fail { .. } => {}
        }
    }

    let model = Model {
        ast,
        mode,
        timeout,
        start,
        states,
    };
    check_graph(&model, errors);
    model
}

fn check_mode(mode: &Ident, errors: &mut Errors) -> Mode {
    match mode.to_string().as_str() {
        "Standard" => Mode::Standard,
        "Express" => Mode::Express,
        other => {
            errors.at(
                mode.span(),
                format!(
                    "unknown workflow mode `{other}`: the modes are `Standard` and `Express`{}",
                    names::did_you_mean(other, ["Standard", "Express"])
                ),
            );
            Mode::Standard
        }
    }
}

fn check_name(name: &Ident, what: &str, errors: &mut Errors) {
    if let Some(problem) = names::name_problem(&name.to_string()) {
        errors.at(name.span(), format!("invalid {what} name: {problem}"));
    }
}

/// A task's options: timeouts, retriers and catchers, each checked.
fn task_model<'a>(
    options: &'a [TaskOption],
    mode: Mode,
    errors: &mut Errors,
    resolve: &mut dyn FnMut(&'a Ident, &mut Errors) -> Edge<'a>,
) -> TaskModel<'a> {
    let mut task = TaskModel::default();
    for option in options {
        match option {
            TaskOption::Timeout { keyword, duration }
            | TaskOption::Heartbeat { keyword, duration } => {
                let is_timeout = matches!(option, TaskOption::Timeout { .. });
                let slot = if is_timeout {
                    &mut task.timeout
                } else {
                    &mut task.heartbeat
                };
                if slot.replace(*duration).is_some() {
                    errors.at(
                        keyword.span(),
                        format!("`{keyword}` is given more than once"),
                    );
                }
                if mode == Mode::Express && duration.millis > EXPRESS_MAX_MILLIS {
                    errors.at(
                        duration.span,
                        format!(
                            "this {keyword} is longer than the mode allows: {}",
                            Mode::Express.limit_text()
                        ),
                    );
                }
            }
            TaskOption::Retry {
                keyword,
                errors: written,
                params,
            } => {
                let mut retry = RetryModel {
                    keyword,
                    errors: error_models(written, errors),
                    interval_ms: None,
                    max_attempts: None,
                    backoff_rate: None,
                    max_delay_ms: None,
                    full_jitter: false,
                };
                retry_params(&mut retry, params, errors);
                task.retries.push(retry);
            }
            TaskOption::Catch {
                keyword,
                errors: written,
                target,
            } => {
                let errors_model = error_models(written, errors);
                task.catches.push(CatchModel {
                    keyword,
                    errors: errors_model,
                    edge: resolve(target, errors),
                });
            }
        }
    }
    if let (Some(timeout), Some(heartbeat)) = (task.timeout, task.heartbeat) {
        if heartbeat.millis >= timeout.millis {
            errors.at(
                heartbeat.span,
                "the heartbeat interval must be shorter than the timeout",
            );
        }
    }
    for (clause, lists) in [
        (
            "retrier",
            task.retries
                .iter()
                .map(|retry| &retry.errors)
                .collect::<Vec<_>>(),
        ),
        (
            "catcher",
            task.catches
                .iter()
                .map(|catch| &catch.errors)
                .collect::<Vec<_>>(),
        ),
    ] {
        let last = lists.len().saturating_sub(1);
        for (index, list) in lists.iter().enumerate() {
            for error in list.iter() {
                if let ErrorModel::Predefined {
                    name: "States.ALL",
                    written,
                } = error
                {
                    if list.len() > 1 {
                        errors.at(
                            written.span(),
                            "`States::ALL` must stand alone in its list of errors",
                        );
                    }
                    if index != last {
                        errors.at(
                            written.span(),
                            format!("`States::ALL` matches every error, so it must be in the last {clause}"),
                        );
                    }
                }
            }
        }
    }
    task
}

/// The predefined error names, by the variant of `States` that names them.
const PREDEFINED: [(&str, &str); 12] = [
    ("ALL", "States.ALL"),
    ("All", "States.ALL"),
    ("Timeout", "States.Timeout"),
    ("HeartbeatTimeout", "States.HeartbeatTimeout"),
    ("TaskFailed", "States.TaskFailed"),
    ("DataLimitExceeded", "States.DataLimitExceeded"),
    ("Runtime", "States.Runtime"),
    ("Permissions", "States.Permissions"),
    ("BranchFailed", "States.BranchFailed"),
    ("NoChoiceMatched", "States.NoChoiceMatched"),
    ("IntrinsicFailure", "States.IntrinsicFailure"),
    (
        "ExceedToleratedFailureThreshold",
        "States.ExceedToleratedFailureThreshold",
    ),
];

/// The predefined errors a task state never raises.
const NOT_RAISED_BY_TASKS: [&str; 5] = [
    "States.Permissions",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
];

fn error_models<'a>(written: &'a [ErrorRef], errors: &mut Errors) -> Vec<ErrorModel<'a>> {
    written
        .iter()
        .filter_map(|error| {
            let is_predefined = error.segments.len() == 2 && error.segments[0] == "States" && error.leading_colon.is_none();
            if error.segments[0] == "States" && !is_predefined {
                errors.at(error.span(), "predefined errors are written `States::Name`, e.g. `States::Timeout`");
                return None;
            }
            if !is_predefined {
                return Some(if error.wildcard.is_some() {
                    ErrorModel::AllOf(error)
                } else {
                    ErrorModel::Variant(error)
                });
            }
            if error.wildcard.is_some() {
                errors.at(error.span(), "write `States::ALL` to match every error");
                return None;
            }
            let variant = error.last().to_string();
            let Some((_, name)) = PREDEFINED.iter().find(|(written, _)| *written == variant) else {
                errors.at(
                    error.last().span(),
                    format!(
                        "unknown predefined error `States::{variant}`{}",
                        names::did_you_mean(&variant, PREDEFINED.iter().map(|(written, _)| *written))
                    ),
                );
                return None;
            };
            if *name == "States.Runtime" {
                errors.at(
                    error.last().span(),
                    "`States::Runtime` cannot be retried or caught: such an error always fails the execution",
                );
                return None;
            }
            if NOT_RAISED_BY_TASKS.contains(name) {
                errors.at(error.last().span(), format!("a task state never raises `{name}`"));
                return None;
            }
            Some(ErrorModel::Predefined { name, written: error })
        })
        .collect()
}

const RETRY_PARAMS: [&str; 5] = ["max_attempts", "interval", "backoff", "max_delay", "jitter"];

fn retry_params(retry: &mut RetryModel<'_>, params: &[RetryParam], errors: &mut Errors) {
    let mut seen: Vec<String> = Vec::new();
    let mut interval = None;
    let mut max_delay = None;
    for param in params {
        let key = param.key.to_string();
        if seen.contains(&key) {
            errors.at(param.key.span(), format!("`{key}` is given more than once"));
            continue;
        }
        seen.push(key.clone());
        match (key.as_str(), &param.value) {
            ("max_attempts", RetryValue::Number(Lit::Int(count))) => match count.base10_parse::<u32>() {
                Ok(count) if count <= 99_999_999 => retry.max_attempts = Some(count),
                _ => errors.at(count.span(), "`max_attempts` is a whole number from 0 to 99999999"),
            },
            ("max_attempts", _) => errors.at(param.key.span(), "`max_attempts` is a whole number, e.g. `max_attempts: 3`"),
            ("backoff", RetryValue::Number(number @ (Lit::Float(_) | Lit::Int(_)))) => {
                let rate = match number {
                    Lit::Float(float) => float.base10_parse::<f64>().ok(),
                    Lit::Int(int) => int.base10_parse::<f64>().ok(),
                    _ => None,
                };
                match rate {
                    Some(rate) if rate.is_finite() && rate >= 1.0 => retry.backoff_rate = Some(rate),
                    _ => errors.at(
                        number.span(),
                        "`backoff` must be at least 1.0: each retry waits at least as long as the one before",
                    ),
                }
            }
            ("backoff", _) => errors.at(param.key.span(), "`backoff` is a number of at least 1.0, e.g. `backoff: 2.0`"),
            ("interval", RetryValue::Duration(duration)) => interval = Some(*duration),
            ("max_delay", RetryValue::Duration(duration)) => max_delay = Some(*duration),
            ("jitter", RetryValue::Word(word)) => match word.to_string().to_lowercase().as_str() {
                "full" => retry.full_jitter = true,
                "none" => retry.full_jitter = false,
                _ => errors.at(word.span(), "`jitter` is `none` or `full`"),
            },
            ("jitter", _) => errors.at(param.key.span(), "`jitter` is `none` or `full`"),
            _ => errors.at(
                param.key.span(),
                format!(
                    "unknown retry setting `{key}`: the settings are `max_attempts`, `interval`, `backoff`, `max_delay` and `jitter`{}",
                    names::did_you_mean(&key, RETRY_PARAMS)
                ),
            ),
        }
    }
    retry.interval_ms = interval.map(|interval| interval.millis);
    retry.max_delay_ms = max_delay.map(|max_delay| max_delay.millis);
    if let Some(max_delay) = max_delay {
        // The default interval is one second.
        let interval_ms = interval.map_or(1000, |interval| interval.millis);
        if max_delay.millis < interval_ms {
            errors.at(
                max_delay.span,
                "`max_delay` cannot be shorter than the `interval` (1s by default)",
            );
        }
    }
}

/// Unreachable states, and states from which no end can be reached.
fn check_graph(model: &Model<'_>, errors: &mut Errors) {
    let Some(start) = model.start else { return };
    let count = model.states.len();
    // A target we cannot even guess makes both checks unreliable; its error is enough.
    let guess = |target: Target| match target {
        Target::State(index)
        | Target::Unknown {
            likely: Some(index),
        } => Ok(Some(index)),
        Target::End => Ok(None),
        Target::Unknown { likely: None } => Err(()),
    };
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut ends = vec![false; count];
    for index in 0..count {
        let decl = model.state(index);
        ends[index] = matches!(decl.body, StateBody::Succeed | StateBody::Fail { .. });
        for edge in model.edges(index) {
            match guess(edge.target) {
                Ok(Some(next)) => successors[index].push(next),
                Ok(None) => ends[index] = true,
                Err(()) => return,
            }
        }
    }
    let Ok(Some(start)) = guess(start.target) else {
        return;
    };

    let mut reachable = vec![false; count];
    let mut queue = VecDeque::from([start]);
    reachable[start] = true;
    while let Some(index) = queue.pop_front() {
        for &next in &successors[index] {
            if !std::mem::replace(&mut reachable[next], true) {
                queue.push_back(next);
            }
        }
    }

    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, nexts) in successors.iter().enumerate() {
        for &next in nexts {
            predecessors[next].push(index);
        }
    }
    let mut finishes = ends.clone();
    let mut queue: VecDeque<usize> = (0..count).filter(|&index| ends[index]).collect();
    while let Some(index) = queue.pop_front() {
        for &previous in &predecessors[index] {
            if !std::mem::replace(&mut finishes[previous], true) {
                queue.push_back(previous);
            }
        }
    }

    let start_name = &model.state(start).name;
    for index in 0..count {
        let decl = model.state(index);
        if !reachable[index] {
            errors.at(
                decl.span(),
                format!(
                    "state `{}` is unreachable: no transition from the start state `{start_name}` leads to it",
                    decl.name
                ),
            );
        } else if !finishes[index] {
            errors.at(
                decl.span(),
                format!(
                    "no path from state `{}` ever ends the execution: add a transition to `end`, a `succeed` or a `fail` state",
                    decl.name
                ),
            );
        }
    }
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
