//! A state's catchers, exported so that each target gets what a `workflow!` catch hands it:
//! a target taking `CaughtError` gets the error alone (`ResultPath: "$"`), and so does a Fail
//! state, which ends the same whatever it gets; any other target gets `Caught<I>`, the failed
//! state's input with its name and the error. JSONPath cannot build that object, so a state
//! with such a catcher is exported in JSONata, whose catchers have an `Output`.

use serde_json::{json, Value};

use super::model::{AslCatcher, AslState};
use crate::definition::{Definition, StateKind};
use crate::retry::Catcher;

/// What a catcher's target takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handing {
    /// The error alone, `{"Error": ..., "Cause": ...}`: a `CaughtError`, or a Fail state.
    Error,
    /// `Caught<I>`: `{"input": ..., "state": ..., "error": ..., "cause": ...}`.
    Caught,
}

fn handing(definition: &Definition, catcher: &Catcher) -> Handing {
    match definition.state(catcher.next).map(|state| &state.kind) {
        Some(StateKind::Task(task)) if task.step.input_type.ends_with("CaughtError") => {
            Handing::Error
        }
        Some(StateKind::Fail(_)) => Handing::Error,
        _ => Handing::Caught,
    }
}

/// Sets the catchers of `asl`, the state `name`: in JSONata (the whole state then) when one
/// of them hands on `Caught<I>`.
pub(super) fn set_catchers<'d>(
    asl: &mut AslState<'d>,
    definition: &'d Definition,
    name: &str,
    catch: &[Catcher],
) {
    if catch.is_empty() {
        return;
    }
    let handings: Vec<Handing> = catch
        .iter()
        .map(|catcher| handing(definition, catcher))
        .collect();
    let jsonata = handings.contains(&Handing::Caught);
    // A JSONata string literal is written as JSON's.
    let state = serde_json::to_string(name).unwrap_or_default();
    let catchers = catch
        .iter()
        .zip(&handings)
        .map(|(catcher, handing)| {
            let (result_path, output) = match (jsonata, handing) {
                (false, _) => (Some("$"), None),
                (true, Handing::Error) => (None, Some("{% $states.errorOutput %}".to_owned())),
                (true, Handing::Caught) => (
                    None,
                    Some(format!(
                        "{{% {{\"input\": $states.input, \"state\": {state}, \"error\": $states.errorOutput.Error, \"cause\": $states.errorOutput.Cause}} %}}"
                    )),
                ),
            };
            AslCatcher {
                error_equals: catcher.errors.clone(),
                next: definition.state_name(catcher.next),
                result_path,
                output,
            }
        })
        .collect();
    asl.catch = Some(catchers);
    if jsonata {
        in_jsonata(asl);
    }
}

/// `asl`'s JSONPath fields written as JSONata: `Parameters` as `Arguments`, and the
/// placeholder paths as expressions on `$states.input`.
fn in_jsonata(asl: &mut AslState<'_>) {
    asl.query_language = Some("JSONata");
    asl.arguments = asl.parameters.take().map(arguments);
    if let Some(path) = asl.timeout_seconds_path.take() {
        asl.timeout_seconds = Some(expression(path));
    }
    if let Some(path) = asl.heartbeat_seconds_path.take() {
        asl.heartbeat_seconds = Some(expression(path));
    }
    if let Some(path) = asl.items_path.take() {
        asl.items = Some(expression(&path));
    }
    if let Some(path) = asl.max_concurrency_path.take() {
        asl.max_concurrency = Some(expression(path));
    }
    if let Some(path) = asl.tolerated_failure_count_path.take() {
        asl.tolerated_failure_count = Some(expression(path));
    }
    if let Some(path) = asl.tolerated_failure_percentage_path.take() {
        asl.tolerated_failure_percentage = Some(expression(path));
    }
    for sub_machine in asl.branches.iter_mut().flatten() {
        sub_machine.states.within_jsonata = true;
    }
    if let Some(processor) = &mut asl.item_processor {
        processor.states.within_jsonata = true;
    }
}

/// A JSONPath reference path (`$`, `$.field`, `$$.Task.Token`) as a JSONata expression.
fn expression(path: &str) -> Value {
    let reference = match path.strip_prefix("$$") {
        Some(context) => format!("$states.context{context}"),
        None => format!("$states.input{}", path.trim_start_matches('$')),
    };
    json!(format!("{{% {reference} %}}"))
}

/// A `Parameters` template as `Arguments`: each `"key.$": path` as `"key": expression`.
fn arguments(template: Value) -> Value {
    match template {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| match (key.strip_suffix(".$"), &value) {
                    (Some(key), Value::String(path)) => (key.to_owned(), expression(path)),
                    _ => (key, arguments(value)),
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_expressions_on_the_input_or_the_context() {
        assert_eq!(expression("$"), json!("{% $states.input %}"));
        assert_eq!(
            expression("$.timeout_seconds"),
            json!("{% $states.input.timeout_seconds %}")
        );
        assert_eq!(
            arguments(
                json!({"FunctionName": "f", "Payload": {"input.$": "$", "token.$": "$$.Task.Token"}})
            ),
            json!({"FunctionName": "f", "Payload": {
                "input": "{% $states.input %}",
                "token": "{% $states.context.Task.Token %}"
            }})
        );
    }
}
