//! The input of a `.waitForTaskToken` task. Its `Parameters` (or `Arguments`) may put the
//! attempt's token in what the handler sends (`$$.Task.Token`), and the token exists only
//! once the attempt has started: so the state hands its step what the template reads (an
//! envelope), and the step works the template out with the token.

use serde_json::{json, Map, Value};
use workflow_core::definition::Definition;

use super::handlers::TaskError;
use super::program::Program;
use crate::definition::{QueryLanguage, StateKind};
use crate::flow::shape;
use crate::jsonata::{evaluate_template, Bindings};
use crate::path::Scope;

/// The envelope of a JSONPath state: its input after `InputPath`, its context object and
/// the variables.
pub(super) fn jsonpath(selected: Value, context: Value, variables: &Map<String, Value>) -> Value {
    json!({"selected": selected, "context": context, "variables": variables})
}

/// The envelope of a JSONata state: `$states` and the variables.
pub(super) fn jsonata(states: Value, variables: &Map<String, Value>) -> Value {
    json!({"states": states, "variables": variables})
}

/// The handler's input for state `state`: its template worked out from `envelope` with
/// `token` as the context's `Task.Token`.
pub(super) fn prepare(
    definition: &Definition,
    state: &str,
    envelope: Value,
    token: &str,
) -> Result<Value, TaskError> {
    let failed = |why: String| TaskError::new("States.Runtime", why);
    let asl_state = definition
        .state_by_name(state)
        .and_then(|(id, _)| definition.program.code::<Program>()?.state(id))
        .ok_or_else(|| {
            failed(format!(
                "workflow `{}` has no ASL state {state}",
                definition.name
            ))
        })?;
    let StateKind::Task(task) = &asl_state.kind else {
        return Err(failed(format!("state {state} is not a Task state")));
    };
    let variables = envelope["variables"].as_object();
    match asl_state.query_language {
        QueryLanguage::JsonPath => {
            let mut context = envelope["context"].clone();
            context["Task"] = json!({"Token": token});
            let around = Scope {
                variables,
                ..Scope::new(&Value::Null, &context)
            };
            shape(
                task.shaping.parameters.as_ref(),
                envelope["selected"].clone(),
                &around,
            )
            .map_err(|error| TaskError::new(error.error, error.cause))
        }
        QueryLanguage::Jsonata => {
            let mut states = envelope["states"].clone();
            states["context"]["Task"] = json!({"Token": token});
            let bindings = Bindings {
                states: &states,
                variables,
            };
            match &task.shaping.arguments {
                Some(arguments) => evaluate_template(arguments, "Arguments", &bindings)
                    .map_err(|error| TaskError::new(error.error, error.cause)),
                None => Ok(states["input"].clone()),
            }
        }
    }
}
