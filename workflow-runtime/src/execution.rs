//! Executions: their ids, statuses, results and failures.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::history::History;
use crate::step::{States, StepError};

/// The id of an execution, unique across runtimes (a random UUID unless given a name).
///
/// Compared, hashed, ordered and serialized as its text.
#[derive(Clone)]
pub struct ExecutionId(Repr);

#[derive(Clone)]
enum Repr {
    /// An id given as text (a name, or one read back from a store).
    Text(Arc<str>),
    /// A fresh random id, a UUID written out in place: no allocation, and a copy is a copy
    /// of bytes (most synchronous Express executions never look at their id).
    Uuid([u8; uuid::fmt::Hyphenated::LENGTH]),
}

impl ExecutionId {
    /// A fresh random id: a version 4 UUID.
    pub fn random() -> Self {
        // 122 random bits from a fast generator: ids must not collide, they need not be secret.
        // `Uuid::new_v4` asks the operating system for each id: about 190 ns against 1.5 ns
        // here, measured side by side, where a whole Express execution costs about 200 ns.
        Self::from_random(fastrand::u128(..).to_le_bytes())
    }

    /// The version 4 UUID of 16 random bytes (of which 122 bits are kept).
    pub(crate) fn from_random(bytes: [u8; 16]) -> Self {
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        uuid.hyphenated().encode_lower(&mut text);
        ExecutionId(Repr::Uuid(text))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Text(text) => text,
            // Written by `encode_lower`: ASCII, so this never finds it wrong.
            Repr::Uuid(text) => std::str::from_utf8(text).unwrap_or_default(),
        }
    }
}

impl PartialEq for ExecutionId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ExecutionId {}

impl std::hash::Hash for ExecutionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for ExecutionId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ExecutionId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExecutionId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ExecutionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExecutionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ExecutionId(Repr::Text(text.into())))
    }
}

impl From<&str> for ExecutionId {
    fn from(id: &str) -> Self {
        ExecutionId(Repr::Text(id.into()))
    }
}

/// Any text is an id (one that names no execution is reported where it is looked up), so
/// `"…".parse::<ExecutionId>()` never fails: for command-line arguments and query strings.
impl std::str::FromStr for ExecutionId {
    type Err = std::convert::Infallible;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Ok(ExecutionId::from(id))
    }
}

/// Where an execution is in its life.
///
/// Written the same everywhere people and scripts read it: in JSON (serde), in `Display`,
/// in the CLI and the console, as metric labels: `running`, `succeeded`, `failed`,
/// `timed-out`, `aborted`, `unknown`. JSON written by earlier releases (`"Succeeded"`)
/// reads too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ExecutionStatus {
    /// Still running (or waiting).
    #[serde(alias = "Running")]
    Running,
    /// Ended with an output.
    #[serde(alias = "Succeeded")]
    Succeeded,
    /// Ended with an error.
    #[serde(alias = "Failed")]
    Failed,
    /// Ran longer than the workflow's timeout.
    #[serde(alias = "TimedOut")]
    TimedOut,
    /// Stopped from outside.
    #[serde(alias = "Aborted")]
    Aborted,
    /// Its stored status cannot be read (see
    /// [`ExecutionRecord::unreadable`](crate::store::ExecutionRecord::unreadable)).
    #[serde(alias = "Unknown")]
    Unknown,
}

impl ExecutionStatus {
    /// The status as written everywhere: `running`, `succeeded`, `failed`, `timed-out`,
    /// `aborted` or `unknown` (its serde name).
    pub const fn name(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "running",
            ExecutionStatus::Succeeded => "succeeded",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::TimedOut => "timed-out",
            ExecutionStatus::Aborted => "aborted",
            ExecutionStatus::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an execution failed: the state it failed in, the error name and the cause.
///
/// When a step's own error ended the execution, the typed error is kept and can be recovered
/// with [`downcast_ref`](Self::downcast_ref).
///
/// It serialises as `{"state": ..., "error": ..., "cause": ...}`; the typed error is not
/// serialised, so a failure read back has none.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionFailure(Box<Failure>);

/// What an [`ExecutionFailure`] holds, boxed: a failure is rare, while a `Result` carrying
/// one is moved through every state of every execution (as small as its output this way).
#[derive(Clone, Serialize, Deserialize)]
struct Failure {
    state: Option<String>,
    error: String,
    cause: String,
    #[serde(skip)]
    typed: Option<Arc<dyn Any + Send + Sync>>,
}

impl ExecutionFailure {
    /// A failure with a name and cause, raised in `state` (if any).
    pub fn new(state: Option<&str>, error: impl Into<String>, cause: impl Into<String>) -> Self {
        ExecutionFailure(Box::new(Failure {
            state: state.map(str::to_owned),
            error: error.into(),
            cause: cause.into(),
            typed: None,
        }))
    }

    /// A failure with a predefined `States.*` name.
    pub fn predefined(state: Option<&str>, error: States, cause: impl Into<String>) -> Self {
        Self::new(state, error.name(), cause)
    }

    /// The failure a step's own error causes, keeping the typed error.
    pub fn from_step_error<E: StepError>(state: &str, error: E) -> Self {
        ExecutionFailure(Box::new(Failure {
            state: Some(state.to_owned()),
            error: error.error_name().to_owned(),
            cause: error.cause(),
            typed: Some(Arc::new(error)),
        }))
    }

    /// The state the execution failed in; `None` when it failed before entering any state.
    pub fn state(&self) -> Option<&str> {
        self.0.state.as_deref()
    }

    /// The error name, e.g. `PaymentError.Declined` or `States.Timeout`.
    pub fn error(&self) -> &str {
        &self.0.error
    }

    /// The human-readable cause.
    pub fn cause(&self) -> &str {
        &self.0.cause
    }

    /// The step's typed error, if a step's own error of type `E` caused the failure.
    pub fn downcast_ref<E: StepError>(&self) -> Option<&E> {
        self.0.typed.as_deref()?.downcast_ref()
    }
}

impl fmt::Debug for ExecutionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionFailure")
            .field("state", &self.0.state)
            .field("error", &self.0.error)
            .field("cause", &self.0.cause)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ExecutionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.state {
            Some(state) => write!(f, "state `{state}` failed with {}", self.0.error)?,
            None => write!(f, "execution failed with {}", self.0.error)?,
        }
        if !self.0.cause.is_empty() {
            write!(f, ": {}", self.0.cause)?;
        }
        Ok(())
    }
}

impl std::error::Error for ExecutionFailure {}

impl PartialEq for ExecutionFailure {
    /// Failures are equal when state, error name and cause are; the typed error is not compared.
    fn eq(&self, other: &Self) -> bool {
        self.0.state == other.0.state
            && self.0.error == other.0.error
            && self.0.cause == other.0.cause
    }
}

/// An execution started by a task of another execution (a nested workflow), with its own
/// history. Found in the parent's [`Execution::children`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChildExecution {
    /// The child's own id.
    pub id: ExecutionId,
    /// The child's workflow.
    pub workflow: &'static str,
    /// The parent's state whose task started the child.
    pub parent_state: &'static str,
    /// The attempt of that task.
    pub attempt: u32,
    /// How the child ended.
    pub status: ExecutionStatus,
    /// The child's history.
    pub history: History,
    /// The child's own children.
    pub children: Vec<ChildExecution>,
}

/// A finished execution: its result and its history.
#[derive(Debug, Clone)]
pub struct Execution<O> {
    pub(crate) id: ExecutionId,
    pub(crate) workflow: &'static str,
    pub(crate) status: ExecutionStatus,
    pub(crate) started_at: SystemTime,
    pub(crate) stopped_at: SystemTime,
    pub(crate) result: Result<O, ExecutionFailure>,
    pub(crate) history: History,
    pub(crate) children: Vec<ChildExecution>,
}

impl<O> Execution<O> {
    /// The execution's id.
    pub fn id(&self) -> &ExecutionId {
        &self.id
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &'static str {
        self.workflow
    }

    /// When the execution started, by the runtime's clock.
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// When the execution ended, by the runtime's clock.
    pub fn stopped_at(&self) -> SystemTime {
        self.stopped_at
    }

    /// How long it ran, by the runtime's clock (virtual time under a [`VirtualClock`]).
    ///
    /// [`VirtualClock`]: crate::VirtualClock
    pub fn elapsed(&self) -> std::time::Duration {
        self.stopped_at
            .duration_since(self.started_at)
            .unwrap_or_default()
    }

    /// How the execution ended.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The output, or why there is none.
    pub fn result(&self) -> Result<&O, &ExecutionFailure> {
        self.result.as_ref()
    }

    /// The output, if the execution succeeded.
    pub fn output(&self) -> Option<&O> {
        self.result.as_ref().ok()
    }

    /// The failure, if the execution failed.
    pub fn failure(&self) -> Option<&ExecutionFailure> {
        self.result.as_ref().err()
    }

    /// The execution's history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The executions its tasks started as nested workflows, in the order they ended.
    pub fn children(&self) -> &[ChildExecution] {
        &self.children
    }

    /// The result, dropping the rest.
    pub fn into_result(self) -> Result<O, ExecutionFailure> {
        self.result
    }

    /// The result and the history.
    pub fn into_parts(self) -> (Result<O, ExecutionFailure>, History) {
        (self.result, self.history)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ExecutionId;

    #[test]
    fn a_random_id_is_a_version_4_uuid_equal_to_its_text() {
        let id = ExecutionId::random();
        let copy = id.clone();
        let text = id.as_str().to_owned();
        let parsed = uuid::Uuid::parse_str(&text).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(
            copy.as_str(),
            text,
            "a copy made before writes the same text"
        );
        assert_eq!(id, copy);
        assert_eq!(id, ExecutionId::from(text.as_str()));
        assert_eq!(ExecutionId::from(text.as_str()), copy);
        assert_ne!(id, ExecutionId::random());
        let set: HashSet<ExecutionId> = [id.clone(), ExecutionId::from(text.as_str()), copy]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 1, "equal ids hash alike, however they were made");
        assert_eq!(format!("{id:?}"), format!("ExecutionId({text:?})"));
    }

    #[test]
    fn an_id_is_serialized_as_its_text_and_read_back_equal() {
        let id = ExecutionId::random();
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, format!("\"{id}\""));
        let back: ExecutionId = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, id);
        assert_eq!(back.as_str(), id.as_str());
    }
}
