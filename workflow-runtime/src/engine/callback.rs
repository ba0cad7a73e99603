//! Callback tasks in the engine: the callback is created (durably) before the step can hand
//! out its token; after the step returns `Callback<T>`, the attempt records TaskSubmitted and
//! waits for the store to say the token was completed, polling it and woken at once when the
//! completion comes through this process. A token whose attempt ends without it is expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::task::erased::{AnyOutput, StepFacts};
use super::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Heartbeat, States, TaskToken};
use crate::store::{
    CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, Callbacks, NewCallback,
    StoreError,
};
use workflow_core::definition::StateId;

/// The callbacks of a runtime: where they are kept (its store's callbacks, handed in by the
/// runtime), and the attempts of this process waiting on one.
pub(crate) struct CallbackHub {
    callbacks: Arc<dyn Callbacks>,
    /// How often a waiting attempt asks the store (completions from other processes).
    poll: Duration,
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
}

impl CallbackHub {
    pub(crate) fn new(callbacks: Arc<dyn Callbacks>, poll: Duration) -> Self {
        CallbackHub {
            callbacks,
            poll,
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Wakes the attempt of this process waiting on `token_hash`, if any.
    pub(crate) fn wake(&self, token_hash: &str) {
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = waiting.get(token_hash) {
            notify.notify_one();
        }
    }

    fn notifier(&self, token_hash: &str) -> Arc<Notify> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(waiting.entry(token_hash.to_owned()).or_default())
    }

    fn forget(&self, token_hash: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.remove(token_hash);
    }
}

impl std::fmt::Debug for CallbackHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackHub")
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

fn hub<'c>(cx: &'c ExecutionContext<'_>, state: &str) -> Result<&'c CallbackHub, ExecutionFailure> {
    cx.shared.resources.callbacks.as_deref().ok_or_else(|| {
        ExecutionFailure::predefined(
            Some(state),
            States::Runtime,
            "callback tasks need their runtime's store, which this execution does not have",
        )
    })
}

fn store_failure(state: &str, error: &StoreError) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state),
        States::Runtime,
        format!("the callback could not be kept in the store: {error}"),
    )
}

/// Creates the pending callback of the attempt whose TaskScheduled event is `scheduled`.
pub(crate) async fn create(
    cx: &ExecutionContext<'_>,
    state: StateId,
    scheduled: u64,
    token: &TaskToken,
) -> Result<(), ExecutionFailure> {
    let state_name = cx.state_name(state);
    let hub = hub(cx, state_name)?;
    let callback = NewCallback {
        token_hash: token.hash(),
        execution: cx.shared.id().clone(),
        workflow: cx.definition().name.clone(),
        state: state_name.to_owned(),
        event_id: scheduled,
        created_at: cx.clock().now(),
    };
    match cx.shared.recorder.journal() {
        // A durable execution waits for a failing store, or halts.
        Some(journal) => {
            journal
                .durably("creating a callback", || {
                    hub.callbacks.create_callback(callback.clone())
                })
                .await;
            Ok(())
        }
        None => hub
            .callbacks
            .create_callback(callback)
            .await
            .map_err(|error| store_failure(state_name, &error)),
    }
}

/// The callback of a resumed attempt (whose TaskStarted was replayed), if it had one.
pub(crate) async fn resumable(
    cx: &ExecutionContext<'_>,
    state: StateId,
    scheduled: u64,
) -> Result<Option<CallbackRecord>, ExecutionFailure> {
    let state_name = cx.state_name(state);
    let hub = hub(cx, state_name)?;
    hub.callbacks
        .callback_of(cx.shared.id(), scheduled)
        .await
        .map_err(|error| store_failure(state_name, &error))
}

/// Completes the callback with `token_hash` with `answer` (an output, or an error name and
/// cause), as whoever holds its token would (a stand-in's answer).
pub(crate) async fn answer(
    cx: &ExecutionContext<'_>,
    state: StateId,
    token_hash: &str,
    answer: Result<serde_json::Value, (String, String)>,
) -> Result<(), ExecutionFailure> {
    let state_name = cx.state_name(state);
    let hub = hub(cx, state_name)?;
    let change = match answer {
        Ok(output) => CallbackChange::Succeed(output),
        Err((error, cause)) => CallbackChange::Fail { error, cause },
    };
    hub.callbacks
        .change_callback(token_hash, change)
        .await
        .map_err(|error| store_failure(state_name, &error))?;
    Ok(())
}

/// Records TaskSubmitted and waits for the callback with `token_hash` to be completed; its
/// heartbeats keep `heartbeat` alive. The timeout and heartbeat timers are the caller's.
pub(crate) async fn wait(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    token_hash: &str,
    heartbeat: Option<&Arc<Heartbeat>>,
) -> Result<AnyOutput, ExecutionFailure> {
    let state_name = cx.state_name(state);
    let hub = hub(cx, state_name)?;
    cx.record(EventType::TaskSubmitted, Some(state), |_| {});
    cx.flush().await?;
    let notify = hub.notifier(token_hash);
    let mut last_heartbeat = None;
    let outcome = loop {
        let record = match hub.callbacks.callback(token_hash).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                break Err(ExecutionFailure::predefined(
                    Some(state_name),
                    States::Runtime,
                    "the task's callback is gone from the store",
                ))
            }
            // Asked again at the next poll: a store briefly away does not fail the task.
            Err(error) if error.is_transient() => {
                cx.clock().sleep(hub.poll).await;
                continue;
            }
            Err(error) => break Err(store_failure(state_name, &error)),
        };
        if let Some(outcome) = completed(state_name, step, &record) {
            break outcome;
        }
        if record.heartbeat_at.is_some() && record.heartbeat_at != last_heartbeat {
            last_heartbeat = record.heartbeat_at;
            if let Some(heartbeat) = heartbeat {
                heartbeat.beat();
            }
        }
        tokio::select! {
            () = notify.notified() => {}
            () = cx.clock().sleep(hub.poll) => {}
        }
    };
    hub.forget(token_hash);
    outcome
}

/// The outcome a completed callback gives its attempt; `None` while it is pending.
fn completed(
    state: &str,
    step: &StepFacts,
    record: &CallbackRecord,
) -> Option<Result<AnyOutput, ExecutionFailure>> {
    match record.status {
        CallbackStatus::Pending => None,
        CallbackStatus::Succeeded => {
            let output = record.output.clone().unwrap_or(serde_json::Value::Null);
            Some(step.decode(output).map_err(|error| {
                ExecutionFailure::predefined(
                    Some(state),
                    States::Runtime,
                    format!(
                        "the callback's output does not read as `{}`: {error}",
                        step.output_type()
                    ),
                )
            }))
        }
        CallbackStatus::Failed => Some(Err(ExecutionFailure::new(
            Some(state),
            record.error.clone().unwrap_or_default(),
            record.cause.clone().unwrap_or_default(),
        ))),
        CallbackStatus::Expired => Some(Err(ExecutionFailure::predefined(
            Some(state),
            States::Timeout,
            "the task's callback expired",
        ))),
    }
}

/// Ends a callback whose attempt timed out. If it was completed in the meantime, that
/// completion stands and is returned; `None` when the timeout stands.
pub(crate) async fn settle(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    token_hash: &str,
) -> Option<Result<AnyOutput, ExecutionFailure>> {
    let state_name = cx.state_name(state);
    let hub = hub(cx, state_name).ok()?;
    match hub
        .callbacks
        .change_callback(token_hash, CallbackChange::Expire)
        .await
    {
        Ok(CallbackUpdate::NotPending(CallbackStatus::Succeeded | CallbackStatus::Failed)) => {
            let record = hub.callbacks.callback(token_hash).await.ok().flatten()?;
            completed(state_name, step, &record)
        }
        _ => None,
    }
}

/// Ends the callback of an attempt that failed: its token stops working. A callback already
/// completed or expired is left as it is.
pub(crate) async fn expire(cx: &ExecutionContext<'_>, token_hash: &str) {
    if let Some(hub) = cx.shared.resources.callbacks.as_deref() {
        // Nothing to add when the store cannot do it: the attempt's failure is recorded, and
        // a completion of the token would find no attempt waiting.
        let _ = hub
            .callbacks
            .change_callback(token_hash, CallbackChange::Expire)
            .await;
    }
}
