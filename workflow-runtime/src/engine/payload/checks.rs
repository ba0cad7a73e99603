//! The payload checks of an execution: every payload an event records, or a task hands on,
//! fits the runtime's limits, has a JSON form, and (in a durable execution) reads back as what
//! was written.

use serde::Serialize;
use serde_json::Value;

use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::States;
use workflow_core::definition::StateId;

impl ExecutionContext<'_> {
    /// A payload as an event records it: its JSON, or `None` when nothing is kept; either way
    /// the payload limits hold (see [`record_payload`](Self::record_payload)).
    pub(crate) fn payload_json<T: Serialize + ?Sized>(
        &self,
        state: StateId,
        what: &str,
        value: &T,
    ) -> Result<Option<Value>, ExecutionFailure> {
        if self.shared.recorder.is_lean() {
            return self.check_size(Some(state), what, value).map(|()| None);
        }
        self.to_json(Some(state), what, value).map(Some)
    }

    pub(crate) fn to_json<T: Serialize + ?Sized>(
        &self,
        state: Option<StateId>,
        what: &str,
        value: &T,
    ) -> Result<Value, ExecutionFailure> {
        self.check_size(state, what, value)?;
        serde_json::to_value(value).map_err(|error| unserialisable(self.place(state, what), error))
    }

    /// Fails with `States.DataLimitExceeded` if `value` is larger, as JSON, than the payload
    /// limit, or nests deeper than a store could read back (and with `States.Runtime` if it
    /// has no JSON form).
    #[inline]
    pub(crate) fn check_size<T: Serialize + ?Sized>(
        &self,
        state: Option<StateId>,
        what: &str,
        value: &T,
    ) -> Result<(), ExecutionFailure> {
        if super::surely_within(value, self.shared.limits.payload_bytes) {
            return Ok(());
        }
        self.check_size_exactly(state, what, value)
    }

    #[inline(never)]
    fn check_size_exactly<T: Serialize + ?Sized>(
        &self,
        state: Option<StateId>,
        what: &str,
        value: &T,
    ) -> Result<(), ExecutionFailure> {
        let problem = super::measured_problem(value, self.shared.limits.payload_bytes)
            .map_err(|error| unserialisable(self.place(state, what), error))?;
        if let Some(problem) = problem {
            let (state, place) = self.place(state, what);
            return Err(ExecutionFailure::predefined(
                state,
                States::DataLimitExceeded,
                format!("{place} {problem}"),
            ));
        }
        Ok(())
    }

    /// Fails with `States.Runtime` if a durable execution's `value` would not read back as
    /// `T` from what is stored (a NaN or infinite float is stored as `null`, for one): it
    /// could not resume from it.
    pub(crate) fn check_reads_back<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        state: Option<StateId>,
        what: &str,
        value: &T,
    ) -> Result<(), ExecutionFailure> {
        if self.shared.recorder.journal().is_none() {
            return Ok(());
        }
        let read_back = serde_json::to_value(value)
            .and_then(serde_json::from_value::<T>)
            .map(drop);
        read_back.map_err(|error| {
            let (state, place) = self.place(state, what);
            ExecutionFailure::predefined(
                state,
                States::Runtime,
                format!(
                    "{place} would not read back as `{}` once stored as JSON ({error}); a float that is NaN or infinite, for one, is stored as null",
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// The state (if any) and a phrase naming a payload, for errors.
    fn place(&self, state: Option<StateId>, what: &str) -> (Option<&'static str>, String) {
        let state = state.map(|state| self.state_name(state));
        let place = match state {
            Some(state) => format!("the {what} of state `{state}`"),
            None => format!("the execution's {what}"),
        };
        (state, place)
    }
}

fn unserialisable(
    (state, place): (Option<&str>, String),
    error: serde_json::Error,
) -> ExecutionFailure {
    ExecutionFailure::predefined(
        state,
        States::Runtime,
        format!("{place} could not be serialised as JSON: {error}"),
    )
}
