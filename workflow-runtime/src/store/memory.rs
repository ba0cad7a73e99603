//! A store in memory: for tests, and for runtimes that need no durability.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::encoding::{not_redrivable, not_running, status_text, stored_overlap};
use super::{
    CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, Callbacks, Claim, ClaimRequest,
    Created, Definitions, ExecutionEnd, ExecutionFilter, ExecutionRecord, Fence, Leases, Liveness,
    NewCallback, NewExecution, Store, StoreError, StoreFuture, StoredDefinition,
};
use super::{ExecutionRequest, OpenVersion, RequestKind, RequestStatus, Requests};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::Event;

/// Executions and histories in memory; gone when the last clone is dropped.
///
/// Clones share the same data, so a test can "restart" a runtime on the same store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
}

#[derive(Debug, Default)]
struct Data {
    records: HashMap<ExecutionId, ExecutionRecord>,
    histories: HashMap<ExecutionId, Vec<Event>>,
    /// Callbacks by token hash.
    callbacks: HashMap<String, CallbackRecord>,
    /// Leases of running executions: worker, token, until.
    leases: HashMap<ExecutionId, (Option<String>, i64, Option<std::time::SystemTime>)>,
    /// Recorded definitions by workflow and fingerprint.
    definitions: HashMap<(String, String), StoredDefinition>,
    /// Requests, oldest first (ids count from 1).
    requests: Vec<ExecutionRequest>,
    /// Executions by workflow and name, so that a start need not scan them all.
    names: HashMap<(String, String), ExecutionId>,
}

impl Data {
    /// An append, on the same conditions as the SQL stores' (see [`Store::append`]).
    fn append(
        &mut self,
        execution: &ExecutionId,
        fence: Option<&Fence>,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> Result<(), StoreError> {
        let events = match self.new_events(execution, events)? {
            // An earlier try of this write was applied.
            None => return Ok(()),
            Some(events) => events,
        };
        let status = self.records.get(execution).map(|record| record.status);
        if let Some(fence) = fence {
            let holds = status == Some(ExecutionStatus::Running)
                && matches!(
                    self.leases.get(execution),
                    Some((Some(owner), token, _)) if *owner == fence.worker && *token == fence.token
                );
            if !holds {
                return Err(StoreError::LeaseLost {
                    execution: execution.to_string(),
                });
            }
        }
        let Some(record) = self
            .records
            .get_mut(execution)
            .filter(|record| record.status == ExecutionStatus::Running)
        else {
            return Err(not_running(execution.as_str(), status.map(status_text)));
        };
        if let Some(end) = end {
            record.status = end.status;
            record.output = end.output;
            record.error = end.error;
            record.cause = end.cause;
            record.failed_state = end.failed_state;
            record.stopped_at = Some(end.stopped_at);
        }
        self.histories
            .entry(execution.clone())
            .or_default()
            .extend(events);
        Ok(())
    }

    /// The events of an append that are not stored yet (`None`: every one is, exactly so),
    /// or a conflict if they do not follow the stored history.
    fn new_events(
        &self,
        execution: &ExecutionId,
        events: &[Event],
    ) -> Result<Option<Vec<Event>>, StoreError> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(Some(Vec::new()));
        };
        let stored = self.histories.get(execution).map_or(&[][..], Vec::as_slice);
        let stored_last = stored.last().map_or(0, |event| event.id);
        let overlap = stored_overlap(execution.as_str(), first.id, last.id, stored_last)?;
        if overlap == 0 {
            return Ok(Some(events.to_vec()));
        }
        let skip = usize::try_from(overlap).unwrap_or(usize::MAX);
        let from = stored.partition_point(|event| event.id < first.id);
        let again = stored
            .get(from..from + skip)
            .is_some_and(|stored| stored == &events[..skip]);
        if !again {
            return Err(StoreError::Conflict {
                execution: execution.to_string(),
                reason: format!(
                    "{skip} of its events are stored already, with other contents: another runtime wrote them"
                ),
            });
        }
        if skip == events.len() {
            return Ok(None);
        }
        Ok(Some(events[skip..].to_vec()))
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Data) -> T) -> T {
        f(&mut self.data.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn ready<T: Send + 'static>(value: Result<T, StoreError>) -> StoreFuture<T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn create(&self, execution: NewExecution) -> StoreFuture<Created> {
        ready(Ok(self.with(|data| {
            let key = (execution.workflow.clone(), execution.name.clone());
            if let Some(existing) = data.names.get(&key).and_then(|id| data.records.get(id)) {
                return Created::Existing(Box::new(existing.clone()));
            }
            data.names.insert(key, execution.id.clone());
            data.records.insert(
                execution.id.clone(),
                ExecutionRecord {
                    id: execution.id.clone(),
                    name: execution.name,
                    workflow: execution.workflow,
                    version: execution.version,
                    fingerprint: execution.fingerprint,
                    status: ExecutionStatus::Running,
                    input: execution.input,
                    output: None,
                    error: None,
                    cause: None,
                    failed_state: None,
                    started_at: execution.started_at,
                    stopped_at: None,
                    unreadable: None,
                },
            );
            let lease = execution.lease.map_or((None, 0, None), |lease| {
                (Some(lease.worker), lease.token, Some(lease.until))
            });
            data.leases.insert(execution.id.clone(), lease);
            data.histories.insert(execution.id, execution.events);
            Created::New
        })))
    }

    fn append(
        &self,
        execution: &ExecutionId,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        ready(self.with(|data| data.append(execution, None, events, end)))
    }

    fn reopen(&self, execution: &ExecutionId, events: &[Event]) -> StoreFuture<()> {
        ready(self.with(|data| {
            let status = data.records.get(execution).map(|record| record.status);
            let redrivable = matches!(
                status,
                Some(
                    ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted
                )
            );
            let events = match data.new_events(execution, events)? {
                // An earlier try of this write was applied.
                None => return Ok(()),
                Some(events) => events,
            };
            if !redrivable {
                return Err(not_redrivable(execution.as_str(), status.map(status_text)));
            }
            let Some(record) = data.records.get_mut(execution) else {
                return Err(not_redrivable(execution.as_str(), None));
            };
            record.status = ExecutionStatus::Running;
            record.output = None;
            record.error = None;
            record.cause = None;
            record.failed_state = None;
            record.stopped_at = None;
            // Reopened without an owner: any worker may claim it.
            if let Some(lease) = data.leases.get_mut(execution) {
                lease.0 = None;
                lease.2 = None;
            }
            data.histories
                .entry(execution.clone())
                .or_default()
                .extend(events);
            Ok(())
        }))
    }

    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        ready(Ok(self.with(|data| data.records.get(execution).cloned())))
    }

    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        ready(Ok(self.with(|data| {
            data.histories
                .get(execution)
                .map(|events| {
                    events
                        .iter()
                        .filter(|event| event.id > after)
                        .take(limit)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })))
    }

    fn purge_batch(&self, ended_before: std::time::SystemTime, limit: usize) -> StoreFuture<usize> {
        ready(Ok(self.with(|data| {
            let expired: Vec<ExecutionId> = data
                .records
                .values()
                .filter(|record| {
                    record
                        .stopped_at
                        .is_some_and(|stopped| stopped < ended_before)
                })
                .map(|record| record.id.clone())
                .take(limit)
                .collect();
            for id in &expired {
                if let Some(record) = data.records.remove(id) {
                    data.names.remove(&(record.workflow, record.name));
                }
                data.histories.remove(id);
            }
            data.callbacks.retain(|_, callback| {
                callback.status == CallbackStatus::Pending || callback.created_at >= ended_before
            });
            expired.len()
        })))
    }

    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        ready(Ok(self.with(|data| {
            let mut records: Vec<ExecutionRecord> = data
                .records
                .values()
                .filter(|record| filter.matches(record))
                .cloned()
                .collect();
            records.sort_by(|a, b| {
                b.started_at
                    .cmp(&a.started_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            records.truncate(filter.limit.unwrap_or(usize::MAX));
            records
        })))
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

impl Leases for MemoryStore {
    fn claim(&self, request: ClaimRequest) -> StoreFuture<Vec<Claim>> {
        ready(Ok(self.with(|data| {
            let mut free: Vec<&ExecutionRecord> = data
                .records
                .values()
                .filter(|record| record.status == ExecutionStatus::Running)
                .filter(|record| request.workflows.contains(&record.workflow))
                .filter(|record| request.takes_version(&record.workflow, record.version))
                .filter(|record| {
                    let (owner, until) = data
                        .leases
                        .get(&record.id)
                        .map_or((None, None), |lease| (lease.0.as_deref(), lease.2));
                    request.frees(&record.id, owner, until)
                })
                .collect();
            free.sort_by_key(|record| record.started_at);
            let chosen: Vec<(ExecutionId, String)> = free
                .into_iter()
                .take(request.limit)
                .map(|record| (record.id.clone(), record.workflow.clone()))
                .collect();
            chosen
                .into_iter()
                .map(|(id, workflow)| {
                    let lease = data.leases.entry(id.clone()).or_insert((None, 0, None));
                    *lease = (
                        Some(request.worker.clone()),
                        lease.1 + 1,
                        Some(request.until),
                    );
                    Claim {
                        token: lease.1,
                        id,
                        workflow,
                    }
                })
                .collect()
        })))
    }

    fn renew(
        &self,
        worker: &str,
        executions: Vec<ExecutionId>,
        until: std::time::SystemTime,
    ) -> StoreFuture<Vec<ExecutionId>> {
        ready(Ok(self.with(|data| {
            let running: Vec<ExecutionId> = executions
                .into_iter()
                .filter(|id| {
                    data.records
                        .get(id)
                        .is_some_and(|record| record.status == ExecutionStatus::Running)
                })
                .collect();
            running
                .into_iter()
                .filter(|id| match data.leases.get_mut(id) {
                    Some((Some(owner), _, ends)) if owner == worker => {
                        *ends = Some(until);
                        true
                    }
                    _ => false,
                })
                .collect()
        })))
    }

    fn append_fenced(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        events: &[Event],
        end: Option<ExecutionEnd>,
    ) -> StoreFuture<()> {
        ready(self.with(|data| data.append(execution, Some(fence), events, end)))
    }

    fn park(
        &self,
        execution: &ExecutionId,
        fence: &Fence,
        wake_at: std::time::SystemTime,
    ) -> StoreFuture<()> {
        ready(self.with(|data| match data.leases.get_mut(execution) {
            Some(lease)
                if lease.0.as_deref() == Some(fence.worker.as_str()) && lease.1 == fence.token =>
            {
                *lease = (None, lease.1, Some(wake_at));
                Ok(())
            }
            _ => Err(StoreError::LeaseLost {
                execution: execution.to_string(),
            }),
        }))
    }

    fn open_versions(&self, workflows: &[String]) -> StoreFuture<Vec<OpenVersion>> {
        ready(Ok(self.with(|data| {
            let mut counts: std::collections::BTreeMap<(String, u32), u64> =
                std::collections::BTreeMap::new();
            for record in data.records.values() {
                if record.status == ExecutionStatus::Running && workflows.contains(&record.workflow)
                {
                    *counts
                        .entry((record.workflow.clone(), record.version))
                        .or_default() += 1;
                }
            }
            counts
                .into_iter()
                .map(|((workflow, version), executions)| OpenVersion {
                    workflow,
                    version,
                    executions,
                })
                .collect()
        })))
    }

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        ready(Ok(self.with(|data| {
            let mut owners: Vec<String> = data
                .records
                .values()
                .filter(|record| {
                    record.status == ExecutionStatus::Running
                        && workflows.contains(&record.workflow)
                })
                .filter_map(|record| data.leases.get(&record.id)?.0.clone())
                .collect();
            owners.sort_unstable();
            owners.dedup();
            owners
        })))
    }

    /// A memory store lives in one process, whose runtimes are known to be alive or gone
    /// before the store is asked: an owner they do not know is gone.
    fn liveness(&self, _owner: &str) -> Liveness {
        Liveness::Gone
    }
}

impl Callbacks for MemoryStore {
    fn create_callback(&self, callback: NewCallback) -> StoreFuture<()> {
        ready(self.with(|data| {
            if data.callbacks.contains_key(&callback.token_hash) {
                return Err(StoreError::failed(
                    "a callback with this token exists already",
                ));
            }
            data.callbacks
                .insert(callback.token_hash.clone(), CallbackRecord::new(callback));
            Ok(())
        }))
    }

    fn change_callback(
        &self,
        token_hash: &str,
        change: CallbackChange,
    ) -> StoreFuture<CallbackUpdate> {
        ready(Ok(self.with(|data| {
            match data.callbacks.get_mut(token_hash) {
                Some(callback) => callback.apply(&change),
                None => CallbackUpdate::Unknown,
            }
        })))
    }

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        ready(Ok(self.with(|data| data.callbacks.get(token_hash).cloned())))
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        ready(Ok(self.with(|data| {
            data.callbacks
                .values()
                .find(|callback| &callback.execution == execution && callback.event_id == event_id)
                .cloned()
        })))
    }
}

impl Requests for MemoryStore {
    fn request(
        &self,
        execution: &ExecutionId,
        workflow: &str,
        kind: RequestKind,
        at: std::time::SystemTime,
    ) -> StoreFuture<i64> {
        ready(Ok(self.with(|data| {
            let id = data.requests.len() as i64 + 1;
            data.requests.push(ExecutionRequest {
                id,
                execution: execution.clone(),
                workflow: workflow.to_owned(),
                kind,
                requested_at: at,
                status: RequestStatus::Pending,
            });
            id
        })))
    }

    fn take_requests(
        &self,
        workflows: &[String],
        limit: usize,
    ) -> StoreFuture<Vec<ExecutionRequest>> {
        ready(Ok(self.with(|data| {
            data.requests
                .iter_mut()
                .filter(|request| {
                    request.status == RequestStatus::Pending
                        && workflows.contains(&request.workflow)
                })
                .take(limit)
                .map(|request| {
                    request.status = RequestStatus::Taken;
                    request.clone()
                })
                .collect()
        })))
    }

    fn finish_request(&self, id: i64, outcome: Result<(), String>) -> StoreFuture<()> {
        self.with(|data| {
            if let Some(request) = data.requests.iter_mut().find(|request| request.id == id) {
                request.status = match outcome {
                    Ok(()) => RequestStatus::Done,
                    Err(why) => RequestStatus::Failed(why),
                };
            }
        });
        ready(Ok(()))
    }

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        ready(Ok(self.with(|data| {
            data.requests
                .iter()
                .find(|request| request.id == id)
                .cloned()
        })))
    }
}

impl Definitions for MemoryStore {
    fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()> {
        self.with(|data| {
            let key = (definition.workflow.clone(), definition.fingerprint.clone());
            data.definitions.insert(key, definition);
        });
        ready(Ok(()))
    }

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        ready(Ok(self.with(|data| {
            let mut latest: HashMap<&str, &StoredDefinition> = HashMap::new();
            for definition in data.definitions.values() {
                let entry = latest.entry(&definition.workflow).or_insert(definition);
                if definition.registered_at > entry.registered_at {
                    *entry = definition;
                }
            }
            let mut definitions: Vec<StoredDefinition> = latest.into_values().cloned().collect();
            definitions.sort_by(|a, b| a.workflow.cmp(&b.workflow));
            definitions
        })))
    }

    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let key = (workflow.to_owned(), fingerprint.to_owned());
        ready(Ok(self.with(|data| data.definitions.get(&key).cloned())))
    }
}
