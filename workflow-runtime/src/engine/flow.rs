//! States that route or hold the data without running a step: Choice, Wait and Pass.

use std::time::Duration;

use serde::Serialize;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::States;
use workflow_core::definition::{StateId, StateKind, WaitFor};

use super::settings::Wake;
use super::ExecutionContext;

/// Records a Choice state that took rule `rule` (`None`: the default). Without a rule that
/// holds and without a default, the state fails with `States.NoChoiceMatched`, as Step
/// Functions records it: ChoiceStateEntered and no ChoiceStateExited.
///
/// The rules are evaluated by generated code, which knows their types.
pub fn enter_choice<I: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    rule: Option<usize>,
) -> Result<(), ExecutionFailure> {
    cx.record_payload(
        EventType::ChoiceStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    )?;
    let next = match cx.definition().state(state).map(|state| &state.kind) {
        Some(StateKind::Choice(choice)) => match rule {
            Some(rule) => choice.choices.get(rule).map(|rule| rule.next),
            None if choice.default.is_none() => return Err(no_choice_matched(cx, state)),
            None => choice.default,
        },
        _ => None,
    };
    cx.record_payload(
        EventType::ChoiceStateExited,
        Some(state),
        None::<&()>,
        Some(input),
    )?;
    match next {
        Some(_) => Ok(()),
        None => Err(not_a(cx, state, "Choice")),
    }
}

/// The failure of a Choice state where no rule holds and there is no default.
pub fn no_choice_matched(cx: &ExecutionContext<'_>, state: StateId) -> ExecutionFailure {
    let name = cx.state_name(state);
    ExecutionFailure::predefined(
        Some(name),
        States::NoChoiceMatched,
        format!("no rule of Choice state `{name}` holds for its input, and it has no default"),
    )
}

/// Runs a Wait state: sleeps on the execution's clock until the time or for the duration
/// `wake` says (worked out from the input), or for the state's fixed duration when `wake` is
/// `None`, then hands the input on. A duration counts from the stored WaitStateEntered, so a
/// resumed execution wakes when it would have.
pub async fn run_wait<I: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: I,
    wake: Option<Wake>,
) -> Result<I, ExecutionFailure> {
    let wake = match (wake, cx.definition().state(state).map(|state| &state.kind)) {
        (Some(wake), _) => wake,
        (None, Some(StateKind::Wait(wait))) => match &wait.wait {
            WaitFor::Duration(duration) => Wake::After(*duration),
            _ => Wake::After(Duration::ZERO),
        },
        (None, _) => return Err(not_a(cx, state, "Wait")),
    };
    // The wait itself is the one a state whose duration is worked out once entered makes.
    super::computed::run_wait_computed(cx, state, &input, || Ok((wake, &input))).await?;
    Ok(input)
}

/// Runs a Pass state: applies `transform` (the identity for a plain `pass`).
pub fn run_pass<I: Serialize, O: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: I,
    transform: impl FnOnce(I) -> O,
) -> Result<O, ExecutionFailure> {
    cx.record_payload(
        EventType::PassStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    )?;
    let output = transform(input);
    cx.record_payload(
        EventType::PassStateExited,
        Some(state),
        None::<&()>,
        Some(&output),
    )?;
    Ok(output)
}

/// The failure when generated code and definition disagree about a state's kind.
pub(crate) fn not_a(cx: &ExecutionContext<'_>, state: StateId, kind: &str) -> ExecutionFailure {
    let name = cx.state_name(state);
    ExecutionFailure::predefined(
        Some(name),
        States::Runtime,
        format!("state `{name}` was run as a {kind} state but is not one"),
    )
}
