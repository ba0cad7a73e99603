//! A real store behind faults injected on command: writes refused before they reach it,
//! writes applied with their answer lost, lease renewals held before they reach it, and the
//! answers of parks held after it applied them (to line up the races between a runtime's
//! keeper and its executions).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use workflow::history::Event;
use workflow::store::{
    CallbackChange, CallbackRecord, CallbackUpdate, Callbacks, Claim, ClaimRequest, Created,
    Definitions, ExecutionEnd, ExecutionFilter, ExecutionRecord, Fence, Leases, Liveness,
    NewCallback, NewExecution, OpenVersion, Presence, Store, StoreError, StoreFuture,
    StoredDefinition,
};
use workflow::ExecutionId;

/// A real store whose writes fail on command: before they reach it, or after it applied them
/// (the answer is lost).
#[derive(Debug)]
pub(crate) struct Flaky {
    inner: Arc<dyn Store>,
    /// Writes are refused.
    pub(crate) refuse: AtomicBool,
    /// Writes are applied, and their answer is an error.
    pub(crate) lose_answers: AtomicBool,
    /// How many writes were refused or lost their answer.
    pub(crate) failed: AtomicUsize,
    /// While true, renewals wait before they reach the store.
    hold_renewals: watch::Sender<bool>,
    /// How many renewals were asked for (held or not).
    renewals: Arc<AtomicUsize>,
    /// How many claims were asked for: one per round of a runtime's keeper, after its renewal.
    claims: Arc<AtomicUsize>,
    /// While true, parks reach the store and their answers wait.
    hold_park_answers: watch::Sender<bool>,
    /// How many parks the store applied.
    parks: Arc<AtomicUsize>,
}

impl Flaky {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Flaky {
            inner,
            refuse: AtomicBool::new(false),
            lose_answers: AtomicBool::new(false),
            failed: AtomicUsize::new(0),
            hold_renewals: watch::Sender::new(false),
            renewals: Arc::default(),
            claims: Arc::default(),
            hold_park_answers: watch::Sender::new(false),
            parks: Arc::default(),
        })
    }

    /// Holds renewals from now on (`true`), or lets them through (`false`).
    pub(crate) fn hold_renewals(&self, hold: bool) {
        self.hold_renewals.send_replace(hold);
    }

    /// Holds the answers of parks from now on (`true`), or lets them through (`false`).
    pub(crate) fn hold_park_answers(&self, hold: bool) {
        self.hold_park_answers.send_replace(hold);
    }

    /// Waits until `count` renewals have been asked for, in all.
    pub(crate) async fn renewals_asked(&self, count: usize) {
        until(|| self.renewals.load(Ordering::SeqCst) >= count).await;
    }

    /// How many renewals have been asked for so far.
    pub(crate) fn renewals(&self) -> usize {
        self.renewals.load(Ordering::SeqCst)
    }

    /// How many claims have been asked for so far.
    pub(crate) fn claims(&self) -> usize {
        self.claims.load(Ordering::SeqCst)
    }

    /// Waits until `count` claims have been asked for, in all.
    pub(crate) async fn claims_asked(&self, count: usize) {
        until(|| self.claims.load(Ordering::SeqCst) >= count).await;
    }

    /// Waits until the store has applied `count` parks, in all.
    pub(crate) async fn parks_applied(&self, count: usize) {
        until(|| self.parks.load(Ordering::SeqCst) >= count).await;
    }

    /// `write` (a call on the real store, which takes the write when called), refused or with
    /// its answer lost when so told.
    fn write<T: Send + 'static>(&self, write: impl FnOnce() -> StoreFuture<T>) -> StoreFuture<T> {
        let unavailable = || StoreError::Unavailable {
            reason: "the disk is full (injected)".to_owned(),
        };
        if self.refuse.load(Ordering::SeqCst) {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Box::pin(std::future::ready(Err(unavailable())));
        }
        let write = write();
        if self.lose_answers.load(Ordering::SeqCst) {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Box::pin(async move {
                write.await?;
                Err(unavailable())
            });
        }
        write
    }
}

impl Store for Flaky {
    fn create(&self, execution: NewExecution) -> StoreFuture<Created> {
        self.write(|| self.inner.create(execution))
    }
    fn append(
        &self,
        execution: &ExecutionId,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        self.write(|| self.inner.append(execution, events, end))
    }
    fn reopen(&self, execution: &ExecutionId, events: &[Event]) -> StoreFuture<()> {
        self.write(|| self.inner.reopen(execution, events))
    }
    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        self.inner.execution(execution)
    }
    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        self.inner.history(execution, after, limit)
    }
    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        self.inner.list(filter)
    }
    fn purge(&self, ended_before: SystemTime) -> StoreFuture<usize> {
        self.write(|| self.inner.purge(ended_before))
    }
    fn purge_batch(&self, ended_before: SystemTime, limit: usize) -> StoreFuture<usize> {
        self.write(|| self.inner.purge_batch(ended_before, limit))
    }
    fn leases(&self) -> &dyn Leases {
        self
    }
    fn callbacks(&self) -> &dyn Callbacks {
        self
    }
    // No requests: a runtime on this store has none to carry out.
    fn definitions(&self) -> Option<&dyn Definitions> {
        Some(self)
    }
}

impl Leases for Flaky {
    fn open_versions(&self, workflows: &[String]) -> StoreFuture<Vec<OpenVersion>> {
        self.inner.leases().open_versions(workflows)
    }
    fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        self.write(|| self.inner.leases().claim(request))
    }
    fn renew(
        &self,
        worker: &str,
        executions: Vec<ExecutionId>,
        until: SystemTime,
    ) -> StoreFuture<Vec<ExecutionId>> {
        self.renewals.fetch_add(1, Ordering::SeqCst);
        let mut held = self.hold_renewals.subscribe();
        let inner = Arc::clone(&self.inner);
        let worker = worker.to_owned();
        let renew = move || inner.leases().renew(&worker, executions, until);
        if !*held.borrow() {
            return self.write(renew);
        }
        Box::pin(async move {
            let _ = held.wait_for(|held| !held).await;
            renew().await
        })
    }
    fn append_fenced(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        self.write(|| {
            self.inner
                .leases()
                .append_fenced(execution, fence, events, end)
        })
    }
    fn park(&self, execution: &ExecutionId, fence: &Fence, wake_at: SystemTime) -> StoreFuture<()> {
        let park = self.write(|| self.inner.leases().park(execution, fence, wake_at));
        let parks = Arc::clone(&self.parks);
        let mut held = self.hold_park_answers.subscribe();
        Box::pin(async move {
            let parked = park.await;
            parks.fetch_add(1, Ordering::SeqCst);
            let _ = held.wait_for(|held| !held).await;
            parked
        })
    }
    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        self.inner.leases().owners(workflows)
    }
    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        self.inner.leases().announce(owner)
    }
    fn liveness(&self, owner: &str) -> Liveness {
        self.inner.leases().liveness(owner)
    }
}

impl Callbacks for Flaky {
    fn create_callback(&self, callback: NewCallback) -> StoreFuture<()> {
        self.write(|| self.inner.callbacks().create_callback(callback))
    }
    fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate> {
        self.write(|| self.inner.callbacks().change_callback(token_hash, change))
    }
    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        self.inner.callbacks().callback(token_hash)
    }
    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        self.inner.callbacks().callback_of(execution, event_id)
    }
}

impl Definitions for Flaky {
    fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()> {
        match self.inner.definitions() {
            Some(inner) => self.write(|| inner.save_definition(definition)),
            None => Box::pin(std::future::ready(Ok(()))),
        }
    }
    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        match self.inner.definitions() {
            Some(inner) => inner.latest_definitions(),
            None => Box::pin(std::future::ready(Ok(Vec::new()))),
        }
    }
    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        match self.inner.definitions() {
            Some(inner) => inner.definition(workflow, fingerprint),
            None => Box::pin(std::future::ready(Ok(None))),
        }
    }
}

/// Waits, in real time, until `done` says so.
async fn until(done: impl Fn() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
