//! A definition carried by generated code: `workflow!` builds it at compile time and embeds it
//! as JSON; the generated code decodes it once per workflow type and completes it with what
//! only the Rust types tell. Not a public API: it may change in any release.

use crate::definition::{Definition, StateKind, StepDefinition, TaskState};
use crate::retry::{Catcher, Retrier};

/// The text `workflow!` embeds: the definition as JSON.
///
/// # Errors
///
/// Only if serde cannot write a definition, which holds no maps and no custom serializers
/// that fail.
pub fn encode(definition: &Definition) -> Result<String, serde_json::Error> {
    serde_json::to_string(definition)
}

/// The definition [`encode`] wrote.
///
/// # Errors
///
/// If `json` is not a definition: never for what [`encode`] wrote with the same release.
pub fn decode(json: &str) -> Result<Definition, serde_json::Error> {
    serde_json::from_str(json)
}

/// Every number with a fraction in a definition (retriers' backoff rates, Map states' tolerated
/// percentages), in one fixed order. The macros pass them beside the JSON as Rust literals,
/// which are exact: JSON's parsing may round a long decimal to a neighbouring value, and a
/// definition must come out the same, its fingerprint being a hash of it.
pub fn fractions(definition: &mut Definition) -> Vec<&mut f64> {
    let mut fractions = Vec::new();
    for state in &mut definition.states {
        let retry = match &mut state.kind {
            StateKind::Task(task) => &mut task.retry,
            StateKind::Parallel(parallel) => &mut parallel.retry,
            StateKind::Map(map) => {
                let map = &mut **map;
                fractions.extend(map.tolerated_failure_percentage.as_mut());
                &mut map.retry
            }
            _ => continue,
        };
        fractions.extend(retry.iter_mut().map(|retrier| &mut retrier.backoff_rate));
    }
    fractions
}

/// Gives task state `state` the step it runs, as its type describes it: names, types, error
/// names, resources, and its own timeout and heartbeat (the state's own win over them).
pub fn set_step(definition: &mut Definition, state: usize, step: StepDefinition) {
    if let Some(StateKind::Task(task)) = definition
        .states
        .get_mut(state)
        .map(|state| &mut state.kind)
    {
        task.step = step;
        fall_back_on_step_timers(task);
    }
}

/// The step's timeout and heartbeat apply where the state sets none, and not at all where the
/// state works one out from its input.
pub(crate) fn fall_back_on_step_timers(task: &mut TaskState) {
    if task.timeout.is_none() && task.timeout_function.is_none() {
        task.timeout = task.step.timeout;
    }
    if task.heartbeat.is_none() && task.heartbeat_function.is_none() {
        task.heartbeat = task.step.heartbeat;
    }
}

/// A retrier or catcher of a state (its `retry` or `catch` clause), by its position among the
/// state's retriers or catchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handler {
    /// The state's retrier at this position.
    Retrier(usize),
    /// The state's catcher at this position.
    Catcher(usize),
}

/// Replaces the error name at `position` in `handler` of state `state` with `names`: those the
/// error type gives the variant, or every variant, that its clause names by a Rust path.
pub fn replace_error_name(
    definition: &mut Definition,
    state: usize,
    handler: Handler,
    position: usize,
    names: Vec<String>,
) {
    let Some(state) = definition.states.get_mut(state) else {
        return;
    };
    let (retry, catch): (&mut [Retrier], &mut [Catcher]) = match &mut state.kind {
        StateKind::Task(task) => (&mut task.retry, &mut task.catch),
        StateKind::Parallel(parallel) => (&mut parallel.retry, &mut parallel.catch),
        StateKind::Map(map) => (&mut map.retry, &mut map.catch),
        _ => return,
    };
    let errors = match handler {
        Handler::Retrier(number) => retry.get_mut(number).map(|retrier| &mut retrier.errors),
        Handler::Catcher(number) => catch.get_mut(number).map(|catcher| &mut catcher.errors),
    };
    if let Some(errors) = errors.filter(|errors| position < errors.len()) {
        errors.splice(position..=position, names);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // A failed expectation fails the test.

    use std::time::Duration;

    use super::{decode, encode, fractions, replace_error_name, set_step, Handler};
    use crate::build::{self, TaskOptions};
    use crate::definition::StateKind;
    use crate::{Definition, Mode};

    fn step(timeout: Option<Duration>) -> crate::definition::StepDefinition {
        build::step_definition(
            "charge",
            "shop::charge",
            None,
            "",
            "",
            "",
            Vec::new(),
            false,
            timeout,
            None,
            Vec::new(),
        )
    }

    /// A task with a retrier and a catcher, each naming `E::A` then `E::*`.
    fn checkout(options: TaskOptions) -> Definition {
        let charge = build::task_state("Charge", None, step(None), None, options);
        let hold = build::succeed_state("Hold", None);
        build::definition(
            "Checkout",
            Mode::Standard,
            None,
            None,
            "Order",
            "Receipt",
            0,
            vec![charge, hold],
        )
    }

    fn typed_handlers() -> TaskOptions {
        let names = || vec!["E.A".to_owned(), "E.*".to_owned()];
        TaskOptions {
            retry: vec![build::retrier(
                names(),
                None,
                None,
                Some(1.1),
                None,
                Default::default(),
            )],
            catch: vec![build::catcher(names(), 1)],
            ..TaskOptions::default()
        }
    }

    fn task(definition: &Definition) -> &crate::definition::TaskState {
        match &definition.states[0].kind {
            StateKind::Task(task) => task,
            _ => unreachable!("state 0 is the task"),
        }
    }

    #[test]
    fn what_is_encoded_decodes_the_same() {
        let definition = checkout(typed_handlers());
        assert_eq!(decode(&encode(&definition).unwrap()).unwrap(), definition);
    }

    #[test]
    fn fractions_are_the_backoff_rates_and_tolerated_percentages() {
        let mut definition = checkout(typed_handlers());
        let found: Vec<f64> = fractions(&mut definition).into_iter().map(|f| *f).collect();
        assert_eq!(found, [1.1]);
    }

    #[test]
    fn the_step_gives_its_timer_where_the_state_sets_none() {
        let mut own = checkout(TaskOptions {
            timeout_ms: Some(5_000),
            ..TaskOptions::default()
        });
        let mut none = checkout(TaskOptions::default());
        for definition in [&mut own, &mut none] {
            set_step(definition, 0, step(Some(Duration::from_secs(30))));
        }
        assert_eq!(task(&own).timeout, Some(Duration::from_secs(5)));
        assert_eq!(task(&none).timeout, Some(Duration::from_secs(30)));
        assert_eq!(task(&none).step.timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn an_error_name_is_replaced_by_the_names_it_stands_for() {
        let mut definition = checkout(typed_handlers());
        let all = vec!["E.A".to_owned(), "E.B".to_owned()];
        replace_error_name(&mut definition, 0, Handler::Retrier(0), 1, all.clone());
        replace_error_name(
            &mut definition,
            0,
            Handler::Catcher(0),
            0,
            vec!["Custom".to_owned()],
        );
        assert_eq!(task(&definition).retry[0].errors, ["E.A", "E.A", "E.B"]);
        assert_eq!(task(&definition).catch[0].errors, ["Custom", "E.*"]);
        // Nothing at a position, clause or state that is not there.
        replace_error_name(&mut definition, 0, Handler::Catcher(0), 9, all.clone());
        replace_error_name(&mut definition, 0, Handler::Retrier(3), 0, all.clone());
        replace_error_name(&mut definition, 1, Handler::Retrier(0), 0, all);
        assert_eq!(task(&definition).catch[0].errors, ["Custom", "E.*"]);
    }
}
