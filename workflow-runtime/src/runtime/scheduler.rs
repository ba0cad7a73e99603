//! What runs here, and when: the state the runtime schedules executions with. Admission
//! (the Express concurrency limit), the durable executions running in this process
//! ([`running`](super::running)), the alarms of parked ones ([`alarms`](super::alarms)), and
//! the leases and claims by which this runtime owns executions ([`owner`](super::owner),
//! [`worker`](super::worker)). Every execution enters through one door,
//! [`Policy::run`](super::policy::Policy::run).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use super::admission::Admission;
use super::alarms::Alarms;
use super::owner::LeaseSettings;
use super::running::Running;
use super::Backpressure;
use crate::execution::ExecutionId;
use crate::store::Presence;

pub(super) struct Scheduler {
    /// The concurrency limit of Express executions.
    pub(super) express: ExpressLimit,
    /// Durable executions running in this process: their task, and a signal when they end.
    pub(super) running: Mutex<HashMap<ExecutionId, Running>>,
    /// Counts the runs started, to tell them apart.
    pub(super) runs: AtomicU64,
    /// Set by [`Runtime::shutdown`](super::Runtime::shutdown).
    pub(super) shut_down: AtomicBool,
    /// Set by [`Runtime::drain`](super::Runtime::drain): nothing more is started or claimed.
    pub(super) draining: AtomicBool,
    /// How this runtime owns executions: its name and leases.
    pub(super) lease: LeaseSettings,
    /// Its presence in the store, once it owns executions.
    pub(super) presence: Mutex<Option<Presence>>,
    /// Its worker loop, once [`Runtime::serve`](super::Runtime::serve) started it.
    pub(super) worker: Mutex<Option<tokio::task::AbortHandle>>,
    /// Executions parked out of memory, and the loop that resumes them.
    pub(super) alarms: Arc<Alarms>,
    pub(super) alarm_loop: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Scheduler {
    pub(super) fn new(express_limit: usize, when_full: Backpressure, lease: LeaseSettings) -> Self {
        Scheduler {
            express: ExpressLimit {
                admission: Arc::new(Admission::new(express_limit)),
                when_full,
            },
            running: Mutex::new(HashMap::new()),
            runs: AtomicU64::new(0),
            shut_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            lease,
            presence: Mutex::new(None),
            worker: Mutex::new(None),
            alarms: Arc::default(),
            alarm_loop: Mutex::new(None),
        }
    }
}

/// How many Express executions may run at once, and what a start does when that many run.
pub(super) struct ExpressLimit {
    pub(super) admission: Arc<Admission>,
    pub(super) when_full: Backpressure,
}
