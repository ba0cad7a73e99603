//! The tracing spans of an execution: one per execution, one per state it enters, one per
//! attempt of a task. A step's own `tracing` events happen inside them, so they carry the
//! workflow, the execution, the state and the attempt; Parallel branches, Map iterations and
//! child executions nest in the state that runs them.
//!
//! Field names follow OpenTelemetry's style (lower-case, dot-separated, under a `workflow.`
//! namespace, as its semantic conventions have none for workflows). When no subscriber wants
//! spans at `INFO` as an execution starts, the engine makes none for it and wraps nothing (a
//! synchronous `call`'s tasks stay on their direct path): `express_overhead` measures no
//! difference beyond its noise.

use tracing::Span;
use workflow_core::definition::StateId;

use super::ExecutionContext;

/// The span of the execution `cx` runs (`None` when unwanted: see [`wanted`]).
pub(super) fn execution(cx: &ExecutionContext<'_>) -> Option<Span> {
    if !cx.shared.traced {
        return None;
    }
    let definition = cx.definition();
    Some(tracing::info_span!(
        "workflow.execution",
        workflow.name = definition.name.as_str(),
        workflow.execution.id = cx.shared.id().as_str(),
        workflow.mode = ?definition.mode,
    ))
}

/// The span of `state`, while the execution is in it.
#[inline]
pub(super) fn state(cx: &ExecutionContext<'_>, state: StateId) -> Option<Span> {
    if !cx.shared.traced {
        return None;
    }
    state_span(cx, state)
}

#[cold]
fn state_span(cx: &ExecutionContext<'_>, state: StateId) -> Option<Span> {
    if !wanted() {
        return None;
    }
    Some(tracing::info_span!(
        "workflow.state",
        workflow.state.name = cx.state_name(state),
        workflow.state.kind = cx
            .definition()
            .state(state)
            .map_or("?", |state| state.kind.name()),
    ))
}

/// The span of attempt `number` of the task of `state`, running `step`.
pub(super) fn attempt(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &str,
    number: u32,
) -> Option<Span> {
    if !cx.shared.traced || !wanted() {
        return None;
    }
    Some(tracing::info_span!(
        "workflow.task.attempt",
        workflow.state.name = cx.state_name(state),
        workflow.step.name = step,
        workflow.task.attempt = number,
    ))
}

/// Whether anyone listens to spans of their level: when no subscriber does (or none at
/// `INFO`) as an execution starts, the engine makes none for it and wraps nothing.
pub(crate) fn wanted() -> bool {
    tracing::level_filters::LevelFilter::current() >= tracing::Level::INFO
}
