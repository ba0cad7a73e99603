//! Every check on a parsed workflow, in one place: names, starts, targets, options,
//! reachability, termination. Each check pushes its errors and goes on, so one run reports
//! every mistake. (Type checks are left to rustc; see `expand`.)
//!
//! A workflow is a tree of *scopes*: the top level, and the body of every Parallel branch and
//! Map iteration. Each scope has its own start state and its states' transitions stay inside
//! it; state names are unique across the whole workflow, as in the States Language.

mod graph;
mod options;

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::Ident;

use super::index::{IndexVec, ScopeIndex, StateIndex};
use super::parse::{Branch, FailText, Item, StateBody, StateDecl, WaitFor, WorkflowAst, END};
use crate::diagnostics::Errors;
use crate::duration::DurationLit;
use crate::names;
use options::{options_model, Kind};

/// The workflow mode, and with it the longest an execution may run: `workflow_core` holds
/// both, for the macros and the runtime alike.
pub(super) use workflow_core::Mode;

/// The longest an execution of `mode` may run, in milliseconds.
pub(super) fn max_millis(mode: Mode) -> u64 {
    u64::try_from(mode.max_duration().as_millis()).unwrap_or(u64::MAX)
}

/// The limit of `mode`, as an error message says it.
pub(super) fn limit_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Standard => "a Standard workflow runs for at most a year",
        Mode::Express => "an Express workflow runs for at most 5 minutes",
    }
}

/// A checked workflow: its scopes and states with transitions resolved to indices.
pub(super) struct Model<'a> {
    pub(super) ast: &'a WorkflowAst,
    pub(super) mode: Mode,
    /// `#[version(N)]`, or 1.
    pub(super) version: u32,
    /// `timeout ...;` of the whole workflow.
    pub(super) timeout: Option<DurationLit>,
    /// The start transition of the top level.
    pub(super) start: Option<Edge<'a>>,
    /// The top level first ([`ScopeIndex::TOP`]); then Parallel branches and Map iterations.
    pub(super) scopes: IndexVec<ScopeIndex, ScopeModel<'a>>,
    /// Every state of every scope; a second declaration of a name is left out.
    pub(super) states: IndexVec<StateIndex, StateModel<'a>>,
}

/// The top level, or the body of a Parallel branch or a Map iteration.
pub(super) struct ScopeModel<'a> {
    pub(super) start: Option<Edge<'a>>,
    /// Its states, in declaration order.
    pub(super) states: Vec<StateIndex>,
    /// The Parallel or Map state it belongs to, with the branch's number.
    pub(super) owner: Option<(StateIndex, usize)>,
}

pub(super) struct StateModel<'a> {
    pub(super) decl: &'a StateDecl,
    pub(super) scope: ScopeIndex,
    /// Where a task, wait, pass, parallel or map state goes next.
    pub(super) next: Option<Edge<'a>>,
    /// The options of a task, parallel or map state.
    pub(super) task: Option<TaskModel<'a>>,
    /// A Choice state's rules, in order, and its default.
    pub(super) choice: Option<ChoiceModel<'a>>,
    /// The scopes of a Parallel state's branches, or of a Map state's iteration.
    pub(super) branches: Vec<ScopeIndex>,
}

impl StateModel<'_> {
    /// The scope of a Map state's iteration (validation gives every Map state one).
    pub(super) fn iteration(&self) -> Option<ScopeIndex> {
        match self.decl.body {
            StateBody::Map { .. } => self.branches.first().copied(),
            _ => None,
        }
    }
}

/// A Choice state's targets.
pub(super) struct ChoiceModel<'a> {
    pub(super) rules: Vec<Edge<'a>>,
    pub(super) default: Option<Edge<'a>>,
}

/// What a task, parallel or map state declares besides its body and next state.
#[derive(Default)]
pub(super) struct TaskModel<'a> {
    pub(super) timeout: Option<DurationLit>,
    pub(super) heartbeat: Option<DurationLit>,
    pub(super) retries: Vec<RetryModel<'a>>,
    pub(super) catches: Vec<CatchModel<'a>>,
    pub(super) max_concurrency: Option<u32>,
    pub(super) tolerated_count: Option<u32>,
    pub(super) tolerated_percentage: Option<f64>,
    /// Settings worked out from the state's input: the functions as written.
    pub(super) computed: ComputedSettings<'a>,
}

/// The functions of the input that give a state's settings (Step Functions' `*Path` fields).
#[derive(Default, Clone, Copy)]
pub(super) struct ComputedSettings<'a> {
    pub(super) timeout: Option<&'a syn::Expr>,
    pub(super) heartbeat: Option<&'a syn::Expr>,
    pub(super) max_concurrency: Option<&'a syn::Expr>,
    pub(super) tolerated_count: Option<&'a syn::Expr>,
    pub(super) tolerated_percentage: Option<&'a syn::Expr>,
}

impl ComputedSettings<'_> {
    /// Whether a task's timeout or heartbeat is computed.
    pub(super) fn any_timer(&self) -> bool {
        self.timeout.is_some() || self.heartbeat.is_some()
    }

    /// Whether a Map state's concurrency or tolerance is computed.
    pub(super) fn any_map_limit(&self) -> bool {
        self.max_concurrency.is_some()
            || self.tolerated_count.is_some()
            || self.tolerated_percentage.is_some()
    }
}

impl TaskModel<'_> {
    /// Where the first `retry` or `catch` keyword was written, if any.
    pub(super) fn policy_span(&self) -> Option<Span> {
        let retry = self.retries.first().map(|retry| retry.keyword.span());
        retry.or_else(|| self.catches.first().map(|catch| catch.keyword.span()))
    }

    /// Whether a Map state tolerates failed items.
    pub(super) fn tolerates(&self) -> bool {
        self.tolerated_count.is_some()
            || self.tolerated_percentage.is_some()
            || self.computed.tolerated_count.is_some()
            || self.computed.tolerated_percentage.is_some()
    }
}

pub(super) struct RetryModel<'a> {
    pub(super) keyword: &'a Ident,
    /// `retry unchecked ...`: its names are taken as written.
    pub(super) unchecked: bool,
    pub(super) errors: Vec<ErrorModel<'a>>,
    pub(super) interval_ms: Option<u64>,
    pub(super) max_attempts: Option<u32>,
    pub(super) backoff_rate: Option<f64>,
    pub(super) max_delay_ms: Option<u64>,
    pub(super) full_jitter: bool,
}

pub(super) struct CatchModel<'a> {
    pub(super) keyword: &'a Ident,
    /// `catch unchecked ...`: its names are taken as written.
    pub(super) unchecked: bool,
    pub(super) errors: Vec<ErrorModel<'a>>,
    pub(super) edge: Edge<'a>,
}

/// An error named in `retry` or `catch`.
pub(super) enum ErrorModel<'a> {
    /// `States::X`: a predefined name.
    Predefined {
        name: &'static str,
        written: &'a super::parse::ErrorRef,
    },
    /// `Type::Variant` (or a struct error type): checked against the error type by rustc.
    Variant(&'a super::parse::ErrorRef),
    /// `Type::*`: every variant.
    AllOf(&'a super::parse::ErrorRef),
    /// `"Name"`: an error name as a string, checked against what the state can raise.
    Named(&'a syn::LitStr),
    /// `unchecked "Name"`: an error name as a string, taken as written.
    Unchecked(&'a syn::LitStr),
}

/// A transition and the tokens that wrote it.
#[derive(Clone, Copy)]
pub(super) struct Edge<'a> {
    pub(super) target: Target,
    pub(super) written: &'a Ident,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    State(StateIndex),
    /// The end of the scope: of the execution at the top level, of the branch inside one.
    End,
    /// A name that is not a state of the scope; reported already.
    Unknown {
        /// The state the name probably meant, for graph checks.
        likely: Option<StateIndex>,
    },
}

impl<'a> Model<'a> {
    pub(super) fn state(&self, index: StateIndex) -> &'a StateDecl {
        self.states[index].decl
    }

    /// Every transition out of a state (next, catches, choice rules, default), unresolved ones
    /// included.
    pub(super) fn edges(&self, index: StateIndex) -> impl Iterator<Item = Edge<'a>> + '_ {
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

/// The version `#[version(N)]` gives: a whole number from 1, given once; 1 without one.
fn version(attrs: &[syn::Attribute], errors: &mut Errors) -> u32 {
    let mut version = None;
    for attr in attrs {
        let given = attr.parse_args::<syn::LitInt>().ok().and_then(|number| {
            number
                .base10_parse::<u32>()
                .ok()
                .map(|value| (number, value))
        });
        let Some((number, value)) = given else {
            // At what stands where the number should: the argument, or the bare name.
            let span = match &attr.meta {
                syn::Meta::List(list) if !list.tokens.is_empty() => list.tokens.span(),
                meta => meta.span(),
            };
            errors.at(
                span,
                "expected the workflow's version, a whole number from 1: `#[version(2)]`",
            );
            continue;
        };
        if value == 0 {
            errors.at(
                number.span(),
                "versions count from 1: `#[version(1)]` is the first",
            );
            continue;
        }
        if version.replace(value).is_some() {
            errors.at(
                attr.meta.span(),
                "the workflow's version is given more than once",
            );
        }
    }
    version.unwrap_or(workflow_core::definition::FIRST_VERSION)
}

pub(super) fn validate<'a>(ast: &'a WorkflowAst, errors: &mut Errors) -> Model<'a> {
    let mode = check_mode(&ast.mode, errors);
    check_name(&ast.name, "workflow", errors);
    let mut model = Model {
        ast,
        mode,
        version: version(&ast.versions, errors),
        timeout: None,
        start: None,
        scopes: IndexVec::new(),
        states: IndexVec::new(),
    };
    let mut names: HashMap<String, StateIndex> = HashMap::new();
    let mut bodies: IndexVec<ScopeIndex, &'a [Item]> = IndexVec::new();
    collect(
        &mut model,
        &mut bodies,
        &mut names,
        &ast.items,
        None,
        errors,
    );
    for (scope, items) in bodies.iter_enumerated() {
        resolve_scope(&mut model, scope, items, errors);
    }
    model.start = model.scopes.first().and_then(|scope| scope.start);
    if model.start.is_none() && !has_start(&ast.items) {
        errors.at(
            ast.name.span(),
            format!(
                "workflow `{}` has no start state; add `start <State>;` to its body",
                ast.name
            ),
        );
    }
    for item in &ast.items {
        let Item::Timeout { keyword, duration } = item else {
            continue;
        };
        if model.timeout.replace(*duration).is_some() {
            errors.at(
                keyword.span(),
                "the workflow's `timeout` is given more than once",
            );
        }
        if duration.millis > max_millis(mode) {
            errors.at(
                duration.span,
                format!(
                    "this timeout is longer than the mode allows: {}",
                    limit_text(mode)
                ),
            );
        }
    }
    for scope in model.scopes.indices() {
        graph::check_scope(&model, scope, errors);
    }
    model
}

fn has_start(items: &[Item]) -> bool {
    items.iter().any(|item| matches!(item, Item::Start { .. }))
}

/// Adds a scope for `items` and its states (and, depth first, their branches' scopes).
fn collect<'a>(
    model: &mut Model<'a>,
    bodies: &mut IndexVec<ScopeIndex, &'a [Item]>,
    names: &mut HashMap<String, StateIndex>,
    items: &'a [Item],
    owner: Option<(StateIndex, usize)>,
    errors: &mut Errors,
) -> ScopeIndex {
    let scope = model.scopes.push(ScopeModel {
        start: None,
        states: Vec::new(),
        owner,
    });
    bodies.push(items);
    for item in items {
        let decl = match item {
            Item::State(decl) => &**decl,
            Item::Timeout { keyword, .. } if owner.is_some() => {
                errors.at(
                    keyword.span(),
                    "`timeout` applies to the whole workflow; put it at the top level",
                );
                continue;
            }
            _ => continue,
        };
        let name = decl.name.to_string();
        check_name(&decl.name, "state", errors);
        if name == END {
            errors.at(
                decl.name.span(),
                "`end` is reserved: `-> end` ends the execution; give the state another name",
            );
            continue;
        }
        if names.contains_key(&name) {
            errors.at(
                decl.name.span(),
                format!("state `{name}` is declared more than once (state names are unique across the whole workflow)"),
            );
            continue;
        }
        if let StateBody::Fail {
            error: Some(FailText::Given(error)),
            ..
        } = &decl.body
        {
            if error.value().trim().is_empty() {
                errors.at(error.span(), "a Fail state's error name cannot be empty");
            }
        }
        let index = model.states.push(StateModel {
            decl,
            scope,
            next: None,
            task: None,
            choice: None,
            branches: Vec::new(),
        });
        names.insert(name, index);
        model.scopes[scope].states.push(index);
        let branches: &'a [Branch] = match &decl.body {
            StateBody::Parallel {
                keyword, branches, ..
            } => {
                if branches.is_empty() {
                    errors.at(
                        keyword.span(),
                        "a Parallel state needs at least one branch: `parallel { branch { start State; ... } }`",
                    );
                }
                branches
            }
            StateBody::Map { iteration, .. } => std::slice::from_ref(iteration),
            _ => &[],
        };
        for (number, branch) in branches.iter().enumerate() {
            let child = collect(
                model,
                bodies,
                names,
                &branch.items,
                Some((index, number)),
                errors,
            );
            model.states[index].branches.push(child);
            if !has_start(&branch.items) {
                errors.at(
                    branch.keyword.span(),
                    "this branch has no start state; add `start <State>;` to its body",
                );
            }
        }
    }
    scope
}

/// Resolves the start and transitions of one scope against its own states.
fn resolve_scope<'a>(
    model: &mut Model<'a>,
    scope: ScopeIndex,
    items: &'a [Item],
    errors: &mut Errors,
) {
    let local: HashMap<String, StateIndex> = model.scopes[scope]
        .states
        .iter()
        .map(|&index| (model.states[index].decl.name.to_string(), index))
        .collect();
    let elsewhere: HashMap<String, StateIndex> = model
        .states
        .iter_enumerated()
        .filter(|(_, state)| state.scope != scope)
        .map(|(index, state)| (state.decl.name.to_string(), index))
        .collect();
    let mode = model.mode;
    let inside_branch = model.scopes[scope].owner.is_some();
    let resolve = |written: &'a Ident, allow_end: bool, errors: &mut Errors| -> Edge<'a> {
        let wanted = written.to_string();
        let target = if allow_end && wanted == END {
            Target::End
        } else if let Some(&index) = local.get(&wanted) {
            Target::State(index)
        } else if wanted == END {
            errors.at(
                written.span(),
                "this transition needs a state to go to, not `end`: add a `succeed` or `fail` state and go there",
            );
            Target::Unknown { likely: None }
        } else if elsewhere.contains_key(&wanted) {
            let here = if inside_branch {
                "this branch"
            } else {
                "the top level"
            };
            errors.at(
                written.span(),
                format!("state `{wanted}` is not in {here}: transitions cannot enter or leave a Parallel branch or Map iteration"),
            );
            Target::Unknown { likely: None }
        } else {
            let names: Vec<&str> = local.keys().map(String::as_str).collect();
            let likely = names::suggest(&wanted, names.iter().copied());
            let hint = match likely {
                Some(close) => format!("; did you mean `{close}`?"),
                None if names.is_empty() => String::new(),
                None => {
                    let mut sorted: Vec<&StateIndex> = local.values().collect();
                    sorted.sort();
                    let listed: Vec<String> = sorted
                        .iter()
                        .map(|&&index| format!("`{}`", model_name(model, index)))
                        .collect();
                    format!("; the states are {}", listed.join(", "))
                }
            };
            errors.at(written.span(), format!("unknown state `{wanted}`{hint}"));
            Target::Unknown {
                likely: likely.and_then(|close| local.get(close).copied()),
            }
        };
        Edge { target, written }
    };

    let mut start = None;
    for item in items {
        let Item::Start { keyword, target } = item else {
            continue;
        };
        if start.is_some() {
            errors.at(
                keyword.span(),
                "`start` is given more than once; a workflow has one start state",
            );
            continue;
        }
        start = Some(resolve(target, false, errors));
    }

    let indices = model.scopes[scope].states.clone();
    let mut resolved = Vec::new();
    for index in indices {
        let decl = model.states[index].decl;
        let mut next = None;
        let mut task = None;
        let mut choice = None;
        match &decl.body {
            StateBody::Task {
                next: target,
                options,
                ..
            } => {
                next = Some(resolve(target, true, errors));
                task = Some(options_model(
                    Kind::Task,
                    options,
                    mode,
                    errors,
                    &mut |target, errors| resolve(target, false, errors),
                ));
            }
            StateBody::Parallel {
                next: target,
                options,
                ..
            } => {
                next = Some(resolve(target, true, errors));
                task = Some(options_model(
                    Kind::Parallel,
                    options,
                    mode,
                    errors,
                    &mut |target, errors| resolve(target, false, errors),
                ));
            }
            StateBody::Map {
                next: target,
                options,
                ..
            } => {
                next = Some(resolve(target, true, errors));
                task = Some(options_model(
                    Kind::Map,
                    options,
                    mode,
                    errors,
                    &mut |target, errors| resolve(target, false, errors),
                ));
            }
            StateBody::Wait { wait, next: target } => {
                if let WaitFor::Duration(duration) = wait {
                    if mode == Mode::Express && duration.millis > max_millis(Mode::Express) {
                        errors.at(
                            duration.span,
                            format!(
                                "this wait is longer than the mode allows: {}",
                                limit_text(Mode::Express)
                            ),
                        );
                    }
                }
                next = Some(resolve(target, true, errors));
            }
            StateBody::Pass { next: target, .. } => next = Some(resolve(target, true, errors)),
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
                choice = Some(ChoiceModel {
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
        resolved.push((index, next, task, choice));
    }
    model.scopes[scope].start = start;
    for (index, next, task, choice) in resolved {
        let state = &mut model.states[index];
        state.next = next;
        state.task = task;
        state.choice = choice;
    }
}

fn model_name(model: &Model<'_>, index: StateIndex) -> String {
    model.states[index].decl.name.to_string()
}

fn check_mode(mode: &Ident, errors: &mut Errors) -> Mode {
    let written = mode.to_string();
    if let Some(known) = Mode::ALL.into_iter().find(|known| known.name() == written) {
        return known;
    }
    errors.at(
        mode.span(),
        format!(
            "unknown workflow mode `{written}`: the modes are `Standard` and `Express`{}",
            names::did_you_mean(&written, Mode::ALL.map(Mode::name))
        ),
    );
    Mode::Standard
}

fn check_name(name: &Ident, what: &str, errors: &mut Errors) {
    if let Some(problem) = names::name_problem(&name.to_string()) {
        errors.at(name.span(), format!("invalid {what} name: {problem}"));
    }
}
