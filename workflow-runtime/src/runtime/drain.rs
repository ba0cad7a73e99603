//! Shutting down gracefully: the runtime stops taking work, lets what runs here finish for a
//! while, and hands the rest over through the store, so that another runtime resumes it at
//! once rather than when its lease runs out.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::join_all;

use super::running::RunEnd;
use super::{Runtime, RuntimeError};
use crate::engine::journal::Halted;
use crate::execution::ExecutionId;

/// What a graceful shutdown ([`Runtime::drain`]) did with the executions running here.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Drained {
    /// The executions whose run ended here while draining: finished (their end is recorded),
    /// or stopped.
    pub finished: Vec<ExecutionId>,
    /// The executions that parked out of memory while draining: whichever runtime claims them
    /// when they are due resumes them.
    pub parked: Vec<ExecutionId>,
    /// The executions still running at the deadline, or whose run halted without ending (its
    /// store failing, or its lease lost to another runtime): stopped here, and the leases this
    /// runtime still holds given back, so that another runtime on the same store resumes them
    /// at once, from what is recorded.
    pub handed_over: Vec<ExecutionId>,
}

impl Runtime {
    /// Shuts the runtime down gracefully: it starts and claims nothing more (starts are
    /// refused with [`RuntimeError::ShutDown`]), lets the executions running here go on for
    /// up to `within` (their leases renewed meanwhile), then stops those that still run and
    /// gives their leases back, so that another runtime on the same store (a worker, or one
    /// that calls [`recover`](Self::recover)) resumes them at once. Ends as
    /// [`shutdown`](Self::shutdown) does. `within` counts on the runtime's clock.
    ///
    /// A task still running at the deadline is stopped as a crash would stop it: the runtime
    /// that resumes the execution fails that attempt with `States.TaskFailed` (retried if its
    /// state retries that error), never running it twice. Give `within` room for the longest
    /// task you expect to finish.
    ///
    /// It composes with a server's own graceful shutdown, e.g. axum's:
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # async fn serve(runtime: workflow::Runtime, ctrl_c: impl std::future::Future<Output = ()>) {
    /// let shutdown = async move {
    ///     ctrl_c.await; // tokio::signal::ctrl_c(), say
    ///     let drained = runtime.drain(Duration::from_secs(30)).await;
    ///     eprintln!("{} finished, {} handed over", drained.finished.len(), drained.handed_over.len());
    /// };
    /// // axum::serve(listener, app).with_graceful_shutdown(shutdown).await
    /// # shutdown.await;
    /// # }
    /// ```
    pub async fn drain(&self, within: Duration) -> Drained {
        self.inner.scheduler.draining.store(true, Ordering::SeqCst);
        let mut drained = Drained::default();
        let clock = std::sync::Arc::clone(&self.inner.clock);
        let mut deadline = clock.sleep(within);
        let mut ended: Vec<(ExecutionId, Option<RunEnd>)> = Vec::new();
        // Round by round: a start under way when draining began registers its run after it.
        loop {
            let runs = self.runs();
            if runs.is_empty() {
                break;
            }
            let ends = join_all(runs.iter().map(|(id, _)| async move {
                let end = self.run_end(id).await;
                (id.clone(), end)
            }));
            tokio::select! {
                round = ends => ended.extend(round),
                () = &mut deadline => break,
            }
        }
        // A run that halted without ending may still hold its lease (its store failing).
        let mut halted = Vec::new();
        for (id, end) in ended {
            match end {
                Some(RunEnd::Halted(Halted::Parked)) => drained.parked.push(id),
                Some(RunEnd::Halted(_) | RunEnd::ShutDown) => halted.push(id),
                Some(RunEnd::Ended) | None => drained.finished.push(id),
            }
        }
        // What still runs at the deadline is stopped here.
        halted.extend(self.abort_runs(self.runs()));
        self.hand_over(&halted).await;
        drained.handed_over = halted;
        self.shutdown();
        drained
    }

    /// Gives back the leases this runtime holds on `executions`: they run out now, so that
    /// any runtime may claim them at once.
    async fn hand_over(&self, executions: &[ExecutionId]) {
        if executions.is_empty() {
            return;
        }
        let settings = &self.inner.scheduler.lease;
        let now = self.inner.clock.now();
        let renewed = self
            .inner
            .store
            .leases()
            .renew(&settings.worker, executions.to_vec(), now)
            .await;
        if let Err(error) = renewed {
            // The leases run out by themselves: the executions are resumed a lease later.
            tracing::warn!(%error, owner = %settings.worker, "the leases of stopped executions could not be given back");
        }
    }

    /// Refuses new work once the runtime shuts down (or drains before shutting down).
    pub(super) fn accepting(&self) -> Result<(), RuntimeError> {
        let scheduler = &self.inner.scheduler;
        if scheduler.draining.load(Ordering::Relaxed) || scheduler.shut_down.load(Ordering::Relaxed)
        {
            return Err(RuntimeError::ShutDown);
        }
        Ok(())
    }
}
