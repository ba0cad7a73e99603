//! Assertions over an execution's history that read like the test's intent and, when they
//! fail, show what happened instead: a diff of the paths, the events of the state, the table
//! of the whole history.

use std::fmt::Write;

use crate::execution::ExecutionFailure;
use crate::history::{Event, EventType, History};

/// Assertions over one execution; each panics with a readable account when it does not hold,
/// and returns `&Self` so they chain.
///
/// ```
/// # fn check(run: &workflow::testing::TestRun<()>) {
/// run.expect()
///     .succeeded()
///     .path(["Validate", "Charge", "Notify"])
///     .attempts("Charge", 3)
///     .not_entered("PaymentFailed");
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Expect<'h> {
    history: &'h History,
    failure: Option<&'h ExecutionFailure>,
}

impl<'h> Expect<'h> {
    /// Assertions over `history`, whose execution failed with `failure` (if it did).
    pub fn new(history: &'h History, failure: Option<&'h ExecutionFailure>) -> Self {
        Expect { history, failure }
    }

    /// The execution succeeded.
    #[track_caller]
    pub fn succeeded(&self) -> &Self {
        if let Some(failure) = self.failure {
            self.fail(format!(
                "expected the execution to succeed; it failed with `{}` in state {}: {}",
                failure.error(),
                failure
                    .state()
                    .map_or("(none)".to_owned(), |state| format!("`{state}`")),
                failure.cause()
            ));
        }
        self
    }

    /// The execution failed with the error named `error`.
    #[track_caller]
    pub fn failed_with(&self, error: &str) -> &Self {
        match self.failure {
            Some(failure) if failure.error() == error => {}
            Some(failure) => self.fail(format!(
                "expected the execution to fail with `{error}`; it failed with `{}`: {}",
                failure.error(),
                failure.cause()
            )),
            None => self.fail(format!(
                "expected the execution to fail with `{error}`; it succeeded"
            )),
        }
        self
    }

    /// The states entered at the top level, in order, were exactly `expected` (states of
    /// Parallel branches and Map iterations are in [`path_in`](Self::path_in)).
    #[track_caller]
    pub fn path<'a>(&self, expected: impl IntoIterator<Item = &'a str>) -> &Self {
        self.path_of(None, expected)
    }

    /// The states entered in branch or iteration `lane` (e.g. `Enrich/1` for branch 1 of
    /// Parallel state `Enrich`, `Transform[3]` for item 3 of Map state `Transform`), in order,
    /// were exactly `expected`.
    #[track_caller]
    pub fn path_in<'a>(&self, lane: &str, expected: impl IntoIterator<Item = &'a str>) -> &Self {
        self.path_of(Some(lane), expected)
    }

    #[track_caller]
    fn path_of<'a>(
        &self,
        lane: Option<&str>,
        expected: impl IntoIterator<Item = &'a str>,
    ) -> &Self {
        let expected: Vec<&str> = expected.into_iter().collect();
        let actual: Vec<&str> = self
            .history
            .events()
            .iter()
            .filter(|event| is_entered(event.kind) && event.branch.as_deref() == lane)
            .filter_map(|event| event.state.as_deref())
            .collect();
        if expected != actual {
            let place = lane.map_or("at the top level".to_owned(), |lane| format!("in `{lane}`"));
            self.fail(format!(
                "the states entered {place} differ (- expected, + actual):\n{}",
                diff(&expected, &actual)
            ));
        }
        self
    }

    /// State `state` was entered (in any branch or iteration).
    #[track_caller]
    pub fn entered(&self, state: &str) -> &Self {
        if self.visits(state) == 0 {
            self.fail(format!(
                "expected state `{state}` to be entered; it never was"
            ));
        }
        self
    }

    /// State `state` was never entered.
    #[track_caller]
    pub fn not_entered(&self, state: &str) -> &Self {
        let visits = self.visits(state);
        if visits > 0 {
            self.fail(format!(
                "expected state `{state}` never to be entered; it was entered {visits} time(s)"
            ));
        }
        self
    }

    /// Task state `state` ran its step `attempts` times in all (the first run and retries,
    /// over every visit, branch and iteration).
    #[track_caller]
    pub fn attempts(&self, state: &str, attempts: usize) -> &Self {
        let actual = self
            .history
            .of_state(state)
            .filter(|event| event.kind == EventType::TaskStarted)
            .count();
        if actual != attempts {
            let outcomes: Vec<String> = self
                .history
                .of_state(state)
                .filter(|event| {
                    matches!(
                        event.kind,
                        EventType::TaskSucceeded | EventType::TaskFailed | EventType::TaskTimedOut
                    )
                })
                .enumerate()
                .map(|(index, event)| describe(index + 1, event))
                .collect();
            self.fail(format!(
                "expected {attempts} attempt(s) of `{state}`; there were {actual}:\n  {}",
                outcomes.join("\n  ")
            ));
        }
        self
    }

    /// A failure of `state` named `error` was caught and the execution went on in `next`.
    #[track_caller]
    pub fn caught(&self, state: &str, error: &str, next: &str) -> &Self {
        let catches = self.catches(state);
        if !catches
            .iter()
            .any(|(caught, to)| caught == error && to == next)
        {
            let seen = if catches.is_empty() {
                "no failure of it was caught".to_owned()
            } else {
                catches
                    .iter()
                    .map(|(caught, to)| format!("`{caught}` → `{to}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.fail(format!(
                "expected `{state}` to catch `{error}` and go to `{next}`; {seen}"
            ));
        }
        self
    }

    /// `(error, next state)` for every caught failure of `state`.
    pub fn catches(&self, state: &str) -> Vec<(String, String)> {
        let events = self.history.events();
        let mut found = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if !is_exited(event.kind) || event.state.as_deref() != Some(state) {
                continue;
            }
            // A caught exit carries the `Caught` payload: the failed state's error.
            let Some(error) = event
                .output
                .as_ref()
                .and_then(|output| output.get("error"))
                .and_then(|error| error.as_str())
                .filter(|_| caught_exit(events, index))
            else {
                continue;
            };
            let next = events[index + 1..]
                .iter()
                .find(|later| is_entered(later.kind) && later.branch == event.branch)
                .and_then(|later| later.state.as_deref())
                .unwrap_or("(nothing)");
            found.push((error.to_owned(), next.to_owned()));
        }
        found
    }

    fn visits(&self, state: &str) -> usize {
        self.history
            .of_state(state)
            .filter(|event| is_entered(event.kind))
            .count()
    }

    #[track_caller]
    fn fail(&self, message: String) -> ! {
        panic!("{message}\n\nthe history:\n{}", self.history.table())
    }
}

/// Whether the exit at `index` follows a failure of the same state in the same lane with no
/// success in between.
fn caught_exit(events: &[Event], index: usize) -> bool {
    let exit = &events[index];
    events[..index]
        .iter()
        .rev()
        .filter(|event| event.state == exit.state && event.branch == exit.branch)
        .find(|event| {
            // A failure or success, or the visit's entry (no Parallel success is recorded).
            matches!(
                event.kind,
                EventType::TaskFailed
                    | EventType::TaskTimedOut
                    | EventType::TaskSucceeded
                    | EventType::ParallelStateEntered
                    | EventType::ParallelStateFailed
                    | EventType::MapStateFailed
                    | EventType::MapStateSucceeded
            )
        })
        .is_some_and(|event| {
            matches!(
                event.kind,
                EventType::TaskFailed
                    | EventType::TaskTimedOut
                    | EventType::ParallelStateFailed
                    | EventType::MapStateFailed
            )
        })
}

fn is_entered(kind: EventType) -> bool {
    use EventType::*;
    matches!(
        kind,
        TaskStateEntered
            | ChoiceStateEntered
            | PassStateEntered
            | WaitStateEntered
            | SucceedStateEntered
            | FailStateEntered
            | ParallelStateEntered
            | MapStateEntered
    )
}

fn is_exited(kind: EventType) -> bool {
    use EventType::*;
    matches!(kind, TaskStateExited | ParallelStateExited | MapStateExited)
}

/// "attempt 2: TaskFailed PaymentError.GatewayTimeout (the gateway timed out)".
fn describe(attempt: usize, event: &Event) -> String {
    let mut text = format!("attempt {attempt}: {}", event.kind.name());
    if let Some(error) = &event.error {
        let _ = write!(text, " {error}");
    }
    if let Some(cause) = &event.cause {
        let _ = write!(text, " ({cause})");
    }
    text
}

/// A line diff of two lists, `-` for expected and `+` for actual.
fn diff(expected: &[&str], actual: &[&str]) -> String {
    let expected = expected.join("\n") + "\n";
    let actual = actual.join("\n") + "\n";
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(100)
        .header("expected", "actual")
        .to_string()
}
