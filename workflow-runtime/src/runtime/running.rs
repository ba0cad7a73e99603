//! The durable executions running in this process: each a task, registered while it runs, and
//! a signal saying how its run ended.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use futures_util::FutureExt;
use tokio::sync::watch;

use super::{Inner, Runtime};
use crate::engine::journal::Halted;
use crate::execution::ExecutionId;

/// How a run of a durable execution in this process ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunEnd {
    /// The execution ended, or its run was stopped from this process (by `stop`).
    Ended,
    /// The run halted without ending the execution (see [`Halted`]).
    Halted(Halted),
    /// The runtime shut down.
    ShutDown,
}

/// A durable execution running in this process.
pub(super) struct Running {
    pub(super) task: tokio::task::AbortHandle,
    pub(super) done: watch::Receiver<Option<RunEnd>>,
    /// Which run of the execution this is: one stopped and redriven runs again, and the end
    /// of the old run must not unregister the new one.
    run: u64,
}

/// Unregisters a run when its task ends, however it ends (finished, aborted, or unwinding),
/// and says how it ended.
struct Unregister {
    inner: Arc<Inner>,
    id: ExecutionId,
    run: u64,
    done: watch::Sender<Option<RunEnd>>,
    end: Option<RunEnd>,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        let mut running = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if running
            .get(&self.id)
            .is_some_and(|entry| entry.run == self.run)
        {
            running.remove(&self.id);
        }
        drop(running);
        let end =
            self.end
                .take()
                .unwrap_or(if self.inner.scheduler.shut_down.load(Ordering::Relaxed) {
                    RunEnd::ShutDown
                } else {
                    RunEnd::Ended
                });
        self.done.send_replace(Some(end));
    }
}

impl Runtime {
    /// Runs `work` as the background task of execution `id`, registered while it runs;
    pub(super) fn run_in_background(
        &self,
        id: ExecutionId,
        work: impl std::future::Future<Output = RunEnd> + Send + 'static,
    ) {
        let (done, watching) = watch::channel(None);
        let run = self.inner.scheduler.runs.fetch_add(1, Ordering::Relaxed);
        let unregister = Unregister {
            inner: Arc::clone(&self.inner),
            id: id.clone(),
            run,
            done,
            end: None,
        };
        // Under the lock, so the task cannot end before it is registered.
        let mut running = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // `map` keeps `work` where the task put it (an async block would hold it twice: as
        // captured, and moved into its await) and owns `unregister`, which is dropped with
        // the task, however the task ends.
        let task = tokio::spawn(work.map(move |end| {
            let mut unregister = unregister;
            unregister.end = Some(end);
        }));
        running.insert(
            id,
            Running {
                task: task.abort_handle(),
                done: watching,
                run,
            },
        );
    }

    /// How the run of execution `id` in this process ends: waits for it, if it runs here.
    pub(super) async fn run_end(&self, id: &ExecutionId) -> Option<RunEnd> {
        let mut done = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .map(|running| running.done.clone())?;
        let end = done.wait_for(Option::is_some).await.ok()?;
        end.clone()
    }

    /// The runs of durable executions in this process: each execution with its run number.
    pub(super) fn runs(&self) -> Vec<(ExecutionId, u64)> {
        self.inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(id, running)| (id.clone(), running.run))
            .collect()
    }

    /// Stops the runs `runs` (execution and run number) that are still running here, and
    /// says which executions it stopped. A later run of the same execution is not touched.
    pub(super) fn abort_runs(
        &self,
        runs: impl IntoIterator<Item = (ExecutionId, u64)>,
    ) -> Vec<ExecutionId> {
        let aborted: Vec<(ExecutionId, tokio::task::AbortHandle)> = {
            let mut running = self
                .inner
                .scheduler
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut aborted = Vec::new();
            for (id, run) in runs {
                if running.get(&id).is_some_and(|entry| entry.run == run) {
                    if let Some(entry) = running.remove(&id) {
                        aborted.push((id, entry.task));
                    }
                }
            }
            aborted
        };
        aborted
            .into_iter()
            .map(|(id, task)| {
                task.abort();
                id
            })
            .collect()
    }

    pub(super) fn is_running(&self, id: &ExecutionId) -> bool {
        self.inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(id)
    }
}
