//! The requests capability: requests to stop or redrive an execution, left in a store by
//! tools (the `workflow` command, the console) that do not have the workflow's code, and
//! carried out by a runtime that has it ([`Runtime::serve`](crate::Runtime::serve)). A request
//! is taken by one runtime only. See [`Requests`].

use std::time::SystemTime;

use super::StoreFuture;
use crate::execution::ExecutionId;

/// Requests to stop or redrive executions, found through
/// [`Store::requests`](super::Store::requests).
///
/// Optional: a runtime on a store without it has no requests to carry out (it stops and
/// redrives executions when its own methods are called), and the tools that leave requests
/// say the store takes none.
pub trait Requests: Send + Sync {
    /// Leaves a request for a runtime that has `workflow` to carry out; its id.
    fn request(
        &self,
        execution: &ExecutionId,
        workflow: &str,
        kind: RequestKind,
        at: SystemTime,
    ) -> StoreFuture<i64>;

    /// Takes up to `limit` pending requests for these workflows, oldest first: no other
    /// runtime gets them.
    fn take_requests(
        &self,
        workflows: &[String],
        limit: usize,
    ) -> StoreFuture<Vec<ExecutionRequest>>;

    /// Records how a taken request ended: carried out, or why not.
    fn finish_request(&self, id: i64, outcome: Result<(), String>) -> StoreFuture<()>;

    /// A request, by its id.
    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>>;
}

/// What is asked of an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    /// Stop it, recording this error and cause.
    Stop {
        /// The error name recorded with ExecutionAborted.
        error: Option<String>,
        /// The cause recorded with ExecutionAborted.
        cause: Option<String>,
    },
    /// Redrive it from where it failed.
    Redrive,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRequest {
    /// Its id, from the store.
    pub id: i64,
    /// The execution.
    pub execution: ExecutionId,
    /// Its workflow's name: only a runtime that registered it carries the request out.
    pub workflow: String,
    /// What is asked.
    pub kind: RequestKind,
    /// When it was asked.
    pub requested_at: SystemTime,
    /// Where it is.
    pub status: RequestStatus,
}

/// Where a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting for a runtime with the workflow.
    Pending,
    /// A runtime took it.
    Taken,
    /// Carried out.
    Done,
    /// Could not be carried out, and why.
    Failed(String),
}

impl RequestKind {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn text(&self) -> &'static str {
        match self {
            RequestKind::Stop { .. } => "stop",
            RequestKind::Redrive => "redrive",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    /// The error and cause columns: set for a stop only.
    pub(crate) fn error_and_cause(&self) -> (Option<&str>, Option<&str>) {
        match self {
            RequestKind::Stop { error, cause } => (error.as_deref(), cause.as_deref()),
            RequestKind::Redrive => (None, None),
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_columns(kind: &str, error: Option<String>, cause: Option<String>) -> Self {
        match kind {
            "stop" => RequestKind::Stop { error, cause },
            _ => RequestKind::Redrive,
        }
    }
}

impl RequestStatus {
    /// Its name: pending, taken, done or failed.
    pub fn name(&self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Taken => "taken",
            RequestStatus::Done => "done",
            RequestStatus::Failed(_) => "failed",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    /// The status and outcome columns of a finished request.
    pub(crate) fn finished_columns(outcome: &Result<(), String>) -> (&'static str, Option<&str>) {
        match outcome {
            Ok(()) => ("done", None),
            Err(why) => ("failed", Some(why.as_str())),
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_columns(status: &str, outcome: Option<String>) -> Self {
        match status {
            "pending" => RequestStatus::Pending,
            "taken" => RequestStatus::Taken,
            "done" => RequestStatus::Done,
            _ => RequestStatus::Failed(outcome.unwrap_or_default()),
        }
    }
}
