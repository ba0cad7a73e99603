//! Where durable executions live: their records and their histories.
//!
//! A [`Store`] keeps, for every execution started with [`Runtime::start`], a record (workflow,
//! name, input, status, result, times) and its history of events. The engine appends events
//! and awaits their commit before acting on them, so after a crash the history says exactly
//! what was done. [`MemoryStore`] keeps everything in memory (tests); [`SqliteStore`] in one
//! SQLite file, committing the writes of concurrent executions together.
//!
//! [`Runtime::start`]: crate::Runtime::start

mod callback;
pub(crate) mod encoding;
mod error;
mod lease;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod queue;
mod request;
mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use serde_json::Value;

use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::Event;
use workflow_core::Definition;

pub use callback::{CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, NewCallback};
pub use error::{ErrorSource, StoreError};
pub use lease::{Claim, ClaimRequest, Fence, Lease, Liveness, Presence};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder};
pub use request::{ExecutionRequest, RequestKind, RequestStatus};
pub use sqlite::SqliteStore;

/// A store operation in progress.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// A durable home for executions and their histories.
///
/// Writes are ordered: the store applies them in the order the methods were *called* (not
/// the order their futures are polled), so an implementation must take the request when the
/// method is called. A write's future completes once the write is durable.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Creates an execution, unless one of the same workflow and name exists: then returns it.
    fn create(&self, execution: NewExecution) -> StoreFuture<Created>;

    /// Appends events to an execution's history and, with `end`, closes the execution, in one
    /// durable write, on conditions checked in the same transaction: the execution is running,
    /// and the events follow the last stored one. Otherwise nothing is written and the answer
    /// is [`StoreError::Conflict`]. An append whose events are all stored already, as they are
    /// (an earlier try of the same write committed, but its answer was lost), succeeds
    /// without writing, so a write whose outcome is unknown can be tried again safely.
    fn append(
        &self,
        execution: &ExecutionId,
        events: Vec<Event>,
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()>;

    /// Appends events to an ended execution's history and makes it running again (a redrive),
    /// in one durable write, if it failed, timed out or was aborted and the events follow its
    /// last stored one; otherwise [`StoreError::Conflict`] and nothing is written.
    fn reopen(&self, execution: &ExecutionId, events: Vec<Event>) -> StoreFuture<()>;

    /// The record of an execution.
    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>>;

    /// Events of an execution's history with ids above `after`, oldest first, at most `limit`.
    fn history(&self, execution: &ExecutionId, after: u64, limit: usize)
        -> StoreFuture<Vec<Event>>;

    /// Executions matching `filter`, newest first.
    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>>;

    /// Deletes executions that ended before `ended_before`, with their histories, and
    /// callbacks no longer pending created before it; how many executions. Running executions
    /// and pending callbacks are never deleted.
    fn purge(&self, ended_before: SystemTime) -> StoreFuture<usize>;

    /// Like [`purge`](Self::purge), deleting at most `limit` executions: a long purge in
    /// short transactions, with progress between them. How many it deleted (fewer than
    /// `limit`: nothing is left to purge).
    fn purge_batch(&self, ended_before: SystemTime, limit: usize) -> StoreFuture<usize> {
        let _ = limit;
        self.purge(ended_before)
    }

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

    /// Like [`append`](Self::append), only if `fence` still holds the execution's lease (its
    /// worker and token are the stored ones); otherwise [`StoreError::LeaseLost`] and nothing
    /// is written. Stores without leases append regardless.
    fn append_fenced(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        events: Vec<Event>,
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        let _ = fence;
        self.append(execution, events, end)
    }

    /// Gives `request.worker` the leases of up to `request.limit` running executions that no
    /// live owner holds (see [`ClaimRequest`]), until `request.until`, each with a new token;
    /// two workers claiming at once never get the same execution.
    fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>> {
        let _ = request;
        Box::pin(std::future::ready(Err(StoreError::Unsupported("leases"))))
    }

    /// The owners of running executions of `workflows` (who holds their leases).
    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let _ = workflows;
        Box::pin(std::future::ready(Err(StoreError::Unsupported("leases"))))
    }

    /// Makes `owner`'s presence known to other processes for as long as the returned
    /// [`Presence`] is kept, where the store can (a lock the operating system releases when
    /// the process ends, however it ends): see [`liveness`](Self::liveness).
    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        let _ = owner;
        Ok(Presence::default())
    }

    /// Whether `owner` is known to be alive or gone, where the store can tell (its presence,
    /// [`announce`](Self::announce)d in another process); a lease that runs out says it
    /// otherwise.
    fn liveness(&self, owner: &str) -> Liveness {
        let _ = owner;
        Liveness::Unknown
    }

    /// Gives up the lease `fence` holds on `execution` until `wake_at`: no worker claims it
    /// before then (it waits on a timer), any may after. [`StoreError::LeaseLost`] if the
    /// lease is no longer held.
    fn park(&self, execution: &ExecutionId, fence: &Fence, wake_at: SystemTime) -> StoreFuture<()> {
        let _ = (execution, fence, wake_at);
        Box::pin(std::future::ready(Err(StoreError::Unsupported("leases"))))
    }

    /// Records a workflow's definition as a runtime registered it (again: only its time
    /// changes), so that tools can render the workflow without its code.
    fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()> {
        let _ = definition;
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "recorded definitions",
        ))))
    }

    /// The latest recorded definition of every workflow, by workflow name.
    fn definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "recorded definitions",
        ))))
    }

    /// The recorded definition of `workflow` with this fingerprint (the one an execution
    /// started with).
    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let _ = (workflow, fingerprint);
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "recorded definitions",
        ))))
    }

    /// Leaves a request for a runtime that has `workflow` to carry out; its id.
    fn request(
        &self,
        execution: &ExecutionId,
        workflow: &str,
        kind: RequestKind,
        at: SystemTime,
    ) -> StoreFuture<i64> {
        let _ = (execution, workflow, kind, at);
        Box::pin(std::future::ready(Err(StoreError::Unsupported("requests"))))
    }

    /// Takes up to `limit` pending requests for these workflows, oldest first: no other
    /// runtime gets them.
    fn take_requests(
        &self,
        workflows: &[String],
        limit: usize,
    ) -> StoreFuture<Vec<ExecutionRequest>> {
        let _ = (workflows, limit);
        Box::pin(std::future::ready(Err(StoreError::Unsupported("requests"))))
    }

    /// Records how a taken request ended: carried out, or why not.
    fn finish_request(&self, id: i64, outcome: Result<(), String>) -> StoreFuture<()> {
        let _ = (id, outcome);
        Box::pin(std::future::ready(Err(StoreError::Unsupported("requests"))))
    }

    /// A request, by its id.
    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        let _ = id;
        Box::pin(std::future::ready(Err(StoreError::Unsupported("requests"))))
    }

    /// Extends `worker`'s leases of `executions` (those it is running) to `until`; those of
    /// them it still holds. A lease not renewed runs out, and the execution can be claimed.
    fn renew(
        &self,
        worker: &str,
        executions: Vec<ExecutionId>,
        until: SystemTime,
    ) -> StoreFuture<Vec<ExecutionId>> {
        let _ = (worker, executions, until);
        Box::pin(std::future::ready(Err(StoreError::Unsupported("leases"))))
    }
}

/// A workflow's definition as recorded in a store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDefinition {
    /// The workflow's name.
    pub workflow: String,
    /// The definition's fingerprint (executions record the one they started with).
    pub fingerprint: String,
    /// The definition.
    pub definition: Definition,
    /// When a runtime last registered it.
    pub registered_at: SystemTime,
}

/// A new execution, as [`Store::create`] receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    /// Its id.
    pub id: ExecutionId,
    /// Its name, unique within its workflow.
    pub name: String,
    /// Its workflow's name.
    pub workflow: String,
    /// Its input, as JSON.
    pub input: Value,
    /// The fingerprint of its workflow's definition ([`Definition::fingerprint`]).
    ///
    /// [`Definition::fingerprint`]: crate::Definition::fingerprint
    pub fingerprint: String,
    /// When it started.
    pub started_at: SystemTime,
    /// Its first events (ExecutionStarted).
    pub events: Vec<Event>,
    /// The lease of the worker that runs it from the start; `None` leaves it to whichever
    /// worker claims it (or, without leases, to this process).
    pub lease: Option<Lease>,
}

/// What [`Store::create`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The execution was created.
    New,
    /// An execution of the same workflow and name already exists.
    Existing(Box<ExecutionRecord>),
}

/// How an execution ended, for [`Store::append`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionEnd {
    /// `Succeeded`, `Failed`, `TimedOut` or `Aborted`.
    pub status: ExecutionStatus,
    /// The output, if it succeeded.
    pub output: Option<Value>,
    /// The error name, if it did not.
    pub error: Option<String>,
    /// The cause, if it did not.
    pub cause: Option<String>,
    /// When it ended.
    pub stopped_at: SystemTime,
}

/// A stored execution.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExecutionRecord {
    /// Its id.
    pub id: ExecutionId,
    /// Its name, unique within its workflow.
    pub name: String,
    /// Its workflow's name.
    pub workflow: String,
    /// The fingerprint of the definition it started with.
    pub fingerprint: String,
    /// Where it is.
    pub status: ExecutionStatus,
    /// Its input, as JSON.
    pub input: Value,
    /// Its output, as JSON, once it succeeded.
    pub output: Option<Value>,
    /// The error name, once it failed.
    pub error: Option<String>,
    /// The cause, once it failed.
    pub cause: Option<String>,
    /// When it started.
    pub started_at: SystemTime,
    /// When it ended.
    pub stopped_at: Option<SystemTime>,
    /// What is wrong with its stored data, if some of it does not read (the fields that do
    /// are filled in, the others left empty, its status [`ExecutionStatus::Unknown`] if that
    /// is what does not read). Such an execution is listed, not resumed.
    pub unreadable: Option<String>,
}

/// Which executions [`Store::list`] returns.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ExecutionFilter {
    /// Only this workflow's.
    pub workflow: Option<String>,
    /// Only the execution with this name.
    pub name: Option<String>,
    /// Only those with this status.
    pub status: Option<ExecutionStatus>,
    /// Only those started at or after this time.
    pub started_after: Option<SystemTime>,
    /// Only those started before this time.
    pub started_before: Option<SystemTime>,
    /// At most this many (all when `None`).
    pub limit: Option<usize>,
}

impl ExecutionFilter {
    /// Every execution.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `workflow`'s executions.
    pub fn workflow(mut self, workflow: impl Into<String>) -> Self {
        self.workflow = Some(workflow.into());
        self
    }

    /// Only the execution named `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only executions with `status`.
    pub fn status(mut self, status: ExecutionStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only executions started in `[after, before)`.
    pub fn started_between(mut self, after: SystemTime, before: SystemTime) -> Self {
        self.started_after = Some(after);
        self.started_before = Some(before);
        self
    }

    /// At most `limit` executions.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    pub(crate) fn matches(&self, record: &ExecutionRecord) -> bool {
        self.workflow
            .as_ref()
            .is_none_or(|workflow| &record.workflow == workflow)
            && self.name.as_ref().is_none_or(|name| &record.name == name)
            && self.status.is_none_or(|status| record.status == status)
            && self
                .started_after
                .is_none_or(|after| record.started_at >= after)
            && self
                .started_before
                .is_none_or(|before| record.started_at < before)
    }
}

/// Opens the store `url` names:
///
/// - `sqlite://path/to/file.db`, or a plain path: a [`SqliteStore`] (the default: no server);
/// - `postgres://user@host:port/database` (or `postgresql://`): a `PostgresStore`, with the
///   `postgres` feature;
/// - `memory://`: a [`MemoryStore`].
///
/// ```no_run
/// # async fn open() -> Result<(), Box<dyn std::error::Error>> {
/// let url = std::env::var("WORKFLOW_STORE").unwrap_or_else(|_| "sqlite://workflows.db".into());
/// let runtime = workflow::Runtime::builder()
///     .store_arc(workflow::store::open(&url).await?)
///     .build()?;
/// # Ok(()) }
/// ```
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let url = url.trim();
    if url == "memory://" {
        return Ok(std::sync::Arc::new(MemoryStore::new()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(std::sync::Arc::new(PostgresStore::connect(url).await?));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::InvalidUrl {
            url: url.split('@').next_back().unwrap_or_default().to_owned(),
            reason:
                "this build has no PostgreSQL store: enable the `postgres` feature of `workflow`"
                    .to_owned(),
        });
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: "use sqlite://path, postgres://user@host/database or memory://".to_owned(),
        });
    }
    Ok(std::sync::Arc::new(SqliteStore::open(path)?))
}

/// Like [`open`], for tools that only read the store: a SQLite file is opened with
/// [`SqliteStore::open_read_only`] (it must exist and hold this version's schema; nothing is
/// written, and reads do not wait on writers); other stores open as [`open`] opens them.
pub async fn open_read_only(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let trimmed = url.trim();
    let path = trimmed.strip_prefix("sqlite://").unwrap_or(trimmed);
    // PostgreSQL, memory:// and URLs that name no store: as `open` does.
    if path.is_empty() || path.contains("://") {
        return open(url).await;
    }
    Ok(std::sync::Arc::new(SqliteStore::open_read_only(path)?))
}
