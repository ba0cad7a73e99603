//! How the SQL stores write statuses and times: shared, so both read each other's words.

use std::time::{Duration, SystemTime};

use super::{CallbackRecord, CallbackStatus, ExecutionRecord, StoreError};
use crate::execution::{ExecutionId, ExecutionStatus};

pub(crate) fn status_text(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Running => "Running",
        ExecutionStatus::Succeeded => "Succeeded",
        ExecutionStatus::Failed => "Failed",
        ExecutionStatus::TimedOut => "TimedOut",
        ExecutionStatus::Aborted => "Aborted",
        // Never written: it is what an unreadable status reads as.
        ExecutionStatus::Unknown => "Unknown",
    }
}

/// The statuses a store writes.
pub(crate) const KNOWN_STATUSES: [ExecutionStatus; 5] = [
    ExecutionStatus::Running,
    ExecutionStatus::Succeeded,
    ExecutionStatus::Failed,
    ExecutionStatus::TimedOut,
    ExecutionStatus::Aborted,
];

/// The SQL condition (after `AND`) of the executions whose stored status does not read.
pub(crate) fn unknown_status_condition() -> String {
    let known: Vec<String> = KNOWN_STATUSES
        .iter()
        .map(|status| format!("'{}'", status_text(*status)))
        .collect();
    format!(
        " AND (status IS NULL OR status NOT IN ({}))",
        known.join(", ")
    )
}

pub(crate) fn parse_status(text: &str) -> Option<ExecutionStatus> {
    KNOWN_STATUSES
        .into_iter()
        .find(|status| status_text(*status) == text)
}

/// Nanoseconds since the Unix epoch (times before it are stored as 0).
pub(crate) fn nanos(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        })
}

pub(crate) fn time(nanos: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// The columns of a stored execution, as the SQL stores keep them; `None` for a column that
/// does not read as text (NULL, or bytes that are not UTF-8).
pub(crate) struct ExecutionColumns {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) workflow: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) input: Option<String>,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    pub(crate) failed_state: Option<String>,
    pub(crate) version: Option<i64>,
    pub(crate) started_at: Option<i64>,
    pub(crate) stopped_at: Option<i64>,
    pub(crate) fingerprint: Option<String>,
}

impl ExecutionColumns {
    /// The record. Stored data that does not read is never an error here: the record says
    /// what is wrong with it ([`ExecutionRecord::unreadable`]), with what does read, so that
    /// one bad row does not hide the others.
    pub(crate) fn into_record(self) -> ExecutionRecord {
        let mut problems = Vec::new();
        let mut column = |name: &str, value: Option<String>| {
            value.unwrap_or_else(|| {
                problems.push(format!("its {name} is missing or not text"));
                String::new()
            })
        };
        let name = column("name", self.name);
        let workflow = column("workflow", self.workflow);
        let fingerprint = self.fingerprint.unwrap_or_default();
        let status_text = column("status", self.status);
        let input_text = column("input", self.input);
        let status = parse_status(&status_text).unwrap_or_else(|| {
            if !status_text.is_empty() {
                problems.push(format!("unknown status `{status_text}`"));
            }
            ExecutionStatus::Unknown
        });
        let input = serde_json::from_str(&input_text).unwrap_or_else(|error| {
            if !input_text.is_empty() {
                problems.push(format!("its input does not read as JSON: {error}"));
            }
            serde_json::Value::Null
        });
        let output = self.output.as_deref().and_then(|text| {
            serde_json::from_str(text)
                .map_err(|error| {
                    problems.push(format!("its output does not read as JSON: {error}"))
                })
                .ok()
        });
        let version = self
            .version
            .and_then(|version| u32::try_from(version).ok())
            .filter(|&version| version >= 1)
            .unwrap_or_else(|| {
                problems.push(format!(
                    "its version {} is not a whole number from 1",
                    self.version.map_or("(none)".to_owned(), |v| v.to_string())
                ));
                workflow_core::definition::FIRST_VERSION
            });
        let started_at = self.started_at.unwrap_or_else(|| {
            problems.push("its start time is missing".to_owned());
            0
        });
        ExecutionRecord {
            id: ExecutionId::from(self.id.as_str()),
            name,
            workflow,
            version,
            fingerprint,
            status,
            input,
            output,
            error: self.error,
            cause: self.cause,
            failed_state: self.failed_state,
            started_at: time(started_at),
            stopped_at: self.stopped_at.map(time),
            unreadable: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }
}

/// The columns of a stored callback.
pub(crate) struct CallbackColumns {
    pub(crate) token_hash: String,
    pub(crate) execution: String,
    pub(crate) workflow: String,
    pub(crate) state: String,
    pub(crate) event_id: i64,
    pub(crate) status: String,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    pub(crate) heartbeat_at: Option<i64>,
    pub(crate) created_at: i64,
}

impl CallbackColumns {
    /// The record, or why the stored data does not read as one.
    pub(crate) fn into_record(self) -> Result<CallbackRecord, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            execution: self.execution.clone(),
            reason,
        };
        let status = CallbackStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("unknown callback status `{}`", self.status)))?;
        let output = self
            .output
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|error| corrupt(format!("a callback's output is not JSON: {error}")))?;
        Ok(CallbackRecord {
            token_hash: self.token_hash,
            execution: ExecutionId::from(self.execution.as_str()),
            workflow: self.workflow,
            state: self.state,
            event_id: u64::try_from(self.event_id).unwrap_or_default(),
            status,
            output,
            error: self.error,
            cause: self.cause,
            heartbeat_at: self.heartbeat_at.map(time),
            created_at: time(self.created_at),
        })
    }
}

/// The columns of a recorded definition, read back.
pub(crate) struct DefinitionColumns {
    pub(crate) workflow: String,
    pub(crate) fingerprint: String,
    pub(crate) definition: String,
    pub(crate) registered_at: i64,
}

impl DefinitionColumns {
    pub(crate) fn into_definition(self) -> Result<super::StoredDefinition, StoreError> {
        let definition = serde_json::from_str(&self.definition).map_err(|error| {
            StoreError::CorruptDefinition {
                workflow: self.workflow.clone(),
                reason: error.to_string(),
            }
        })?;
        Ok(super::StoredDefinition {
            workflow: self.workflow,
            fingerprint: self.fingerprint,
            definition,
            registered_at: time(self.registered_at),
        })
    }
}

/// A definition as stored: JSON text.
pub(crate) fn definition_text(definition: &super::StoredDefinition) -> Result<String, StoreError> {
    serde_json::to_string(&definition.definition).map_err(|error| StoreError::CorruptDefinition {
        workflow: definition.workflow.clone(),
        reason: error.to_string(),
    })
}

/// Where an append's events `first..=last` meet the stored history, whose last event is
/// `stored_last` (0 for none): how many of them are stored already, to be compared with what
/// is stored, or a conflict when they do not follow it.
pub(crate) fn stored_overlap(
    execution: &str,
    first: u64,
    last: u64,
    stored_last: u64,
) -> Result<u64, StoreError> {
    if first > stored_last + 1 {
        return Err(StoreError::Conflict {
            execution: execution.to_owned(),
            reason: format!(
                "events {first} to {last} do not follow event {stored_last}, the last stored"
            ),
        });
    }
    Ok((stored_last + 1 - first).min(last + 1 - first))
}

/// Whether the stored events (as JSON) are the ones an append brings again (as JSON texts),
/// or a conflict naming them.
pub(crate) fn check_same_events(
    execution: &str,
    stored: &[serde_json::Value],
    ours: &[&str],
) -> Result<(), StoreError> {
    let same = stored.len() == ours.len()
        && stored.iter().zip(ours).all(|(stored, ours)| {
            serde_json::from_str::<serde_json::Value>(ours).is_ok_and(|ours| &ours == stored)
        });
    if same {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            execution: execution.to_owned(),
            reason: format!(
                "{} of its events are stored already, with other contents: another runtime wrote them",
                ours.len()
            ),
        })
    }
}

/// The conflict of a write that needs a running execution and found it `status` (`None`: no
/// such execution).
pub(crate) fn not_running(execution: &str, status: Option<&str>) -> StoreError {
    StoreError::Conflict {
        execution: execution.to_owned(),
        reason: match status {
            Some(status) => format!("it is not running: it has ended ({status})"),
            None => "no such execution".to_owned(),
        },
    }
}

/// Whether an execution of this stored status can be redriven.
pub(crate) fn redrivable(status: &str) -> bool {
    [
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ]
    .into_iter()
    .any(|redrivable| status_text(redrivable) == status)
}

/// The conflict of a redrive of an execution that is `status`.
pub(crate) fn not_redrivable(execution: &str, status: Option<&str>) -> StoreError {
    StoreError::Conflict {
        execution: execution.to_owned(),
        reason: match status {
            Some(status) => format!(
                "it is {status}; only failed, timed-out or aborted executions can be redriven"
            ),
            None => "no such execution".to_owned(),
        },
    }
}
