//! The callbacks capability: a task attempt waiting for the outside world to complete its
//! token. See [`Callbacks`].
//!
//! Only a hash of each token is stored. A callback is `Pending` until it is completed
//! (`Succeeded` or `Failed`, by whoever holds the token) or `Expired` (by its execution, when
//! the attempt ends without it: a timeout, a failure of the step). Every change applies only
//! to a pending callback, in one atomic write, so of two concurrent completions one wins and
//! the other is told the callback is no longer pending.

use std::fmt;
use std::time::SystemTime;

use serde_json::Value;

use super::StoreFuture;
use crate::execution::ExecutionId;

/// Callbacks of task attempts, found through [`Store::callbacks`](super::Store::callbacks).
///
/// Every store has them: the engine keeps a callback task's token here before the step can
/// hand it out, and waits here for its completion, which may come from another process (the
/// runtime's `send_task_*` methods change it). They belong with the executions: a purge
/// deletes the callbacks no longer pending with them.
pub trait Callbacks: Send + Sync {
    /// Creates a pending callback, durably (before its token is handed out).
    fn create_callback(&self, callback: NewCallback) -> StoreFuture<()>;

    /// Applies `change` to the callback with this token hash if it is pending, durably and
    /// atomically (of two concurrent changes, one applies first and the other sees its result).
    fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate>;

    /// The callback with this token hash.
    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>>;

    /// The callback of an execution's attempt, by its TaskScheduled event id.
    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>>;
}

/// A callback to create, before the step that hands out its token runs.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallback {
    /// The SHA-256 of the token, in hex.
    pub token_hash: String,
    /// The execution waiting.
    pub execution: ExecutionId,
    /// Its workflow's name.
    pub workflow: String,
    /// The task state waiting.
    pub state: String,
    /// The id of the attempt's TaskScheduled event (with the execution, names the attempt).
    pub event_id: u64,
    /// When it was created.
    pub created_at: SystemTime,
}

/// Where a callback is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackStatus {
    /// Waiting for its token.
    Pending,
    /// Completed with an output.
    Succeeded,
    /// Completed with an error.
    Failed,
    /// Its attempt ended without it (timed out, or the step failed).
    Expired,
}

impl CallbackStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackStatus::Pending => "pending",
            CallbackStatus::Succeeded => "succeeded",
            CallbackStatus::Failed => "failed",
            CallbackStatus::Expired => "expired",
        }
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            CallbackStatus::Pending,
            CallbackStatus::Succeeded,
            CallbackStatus::Failed,
            CallbackStatus::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for CallbackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored callback.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CallbackRecord {
    /// The SHA-256 of the token, in hex.
    pub token_hash: String,
    /// The execution waiting.
    pub execution: ExecutionId,
    /// Its workflow's name.
    pub workflow: String,
    /// The task state waiting.
    pub state: String,
    /// The attempt's TaskScheduled event id.
    pub event_id: u64,
    /// Where it is.
    pub status: CallbackStatus,
    /// The output it was completed with, as JSON.
    pub output: Option<Value>,
    /// The error name it was completed with.
    pub error: Option<String>,
    /// The cause it was completed with.
    pub cause: Option<String>,
    /// The last heartbeat sent for it.
    pub heartbeat_at: Option<SystemTime>,
    /// When it was created.
    pub created_at: SystemTime,
}

impl CallbackRecord {
    pub(crate) fn new(callback: NewCallback) -> Self {
        CallbackRecord {
            token_hash: callback.token_hash,
            execution: callback.execution,
            workflow: callback.workflow,
            state: callback.state,
            event_id: callback.event_id,
            status: CallbackStatus::Pending,
            output: None,
            error: None,
            cause: None,
            heartbeat_at: None,
            created_at: callback.created_at,
        }
    }

    /// Applies `change` if the callback is pending; what became of it.
    pub(crate) fn apply(&mut self, change: &CallbackChange) -> CallbackUpdate {
        if self.status != CallbackStatus::Pending {
            return CallbackUpdate::NotPending(self.status);
        }
        match change {
            CallbackChange::Succeed(output) => {
                self.status = CallbackStatus::Succeeded;
                self.output = Some(output.clone());
            }
            CallbackChange::Fail { error, cause } => {
                self.status = CallbackStatus::Failed;
                self.error = Some(error.clone());
                self.cause = Some(cause.clone());
            }
            CallbackChange::Heartbeat(at) => self.heartbeat_at = Some(*at),
            CallbackChange::Expire => self.status = CallbackStatus::Expired,
        }
        CallbackUpdate::Applied(Box::new(self.clone()))
    }
}

/// A change to a pending callback.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackChange {
    /// Complete it with an output.
    Succeed(Value),
    /// Complete it with an error.
    Fail {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
    /// Note a heartbeat.
    Heartbeat(SystemTime),
    /// End it unanswered.
    Expire,
}

/// What a [`CallbackChange`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackUpdate {
    /// It applied; the callback as it now is.
    Applied(Box<CallbackRecord>),
    /// No callback has that token.
    Unknown,
    /// The callback is no longer pending: nothing changed.
    NotPending(CallbackStatus),
}
