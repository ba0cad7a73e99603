//! The JSON an ASL export writes: the machine, its states and their fields, serialised with
//! Step Functions' names.

use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

use super::Asl;
use crate::definition::{Definition, StateId};
use crate::retry::{Jitter, Retrier};

/// Whole seconds, rounded up, at least 1.
pub(super) fn seconds(duration: Duration) -> u64 {
    let whole = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    whole.max(1)
}

pub(super) fn join(lines: Vec<String>) -> Option<String> {
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub(super) fn retriers(retry: &[Retrier]) -> Option<Vec<AslRetrier>> {
    (!retry.is_empty()).then(|| {
        retry
            .iter()
            .map(|retrier| AslRetrier {
                error_equals: retrier.errors.clone(),
                interval_seconds: seconds(retrier.interval),
                max_attempts: retrier.max_attempts,
                backoff_rate: retrier.backoff_rate,
                max_delay_seconds: retrier.max_delay.map(seconds),
                jitter_strategy: (retrier.jitter == Jitter::Full).then_some("FULL"),
            })
            .collect()
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Machine<'d> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) comment: Option<String>,
    pub(super) start_at: &'d str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timeout_seconds: Option<Value>,
    pub(super) states: States<'d>,
}

/// A Parallel branch or a Map item processor.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SubMachine<'d> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) processor_config: Option<serde_json::Value>,
    pub(super) start_at: &'d str,
    pub(super) states: States<'d>,
}

/// The `States` object: state names to states, in declaration order.
pub(super) struct States<'d> {
    pub(super) exporter: &'d Asl,
    pub(super) definition: &'d Definition,
    pub(super) ids: Vec<StateId>,
    /// How deeply nested in branches; branches nest no deeper than there are states unless
    /// the data is corrupt, where the export stops rather than recursing for ever.
    pub(super) depth: usize,
    /// Inside a JSONata state: each state says it is JSONPath, not to take its parent's.
    pub(super) within_jsonata: bool,
}

impl Serialize for States<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ids: &[StateId] = if self.depth > self.definition.states.len() {
            &[]
        } else {
            &self.ids
        };
        let mut map = serializer.serialize_map(Some(ids.len()))?;
        for &id in ids {
            let mut state = self.exporter.state(self.definition, id, self.depth);
            if self.within_jsonata {
                state.query_language.get_or_insert("JSONPath");
            }
            map.serialize_entry(self.definition.state_name(id), &state)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AslState<'d> {
    pub(super) r#type: &'static str,
    /// `JSONata` for a state whose catchers hand on what JSONPath cannot build; `JSONPath`
    /// for a state inside such a state (nested states take their parent's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) query_language: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parameters: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) arguments: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timeout_seconds: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) heartbeat_seconds: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timeout_seconds_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) heartbeat_seconds_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) choices: Option<Vec<ChoiceRule<'d>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) default: Option<&'d str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seconds_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timestamp_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) branches: Option<Vec<SubMachine<'d>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) items_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) items: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) item_processor: Option<SubMachine<'d>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_concurrency: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tolerated_failure_count: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tolerated_failure_percentage: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_concurrency_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tolerated_failure_count_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tolerated_failure_percentage_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cause_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) retry: Option<Vec<AslRetrier>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) catch: Option<Vec<AslCatcher<'d>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) next: Option<&'d str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) end: Option<bool>,
}

impl AslState<'_> {
    pub(super) fn new(r#type: &'static str, comment: Option<String>) -> Self {
        AslState {
            r#type,
            query_language: None,
            comment,
            resource: None,
            parameters: None,
            arguments: None,
            timeout_seconds: None,
            heartbeat_seconds: None,
            timeout_seconds_path: None,
            heartbeat_seconds_path: None,
            choices: None,
            default: None,
            seconds: None,
            seconds_path: None,
            timestamp_path: None,
            branches: None,
            items_path: None,
            items: None,
            item_processor: None,
            max_concurrency: None,
            tolerated_failure_count: None,
            tolerated_failure_percentage: None,
            max_concurrency_path: None,
            tolerated_failure_count_path: None,
            tolerated_failure_percentage_path: None,
            error: None,
            error_path: None,
            cause: None,
            cause_path: None,
            retry: None,
            catch: None,
            next: None,
            end: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChoiceRule<'d> {
    pub(super) variable: String,
    pub(super) boolean_equals: bool,
    pub(super) next: &'d str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AslRetrier {
    pub(super) error_equals: Vec<String>,
    pub(super) interval_seconds: u64,
    pub(super) max_attempts: u32,
    pub(super) backoff_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_delay_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) jitter_strategy: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AslCatcher<'d> {
    pub(super) error_equals: Vec<String>,
    pub(super) next: &'d str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) result_path: Option<&'static str>,
    /// What a JSONata state's catcher hands on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) output: Option<String>,
}

/// A `*Path` field standing for a setting a Rust function works out from the input: the
/// placeholder path, with a comment line saying which function it stands for.
pub(super) fn placeholder(
    lines: &mut Vec<String>,
    path: &'static str,
    function: &Option<String>,
) -> Option<&'static str> {
    let function = function.as_ref()?;
    lines.push(format!(
        "{path} is a placeholder for the Rust function {function}"
    ));
    Some(path)
}
