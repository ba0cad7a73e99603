//! Group commit, for the SQL store: writes are queued, and whoever queues a write while no
//! commit is under way leads the next one. It takes every write waiting at that moment, hands
//! them to the database's [`Committer`], which commits them in one transaction and makes one
//! failing write fail alone (each database its own way: see the `commit.rs` of the SQLite and
//! PostgreSQL drivers), and answers each. The leader commits on its own thread when the
//! runtime is multi-threaded (a lone execution then waits for its commit and nothing else);
//! writes queued meanwhile, and every commit on a current-thread runtime, are committed on
//! tokio's blocking pool, which goes on while writes keep arriving.
//! Concurrent executions therefore share commits: throughput is not bounded by one commit per
//! transition. (Committing on the blocking pool also tells a paused tokio clock, which only a
//! current-thread runtime has, that work is under way, so virtual time does not jump ahead
//! while a write is pending.)

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use tokio::runtime::RuntimeFlavor;
use tokio::sync::oneshot;

pub(crate) use super::encoded::EncodedEvents;

use crate::execution::ExecutionId;
use crate::store::{
    CallbackChange, CallbackUpdate, Claim, ClaimRequest, Created, ExecutionEnd, ExecutionRequest,
    Fence, NewCallback, NewExecution, RequestKind, StoreError, StoreFuture, StoredDefinition,
};

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 4096;

/// How long the committing thread waits for another write once the queue is empty, before it
/// gives its thread back. An execution's next append comes soon after the previous one was
/// answered; finding it queued saves waking a thread to commit it, a good part of an append's
/// latency when executions run one at a time.
const LINGER: Duration = Duration::from_micros(200);

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
    /// The store's name, for its metrics.
    store: &'static str,
    committer: Mutex<Box<dyn Committer>>,
    /// Shared apart from the committer, so that the committing thread can watch it without
    /// keeping the store (and its connection) alive.
    queue: Arc<Mutex<Queue>>,
}

/// A queued write and where its outcome goes.
type Queued = (Write, oneshot::Sender<Result<Written, StoreError>>);

#[derive(Default)]
struct Queue {
    writes: Vec<Queued>,
    /// Whether a commit is under way (it will take what is queued).
    committing: bool,
}

impl WriteQueue {
    pub(crate) fn new(committer: impl Committer, store: &'static str) -> Self {
        WriteQueue {
            shared: Arc::new(Shared {
                store,
                committer: Mutex::new(Box::new(committer)),
                queue: Arc::new(Mutex::new(Queue::default())),
            }),
        }
    }

    /// Queues `write` (in call order) and returns its outcome once it is durable. Must be
    /// called within a tokio runtime.
    ///
    /// A write queued while no commit is under way leads the next one: on a multi-threaded
    /// runtime its future commits the queue on the thread that polls it (tokio's
    /// `block_in_place` hands that thread's other tasks to another one meanwhile), so a lone
    /// execution's append waits for its commit alone, not also for a thread to pick the write
    /// up and for its own thread to be woken with the answer. Elsewhere, and for writes queued
    /// while a commit is under way, the blocking pool commits.
    pub(crate) fn write(&self, write: Write) -> StoreFuture<Written> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(write, reply);
        Box::pin(async move {
            if let Some(lead) = sent? {
                lead.commit();
            }
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    /// Queues `write`; the commit it leads, when no commit was under way.
    fn send(
        &self,
        write: Write,
        reply: oneshot::Sender<Result<Written, StoreError>>,
    ) -> Result<Option<Lead>, StoreError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| StoreError::Closed)?;
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.writes.push((write, reply));
        if queue.committing {
            return Ok(None);
        }
        queue.committing = true;
        let shared = Arc::clone(&self.shared);
        if handle.runtime_flavor() == RuntimeFlavor::MultiThread {
            return Ok(Some(Lead {
                shared: Some(shared),
                handle,
            }));
        }
        drop(handle.spawn_blocking(move || shared.drain()));
        Ok(None)
    }
}

/// The commit a write leads: made by [`Lead::commit`] on the thread that polls the write, or,
/// if the write is dropped first, on the blocking pool, so that the writes queued behind it
/// are committed all the same.
struct Lead {
    /// `None` once committed.
    shared: Option<Arc<Shared>>,
    handle: tokio::runtime::Handle,
}

impl Lead {
    /// Commits what is queued (the leading write and any queued behind it) here; writes queued
    /// meanwhile go on committing on the blocking pool.
    fn commit(mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // `block_in_place` needs a multi-threaded runtime around the poll as well.
        let here = tokio::runtime::Handle::try_current()
            .is_ok_and(|current| current.runtime_flavor() == RuntimeFlavor::MultiThread);
        if !here {
            drop(self.handle.spawn_blocking(move || shared.drain()));
            return;
        }
        let answers = match shared.take_batch() {
            Some(batch) => tokio::task::block_in_place(|| shared.commit(batch)),
            None => Answers::new(),
        };
        let ended = shared.end_commit();
        answer(answers);
        if !ended {
            drop(self.handle.spawn_blocking(move || shared.drain()));
        }
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            drop(self.handle.spawn_blocking(move || shared.drain()));
        }
    }
}

impl Shared {
    /// Commits what is queued, batch after batch, until the queue has stayed empty for
    /// [`LINGER`]. The last batch's answers go out, and the wait for more happens, without a
    /// hold on the store: a caller that drops the store's last handle on its answer closes
    /// the database there and then, not later on this thread.
    fn drain(self: Arc<Self>) {
        let queue = Arc::clone(&self.queue);
        let mut shared = self;
        loop {
            let answers = match shared.take_batch() {
                Some(batch) => shared.commit(batch),
                None => Answers::new(),
            };
            if !answers.is_empty() && !shared.queue_is_empty() {
                answer(answers);
                continue;
            }
            let waiting = Arc::downgrade(&shared);
            drop(shared);
            answer(answers);
            match linger(&queue, &waiting) {
                Some(again) => shared = again,
                None => return,
            }
        }
    }

    /// The writes to commit next, if any are queued.
    fn take_batch(&self) -> Option<Vec<Queued>> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let take = queue.writes.len().min(MAX_BATCH);
        if take > 0 {
            crate::metrics::commit_queue(self.store, queue.writes.len(), take);
        }
        (take > 0).then(|| queue.writes.drain(..take).collect())
    }

    /// Ends the commit under way if nothing is queued: whether it did. A write queued after
    /// this starts the next commit itself.
    fn end_commit(&self) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.committing = !queue.writes.is_empty();
        !queue.committing
    }

    fn queue_is_empty(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .writes
            .is_empty()
    }

    /// Commits `batch` in one transaction: each write's outcome, beside where it goes.
    fn commit(&self, batch: Vec<Queued>) -> Answers {
        let (writes, replies): (Vec<Write>, Vec<_>) = batch.into_iter().unzip();
        let outcomes = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .commit(&writes);
        replies.into_iter().zip(outcomes).collect()
    }
}

/// The outcomes of a batch's writes, beside where each goes.
type Answers = Vec<(
    oneshot::Sender<Result<Written, StoreError>>,
    Result<Written, StoreError>,
)>;

fn answer(answers: Answers) {
    for (reply, outcome) in answers {
        // A caller that stopped waiting is no error of the store's.
        let _ = reply.send(outcome);
    }
}

/// Waits up to [`LINGER`] for a write to be queued in `queue`: the store `waiting` for it, to
/// commit it; `None` if the store was dropped (the writes left queued then fail as closed),
/// or if nothing came, in which case the queue is left for the next write to start a commit.
fn linger(queue: &Mutex<Queue>, waiting: &Weak<Shared>) -> Option<Arc<Shared>> {
    let began = Instant::now();
    loop {
        {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            if !queue.writes.is_empty() {
                drop(queue);
                return waiting.upgrade();
            }
            if began.elapsed() >= LINGER {
                // Decided under the queue's lock: a write queued after this starts the next
                // commit itself.
                queue.committing = false;
                return None;
            }
        }
        // Whatever else is ready to run on this core goes first.
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::thread::ThreadId;
    use std::time::{Duration, SystemTime};

    use super::{Committer, Write, WriteQueue, Written};
    use crate::store::StoreError;

    /// Answers every write, noting the thread of each commit.
    #[derive(Clone, Default)]
    struct Threads(Arc<Mutex<Vec<ThreadId>>>);

    impl Committer for Threads {
        fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
            self.0.lock().unwrap().push(std::thread::current().id());
            batch.iter().map(|_| Ok(Written::Done)).collect()
        }
    }

    impl Threads {
        fn seen(&self) -> Vec<ThreadId> {
            self.0.lock().unwrap().clone()
        }
    }

    fn purge() -> Write {
        Write::Purge {
            before: SystemTime::UNIX_EPOCH,
            limit: None,
        }
    }

    #[test]
    fn a_lone_write_commits_on_the_thread_that_polls_it() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let threads = Threads::default();
        let queue = WriteQueue::new(threads.clone(), "test");
        let polled_on = runtime.block_on(async move {
            tokio::spawn(async move {
                let here = std::thread::current().id();
                queue.write(purge()).await.unwrap();
                queue.write(purge()).await.unwrap();
                here
            })
            .await
            .unwrap()
        });
        assert_eq!(threads.seen(), vec![polled_on, polled_on]);
    }

    #[test]
    fn a_leading_write_dropped_unpolled_is_committed_and_the_queue_goes_on() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let threads = Threads::default();
        let queue = WriteQueue::new(threads.clone(), "test");
        runtime.block_on(async move {
            drop(queue.write(purge()));
            let next = tokio::time::timeout(Duration::from_secs(10), queue.write(purge()));
            next.await.expect("the write after a dropped one").unwrap();
        });
        let commits = threads.seen().len();
        assert!((1..=2).contains(&commits), "{commits} commits");
    }

    #[test]
    fn without_a_multi_threaded_runtime_the_blocking_pool_commits() {
        let threads = Threads::default();
        let queue = WriteQueue::new(threads.clone(), "test");
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let local = Arc::new(queue);
        let in_current = Arc::clone(&local);
        current.block_on(async move { in_current.write(purge()).await.unwrap() });
        // A `LocalSet` on a multi-threaded runtime's `block_on`, where blocking is allowed,
        // and on the current-thread runtime, where it is not.
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let in_multi = Arc::clone(&local);
        tokio::task::LocalSet::new().block_on(&multi, async move {
            in_multi.write(purge()).await.unwrap()
        });
        tokio::task::LocalSet::new()
            .block_on(&current, async move { local.write(purge()).await.unwrap() });
        let main = std::thread::current().id();
        let seen = threads.seen();
        assert_eq!(seen.len(), 3);
        assert_ne!(seen[0], main);
        assert_ne!(seen[2], main);
    }
}
