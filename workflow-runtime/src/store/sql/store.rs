//! The SQL store itself: [`SqlStore`], which implements [`Store`] and every capability once,
//! over a [`Driver`]. A write becomes a [`Write`] on the store's group-commit queue; a read
//! runs the shared reading code on a reading connection the driver lends.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use super::queue::{Committer, EncodedEvents, Write, WriteQueue, Written};
use super::{read, Dialect, Sql};
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::OpenVersion;
use crate::store::{
    CallbackChange, CallbackRecord, CallbackUpdate, Callbacks, Claim, ClaimRequest, Created,
    Definitions, ExecutionEnd, ExecutionFilter, ExecutionRecord, ExecutionRequest, Fence, Leases,
    Liveness, NewCallback, NewExecution, Presence, RequestKind, Requests, Store, StoreError,
    StoreFuture, StoredDefinition,
};

/// One database under the SQL store: its dialect (the driver type is it), the connections
/// reads run on, and what the database can tell of its processes. Its writes are committed by
/// the [`Committer`] it hands [`SqlStore::new`].
pub(crate) trait Driver: Dialect + Send + Sync + 'static {
    /// The store's name, for `Debug`.
    const STORE: &'static str;

    /// A reading connection, as the shared reads see it.
    type Reader<'c>: Sql<Dialect = Self>;

    /// Runs `read` on a reading connection, off the async threads; its outcome.
    fn read<T, R>(&self, read: R) -> StoreFuture<T>
    where
        T: Send + 'static,
        R: for<'c> AsyncFn(&Self::Reader<'c>) -> Result<T, StoreError> + Send + 'static;

    /// Where the store is, for `Debug` (never a password): a field's name and its value.
    fn location(&self) -> (&'static str, &dyn fmt::Debug);

    /// See [`Leases::announce`]: nothing is made known by default.
    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        let _ = owner;
        Ok(Presence::default())
    }

    /// See [`Leases::liveness`]: not known by default.
    fn liveness(&self, owner: &str) -> Liveness {
        let _ = owner;
        Liveness::Unknown
    }
}

/// Executions and histories in a SQL database, the same tables and statements in each:
/// [`SqliteStore`](crate::store::SqliteStore) (one file) and `PostgresStore` (feature
/// `postgres`: a database several processes share) are this store over their databases'
/// drivers, and are opened through them. Writes of concurrent executions are committed
/// together (group commit), in the order they were called; reads use other connections.
pub struct SqlStore<D> {
    driver: Arc<D>,
    writes: WriteQueue,
}

impl<D> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            driver: Arc::clone(&self.driver),
            writes: self.writes.clone(),
        }
    }
}

impl<D: Driver> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, value) = self.driver.location();
        f.debug_struct(D::STORE).field(field, value).finish()
    }
}

impl<D> SqlStore<D> {
    /// The store over `driver`, its writes committed by `committer`; `name` is the store's
    /// type, as its metrics name it.
    pub(crate) fn new(driver: D, committer: impl Committer, name: &'static str) -> Self {
        SqlStore {
            driver: Arc::new(driver),
            writes: WriteQueue::new(committer, name),
        }
    }

    /// Its database's driver.
    #[cfg(any(feature = "sqlite", test))]
    pub(crate) fn driver(&self) -> &D {
        &self.driver
    }

    /// Queues `write` (in call order); once it is durable, what it did as `answer` reads it.
    fn write<T: Send + 'static>(
        &self,
        write: Write,
        answer: fn(Written) -> Option<T>,
    ) -> StoreFuture<T> {
        let written = self.writes.write(write);
        Box::pin(async move {
            answer(written.await?)
                .ok_or_else(|| StoreError::failed("a write was answered as another kind of write"))
        })
    }

    /// Appends, fenced or not: the events are encoded here, on the caller's thread, so that
    /// the committing thread only writes.
    fn append_events(
        &self,
        execution: &ExecutionId,
        events: &[Event],
        end: Option<ExecutionEnd>,
        fence: Option<&Fence>,
    ) -> StoreFuture<()> {
        let write = Write::Append {
            execution: execution.clone(),
            events: EncodedEvents::encode(events),
            end,
            fence: fence.cloned(),
        };
        self.write(write, done)
    }
}

/// The answer of a write that returns nothing.
fn done(written: Written) -> Option<()> {
    matches!(written, Written::Done).then_some(())
}

impl<D: Driver> Store for SqlStore<D> {
    fn create(&self, execution: NewExecution) -> StoreFuture<Created> {
        self.write(Write::Create(execution), |written| match written {
            Written::Created(created) => Some(created),
            _ => None,
        })
    }

    fn append(
        &self,
        execution: &ExecutionId,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        self.append_events(execution, events, end, None)
    }

    fn reopen(&self, execution: &ExecutionId, events: &[Event]) -> StoreFuture<()> {
        let write = Write::Reopen {
            execution: execution.clone(),
            events: EncodedEvents::encode(events),
        };
        self.write(write, done)
    }

    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        let id = execution.to_string();
        self.driver
            .read(async move |sql| read::execution(sql, &id).await)
    }

    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        let id = execution.to_string();
        self.driver
            .read(async move |sql| read::history(sql, &id, after, limit).await)
    }

    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        self.driver
            .read(async move |sql| read::list(sql, &filter).await)
    }

    fn purge(&self, ended_before: SystemTime) -> StoreFuture<usize> {
        self.purge_up_to(ended_before, None)
    }

    fn purge_batch(&self, ended_before: SystemTime, limit: usize) -> StoreFuture<usize> {
        self.purge_up_to(ended_before, Some(limit))
    }

    fn leases(&self) -> &dyn Leases {
        self
    }

    fn callbacks(&self) -> &dyn Callbacks {
        self
    }

    fn requests(&self) -> Option<&dyn Requests> {
        Some(self)
    }

    fn definitions(&self) -> Option<&dyn Definitions> {
        Some(self)
    }
}

impl<D> SqlStore<D> {
    /// Purges executions that ended before `ended_before`, at most `limit` (all when `None`).
    fn purge_up_to(&self, ended_before: SystemTime, limit: Option<usize>) -> StoreFuture<usize> {
        let write = Write::Purge {
            before: ended_before,
            limit,
        };
        self.write(write, |written| match written {
            Written::Purged(count) => Some(count),
            _ => None,
        })
    }
}

impl<D: Driver> Leases for SqlStore<D> {
    fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>> {
        self.write(Write::Claim(request), |written| match written {
            Written::Claimed(claims) => Some(claims),
            _ => None,
        })
    }

    fn renew(
        &self,
        worker: &str,
        executions: Vec<ExecutionId>,
        until: SystemTime,
    ) -> StoreFuture<Vec<ExecutionId>> {
        let write = Write::Renew {
            worker: worker.to_owned(),
            executions,
            until,
        };
        self.write(write, |written| match written {
            Written::Renewed(held) => Some(held),
            _ => None,
        })
    }

    fn append_fenced(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        self.append_events(execution, events, end, Some(fence))
    }

    fn park(&self, execution: &ExecutionId, fence: &Fence, wake_at: SystemTime) -> StoreFuture<()> {
        let write = Write::Park {
            execution: execution.clone(),
            fence: fence.clone(),
            wake_at,
        };
        self.write(write, done)
    }

    fn open_versions(&self, workflows: &[String]) -> StoreFuture<Vec<OpenVersion>> {
        let workflows = workflows.to_vec();
        self.driver
            .read(async move |sql| read::open_versions(sql, &workflows).await)
    }

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = workflows.to_vec();
        self.driver
            .read(async move |sql| read::owners(sql, &workflows).await)
    }

    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        self.driver.announce(owner)
    }

    fn liveness(&self, owner: &str) -> Liveness {
        self.driver.liveness(owner)
    }
}

impl<D: Driver> Callbacks for SqlStore<D> {
    fn create_callback(&self, callback: NewCallback) -> StoreFuture<()> {
        self.write(Write::CreateCallback(callback), done)
    }

    fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate> {
        let write = Write::ChangeCallback(token_hash.to_owned(), change);
        self.write(write, |written| match written {
            Written::Callback(update) => Some(update),
            _ => None,
        })
    }

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        let token_hash = token_hash.to_owned();
        self.driver
            .read(async move |sql| read::callback_by_token(sql, &token_hash).await)
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        let id = execution.to_string();
        self.driver
            .read(async move |sql| read::callback_of(sql, &id, event_id).await)
    }
}

impl<D: Driver> Requests for SqlStore<D> {
    fn request(
        &self,
        execution: &ExecutionId,
        workflow: &str,
        kind: RequestKind,
        at: SystemTime,
    ) -> StoreFuture<i64> {
        let write = Write::Request {
            execution: execution.clone(),
            workflow: workflow.to_owned(),
            kind,
            at,
        };
        self.write(write, |written| match written {
            Written::Requested(id) => Some(id),
            _ => None,
        })
    }

    fn take_requests(
        &self,
        workflows: &[String],
        limit: usize,
    ) -> StoreFuture<Vec<ExecutionRequest>> {
        let write = Write::TakeRequests {
            workflows: workflows.to_vec(),
            limit,
        };
        self.write(write, |written| match written {
            Written::Requests(requests) => Some(requests),
            _ => None,
        })
    }

    fn finish_request(&self, id: i64, outcome: Result<(), String>) -> StoreFuture<()> {
        self.write(Write::FinishRequest { id, outcome }, done)
    }

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.driver
            .read(async move |sql| read::request_of(sql, id).await)
    }
}

impl<D: Driver> Definitions for SqlStore<D> {
    fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()> {
        self.write(Write::SaveDefinition(definition), done)
    }

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        self.driver
            .read(async move |sql| read::latest_definitions(sql).await)
    }

    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let (workflow, fingerprint) = (workflow.to_owned(), fingerprint.to_owned());
        self.driver
            .read(async move |sql| read::definition_of(sql, &workflow, &fingerprint).await)
    }
}
