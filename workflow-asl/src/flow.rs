//! A state's data flow: `InputPath` picks what the state works on, `Parameters` shapes it,
//! the state makes a result, `ResultSelector` shapes that, `ResultPath` places it in the
//! state's raw input, and `OutputPath` picks what goes on to the next state.

use serde_json::{Map, Value};

use crate::definition::{Pass, ResultPath, Selection, State, StateKind};
use crate::error::DataError;
use crate::path::Scope;
use crate::template::Template;

/// What `InputPath` (or `OutputPath`) keeps of `value`: all of it, `{}` for `null`, or what
/// the path selects. `around` gives the context object and the variables (its input is not
/// read: `value` is `$`).
pub fn select(selection: &Selection, value: Value, around: &Scope<'_>) -> Result<Value, DataError> {
    match selection {
        Selection::Whole => Ok(value),
        Selection::Nothing => Ok(Value::Object(Map::new())),
        Selection::At(path) => path.select(&Scope {
            input: &value,
            ..*around
        }),
    }
}

/// `template` applied to `value` as `$` (the context object and variables from `around`),
/// or `value` unchanged without a template: `Parameters`, `ItemSelector`, `ResultSelector`.
pub fn shape(
    template: Option<&Template>,
    value: Value,
    around: &Scope<'_>,
) -> Result<Value, DataError> {
    match template {
        None => Ok(value),
        Some(template) => template.evaluate(&Scope {
            input: &value,
            ..*around
        }),
    }
}

/// The variables an `Assign` sets, worked out with `value` as `$` (and the variables as they
/// were before the state: all are assigned at once).
pub fn assigned(
    assign: Option<&Template>,
    value: &Value,
    around: &Scope<'_>,
) -> Result<Option<Map<String, Value>>, DataError> {
    let Some(assign) = assign else {
        return Ok(None);
    };
    match assign.evaluate(&Scope {
        input: value,
        ..*around
    })? {
        Value::Object(variables) => Ok(Some(variables)),
        other => Err(DataError::runtime(format!(
            "Assign must give an object of variables, not {other}"
        ))),
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

/// What a Pass state hands on: its output, and the variables it assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct Passed {
    /// The state's output.
    pub output: Value,
    /// The variables its `Assign` sets, if it has one.
    pub assigned: Option<Map<String, Value>>,
}

impl State {
    /// The output of this state, if it is a Pass state, for `input` (its raw input), with
    /// the variables its `Assign` sets.
    pub fn pass_output(
        &self,
        input: Value,
        around: &Scope<'_>,
    ) -> Option<Result<Passed, DataError>> {
        let StateKind::Pass(pass) = &self.kind else {
            return None;
        };
        Some(self.run_pass(pass, input, around))
    }

    fn run_pass(&self, pass: &Pass, input: Value, around: &Scope<'_>) -> Result<Passed, DataError> {
        let effective = select(&self.input_path, input.clone(), around)?;
        let result = match &pass.result {
            Some(result) => result.clone(),
            None => shape(pass.parameters.as_ref(), effective, around)?,
        };
        let assigned = assigned(self.assign.as_ref(), &result, around)?;
        let placed = place(&pass.result_path, input, result)?;
        Ok(Passed {
            output: select(&self.output_path, placed, around)?,
            assigned,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::StateMachine;
    use serde_json::json;

    fn nothing() -> Scope<'static> {
        Scope::new(&Value::Null, &Value::Null)
    }

    #[test]
    fn assign_reads_the_result_and_the_variables_as_they_were() {
        let state = pass(json!({
            "Result": {"n": 2},
            "Assign": {"doubled.$": "States.MathAdd($.n, $.n)", "previous.$": "$total"},
        }));
        let variables = json!({"total": 40});
        let around = Scope {
            variables: variables.as_object(),
            ..nothing()
        };
        let passed = state.pass_output(json!({}), &around).unwrap().unwrap();
        assert_eq!(passed.output, json!({"n": 2}));
        assert_eq!(
            Value::Object(passed.assigned.unwrap()),
            json!({"doubled": 4, "previous": 40})
        );
    }

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
        let context = json!({"Execution": {"Name": "e"}});
        let passed = state
            .pass_output(
                json!({"order": {"id": 7}}),
                &Scope::new(&Value::Null, &context),
            )
            .unwrap()
            .unwrap();
        assert_eq!(passed.output, json!({"id": 7, "by": "e"}));
    }

    #[test]
    fn result_path_merges_into_the_raw_input_and_null_keeps_it() {
        let merged = pass(json!({"InputPath": "$.a", "Result": {"r": 1}, "ResultPath": "$.a.out"}));
        assert_eq!(
            merged
                .pass_output(json!({"a": {"x": 0}, "b": 2}), &nothing())
                .unwrap()
                .unwrap()
                .output,
            json!({"a": {"x": 0, "out": {"r": 1}}, "b": 2})
        );
        let discarded = pass(json!({"Result": 1, "ResultPath": null, "OutputPath": null}));
        assert_eq!(
            discarded
                .pass_output(json!({"a": 1}), &nothing())
                .unwrap()
                .unwrap()
                .output,
            json!({})
        );
    }

    #[test]
    fn an_output_path_that_names_nothing_fails_the_state() {
        let state = pass(json!({"OutputPath": "$.NoSuchOutputPath"}));
        let error = state
            .pass_output(json!({}), &nothing())
            .unwrap()
            .unwrap_err();
        assert_eq!(
            error.cause,
            "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
        );
    }
}
