//! Group commit, for the SQL stores: writes are queued, and whoever queues a write while no
//! commit is under way starts one on tokio's blocking pool. It takes every write waiting at
//! that moment, hands them to the store's [`Committer`], which commits them in one transaction
//! and makes one failing write fail alone (each store its own way: see `Committer::commit` of
//! the SQLite and PostgreSQL stores), answers each, and goes on while writes keep arriving.
//! Concurrent executions therefore share commits: throughput is not bounded by one commit per
//! transition. (Committing on the blocking pool also tells a paused tokio clock that work is
//! under way, so virtual time does not jump ahead while a write is pending.)

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use tokio::sync::oneshot;

use super::{
    CallbackChange, CallbackUpdate, Claim, ClaimRequest, Created, ExecutionEnd, Fence, NewCallback,
    NewExecution, StoreError, StoreFuture, StoredDefinition,
};
use super::{ExecutionRequest, RequestKind};
use crate::execution::ExecutionId;
use crate::history::Event;

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 4096;

/// A write to a store.
#[derive(Debug)]
pub(crate) enum Write {
    Create(NewExecution),
    Append {
        execution: ExecutionId,
        events: EncodedEvents,
        end: Option<ExecutionEnd>,
        fence: Option<Fence>,
    },
    Reopen {
        execution: ExecutionId,
        events: EncodedEvents,
    },
    Purge {
        before: SystemTime,
        /// At most this many executions (all when `None`).
        limit: Option<usize>,
    },
    CreateCallback(NewCallback),
    ChangeCallback(String, CallbackChange),
    Claim(ClaimRequest),
    Renew {
        worker: String,
        executions: Vec<ExecutionId>,
        until: SystemTime,
    },
    Park {
        execution: ExecutionId,
        fence: Fence,
        wake_at: SystemTime,
    },
    SaveDefinition(StoredDefinition),
    Request {
        execution: ExecutionId,
        workflow: String,
        kind: RequestKind,
        at: SystemTime,
    },
    TakeRequests {
        workflows: Vec<String>,
        limit: usize,
    },
    FinishRequest {
        id: i64,
        outcome: Result<(), String>,
    },
}

/// Events ready for a SQL store: their ids and JSON texts side by side, stored as one JSON
/// array ([`json_array_from`](Self::json_array_from)). Appends are encoded where they are made, on the executions' threads,
/// so that the one thread committing for every execution spends its time writing.
#[derive(Debug, Default)]
pub(crate) struct EncodedEvents {
    pub(crate) ids: Vec<i64>,
    pub(crate) texts: Vec<String>,
}

impl EncodedEvents {
    pub(crate) fn encode(events: &[Event]) -> Result<Self, StoreError> {
        let mut encoded = EncodedEvents {
            ids: Vec::with_capacity(events.len()),
            texts: Vec::with_capacity(events.len()),
        };
        for event in events {
            let text = serde_json::to_string(event).map_err(|error| {
                StoreError::database(
                    format!("event {} does not serialise: {error}", event.id),
                    error,
                )
            })?;
            encoded.ids.push(event.id as i64);
            encoded.texts.push(text);
        }
        Ok(encoded)
    }

    /// The events from index `skip` on, as one JSON array.
    pub(crate) fn json_array_from(&self, skip: usize) -> String {
        let texts = self.texts.get(skip..).unwrap_or_default();
        let length = texts.iter().map(|text| text.len() + 1).sum::<usize>() + 1;
        let mut array = String::with_capacity(length);
        array.push('[');
        for (index, text) in texts.iter().enumerate() {
            if index > 0 {
                array.push(',');
            }
            array.push_str(text);
        }
        array.push(']');
        array
    }
}

/// What a write did.
#[derive(Debug)]
pub(crate) enum Written {
    Done,
    Created(Created),
    Purged(usize),
    Callback(CallbackUpdate),
    Claimed(Vec<Claim>),
    Renewed(Vec<ExecutionId>),
    Requested(i64),
    Requests(Vec<ExecutionRequest>),
}

/// A database connection that commits batches of writes.
pub(crate) trait Committer: Send + 'static {
    /// Applies `batch` in one transaction; each write's outcome, every one an error if the
    /// transaction does not commit.
    fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>>;
}

/// The queue of writes of one store, and its committing connection.
#[derive(Clone)]
pub(crate) struct WriteQueue {
    shared: Arc<Shared>,
}

struct Shared {
    committer: Mutex<Box<dyn Committer>>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    writes: Vec<(Write, oneshot::Sender<Result<Written, StoreError>>)>,
    /// Whether a commit is under way (it will take what is queued).
    committing: bool,
}

impl WriteQueue {
    pub(crate) fn new(committer: impl Committer) -> Self {
        WriteQueue {
            shared: Arc::new(Shared {
                committer: Mutex::new(Box::new(committer)),
                queue: Mutex::new(Queue::default()),
            }),
        }
    }

    /// Queues `write` (in call order) and returns its outcome once it is durable. Must be
    /// called within a tokio runtime.
    pub(crate) fn write(&self, write: Write) -> StoreFuture<Written> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(write, reply);
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn send(
        &self,
        write: Write,
        reply: oneshot::Sender<Result<Written, StoreError>>,
    ) -> Result<(), StoreError> {
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.writes.push((write, reply));
        if !queue.committing {
            queue.committing = true;
            let shared = Arc::clone(&self.shared);
            let handle = tokio::runtime::Handle::try_current().map_err(|_| StoreError::Closed)?;
            drop(handle.spawn_blocking(move || shared.drain()));
        }
        Ok(())
    }
}

impl Shared {
    /// Commits what is queued, batch after batch, until the queue is empty.
    fn drain(&self) {
        loop {
            let batch = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if queue.writes.is_empty() {
                    // Decided under the queue's lock: a write queued after this starts the
                    // next commit itself.
                    queue.committing = false;
                    return;
                }
                let take = queue.writes.len().min(MAX_BATCH);
                queue.writes.drain(..take).collect::<Vec<_>>()
            };
            let (writes, replies): (Vec<Write>, Vec<_>) = batch.into_iter().unzip();
            let outcomes = self
                .committer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .commit(&writes);
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A caller that stopped waiting is no error of the store's.
                let _ = reply.send(outcome);
            }
        }
    }
}

/// The typed writes, each answered with what the store's trait method returns: what both
/// SQL stores' methods do.
impl WriteQueue {
    pub(crate) fn create(&self, execution: NewExecution) -> StoreFuture<Created> {
        then(
            self.write(Write::Create(execution)),
            |written| match written {
                Written::Created(created) => created,
                _ => Created::New,
            },
        )
    }

    pub(crate) fn append(
        &self,
        execution: &ExecutionId,
        events: Vec<Event>,
        end: Option<ExecutionEnd>,
        fence: Option<&Fence>,
    ) -> StoreFuture<()> {
        let events = match EncodedEvents::encode(&events) {
            Ok(events) => events,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let write = Write::Append {
            execution: execution.clone(),
            events,
            end,
            fence: fence.cloned(),
        };
        then(self.write(write), drop)
    }

    pub(crate) fn reopen(&self, execution: &ExecutionId, events: Vec<Event>) -> StoreFuture<()> {
        let events = match EncodedEvents::encode(&events) {
            Ok(events) => events,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let write = Write::Reopen {
            execution: execution.clone(),
            events,
        };
        then(self.write(write), drop)
    }

    pub(crate) fn purge(
        &self,
        ended_before: SystemTime,
        limit: Option<usize>,
    ) -> StoreFuture<usize> {
        let write = Write::Purge {
            before: ended_before,
            limit,
        };
        then(self.write(write), |written| match written {
            Written::Purged(count) => count,
            _ => 0,
        })
    }

    pub(crate) fn create_callback(&self, callback: NewCallback) -> StoreFuture<()> {
        then(self.write(Write::CreateCallback(callback)), drop)
    }

    pub(crate) fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate> {
        let write = Write::ChangeCallback(token_hash.to_owned(), change);
        then(self.write(write), |written| match written {
            Written::Callback(update) => update,
            _ => CallbackUpdate::Unknown,
        })
    }

    pub(crate) fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>> {
        then(self.write(Write::Claim(request)), |written| match written {
            Written::Claimed(claims) => claims,
            _ => Vec::new(),
        })
    }

    pub(crate) fn request(
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
        then(self.write(write), |written| match written {
            Written::Requested(id) => id,
            _ => 0,
        })
    }

    pub(crate) fn take_requests(
        &self,
        workflows: &[String],
        limit: usize,
    ) -> StoreFuture<Vec<ExecutionRequest>> {
        let write = Write::TakeRequests {
            workflows: workflows.to_vec(),
            limit,
        };
        then(self.write(write), |written| match written {
            Written::Requests(requests) => requests,
            _ => Vec::new(),
        })
    }

    pub(crate) fn finish_request(&self, id: i64, outcome: Result<(), String>) -> StoreFuture<()> {
        then(self.write(Write::FinishRequest { id, outcome }), drop)
    }

    pub(crate) fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()> {
        then(self.write(Write::SaveDefinition(definition)), drop)
    }

    pub(crate) fn park(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        wake_at: SystemTime,
    ) -> StoreFuture<()> {
        let write = Write::Park {
            execution: execution.clone(),
            fence: fence.clone(),
            wake_at,
        };
        then(self.write(write), drop)
    }

    pub(crate) fn renew(
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
        then(self.write(write), |written| match written {
            Written::Renewed(held) => held,
            _ => Vec::new(),
        })
    }
}

/// `future`'s outcome passed through `read`.
fn then<T: Send + 'static>(future: StoreFuture<Written>, read: fn(Written) -> T) -> StoreFuture<T> {
    Box::pin(async move { future.await.map(read) })
}

/// The trait methods that are one queued write each, for a store whose queue is
/// `self.inner.writes`: both SQL stores take them as they are. One arm per trait: `Store`,
/// `Leases`, `Callbacks`, `Requests`, `Definitions` (the reads are each store's own).
macro_rules! queued_writes {
    (Store) => {
        fn create(
            &self,
            execution: $crate::store::NewExecution,
        ) -> $crate::store::StoreFuture<$crate::store::Created> {
            self.inner.writes.create(execution)
        }

        fn append(
            &self,
            execution: &$crate::execution::ExecutionId,
            events: Vec<$crate::history::Event>,
            end: Option<$crate::store::ExecutionEnd>,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.append(execution, events, end, None)
        }

        fn reopen(
            &self,
            execution: &$crate::execution::ExecutionId,
            events: Vec<$crate::history::Event>,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.reopen(execution, events)
        }

        fn purge(&self, ended_before: std::time::SystemTime) -> $crate::store::StoreFuture<usize> {
            self.inner.writes.purge(ended_before, None)
        }

        fn purge_batch(
            &self,
            ended_before: std::time::SystemTime,
            limit: usize,
        ) -> $crate::store::StoreFuture<usize> {
            self.inner.writes.purge(ended_before, Some(limit))
        }
    };
    (Leases) => {
        fn claim(
            &self,
            request: $crate::store::ClaimRequest,
        ) -> $crate::store::StoreFuture<Vec<$crate::store::Claim>> {
            self.inner.writes.claim(request)
        }

        fn renew(
            &self,
            worker: &str,
            executions: Vec<$crate::execution::ExecutionId>,
            until: std::time::SystemTime,
        ) -> $crate::store::StoreFuture<Vec<$crate::execution::ExecutionId>> {
            self.inner.writes.renew(worker, executions, until)
        }

        fn append_fenced(
            &self,
            execution: &$crate::execution::ExecutionId,
            fence: &$crate::store::Fence,
            events: Vec<$crate::history::Event>,
            end: Option<$crate::store::ExecutionEnd>,
        ) -> $crate::store::StoreFuture<()> {
            self.inner
                .writes
                .append(execution, events, end, Some(fence))
        }

        fn park(
            &self,
            execution: &$crate::execution::ExecutionId,
            fence: &$crate::store::Fence,
            wake_at: std::time::SystemTime,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.park(execution, fence, wake_at)
        }
    };
    (Callbacks) => {
        fn create_callback(
            &self,
            callback: $crate::store::NewCallback,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.create_callback(callback)
        }

        fn change_callback(
            &self,
            token_hash: &str,
            change: $crate::store::CallbackChange,
        ) -> $crate::store::StoreFuture<$crate::store::CallbackUpdate> {
            self.inner.writes.change_callback(token_hash, change)
        }
    };
    (Requests) => {
        fn request(
            &self,
            execution: &$crate::execution::ExecutionId,
            workflow: &str,
            kind: $crate::store::RequestKind,
            at: std::time::SystemTime,
        ) -> $crate::store::StoreFuture<i64> {
            self.inner.writes.request(execution, workflow, kind, at)
        }

        fn take_requests(
            &self,
            workflows: &[String],
            limit: usize,
        ) -> $crate::store::StoreFuture<Vec<$crate::store::ExecutionRequest>> {
            self.inner.writes.take_requests(workflows, limit)
        }

        fn finish_request(
            &self,
            id: i64,
            outcome: Result<(), String>,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.finish_request(id, outcome)
        }
    };
    (Definitions) => {
        fn save_definition(
            &self,
            definition: $crate::store::StoredDefinition,
        ) -> $crate::store::StoreFuture<()> {
            self.inner.writes.save_definition(definition)
        }
    };
}
pub(crate) use queued_writes;
