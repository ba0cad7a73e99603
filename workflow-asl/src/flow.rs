//! A state's data flow: `InputPath` picks what the state works on, `Parameters` shapes it,
//! the state makes a result, `ResultSelector` shapes that, `ResultPath` places it in the
//! state's raw input, and `OutputPath` picks what goes on to the next state.

use serde_json::{Map, Value};

use crate::definition::{Pass, ResultPath, Selection, State, StateKind};
use crate::error::DataError;
use crate::path::Scope;
use crate::template::Template;

/// What `InputPath` (or `OutputPath`) keeps of `value`: all of it, `{}` for `null`, or what
/// the path selects.
pub fn select(selection: &Selection, value: Value, context: &Value) -> Result<Value, DataError> {
    match selection {
        Selection::Whole => Ok(value),
        Selection::Nothing => Ok(Value::Object(Map::new())),
        Selection::At(path) => path.select(&Scope::new(&value, context)),
    }
}

/// `template` applied to `value` (with `$$` the context object), or `value` unchanged
/// without a template: `Parameters`, `ItemSelector`, `ResultSelector`.
pub fn shape(
    template: Option<&Template>,
    value: Value,
    context: &Value,
) -> Result<Value, DataError> {
    match template {
        None => Ok(value),
        Some(template) => template.evaluate(&Scope::new(&value, context)),
    }
}

/// Where `ResultPath` puts `result`: it replaces the raw input, is dropped, or is written into
/// the raw input at the path.
pub fn place(
    result_path: &ResultPath,
    raw_input: Value,
    result: Value,
) -> Result<Value, DataError> {
    match result_path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw_input),
        ResultPath::At(path) => {
            let mut target = raw_input;
            path.write(&mut target, result)?;
            Ok(target)
        }
    }
}

impl State {
    /// The output of this state, if it is a Pass state, for `input` (its raw input).
    pub fn pass_output(&self, input: Value, context: &Value) -> Option<Result<Value, DataError>> {
        let StateKind::Pass(pass) = &self.kind else {
            return None;
        };
        Some(self.run_pass(pass, input, context))
    }

    fn run_pass(&self, pass: &Pass, input: Value, context: &Value) -> Result<Value, DataError> {
        let effective = select(&self.input_path, input.clone(), context)?;
        let result = match &pass.result {
            Some(result) => result.clone(),
            None => shape(pass.parameters.as_ref(), effective, context)?,
        };
        let placed = place(&pass.result_path, input, result)?;
        select(&self.output_path, placed, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::StateMachine;
    use serde_json::json;

    fn pass(fields: Value) -> State {
        let mut state = fields;
        state["Type"] = json!("Pass");
        state["End"] = json!(true);
        let machine =
            StateMachine::from_json(&json!({"StartAt": "P", "States": {"P": state}})).unwrap();
        machine.graph.state("P").unwrap().clone()
    }

    #[test]
    fn a_pass_state_runs_the_whole_data_flow() {
        let state = pass(json!({
            "InputPath": "$.order",
            "Parameters": {"id.$": "$.id", "by.$": "$$.Execution.Name"},
            "ResultPath": "$.shaped",
            "OutputPath": "$.shaped",
        }));
        let output = state
            .pass_output(
                json!({"order": {"id": 7}}),
                &json!({"Execution": {"Name": "e"}}),
            )
            .unwrap()
            .unwrap();
        assert_eq!(output, json!({"id": 7, "by": "e"}));
    }

    #[test]
    fn result_path_merges_into_the_raw_input_and_null_keeps_it() {
        let merged = pass(json!({"InputPath": "$.a", "Result": {"r": 1}, "ResultPath": "$.a.out"}));
        assert_eq!(
            merged
                .pass_output(json!({"a": {"x": 0}, "b": 2}), &Value::Null)
                .unwrap()
                .unwrap(),
            json!({"a": {"x": 0, "out": {"r": 1}}, "b": 2})
        );
        let discarded = pass(json!({"Result": 1, "ResultPath": null, "OutputPath": null}));
        assert_eq!(
            discarded
                .pass_output(json!({"a": 1}), &Value::Null)
                .unwrap()
                .unwrap(),
            json!({})
        );
    }

    #[test]
    fn an_output_path_that_names_nothing_fails_the_state() {
        let state = pass(json!({"OutputPath": "$.NoSuchOutputPath"}));
        let error = state
            .pass_output(json!({}), &Value::Null)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            error.cause,
            "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
        );
    }
}
