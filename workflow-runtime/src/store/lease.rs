//! Who runs an execution: the lease its owner holds, the token its writes carry, and what a
//! claim takes over. See [`Store::claim`](super::Store::claim).

use std::fmt;
use std::time::SystemTime;

use crate::execution::ExecutionId;

/// Who may advance an execution: a worker, with a token that each new claim increments, until
/// a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The worker holding it.
    pub worker: String,
    /// The lease's token: its appends carry it, and a newer claim makes it stale.
    pub token: i64,
    /// When it ends unless renewed.
    pub until: SystemTime,
}

/// What an append proves: that its worker still holds the execution's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The worker.
    pub worker: String,
    /// The token of its lease.
    pub token: i64,
}

/// Which executions [`Store::claim`] takes: running ones of `workflows`, except `skip`, that
/// are free — without an owner and not parked (or parked until before `now`, or at all with
/// `early`), or whose owner's lease ended before `now`, or whose owner is `gone`; only those
/// in `only`, when it is given; oldest first. An owner known to be alive still loses what it
/// does not renew: a lease is what says it still runs an execution.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimRequest {
    /// Who claims.
    pub worker: String,
    /// Only executions of these workflows.
    pub workflows: Vec<String>,
    /// Until when the new leases last.
    pub until: SystemTime,
    /// The time now.
    pub now: SystemTime,
    /// At most this many.
    pub limit: usize,
    /// Not these executions (the claimer runs them already).
    pub skip: Vec<ExecutionId>,
    /// Only these executions, when given.
    pub only: Option<Vec<ExecutionId>>,
    /// Owners known to be gone: their executions are taken, even if their lease still runs.
    pub gone: Vec<String>,
    /// Whether parked executions are taken before they are due (to park again with the
    /// claimer, which then wakes them).
    pub early: bool,
}

impl ClaimRequest {
    /// A claim by `worker` of up to `limit` executions of `workflows`, leased until `until`.
    pub fn new(
        worker: impl Into<String>,
        workflows: Vec<String>,
        until: SystemTime,
        now: SystemTime,
        limit: usize,
    ) -> Self {
        ClaimRequest {
            worker: worker.into(),
            workflows,
            until,
            now,
            limit,
            skip: Vec::new(),
            only: None,
            gone: Vec::new(),
            early: false,
        }
    }

    /// Whether an execution with this owner and lease end (or parking end) is free to take.
    pub(crate) fn frees(
        &self,
        id: &ExecutionId,
        owner: Option<&str>,
        until: Option<SystemTime>,
    ) -> bool {
        if self.skip.contains(id) || self.only.as_ref().is_some_and(|only| !only.contains(id)) {
            return false;
        }
        match owner {
            Some(owner) if self.gone.iter().any(|gone| gone == owner) => true,
            None if self.early => true,
            _ => until.is_none_or(|until| until <= self.now),
        }
    }
}

/// Whether an owner of executions is alive, as far as a store can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It is running.
    Alive,
    /// It has ended: its executions are free to take.
    Gone,
    /// The store cannot tell; its leases say.
    Unknown,
}

/// An owner's presence, made known by [`Store::announce`] while this is kept.
#[derive(Default)]
pub struct Presence {
    held: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Presence {
    /// A presence that holds `guard` (e.g. a locked file) until it is dropped.
    pub fn holding(guard: impl std::any::Any + Send + Sync) -> Self {
        Presence {
            held: Some(Box::new(guard)),
        }
    }
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("held", &self.held.is_some())
            .finish()
    }
}

/// An execution a worker claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The execution.
    pub id: ExecutionId,
    /// Its workflow's name.
    pub workflow: String,
    /// The token of the new lease.
    pub token: i64,
}
