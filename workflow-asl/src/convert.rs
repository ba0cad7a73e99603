//! A state machine as the runtime's [`Definition`]: one flat list of states (those of
//! Parallel branches and Map processors included, as state names are unique across an ASL
//! machine), with the retriers, catchers and timers the engine applies, and what the renderers
//! draw.

use std::collections::HashMap;

use workflow_core::build::{self, FailText, MapOptions, TaskOptions, Wait as CoreWait};
use workflow_core::definition::{Definition, State as CoreState, TaskEvents};
use workflow_core::retry::{Catcher as CoreCatcher, Jitter, Retrier as CoreRetrier};
use workflow_core::Mode;

use crate::definition::{
    Catcher, Fail, Graph, Retrier, Setting, State, StateKind, StateMachine, Transition, Wait,
};

/// The type name ASL payloads have in a definition: JSON values.
const JSON: &str = "serde_json::Value";

impl StateMachine {
    /// This machine as a runtime definition of workflow `name` in `mode`.
    pub fn to_definition(&self, name: &str, mode: Mode) -> Definition {
        let mut ids = HashMap::new();
        number(&self.graph, &mut ids);
        let mut states: Vec<(usize, CoreState)> = Vec::new();
        convert_graph(&self.graph, &ids, &mut states);
        states.sort_by_key(|(id, _)| *id);
        build::definition(
            name,
            mode,
            self.comment.as_deref(),
            self.timeout_seconds
                .map(|seconds| seconds.saturating_mul(1000)),
            JSON,
            JSON,
            ids[self.graph.start_at.as_str()],
            states.into_iter().map(|(_, state)| state).collect(),
        )
    }
}

/// Gives every state of `graph` and of its branches and processors an id, in reading order:
/// a state's own, then those inside it.
fn number<'g>(graph: &'g Graph, ids: &mut HashMap<&'g str, usize>) {
    for state in &graph.states {
        let next = ids.len();
        ids.entry(state.name.as_str()).or_insert(next);
    }
    for state in &graph.states {
        match &state.kind {
            StateKind::Parallel(parallel) => parallel.branches.iter().for_each(|b| number(b, ids)),
            StateKind::Map(map) => number(&map.processor, ids),
            _ => {}
        }
    }
}

fn convert_graph(graph: &Graph, ids: &HashMap<&str, usize>, out: &mut Vec<(usize, CoreState)>) {
    for state in &graph.states {
        let converted = convert(state, ids, out);
        out.push((ids[state.name.as_str()], converted));
    }
}

/// The ids of a sub-graph: its start and its states.
fn branch(graph: &Graph, ids: &HashMap<&str, usize>) -> (usize, Vec<usize>) {
    (
        ids[graph.start_at.as_str()],
        graph
            .states
            .iter()
            .map(|state| ids[state.name.as_str()])
            .collect(),
    )
}

fn convert(
    state: &State,
    ids: &HashMap<&str, usize>,
    out: &mut Vec<(usize, CoreState)>,
) -> CoreState {
    let name = state.name.as_str();
    let comment = state.comment.as_deref();
    let next = match &state.transition {
        Some(Transition::Next(next)) => ids.get(next.as_str()).copied(),
        _ => None,
    };
    match &state.kind {
        StateKind::Task(task) => {
            let (timeout_ms, timeout_function) = millis(task.timeout.as_ref());
            let (heartbeat_ms, heartbeat_function) = millis(task.heartbeat.as_ref());
            let mut step = build::step_definition(
                &task.resource,
                &task.resource,
                None,
                JSON,
                JSON,
                "workflow::asl::TaskError",
                Vec::new(),
                task.resource
                    .starts_with("arn:aws:states:::states:startExecution"),
                None,
                None,
                Vec::new(),
            );
            step.callback = task.resource.ends_with(".waitForTaskToken");
            step.events = task_events(&task.resource);
            build::task_state(
                name,
                comment,
                step,
                next,
                TaskOptions {
                    timeout_ms,
                    heartbeat_ms,
                    timeout_function,
                    heartbeat_function,
                    retry: retriers(&task.shaping.retry),
                    catch: catchers(&task.shaping.catch, ids),
                },
            )
        }
        StateKind::Pass(pass) => {
            let transform = match (&pass.result, &pass.parameters) {
                (Some(result), _) => Some(format!("Result {result}")),
                (None, Some(_)) => Some("Parameters".to_owned()),
                (None, None) => None,
            };
            build::pass_state(name, comment, transform.as_deref(), next)
        }
        StateKind::Choice(choice) => {
            let rules: Vec<(String, usize)> = choice
                .choices
                .iter()
                .filter_map(|rule| {
                    Some((rule.condition.to_string(), *ids.get(rule.next.as_str())?))
                })
                .collect();
            build::choice_state(
                name,
                comment,
                rules
                    .iter()
                    .map(|(text, next)| (text.as_str(), *next))
                    .collect(),
                choice
                    .default
                    .as_deref()
                    .and_then(|default| ids.get(default).copied()),
            )
        }
        StateKind::Wait(wait) => {
            let written;
            let how = match wait {
                Wait::Seconds(Setting::Fixed(seconds)) => {
                    CoreWait::Millis(seconds.saturating_mul(1000))
                }
                Wait::Seconds(Setting::Path(path)) => {
                    written = path.to_string();
                    CoreWait::DurationFrom(&written)
                }
                Wait::Seconds(Setting::Expression(text)) => CoreWait::DurationFrom(text),
                Wait::Timestamp(Setting::Fixed(text) | Setting::Expression(text)) => {
                    CoreWait::Until(text)
                }
                Wait::Timestamp(Setting::Path(path)) => {
                    written = path.to_string();
                    CoreWait::Until(&written)
                }
            };
            build::wait_state(name, comment, how, next)
        }
        StateKind::Succeed => build::succeed_state(name, comment),
        StateKind::Fail(Fail { error, cause }) => {
            let (error_text, cause_text) = (fail_text(error.as_ref()), fail_text(cause.as_ref()));
            build::fail_state(
                name,
                comment,
                as_fail_text(error.as_ref(), &error_text),
                as_fail_text(cause.as_ref(), &cause_text),
            )
        }
        StateKind::Parallel(parallel) => {
            for graph in &parallel.branches {
                convert_graph(graph, ids, out);
            }
            build::parallel_state(
                name,
                comment,
                parallel
                    .branches
                    .iter()
                    .map(|graph| branch(graph, ids))
                    .collect(),
                next,
                retriers(&parallel.shaping.retry),
                catchers(&parallel.shaping.catch, ids),
            )
        }
        StateKind::Map(map) => {
            convert_graph(&map.processor, ids, out);
            let items = map
                .items_path
                .as_ref()
                .map_or_else(|| "$".to_owned(), ToString::to_string);
            let (max_concurrency, max_concurrency_function) = count(map.max_concurrency.as_ref());
            let (tolerated_failure_count, tolerated_failure_count_function) =
                count(map.tolerated_failure_count.as_ref());
            let (tolerated_failure_percentage, tolerated_failure_percentage_function) =
                match &map.tolerated_failure_percentage {
                    Some(Setting::Fixed(percentage)) => (Some(*percentage), None),
                    Some(Setting::Path(path)) => (None, Some(path.to_string())),
                    Some(Setting::Expression(text)) => (None, Some(text.clone())),
                    None => (None, None),
                };
            build::map_state(
                name,
                comment,
                &items,
                branch(&map.processor, ids),
                next,
                MapOptions {
                    max_concurrency: max_concurrency.unwrap_or(0),
                    distributed: map.distributed,
                    tolerated_failure_count,
                    tolerated_failure_percentage,
                    max_concurrency_function,
                    tolerated_failure_count_function,
                    tolerated_failure_percentage_function,
                    retry: retriers(&map.shaping.retry),
                    catch: catchers(&map.shaping.catch, ids),
                },
            )
        }
    }
}

/// Which events record a task of `resource`, as Step Functions names them: a Lambda function
/// given by its own ARN records `LambdaFunction*`, an activity `Activity*`, anything else
/// (service integrations, `lambda:invoke` among them) `Task*`.
fn task_events(resource: &str) -> TaskEvents {
    let parts: Vec<&str> = resource.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", ..] => TaskEvents::LambdaFunction,
        ["arn", _, "states", _, _, "activity", ..] => TaskEvents::Activity,
        _ => TaskEvents::Task,
    }
}

/// A duration setting in milliseconds, or the path or expression it is read with.
fn millis(setting: Option<&Setting<u64>>) -> (Option<u64>, Option<String>) {
    match setting {
        Some(Setting::Fixed(seconds)) => (Some(seconds.saturating_mul(1000)), None),
        Some(Setting::Path(path)) => (None, Some(path.to_string())),
        Some(Setting::Expression(text)) => (None, Some(text.clone())),
        None => (None, None),
    }
}

/// A count setting, or the path or expression it is read with.
fn count(setting: Option<&Setting<u64>>) -> (Option<u32>, Option<String>) {
    match setting {
        Some(Setting::Fixed(count)) => (Some(u32::try_from(*count).unwrap_or(u32::MAX)), None),
        Some(Setting::Path(path)) => (None, Some(path.to_string())),
        Some(Setting::Expression(text)) => (None, Some(text.clone())),
        None => (None, None),
    }
}

fn fail_text(setting: Option<&Setting<String>>) -> String {
    match setting {
        Some(Setting::Fixed(text) | Setting::Expression(text)) => text.clone(),
        Some(Setting::Path(path)) => path.to_string(),
        None => String::new(),
    }
}

fn as_fail_text<'t>(setting: Option<&Setting<String>>, text: &'t str) -> FailText<'t> {
    match setting {
        None => FailText::None,
        Some(Setting::Fixed(_)) => FailText::Given(text),
        Some(Setting::Path(_) | Setting::Expression(_)) => FailText::Computed(text),
    }
}

fn retriers(retriers: &[Retrier]) -> Vec<CoreRetrier> {
    retriers
        .iter()
        .map(|retrier| {
            // ASL names any error: the engine does not check them against the task's.
            build::unchecked_retrier(build::retrier(
                retrier.error_equals.clone(),
                Some(retrier.interval_seconds.saturating_mul(1000)),
                Some(u32::try_from(retrier.max_attempts).unwrap_or(u32::MAX)),
                Some(retrier.backoff_rate),
                retrier
                    .max_delay_seconds
                    .map(|seconds| seconds.saturating_mul(1000)),
                if retrier.full_jitter {
                    Jitter::Full
                } else {
                    Jitter::None
                },
            ))
        })
        .collect()
}

fn catchers(catchers: &[Catcher], ids: &HashMap<&str, usize>) -> Vec<CoreCatcher> {
    catchers
        .iter()
        .filter_map(|catcher| {
            let next = *ids.get(catcher.next.as_str())?;
            Some(build::unchecked_catcher(build::catcher(
                catcher.error_equals.clone(),
                next,
            )))
        })
        .collect()
}
