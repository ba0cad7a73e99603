//! Completing callback tasks from outside: success (with an output checked against the step's
//! output type), failure (an error name and cause that the state's Retry and Catch see), and
//! heartbeats. Any process with the same store can complete a token; the waiting execution
//! notices at once in this process, within the poll interval in another.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::Runtime;
use crate::engine::payload;
use crate::execution::ExecutionId;
use crate::names::failure_problem;
use crate::step::TaskToken;
use crate::store::{
    CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, Callbacks, NewCallback, Store,
    StoreError, StoreFuture,
};
use workflow_core::definition::StateId;

/// The callbacks of a runtime's store, as the engine keeps and waits for them: the engine is
/// handed this, not the store.
pub(super) struct StoreCallbacks(pub(super) Arc<dyn Store>);

impl Callbacks for StoreCallbacks {
    fn create_callback(&self, callback: NewCallback) -> StoreFuture<()> {
        self.0.callbacks().create_callback(callback)
    }

    fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate> {
        self.0.callbacks().change_callback(token_hash, change)
    }

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        self.0.callbacks().callback(token_hash)
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        self.0.callbacks().callback_of(execution, event_id)
    }
}

/// [`Workflow::check_task_output`](crate::Workflow::check_task_output) of a registered workflow.
pub(super) type CheckOutput = fn(StateId, &Value) -> Option<Result<(), String>>;

/// A token could not be completed; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// No task was ever given this token (or it is not a token at all).
    #[error("no task has this token: it is unknown or malformed")]
    UnknownToken,
    /// The token was completed already: a token works once.
    #[error("this token was completed already ({status}); a token works once")]
    AlreadyCompleted {
        /// How it was completed.
        status: CallbackStatus,
    },
    /// The task's attempt ended (timed out, or its step failed) before the token was used.
    #[error("this token has expired: its task stopped waiting (timed out or failed) before it was completed")]
    Expired,
    /// The output is not what the waiting step returns.
    #[error("the output does not fit state `{state}` of `{workflow}`: {reason}")]
    WrongOutput {
        /// The workflow.
        workflow: String,
        /// The waiting state.
        state: String,
        /// Why.
        reason: String,
    },
    /// The workflow of the waiting task is not registered here, so its output cannot be checked.
    #[error("version {version} of workflow `{workflow}` is not registered on this runtime, so the output for its task cannot be checked; register it with `RuntimeBuilder::register`")]
    NotRegistered {
        /// The workflow.
        workflow: String,
        /// The version of it the execution runs on.
        version: u32,
    },
    /// An error name or cause a task cannot fail with: a reserved `States.*` name (the
    /// runtime's own errors), or longer than Step Functions allows (256 characters for the
    /// name, 32,768 for the cause).
    #[error("the task cannot fail with this error: {reason}")]
    InvalidFailure {
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runtime {
    /// Completes the callback task holding `token` with `output`: its state succeeds with it.
    ///
    /// The output must read as the step's output type (`T` of its `Callback<T>`): it is checked
    /// here, against the workflow registered on this runtime, and refused otherwise.
    ///
    /// # Errors
    ///
    /// [`CallbackError`]: an unknown, used or expired token, an output of the wrong shape, a
    /// store failure. Nothing changes then. Of concurrent completions of one token, one wins.
    pub async fn send_task_success<T: Serialize + ?Sized>(
        &self,
        token: &str,
        output: &T,
    ) -> Result<(), CallbackError> {
        let hash = TaskToken::hash_of(token).ok_or(CallbackError::UnknownToken)?;
        let record = self
            .inner
            .store
            .callbacks()
            .callback(&hash)
            .await?
            .ok_or(CallbackError::UnknownToken)?;
        let wrong = |reason: String| CallbackError::WrongOutput {
            workflow: record.workflow.clone(),
            state: record.state.clone(),
            reason,
        };
        let problem = payload::problem(output, self.inner.limits.payload_bytes)
            .map_err(|error| wrong(error.to_string()))?;
        if let Some(problem) = problem {
            return Err(wrong(format!("the output {problem}")));
        }
        let output = serde_json::to_value(output).map_err(|error| wrong(error.to_string()))?;
        // The execution's own version of its workflow, which may not be the latest.
        let version = self
            .inner
            .store
            .execution(&record.execution)
            .await?
            .map_or(workflow_core::definition::FIRST_VERSION, |execution| {
                execution.version
            });
        let registered = self
            .inner
            .workflows
            .version(&record.workflow, version)
            .ok_or_else(|| CallbackError::NotRegistered {
                workflow: record.workflow.clone(),
                version,
            })?;
        let check = registered
            .definition
            .state_by_name(&record.state)
            .and_then(|(state, _)| (registered.check_output)(state, &output));
        match check {
            Some(Ok(())) => {}
            Some(Err(reason)) => return Err(wrong(reason)),
            None => return Err(wrong("the workflow has no such task state".to_owned())),
        }
        self.change(&hash, CallbackChange::Succeed(output)).await
    }

    /// Completes the callback task holding `token` with a failure named `error`: the state's
    /// retriers and catchers see it as they see a step's errors (name it in the step's error
    /// type, e.g. `ApprovalError.Rejected`, to catch it by variant).
    ///
    /// # Errors
    ///
    /// [`CallbackError`]: an unknown, used or expired token, a reserved `States.*` error name,
    /// an error name over 256 characters or a cause over 32,768, a store failure.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), CallbackError> {
        let invalid = |reason: String| CallbackError::InvalidFailure { reason };
        if error.starts_with("States.") {
            return Err(invalid(format!(
                "`{error}` is reserved: names starting with `States.` are the runtime's own errors"
            )));
        }
        if let Some(problem) = failure_problem(error, cause) {
            return Err(invalid(problem));
        }
        let hash = TaskToken::hash_of(token).ok_or(CallbackError::UnknownToken)?;
        let change = CallbackChange::Fail {
            error: error.to_owned(),
            cause: cause.to_owned(),
        };
        self.change(&hash, change).await
    }

    /// Tells the callback task holding `token` that its work goes on: its heartbeat timer
    /// starts again.
    ///
    /// # Errors
    ///
    /// [`CallbackError`]: an unknown, used or expired token, a store failure.
    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        let hash = TaskToken::hash_of(token).ok_or(CallbackError::UnknownToken)?;
        let now = self.inner.clock.now();
        self.change(&hash, CallbackChange::Heartbeat(now)).await
    }

    async fn change(&self, hash: &str, change: CallbackChange) -> Result<(), CallbackError> {
        match self
            .inner
            .store
            .callbacks()
            .change_callback(hash, change)
            .await?
        {
            CallbackUpdate::Applied(_) => {
                if let Some(hub) = &self.inner.resources.callbacks {
                    hub.wake(hash);
                }
                Ok(())
            }
            CallbackUpdate::Unknown => Err(CallbackError::UnknownToken),
            CallbackUpdate::NotPending(CallbackStatus::Expired) => Err(CallbackError::Expired),
            CallbackUpdate::NotPending(status) => Err(CallbackError::AlreadyCompleted { status }),
        }
    }
}
