//! States whose data is worked out once they are entered, and can fail there: a workflow
//! defined at run time (an ASL machine) selects, shapes and tests its JSON as each state
//! runs. As in Step Functions, the state's entry is recorded with its raw input, then the
//! work is done; a failure of the work (`States.Runtime` for a path that names nothing) ends
//! the execution after the entry, with no exit.
//!
//! `workflow!` workflows use the typed functions of `flow.rs` and `terminal.rs`, whose data
//! is checked by the compiler.

use serde::Serialize;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use workflow_core::definition::{StateId, StateKind};

use super::flow::{no_choice_matched, not_a};
use super::settings::Wake;
use super::task::wait_until;
use super::terminal::fail_failure;
use super::{Advance, ExecutionContext};

/// Runs a Pass state: records its entry with `input`, then its exit with what `output`
/// works out.
pub fn run_pass_computed<I: Serialize + ?Sized, O: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    output: impl FnOnce() -> Result<O, ExecutionFailure>,
) -> Result<O, ExecutionFailure> {
    cx.record_payload(
        EventType::PassStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    )?;
    let output = output()?;
    cx.record_payload(
        EventType::PassStateExited,
        Some(state),
        None::<&()>,
        Some(&output),
    )?;
    Ok(output)
}

/// Runs a Choice state: records its entry with `input`; `decide` says which rule holds
/// (`None`: the default) and what the state hands on. Without a rule that holds and without
/// a default, the state fails with `States.NoChoiceMatched`.
pub fn enter_choice_computed<I: Serialize + ?Sized, O: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    decide: impl FnOnce() -> Result<(Option<usize>, O), ExecutionFailure>,
) -> Result<(StateId, O), ExecutionFailure> {
    cx.record_payload(
        EventType::ChoiceStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    )?;
    let (rule, output) = decide()?;
    let next = match cx.definition().state(state).map(|state| &state.kind) {
        Some(StateKind::Choice(choice)) => match rule {
            Some(rule) => choice.choices.get(rule).map(|rule| rule.next),
            None if choice.default.is_none() => return Err(no_choice_matched(cx, state)),
            None => choice.default,
        },
        _ => None,
    };
    let next = next.ok_or_else(|| not_a(cx, state, "Choice"))?;
    cx.record_payload(
        EventType::ChoiceStateExited,
        Some(state),
        None::<&()>,
        Some(&output),
    )?;
    Ok((next, output))
}

/// Runs a Wait state: records its entry with `input`; `plan` works out how long to wait
/// (`None`: the state's fixed duration) and what the state hands on after the wait.
pub async fn run_wait_computed<I: Serialize + ?Sized, O: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    plan: impl FnOnce() -> Result<(Wake, O), ExecutionFailure>,
) -> Result<O, ExecutionFailure> {
    let entered = cx.record_payload(
        EventType::WaitStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    )?;
    let (wake, output) = plan()?;
    cx.flush().await?;
    let deadline = match wake {
        Wake::At(time) => time,
        Wake::After(duration) => entered.timestamp.unwrap_or_else(|| cx.clock().now()) + duration,
    };
    wait_until(cx, deadline).await;
    cx.record_payload(
        EventType::WaitStateExited,
        Some(state),
        None::<&()>,
        Some(&output),
    )?;
    Ok(output)
}

/// Records that working out state `state`'s data failed (`EvaluationFailed`, which Step
/// Functions writes for a JSONata expression that fails), before the execution fails with
/// `failure`.
pub fn record_evaluation_failed(
    cx: &ExecutionContext<'_>,
    state: StateId,
    failure: &ExecutionFailure,
) {
    cx.record_failure(EventType::EvaluationFailed, Some(state), failure);
}

/// Enters the Fail state `state` with `input`; `computed` works out its error name and cause
/// (`None` for the state's own), or fails.
pub fn enter_fail_computed<M, O, I: Serialize + ?Sized>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    computed: impl FnOnce() -> Result<(Option<String>, Option<String>), ExecutionFailure>,
) -> Advance<M, O> {
    if let Err(failure) = cx.record_payload(
        EventType::FailStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    ) {
        return Advance::Failed(failure);
    }
    match computed() {
        Ok(computed) => Advance::Failed(fail_failure(cx.definition(), state, computed)),
        Err(failure) => Advance::Failed(failure),
    }
}
