//! Executions a runtime parked out of memory during a long wait, and the loop that resumes
//! them from the store when they are due ([`RuntimeBuilder::park_after`]). A parked execution
//! costs an entry here (its id and when it is due) instead of its task, its recorded history
//! and its state's future; resuming it replays its history, as after a restart.
//!
//! [`RuntimeBuilder::park_after`]: super::RuntimeBuilder::park_after

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::SystemTime;

use tokio::sync::Notify;

use super::{Inner, Runtime};
use crate::execution::ExecutionId;

/// When each parked execution is due: one alarm per execution.
#[derive(Debug, Default)]
pub(crate) struct Alarms {
    due: Mutex<Due>,
    /// Told when an alarm is set, so the loop can sleep less.
    set: Notify,
}

#[derive(Debug, Default)]
struct Due {
    by_time: BTreeSet<(SystemTime, ExecutionId)>,
    by_execution: HashMap<ExecutionId, SystemTime>,
}

impl crate::engine::journal::Alarms for Alarms {
    /// An execution resumed early (by [`Runtime::recover`] or a redrive) parks again: its
    /// new alarm replaces the earlier one.
    fn set(&self, at: SystemTime, id: ExecutionId) {
        Alarms::set(self, at, id);
    }

    fn remove(&self, id: &ExecutionId) {
        Alarms::remove(self, id);
    }
}

impl Alarms {
    /// Wakes execution `id` at `at`, instead of when an earlier alarm said (an execution
    /// resumed early, by [`Runtime::recover`] or a redrive, parks again).
    pub(crate) fn set(&self, at: SystemTime, id: ExecutionId) {
        let mut due = self.lock();
        if let Some(earlier) = due.by_execution.insert(id.clone(), at) {
            due.by_time.remove(&(earlier, id.clone()));
        }
        due.by_time.insert((at, id));
        drop(due);
        self.set.notify_one();
    }

    /// Forgets the alarm of execution `id` (it was stopped), if it has one.
    pub(crate) fn remove(&self, id: &ExecutionId) {
        let mut due = self.lock();
        if let Some(at) = due.by_execution.remove(id) {
            due.by_time.remove(&(at, id.clone()));
        }
    }

    /// How many executions are parked.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_execution.len()
    }

    /// Forgets every alarm (the runtime shut down: [`Runtime::recover`] resumes the parked
    /// executions from the store, like any other).
    pub(super) fn clear(&self) {
        let mut due = self.lock();
        due.by_time.clear();
        due.by_execution.clear();
    }

    fn take_due(&self, now: SystemTime) -> Vec<ExecutionId> {
        let mut due = self.lock();
        let mut taken = Vec::new();
        while let Some((at, _)) = due.by_time.first() {
            if *at > now {
                break;
            }
            if let Some((_, id)) = due.by_time.pop_first() {
                due.by_execution.remove(&id);
                taken.push(id);
            }
        }
        taken
    }

    fn next(&self) -> Option<SystemTime> {
        self.lock().by_time.first().map(|(at, _)| *at)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Due> {
        self.due.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Runtime {
    /// Starts the loop that resumes parked executions, unless it runs already. Must be called
    /// within a tokio runtime.
    pub(super) fn ensure_alarm_loop(&self) {
        let mut running = self
            .inner
            .scheduler
            .alarm_loop
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if running.is_some() {
            return;
        }
        // Weak: the loop must not keep a runtime its owner dropped alive.
        let inner = Arc::downgrade(&self.inner);
        let alarms = Arc::clone(&self.inner.scheduler.alarms);
        let clock = Arc::clone(&self.inner.clock);
        let task = tokio::spawn(async move {
            loop {
                // Registered before looking, so an alarm set meanwhile is not missed.
                let set = alarms.set.notified();
                tokio::pin!(set);
                set.as_mut().enable();
                let due = alarms.take_due(clock.now());
                if !due.is_empty() {
                    let Some(runtime) = upgrade(&inner) else {
                        return;
                    };
                    for id in due {
                        runtime.wake(&id).await;
                    }
                    continue;
                }
                match alarms.next() {
                    Some(at) => {
                        let left = at.duration_since(clock.now()).unwrap_or_default();
                        tokio::select! {
                            () = clock.sleep(left) => {}
                            () = &mut set => {}
                        }
                    }
                    None => set.await,
                }
            }
        });
        *running = Some(task.abort_handle());
    }

    /// Claims a parked execution back from the store and resumes it, unless it ended
    /// meanwhile (stopped by a tool or another runtime) or another runtime took it.
    async fn wake(&self, id: &ExecutionId) {
        if self.is_running(id) {
            return;
        }
        if let Err(error) = self.claim(Some(vec![id.clone()]), false).await {
            // The store is unreachable for now: try again shortly rather than lose it.
            tracing::warn!(execution = %id, %error, "a parked execution could not be resumed; retrying");
            let retry = self.inner.clock.now() + std::time::Duration::from_secs(1);
            self.inner.scheduler.alarms.set(retry, id.clone());
        }
    }
}

fn upgrade(inner: &Weak<Inner>) -> Option<Runtime> {
    inner.upgrade().map(|inner| Runtime { inner })
}
