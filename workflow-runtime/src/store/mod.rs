//! Where durable executions live: their records and their histories.
//!
//! A [`Store`] keeps, for every execution started with [`Runtime::start`], a record (workflow,
//! name, input, status, result, times) and its history of events. The engine appends events
//! and awaits their commit before acting on them, so after a crash the history says exactly
//! what was done. [`MemoryStore`] keeps everything in memory (tests); [`SqliteStore`] in one
//! SQLite file, and `PostgresStore` (feature `postgres`) in a database that several processes
//! share. Those two are one store, [`SqlStore`], over each database's driver ([`Sqlite`],
//! `Postgres`): the same tables, statements and behaviour, the writes of concurrent
//! executions committed together. [`open`] opens the one a URL names.
//!
//! # Capabilities
//!
//! [`Store`] is what every store does: create, append to, reopen, read, list and purge
//! executions. The rest is grouped by concern into capabilities, each a trait of its own,
//! which a store hands out through an accessor on [`Store`] (as a database driver may or may
//! not offer migrations beside its connections):
//!
//! | capability | accessor | who needs it | every store has it |
//! |---|---|---|---|
//! | [`Leases`]: claim, renew, park, fenced appends, owners' liveness | [`Store::leases`] | every durable run | yes |
//! | [`Callbacks`]: tokens of callback tasks and their completion | [`Store::callbacks`] | callback tasks, `Runtime::send_task_*` | yes |
//! | [`Requests`]: stop and redrive asked by tools, carried out by runtimes | [`Store::requests`] | `Runtime::serve`, the `workflow` command | no (`Option`) |
//! | [`Definitions`]: the workflows' definitions as runtimes registered them | [`Store::definitions`] | tools that draw workflows | no (`Option`) |
//!
//! Leases and callbacks are required: the engine cannot run without them (every write of a
//! durable run is fenced by its lease, and a callback task's token must be stored before it
//! is handed out), and a store that only pretended to have them would be wrong quietly —
//! an append that ignored its fence would let two runtimes advance one execution. So their
//! accessors return the capability itself, and a store implements both traits. Requests and
//! definitions serve tools that work without the workflows' code: a store may leave them out
//! (its accessor returns `None`, the default), and then a runtime has no requests to carry
//! out and records no definitions, and the tools say the store keeps none. The memory,
//! SQLite and PostgreSQL stores have all four.
//!
//! Writes keep the order of the calls that made them across capabilities: a claim, then an
//! append under the new lease, apply in that order.
//!
//! [`Runtime::start`]: crate::Runtime::start

mod callback;
mod definition;
// Much of it is the SQL stores' alone, unused in a build with neither.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod encoding;
mod error;
mod lease;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod request;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::execution::{ExecutionFailure, ExecutionId, ExecutionStatus};
use crate::history::Event;

pub use callback::{
    CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, Callbacks, NewCallback,
};
pub use definition::{Definitions, StoredDefinition};
pub use error::{ErrorSource, StoreError};
pub use lease::{Claim, ClaimRequest, Fence, Lease, Leases, Liveness, OpenVersion, Presence};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{Postgres, PostgresConfig, PostgresStore, PostgresStoreBuilder};
pub use request::{ExecutionRequest, RequestKind, RequestStatus, Requests};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::SqlStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{Sqlite, SqliteStore};

/// A store operation in progress.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// How many events [`Store::full_history`] reads at a time.
const HISTORY_PAGE: usize = 1000;

/// A durable home for executions and their histories: the operations every store has.
///
/// Writes are ordered: the store applies them in the order the methods were *called* (not
/// the order their futures are polled), so an implementation must take the request when the
/// method is called; this holds across its capabilities too (a claim, then an append under
/// the new lease). A write's future completes once the write is durable.
///
/// What else a store can do it offers as capabilities, each a trait of its own, found through
/// the accessors at the end: [`leases`](Self::leases) and [`callbacks`](Self::callbacks),
/// which every store has, and [`requests`](Self::requests) and
/// [`definitions`](Self::definitions), which a store may lack (see the [module
/// docs](self#capabilities)).
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Creates an execution, unless one of the same workflow and name exists: then returns it.
    fn create(&self, execution: NewExecution) -> StoreFuture<Created>;

    /// Appends events to an execution's history and, with `end`, closes the execution, in one
    /// durable write, on conditions checked in the same transaction: the execution is running,
    /// and the events follow the last stored one. Otherwise nothing is written and the answer
    /// is [`StoreError::Conflict`]. An append whose events are all stored already, as they are
    /// (an earlier try of the same write committed, but its answer was lost), succeeds
    /// without writing, so a write whose outcome is unknown can be tried again safely.
    ///
    /// This append holds no lease: the runtime appends with [`Leases::append_fenced`].
    ///
    /// The events are borrowed for the call only: a store encodes or copies what it keeps
    /// before it returns the write's future.
    fn append(
        &self,
        execution: &ExecutionId,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()>;

    /// Appends events to an ended execution's history and makes it running again (a redrive),
    /// in one durable write, if it failed, timed out or was aborted and the events follow its
    /// last stored one; otherwise [`StoreError::Conflict`] and nothing is written.
    fn reopen(&self, execution: &ExecutionId, events: &[Event]) -> StoreFuture<()>;

    /// The record of an execution.
    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>>;

    /// Events of an execution's history with ids above `after`, oldest first, at most `limit`.
    fn history(&self, execution: &ExecutionId, after: u64, limit: usize)
        -> StoreFuture<Vec<Event>>;

    /// An execution's whole history, oldest first, read a page at a time with
    /// [`history`](Self::history) (so that no one read holds a long history at once).
    fn full_history<'a>(
        &'a self,
        execution: &'a ExecutionId,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Event>, StoreError>> + Send + 'a>> {
        Box::pin(async move {
            let mut events: Vec<Event> = Vec::new();
            loop {
                let after = events.last().map_or(0, |event| event.id);
                let page = self.history(execution, after, HISTORY_PAGE).await?;
                let last_page = page.len() < HISTORY_PAGE;
                events.extend(page);
                if last_page {
                    return Ok(events);
                }
            }
        })
    }

    /// Executions matching `filter`, newest first.
    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>>;

    /// Deletes executions that ended before `ended_before`, with their histories, and
    /// callbacks no longer pending created before it; how many executions. Running executions
    /// and pending callbacks are never deleted. In one go: see
    /// [`purge_batch`](Self::purge_batch) for a long purge.
    fn purge(&self, ended_before: SystemTime) -> StoreFuture<usize> {
        self.purge_batch(ended_before, usize::MAX)
    }

    /// Like [`purge`](Self::purge), deleting at most `limit` executions: a long purge in
    /// short transactions, with progress between them. How many it deleted (fewer than
    /// `limit`: nothing is left to purge).
    fn purge_batch(&self, ended_before: SystemTime, limit: usize) -> StoreFuture<usize>;

    /// Its leases: who runs which execution, and the fence on their writes. Every store has
    /// them: every durable run holds its execution's lease.
    fn leases(&self) -> &dyn Leases;

    /// Its callbacks: task attempts waiting for a token. Every store has them: callback
    /// tasks, and the runtime's `send_task_*` methods, need them.
    fn callbacks(&self) -> &dyn Callbacks;

    /// Its requests to stop or redrive executions, if it keeps them (`None` by default): tools
    /// without the workflows' code leave them, runtimes carry them out.
    fn requests(&self) -> Option<&dyn Requests> {
        None
    }

    /// Its record of the workflows' definitions, if it keeps one (`None` by default), for
    /// tools that draw workflows without their code.
    fn definitions(&self) -> Option<&dyn Definitions> {
        None
    }
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
    /// The version of its workflow it runs on, from 1 ([`Definition::version`]).
    ///
    /// [`Definition::version`]: crate::Definition::version
    pub version: u32,
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
    /// The state it failed in, if it failed in one (not for a timeout, an abort, or a failure
    /// of the execution as a whole).
    pub failed_state: Option<String>,
    /// When it ended.
    pub stopped_at: SystemTime,
}

impl ExecutionEnd {
    /// The end `event` (the last of a history) writes, with `status`: its output, error,
    /// cause and time. No failed state: see [`in_state`](Self::in_state).
    pub(crate) fn of(event: &Event, status: ExecutionStatus) -> Self {
        ExecutionEnd {
            status,
            output: event.output.clone(),
            error: event.error.clone(),
            cause: event.cause.clone(),
            failed_state: None,
            stopped_at: event.timestamp,
        }
    }

    /// This end, failed in the state `failure` names (if it failed, in a state).
    pub(crate) fn in_state(mut self, failure: Option<&ExecutionFailure>) -> Self {
        self.failed_state = failure.and_then(ExecutionFailure::state).map(str::to_owned);
        self
    }
}

/// A stored execution.
///
/// It serialises as the command-line tool's and the console's JSON show it: fields in
/// snake case, the status as [`ExecutionStatus::name`] spells it, times in RFC 3339 (UTC,
/// with the decimals the time needs; a time RFC 3339 cannot write, which only a damaged record
/// holds, as signed seconds since 1970), and reads back the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecutionRecord {
    /// Its id.
    pub id: ExecutionId,
    /// Its name, unique within its workflow.
    pub name: String,
    /// Its workflow's name.
    pub workflow: String,
    /// The version of its workflow it started on and resumes on, from 1.
    #[serde(default = "first_version")]
    pub version: u32,
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
    /// The state it failed in, once it failed in one.
    pub failed_state: Option<String>,
    /// When it started.
    #[serde(with = "crate::timestamp")]
    pub started_at: SystemTime,
    /// When it ended.
    #[serde(with = "crate::timestamp::optional")]
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
    #[cfg(feature = "sqlite")]
    return Ok(std::sync::Arc::new(SqliteStore::open(path)?));
    #[cfg(not(feature = "sqlite"))]
    return Err(no_sqlite(url));
}

/// The error of a SQLite URL in a build without the SQLite store.
#[cfg(not(feature = "sqlite"))]
fn no_sqlite(url: &str) -> StoreError {
    StoreError::InvalidUrl {
        url: url.to_owned(),
        reason:
            "SQLite is not in this build; enable the `sqlite` feature of `workflow` (on by default)"
                .to_owned(),
    }
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
    #[cfg(feature = "sqlite")]
    return Ok(std::sync::Arc::new(SqliteStore::open_read_only(path)?));
    #[cfg(not(feature = "sqlite"))]
    return Err(no_sqlite(url));
}

/// The version of a record that gives none: records serialised before versions existed.
fn first_version() -> u32 {
    workflow_core::definition::FIRST_VERSION
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::history::EventType;

    /// Events `ids`, each a `PassStateEntered` after the one before.
    pub(crate) fn events(ids: std::ops::RangeInclusive<u64>) -> Vec<Event> {
        ids.map(|id| {
            Event::new(
                id,
                id - 1,
                SystemTime::UNIX_EPOCH,
                EventType::PassStateEntered,
            )
        })
        .collect()
    }

    async fn started(store: &MemoryStore, id: &ExecutionId) {
        let created = store
            .create(NewExecution {
                id: id.clone(),
                name: id.to_string(),
                workflow: "W".to_owned(),
                version: 1,
                input: Value::Null,
                fingerprint: String::new(),
                started_at: SystemTime::UNIX_EPOCH,
                events: events(1..=1),
                lease: None,
            })
            .await
            .expect("created");
        assert_eq!(created, Created::New);
    }

    #[tokio::test]
    async fn the_full_history_is_read_a_page_at_a_time_to_its_end() {
        let store = MemoryStore::new();
        for (name, last) in [("short", 1), ("one-page", 1000), ("pages", 2 * 1000 + 1)] {
            let id = ExecutionId::from(name);
            started(&store, &id).await;
            if last > 1 {
                store
                    .append(&id, &events(2..=last), None)
                    .await
                    .expect("appended");
            }
            let history = store.full_history(&id).await.expect("read");
            let ids: Vec<u64> = history.iter().map(|event| event.id).collect();
            assert_eq!(ids, (1..=last).collect::<Vec<_>>(), "{name}");
        }
    }

    #[tokio::test]
    async fn a_fenced_append_is_refused_without_the_lease() {
        let store = MemoryStore::new();
        let id = ExecutionId::from("e");
        started(&store, &id).await;
        let stale = Fence {
            worker: "nobody".to_owned(),
            token: 1,
        };
        let refused = store
            .leases()
            .append_fenced(&id, &stale, &events(2..=2), None)
            .await;
        assert!(
            matches!(refused, Err(StoreError::LeaseLost { .. })),
            "{refused:?}"
        );
        assert_eq!(store.full_history(&id).await.expect("read").len(), 1);
    }
}
