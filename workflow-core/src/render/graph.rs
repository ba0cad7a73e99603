//! The picture of a definition, shared by every renderer: per scope (the top level, each
//! Parallel branch, each Map iteration), its states, their labels and shapes, and the edges
//! between them with their labels and styles.

use std::collections::HashMap;

use crate::definition::{Definition, Next, State, StateId, StateKind, WaitFor};
use crate::retry::{Catcher, Jitter, Retrier};

/// How an execution went through a state, for the execution view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// It has not been entered.
    NotReached,
    /// It is running (entered, not exited).
    Running,
    /// It succeeded at the first attempt.
    Succeeded,
    /// It succeeded after one or more retries.
    Retried,
    /// It failed and a catcher took over.
    Caught,
    /// It failed (and ended the execution).
    Failed,
}

impl Status {
    /// The CSS class and Mermaid class name.
    pub fn class(self) -> &'static str {
        match self {
            Status::NotReached => "not-reached",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Retried => "retried",
            Status::Caught => "caught",
            Status::Failed => "failed",
        }
    }

    /// How the status reads in a legend.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotReached => "not reached",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Retried => "retried",
            Status::Caught => "caught",
            Status::Failed => "failed",
        }
    }
}

/// The shape a state is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Task,
    Choice,
    Wait,
    Pass,
    Succeed,
    Fail,
    /// A Parallel or Map state: a container of scopes.
    Container,
}

/// A state as drawn.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) id: StateId,
    pub(crate) name: String,
    pub(crate) shape: Shape,
    /// Lines below the name: the step, the wait, retries...
    pub(crate) details: Vec<String>,
    /// The scopes inside a container, with their captions.
    pub(crate) children: Vec<(String, usize)>,
}

/// Where an edge goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Start,
    State(StateId),
    End,
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EdgeStyle {
    /// A transition on success, a Choice rule, a start.
    Solid,
    /// A catcher: dashed, labelled with the error names.
    Catch,
}

#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) from: Endpoint,
    pub(crate) to: Endpoint,
    pub(crate) label: Option<String>,
    pub(crate) style: EdgeStyle,
}

/// One scope as drawn.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
    /// Whether some transition ends the scope (an end marker is drawn).
    pub(crate) has_end: bool,
}

/// A definition as drawn: scope 0 is the top level.
#[derive(Debug, Clone)]
pub(crate) struct Picture {
    pub(crate) scopes: Vec<Scope>,
}

impl Picture {
    pub(crate) fn of(definition: &Definition) -> Picture {
        let mut picture = Picture { scopes: Vec::new() };
        let top = definition.top_level();
        picture.add_scope(definition, definition.start_at, &top, 0);
        picture
    }

    /// Adds a scope of `states` starting at `start`; returns its index.
    fn add_scope(
        &mut self,
        definition: &Definition,
        start: StateId,
        states: &[StateId],
        depth: usize,
    ) -> usize {
        let index = self.scopes.len();
        self.scopes.push(Scope::default());
        let mut scope = Scope::default();
        scope.edges.push(Edge {
            from: Endpoint::Start,
            to: Endpoint::State(start),
            label: None,
            style: EdgeStyle::Solid,
        });
        for &id in states {
            let Some(state) = definition.state(id) else {
                continue;
            };
            let (shape, details, next, catchers) = describe(state);
            let raisable = definition.raisable_errors(id);
            let mut children = Vec::new();
            // Branches nest no deeper than there are states, unless the data is corrupt.
            let nested = depth < definition.states.len();
            match &state.kind {
                StateKind::Parallel(parallel) if nested => {
                    for (number, branch) in parallel.branches.iter().enumerate() {
                        let child =
                            self.add_scope(definition, branch.start_at, &branch.states, depth + 1);
                        children.push((format!("branch {}", number + 1), child));
                    }
                }
                StateKind::Map(map) if nested => {
                    let child = self.add_scope(
                        definition,
                        map.iterator.start_at,
                        &map.iterator.states,
                        depth + 1,
                    );
                    children.push(("each item".to_owned(), child));
                }
                _ => {}
            }
            for (to, label) in next {
                if to == Endpoint::End {
                    scope.has_end = true;
                }
                scope.edges.push(Edge {
                    from: Endpoint::State(id),
                    to,
                    label,
                    style: EdgeStyle::Solid,
                });
            }
            for catcher in catchers {
                scope.edges.push(Edge {
                    from: Endpoint::State(id),
                    to: Endpoint::State(catcher.next),
                    label: Some(catch_text(&catcher.errors, &raisable)),
                    style: EdgeStyle::Catch,
                });
            }
            scope.nodes.push(Node {
                id,
                name: state.name.clone(),
                shape,
                details,
                children,
            });
        }
        self.scopes[index] = scope;
        index
    }
}

type Described<'a> = (
    Shape,
    Vec<String>,
    Vec<(Endpoint, Option<String>)>,
    &'a [Catcher],
);

/// A state's shape, detail lines, successors (with their labels) and catchers.
fn describe(state: &State) -> Described<'_> {
    let next = |next: Next| match next {
        Next::State(id) => Endpoint::State(id),
        Next::End => Endpoint::End,
    };
    match &state.kind {
        StateKind::Task(task) => {
            let step = if task.step.child_workflow {
                format!("workflow {}", task.step.name)
            } else {
                task.step.name.clone()
            };
            let mut details = vec![step];
            if task.step.callback {
                details.push("waits for its task token".to_owned());
            }
            if let Some(timeout) = task.timeout {
                details.push(format!("timeout {}", humantime::format_duration(timeout)));
            }
            if let Some(heartbeat) = task.heartbeat {
                details.push(format!(
                    "heartbeat {}",
                    humantime::format_duration(heartbeat)
                ));
            }
            for (setting, function) in [
                ("timeout", &task.timeout_function),
                ("heartbeat", &task.heartbeat_function),
            ] {
                if let Some(function) = function {
                    details.push(format!("{setting} {}", shorten(&code_text(function), 30)));
                }
            }
            details.extend(task.retry.iter().flat_map(retry_lines));
            (
                Shape::Task,
                details,
                vec![(next(task.next), None)],
                &task.catch,
            )
        }
        StateKind::Choice(choice) => {
            let mut targets: Vec<(Endpoint, Option<String>)> = choice
                .choices
                .iter()
                .map(|rule| {
                    (
                        Endpoint::State(rule.next),
                        Some(wrap(&shorten(&code_text(&rule.condition), 60), 26)),
                    )
                })
                .collect();
            if let Some(default) = choice.default {
                targets.push((Endpoint::State(default), Some("otherwise".to_owned())));
            }
            (Shape::Choice, Vec::new(), targets, &[])
        }
        StateKind::Wait(wait) => {
            let detail = match &wait.wait {
                WaitFor::Duration(duration) => {
                    format!("wait {}", humantime::format_duration(*duration))
                }
                WaitFor::Until(selector) => {
                    format!("wait until {}", shorten(&code_text(selector), 30))
                }
                WaitFor::DurationFrom(function) => {
                    format!("wait for {}", shorten(&code_text(function), 30))
                }
            };
            (
                Shape::Wait,
                vec![detail],
                vec![(next(wait.next), None)],
                &[],
            )
        }
        StateKind::Pass(pass) => {
            let detail = match &pass.transform {
                Some(transform) => format!("pass {}", shorten(&code_text(transform), 30)),
                None => "pass".to_owned(),
            };
            (
                Shape::Pass,
                vec![detail],
                vec![(next(pass.next), None)],
                &[],
            )
        }
        StateKind::Parallel(parallel) => {
            let mut details = vec![format!("parallel, {} branches", parallel.branches.len())];
            details.extend(parallel.retry.iter().flat_map(retry_lines));
            (
                Shape::Container,
                details,
                vec![(next(parallel.next), None)],
                &parallel.catch,
            )
        }
        StateKind::Map(map) => {
            let mut details = vec![format!("map over {}", shorten(&code_text(&map.items), 30))];
            let computed = |function: &String| shorten(&code_text(function), 30);
            match &map.max_concurrency_function {
                Some(function) => details.push(format!("{} at a time", computed(function))),
                None if map.max_concurrency > 0 => {
                    details.push(format!("{} at a time", map.max_concurrency));
                }
                None => {}
            }
            if let Some(function) = &map.tolerated_failure_count_function {
                details.push(format!("tolerates {} failed", computed(function)));
            }
            if let Some(count) = map.tolerated_failure_count {
                details.push(format!("tolerates {count} failed"));
            }
            if let Some(function) = &map.tolerated_failure_percentage_function {
                details.push(format!("tolerates {}% failed", computed(function)));
            }
            if let Some(percentage) = map.tolerated_failure_percentage {
                details.push(format!("tolerates {percentage}% failed"));
            }
            details.extend(map.retry.iter().flat_map(retry_lines));
            (
                Shape::Container,
                details,
                vec![(next(map.next), None)],
                &map.catch,
            )
        }
        StateKind::Succeed => (Shape::Succeed, Vec::new(), Vec::new(), &[]),
        StateKind::Fail(fail) => {
            let error = match (&fail.error, &fail.error_function) {
                (Some(error), _) => vec![error.clone()],
                (None, Some(function)) => {
                    vec![format!("error {}", shorten(&code_text(function), 30))]
                }
                (None, None) => Vec::new(),
            };
            (Shape::Fail, error, Vec::new(), &[])
        }
    }
}

/// "retry ×3 backoff 2.0" (and, when it is not every error, a line "on Error.Name").
pub(crate) fn retry_lines(retrier: &Retrier) -> Vec<String> {
    let mut text = format!("retry ×{}", retrier.max_attempts);
    if retrier.backoff_rate != 1.0 {
        text.push_str(&format!(" backoff {:.1}", retrier.backoff_rate));
    }
    if retrier.jitter == Jitter::Full {
        text.push_str(" jitter");
    }
    let mut lines = vec![text];
    if retrier.errors != ["States.ALL"] {
        lines.push(format!("on {}", retrier.errors.join(" | ")));
    }
    lines
}

/// "catch Error.A | Error.B", one error per line when long; every variant of an error type
/// that the state can raise reads as `Type.*`.
pub(crate) fn catch_text(errors: &[String], raisable: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    for error in errors {
        let Some((prefix, _)) = error.rsplit_once('.') else {
            names.push(error.clone());
            continue;
        };
        let family: Vec<&String> = raisable
            .iter()
            .filter(|name| name.rsplit_once('.').is_some_and(|(p, _)| p == prefix))
            .collect();
        let all_caught = family.len() > 1 && family.iter().all(|name| errors.contains(name));
        let name = if all_caught {
            format!("{prefix}.*")
        } else {
            error.clone()
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let joined = names.join(" | ");
    if joined.chars().count() <= 30 {
        format!("catch {joined}")
    } else {
        format!("catch {}", names.join(" |\n"))
    }
}

/// Rust code as shown on a diagram: a closure's parameters dropped (`|order: &Order|
/// order.total > 100` reads `order.total > 100`; `|o: Order| -> Receipt { .. }` reads
/// `→ Receipt`), whitespace collapsed.
pub(crate) fn code_text(code: &str) -> String {
    let collapsed = code.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_start_matches("move ");
    if let Some(rest) = trimmed.strip_prefix('|') {
        if let Some(end) = rest.find('|') {
            let body = rest[end + 1..].trim();
            // A block with a return type reads as what it makes: `-> Parcel { ... }` is `→ Parcel`.
            if let Some(typed) = body.strip_prefix("->") {
                let output = typed.split('{').next().unwrap_or_default().trim();
                return format!("→ {output}");
            }
            if !body.is_empty() {
                return body.to_owned();
            }
        }
    }
    collapsed
}

/// `text` broken into lines (joined by `\n`) of about `width` characters, at spaces.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

/// `text`, cut to `limit` characters with an ellipsis.
pub(crate) fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(limit - 1).collect();
        format!("{cut}…")
    }
}

/// The status of every state of an execution, by state name.
pub type Statuses = HashMap<String, Status>;

impl Status {
    /// `(fill, stroke)` colours of a state with this status.
    pub(crate) fn colours(self) -> (&'static str, &'static str) {
        match self {
            Status::NotReached => ("#f4f4f5", "#a1a1aa"),
            Status::Running => ("#dbeafe", "#2563eb"),
            Status::Succeeded => ("#dcfce7", "#16a34a"),
            Status::Retried => ("#fef9c3", "#ca8a04"),
            Status::Caught => ("#ffedd5", "#ea580c"),
            Status::Failed => ("#fee2e2", "#dc2626"),
        }
    }

    /// Every status, in legend order.
    pub(crate) const ALL: [Status; 6] = [
        Status::Succeeded,
        Status::Retried,
        Status::Caught,
        Status::Failed,
        Status::Running,
        Status::NotReached,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_reads_without_closure_parameters() {
        assert_eq!(
            code_text("|order: &Order| order.total > 100"),
            "order.total > 100"
        );
        assert_eq!(code_text("|o: Order| -> Receipt { make(o) }"), "→ Receipt");
        assert_eq!(code_text("is_vip"), "is_vip");
        assert_eq!(code_text("move |x: &X|   x.ok"), "x.ok");
    }

    #[test]
    fn caught_families_shorten_and_long_lists_wrap() {
        let raisable = ["E.A", "E.B", "F.C", "F.D"].map(String::from);
        let all_of_e = ["E.A", "E.B"].map(String::from);
        assert_eq!(catch_text(&all_of_e, &raisable), "catch E.*");
        let one_of_f = ["F.C".to_owned()];
        assert_eq!(catch_text(&one_of_f, &raisable), "catch F.C");
        let long = [
            "Payment.GatewayTimeout",
            "Payment.Declined",
            "States.Timeout",
        ]
        .map(String::from);
        assert_eq!(
            catch_text(&long, &[]),
            "catch Payment.GatewayTimeout |\nPayment.Declined |\nStates.Timeout"
        );
    }

    #[test]
    fn retries_read_as_count_backoff_and_errors() {
        let mut retrier = Retrier::new(vec!["States.ALL".to_owned()]);
        assert_eq!(retry_lines(&retrier), ["retry ×3 backoff 2.0"]);
        retrier.errors = vec!["E.A".to_owned()];
        retrier.backoff_rate = 1.0;
        retrier.jitter = Jitter::Full;
        assert_eq!(retry_lines(&retrier), ["retry ×3 jitter", "on E.A"]);
    }

    #[test]
    fn wrapping_breaks_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), "a bb\nccc\ndddd");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
