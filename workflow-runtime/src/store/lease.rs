//! The leases capability: who runs an execution, the lease its owner holds, the token its
//! writes carry, and what a claim takes over. See [`Leases`].

use std::fmt;
use std::time::SystemTime;

use super::{ExecutionEnd, StoreError, StoreFuture};
use crate::execution::ExecutionId;
use crate::history::Event;

/// Leases on running executions: which worker runs each, found through
/// [`Store::leases`](super::Store::leases).
///
/// Every store has them. A durable execution runs only under its lease, and every write of
/// the run is fenced by it ([`append_fenced`](Self::append_fenced)): so two runtimes sharing
/// a store never advance the same execution, and one that lost an execution can write nothing
/// more to it. A store that could not check a fence could not run durable executions safely,
/// so there is no store without leases (a store in one process checks them as cheaply).
pub trait Leases: Send + Sync {
    /// Gives `request.worker` the leases of up to `request.limit` running executions that no
    /// live owner holds (see [`ClaimRequest`]), until `request.until`, each with a new token;
    /// two workers claiming at once never get the same execution.
    fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>>;

    /// Extends `worker`'s leases of `executions` (those it is running) to `until`; those of
    /// them it still holds. A lease not renewed runs out, and the execution can be claimed.
    fn renew(
        &self,
        worker: &str,
        executions: Vec<ExecutionId>,
        until: SystemTime,
    ) -> StoreFuture<Vec<ExecutionId>>;

    /// Like [`Store::append`](super::Store::append), only if `fence` still holds the
    /// execution's lease (its worker and token are the stored ones), checked in the same
    /// transaction; otherwise [`StoreError::LeaseLost`] and nothing is written.
    fn append_fenced(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()>;

    /// Gives up the lease `fence` holds on `execution` until `wake_at`: no worker claims it
    /// before then (it waits on a timer), any may after. [`StoreError::LeaseLost`] if the
    /// lease is no longer held.
    fn park(&self, execution: &ExecutionId, fence: &Fence, wake_at: SystemTime) -> StoreFuture<()>;

    /// The owners of running executions of `workflows` (who holds their leases).
    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>>;

    /// How many running executions each version of `workflows` has, by workflow and version:
    /// what a worker needs to know which versions it must keep (see [`OpenVersion`]).
    fn open_versions(&self, workflows: &[String]) -> StoreFuture<Vec<OpenVersion>>;

    /// Makes `owner`'s presence known to other processes for as long as the returned
    /// [`Presence`] is kept, where the store can (a lock the operating system releases when
    /// the process ends, however it ends): see [`liveness`](Self::liveness). By default
    /// nothing is made known, and leases alone say who is alive.
    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        let _ = owner;
        Ok(Presence::default())
    }

    /// Whether `owner` is known to be alive or gone, where the store can tell (its presence,
    /// [`announce`](Self::announce)d in another process); a lease that runs out says it
    /// otherwise. [`Liveness::Unknown`] by default.
    fn liveness(&self, owner: &str) -> Liveness {
        let _ = owner;
        Liveness::Unknown
    }
}

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

/// Which executions [`Leases::claim`] takes: running ones of `workflows`, except `skip`, that
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
    /// Only executions of these versions of their workflows (name and version); of every
    /// version of `workflows` when empty. A worker claims only what its code can run.
    pub versions: Vec<(String, u32)>,
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

/// The running executions of one version of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVersion {
    /// The workflow's name.
    pub workflow: String,
    /// The version.
    pub version: u32,
    /// How many of its executions are running (parked ones included).
    pub executions: u64,
}

impl ClaimRequest {
    /// Whether an execution of version `version` of `workflow` may be claimed (its workflow
    /// being one of `workflows`).
    pub fn takes_version(&self, workflow: &str, version: u32) -> bool {
        self.versions.is_empty()
            || self
                .versions
                .iter()
                .any(|(name, known)| name == workflow && *known == version)
    }

    /// `versions` as the SQL stores match them: `name@version`, which `workflow || '@' ||
    /// version` gives for a row (the version has no `@`, so the pair reads back one way).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn version_keys(&self) -> Vec<String> {
        self.versions
            .iter()
            .map(|(name, version)| format!("{name}@{version}"))
            .collect()
    }

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
            versions: Vec::new(),
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

/// An owner's presence, made known by [`Leases::announce`] while this is kept.
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
