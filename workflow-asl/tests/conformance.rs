//! Against the ASL conformance cases (state machines AWS accepted and ran, with what AWS
//! recorded): every definition reads and checks without a problem here (and converts to a
//! definition the renderers draw), and the data flow of
//! every one-Pass-state machine gives AWS's output.
//!
//! The cases' folder is `WORKFLOW_ASL_CASES`, by default `../shared/asl-conformance/cases`
//! beside the workspace; without it, the tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test.

#[path = "conformance/redacted.rs"]
mod redacted;

use std::path::PathBuf;

use redacted::Redactions;

use serde_json::{json, Value};
use workflow_asl::definition::{QueryLanguage, StateMachine};
use workflow_asl::path::Scope;
use workflow_asl::{AslWorkflow, AwsAccount, Handlers, RegisterAsl, Response, TaskError};
use workflow_core::{render, Mode};
use workflow_runtime::{ExecutionStatus, Runtime, VirtualClock};

fn cases_folder() -> Option<PathBuf> {
    let folder = match std::env::var_os("WORKFLOW_ASL_CASES") {
        Some(folder) => PathBuf::from(folder),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/asl-conformance/cases")
        }
    };
    folder.is_dir().then_some(folder)
}

/// Every case, with its file name, or `None` (with a notice) without the folder.
fn cases(what: &str) -> Option<Vec<(String, Value)>> {
    let Some(folder) = cases_folder() else {
        println!("{what}: no cases folder (set WORKFLOW_ASL_CASES); skipped");
        return None;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Some(
        files
            .iter()
            .map(|file| {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(file).unwrap();
                (name, serde_json::from_str(&text).unwrap())
            })
            .collect(),
    )
}

#[test]
fn every_definition_aws_ran_is_accepted() {
    let Some(cases) = cases("asl definitions") else {
        return;
    };
    let refused: Vec<String> = cases
        .iter()
        .filter_map(|(name, case)| {
            match StateMachine::from_json(&case["definition"]) {
                Ok(machine) => {
                    // It converts to a definition the renderers draw.
                    let definition = machine.to_definition("Case", Mode::Standard);
                    assert!(render::svg(&definition).starts_with("<svg"), "{name}");
                    assert!(
                        render::mermaid(&definition).starts_with("flowchart"),
                        "{name}"
                    );
                    None
                }
                Err(error) => Some(format!("{name}: {error}")),
            }
        })
        .collect();
    println!(
        "asl definitions: {} of {} accepted",
        cases.len() - refused.len(),
        cases.len()
    );
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// Outputs AWS made at random, which the cases give as a fixed word.
const GENERATED: [&str; 2] = ["RandomNumberGenerated", "generated-uuid"];

#[test]
fn one_pass_state_machines_give_aws_output() {
    let Some(cases) = cases("asl one-Pass data flow") else {
        return;
    };
    let mut compared = 0;
    let mut differing = Vec::new();
    for (name, case) in &cases {
        let machine = StateMachine::from_json(&case["definition"]).unwrap();
        let [state] = &machine.graph.states[..] else {
            continue;
        };
        let expected = &case["expected"];
        // The context object and the payload limits come with the runner, JSONata with its
        // evaluator.
        if state.query_language != QueryLanguage::JsonPath
            || expected["error"] == "States.DataLimitExceeded"
            || case["definition"].to_string().contains("$$")
            || GENERATED
                .iter()
                .any(|word| expected["output"].to_string().contains(word))
        {
            continue;
        }
        let around = Scope::new(&Value::Null, &Value::Null);
        let Some(outcome) = state.pass_output(case["input"].clone(), &around) else {
            continue;
        };
        compared += 1;
        let same = match (&outcome, expected["status"].as_str()) {
            (Ok(passed), Some("SUCCEEDED")) => passed.output == expected["output"],
            (Err(error), Some("FAILED")) => {
                expected["error"] == error.error
                    && expected["cause"]
                        .as_str()
                        .is_some_and(|cause| cause.ends_with(&error.cause))
            }
            _ => false,
        };
        if !same {
            differing.push(format!("{name}: ours {outcome:?}, AWS {expected}"));
        }
    }
    println!(
        "asl one-Pass data flow: {} of {compared} cases identical",
        compared - differing.len()
    );
    assert!(compared > 0);
    assert!(differing.is_empty(), "differing:\n{}", differing.join("\n"));
}

/// A case's mocked task answers, by state.
fn handlers(case: &Value) -> Handlers {
    let mut handlers = Handlers::new();
    for (state, answers) in case["mocks"].as_object().into_iter().flatten() {
        let responses = answers
            .as_array()
            .into_iter()
            .flatten()
            .map(|answer| match answer.get("Throw") {
                Some(thrown) => Response::Throw(TaskError::new(
                    thrown["Error"].as_str().unwrap_or_default(),
                    thrown["Cause"].as_str().unwrap_or_default(),
                )),
                None => Response::Return(answer["Return"].clone()),
            })
            .collect();
        handlers = handlers.respond("Case", state, responses);
    }
    // The objects the test put in S3 before it started the execution, which Map states'
    // item readers read.
    let objects = case["fixtures"]["s3_objects"].clone();
    handlers.resource(
        "arn:aws:states:::s3:getObject",
        move |call: workflow_asl::TaskCall| {
            let objects = objects.clone();
            async move {
                let found = objects.as_array().into_iter().flatten().find(|object| {
                    object["Bucket"] == call.input["Bucket"] && object["Key"] == call.input["Key"]
                });
                match found {
                    Some(object) => Ok(json!({"Body": object["Body"]})),
                    None => Err(TaskError::new(
                        "S3.NoSuchKeyException",
                        "The specified key does not exist.",
                    )),
                }
            }
        },
    )
}

/// How one case ran here against what AWS recorded: `None` if identical, else the first
/// difference.
async fn run_case(case: &Value) -> Option<String> {
    let mode = match case["state_machine_type"].as_str() {
        Some("EXPRESS") => Mode::Express,
        _ => Mode::Standard,
    };
    let workflow = match AslWorkflow::from_json("Case", mode, &case["definition"]) {
        Ok(workflow) => workflow.in_account(account(case)),
        Err(error) => return Some(format!("refused: {error}")),
    };
    let redactions = Redactions::of(case);
    let runtime = Runtime::builder()
        .resource(handlers(case))
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    let execution = match runtime.execute_json("Case", case["input"].clone()).await {
        Ok(execution) => execution,
        Err(error) => return Some(format!("not run: {error}")),
    };
    let expected = &case["expected"];
    let status = match execution.status() {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
        _ => "OTHER",
    };
    if expected["status"] != status {
        let why = execution
            .failure()
            .map(|failure| format!(" ({}: {})", failure.error(), failure.cause()))
            .unwrap_or_default();
        return Some(format!("status {status}{why}, AWS {}", expected["status"]));
    }
    match execution.result() {
        Ok(output) if !redactions.matches(&expected["output"], &redactions.apply(output)) => {
            return Some(format!("output {output}, AWS {}", expected["output"]));
        }
        Err(failure) if !same_text(&redactions, &expected["error"], failure.error()) => {
            return Some(format!(
                "error {}, AWS {}",
                failure.error(),
                expected["error"]
            ));
        }
        Err(failure) if !same_text(&redactions, &expected["cause"], failure.cause()) => {
            return Some(format!(
                "cause {:?}, AWS {}",
                failure.cause(),
                expected["cause"]
            ));
        }
        _ => {}
    }
    let ours: Vec<String> = execution
        .history()
        .events()
        .iter()
        .map(|event| event.kind.name().to_owned())
        .collect();
    let theirs: Vec<String> = expected["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Some cases recorded only the outcome: there is no history to compare.
    if !theirs.is_empty() && ours != theirs {
        let at = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
        return Some(format!(
            "events differ at {}: ours {:?}, AWS {:?}",
            at + 1,
            ours.get(at),
            theirs.get(at)
        ));
    }
    None
}

/// An error name or cause as AWS recorded it (`null` for none) against ours (empty for none).
fn same_text(redactions: &Redactions, recorded: &Value, ours: &str) -> bool {
    match recorded {
        Value::Null => ours.is_empty(),
        Value::String(recorded) => redactions.same_text(recorded, ours),
        _ => false,
    }
}

/// The account the case ran in on AWS (the cases' ARNs name account `111111111111` in
/// `us-east-1`), with the role its state machine was created with where the case names it.
fn account(case: &Value) -> AwsAccount {
    let account = AwsAccount::new("us-east-1", "111111111111");
    let role = case["snapshot_transformers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|transformer| transformer["pattern"].as_str())
        .find(|pattern| pattern.starts_with("arn:aws:iam::111111111111:role/"));
    match role {
        Some(role) => account.with_role_arn(role),
        None => account,
    }
}

#[tokio::test(start_paused = true)]
async fn cases_run_as_aws_recorded() {
    let Some(cases) = cases("asl conformance") else {
        return;
    };
    let mut differing = Vec::new();
    for (name, case) in &cases {
        if let Some(difference) = run_case(case).await {
            differing.push(format!("{name}: {difference}"));
        }
    }
    let identical = cases.len() - differing.len();
    println!(
        "asl conformance: {identical} of {} cases identical",
        cases.len()
    );
    for difference in &differing {
        println!("  {difference}");
    }
    // On the folder of this repository's cases, no change may lose a case that was
    // identical: raise this floor as the runtime gains ground, never lower it.
    if std::env::var_os("WORKFLOW_ASL_CASES").is_none() && cases.len() == 702 {
        assert!(
            identical >= IDENTICAL_FLOOR,
            "{identical} identical, fewer than {IDENTICAL_FLOOR}"
        );
    }
}

/// How many of the 702 cases were identical when this was last raised.
const IDENTICAL_FLOOR: usize = 673;
