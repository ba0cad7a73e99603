//! Step Functions Local's mock configuration (`MockConfigFile.json`): test cases that answer
//! Task states with mocked responses, so a machine's paths run without any handler.
//!
//! ```json
//! {
//!   "StateMachines": {"Order": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
//!   "MockedResponses": {"ChargeOk": {"0": {"Return": {"charged": true}}}}
//! }
//! ```
//!
//! A mocked response maps the calls of its state, counted from 0 in an execution, to what
//! they get: `"0"`, or a range `"1-3"`, each `{"Return": result}` or
//! `{"Throw": {"Error": name, "Cause": text}}`.

use serde_json::Value;

use super::handlers::{Handlers, Response, TaskError};

impl Handlers {
    /// The handlers of test case `test_case` of state machine `state_machine` in the mock
    /// configuration `config`, answering the states of workflow `workflow`.
    pub fn from_mock_config(
        config: &Value,
        state_machine: &str,
        test_case: &str,
        workflow: &str,
    ) -> Result<Handlers, String> {
        let machines = config["StateMachines"]
            .as_object()
            .ok_or("the mock configuration has no StateMachines object")?;
        let machine = machines.get(state_machine).ok_or_else(|| {
            let known: Vec<&str> = machines.keys().map(String::as_str).collect();
            format!(
                "no state machine '{state_machine}' in the mock configuration (it has: {})",
                known.join(", ")
            )
        })?;
        let cases = machine["TestCases"]
            .as_object()
            .ok_or_else(|| format!("state machine '{state_machine}' has no TestCases object"))?;
        let case = cases
            .get(test_case)
            .and_then(Value::as_object)
            .ok_or_else(|| {
                let known: Vec<&str> = cases.keys().map(String::as_str).collect();
                format!(
                    "no test case '{test_case}' for '{state_machine}' (it has: {})",
                    known.join(", ")
                )
            })?;
        let mut handlers = Handlers::new();
        for (state, response_name) in case {
            let response_name = response_name.as_str().ok_or_else(|| {
                format!("test case '{test_case}': state '{state}' must name a mocked response")
            })?;
            let mocked = config["MockedResponses"][response_name]
                .as_object()
                .ok_or_else(|| {
                    format!("no mocked response '{response_name}' (for state '{state}')")
                })?;
            handlers = handlers.respond(workflow, state, responses(response_name, mocked)?);
        }
        Ok(handlers)
    }
}

/// The responses of one mocked response, in call order.
fn responses(name: &str, mocked: &serde_json::Map<String, Value>) -> Result<Vec<Response>, String> {
    let mut by_call: Vec<(u32, u32, Response)> = Vec::new();
    for (calls, answer) in mocked {
        let (first, last) = match calls.split_once('-') {
            Some((first, last)) => (first.trim().parse::<u32>(), last.trim().parse::<u32>()),
            None => (calls.trim().parse::<u32>(), calls.trim().parse::<u32>()),
        };
        let (Ok(first), Ok(last)) = (first, last) else {
            return Err(format!(
                "mocked response '{name}': '{calls}' is not a call number or a range like \"1-3\""
            ));
        };
        let response = match (answer.get("Return"), answer.get("Throw")) {
            (Some(result), None) => Response::Return(result.clone()),
            (None, Some(thrown)) => Response::Throw(TaskError::new(
                thrown["Error"].as_str().unwrap_or_default(),
                thrown["Cause"].as_str().unwrap_or_default(),
            )),
            _ => {
                return Err(format!(
                    "mocked response '{name}', call '{calls}': give either Return or Throw"
                ))
            }
        };
        by_call.push((first, last, response));
    }
    by_call.sort_by_key(|(first, _, _)| *first);
    let mut out = Vec::new();
    for (first, last, response) in by_call {
        if usize::try_from(first).ok() != Some(out.len()) || last < first {
            return Err(format!(
                "mocked response '{name}': its calls must be numbered from 0 without gaps"
            ));
        }
        for _ in first..=last {
            out.push(response.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_expand_in_call_order() {
        let mocked = json!({
            "1-2": {"Throw": {"Error": "Busy", "Cause": "try again"}},
            "0": {"Throw": {"Error": "Busy", "Cause": "first"}},
            "3": {"Return": {"ok": true}}
        });
        let responses = responses("Retry", mocked.as_object().unwrap()).unwrap();
        assert_eq!(responses.len(), 4);
        assert_eq!(responses[3], Response::Return(json!({"ok": true})));
        assert!(matches!(&responses[0], Response::Throw(error) if error.cause == "first"));
    }

    #[test]
    fn gaps_and_unknown_names_are_refused_with_a_reason() {
        let gap = json!({"0": {"Return": 1}, "2": {"Return": 2}});
        assert!(responses("Gap", gap.as_object().unwrap())
            .unwrap_err()
            .contains("without gaps"));
        let config =
            json!({"StateMachines": {"M": {"TestCases": {"T": {}}}}, "MockedResponses": {}});
        let error = Handlers::from_mock_config(&config, "M", "Nope", "M").unwrap_err();
        assert_eq!(error, "no test case 'Nope' for 'M' (it has: T)");
    }
}
