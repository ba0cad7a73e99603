//! The per-execution context the engine threads through every state: identity, resources,
//! clock and the history recorder.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::definition::{Definition, StateId};
use crate::execution::{ExecutionFailure, ExecutionId};
use crate::history::{Event, EventType, History};
use crate::resources::Resources;
use crate::step::{Heartbeat, States, StepEnv};

/// One running execution, as seen by the engine.
#[derive(Debug)]
pub struct ExecutionContext<'r> {
    pub(crate) id: ExecutionId,
    pub(crate) definition: &'static Definition,
    pub(crate) resources: &'r Resources,
    pub(crate) clock: &'r Arc<dyn Clock>,
    events: Vec<Event>,
}

impl<'r> ExecutionContext<'r> {
    pub(crate) fn new(
        id: ExecutionId,
        definition: &'static Definition,
        resources: &'r Resources,
        clock: &'r Arc<dyn Clock>,
    ) -> Self {
        ExecutionContext {
            id,
            definition,
            resources,
            clock,
            events: Vec::new(),
        }
    }

    /// The recorded history so far, leaving the context's empty.
    pub(crate) fn take_history(&mut self) -> History {
        History::from_events(std::mem::take(&mut self.events))
    }

    /// The name of a state of this execution's workflow.
    pub(crate) fn state_name(&self, state: StateId) -> &'static str {
        self.definition.state_name(state)
    }

    /// What a step's arguments are built from.
    pub(crate) fn step_env<'a>(
        &'a self,
        state: StateId,
        step: &'static str,
        attempt: u32,
        heartbeat: Option<&'a Arc<Heartbeat>>,
    ) -> StepEnv<'a> {
        StepEnv {
            execution_id: &self.id,
            workflow: self.definition.name.as_str(),
            state: self.state_name(state),
            step,
            attempt,
            resources: self.resources,
            heartbeat,
        }
    }

    /// Appends an event and lets `fill` set its details.
    pub(crate) fn record(
        &mut self,
        kind: EventType,
        state: Option<StateId>,
        fill: impl FnOnce(&mut Event),
    ) {
        let previous = self.events.last().map_or(0, |event| event.id);
        let mut event = Event::new(previous + 1, previous, self.clock.now(), kind);
        event.state = state.map(|state| Cow::Borrowed(self.state_name(state)));
        fill(&mut event);
        self.events.push(event);
    }

    /// Appends an event carrying an input and/or output payload.
    ///
    /// A payload that cannot be serialised fails the state with `States.Runtime`; nothing is
    /// recorded for it.
    pub(crate) fn record_payload<I: Serialize + ?Sized, O: Serialize + ?Sized>(
        &mut self,
        kind: EventType,
        state: Option<StateId>,
        input: Option<&I>,
        output: Option<&O>,
    ) -> Result<(), ExecutionFailure> {
        let input = input
            .map(|value| self.to_json(state, "input", value))
            .transpose()?;
        let output = output
            .map(|value| self.to_json(state, "output", value))
            .transpose()?;
        self.record(kind, state, |event| {
            event.input = input;
            event.output = output;
        });
        Ok(())
    }

    /// Appends an event carrying a failure's name and cause.
    pub(crate) fn record_failure(
        &mut self,
        kind: EventType,
        state: Option<StateId>,
        failure: &ExecutionFailure,
    ) {
        self.record(kind, state, |event| {
            event.error = Some(failure.error().to_owned());
            event.cause = Some(failure.cause().to_owned());
        });
    }

    fn to_json<T: Serialize + ?Sized>(
        &self,
        state: Option<StateId>,
        what: &str,
        value: &T,
    ) -> Result<Value, ExecutionFailure> {
        serde_json::to_value(value).map_err(|error| {
            let state = state.map(|state| self.state_name(state));
            let place = match state {
                Some(state) => format!("the {what} of state `{state}`"),
                None => format!("the execution's {what}"),
            };
            ExecutionFailure::predefined(
                state,
                States::Runtime,
                format!("{place} could not be serialised as JSON: {error}"),
            )
        })
    }
}
