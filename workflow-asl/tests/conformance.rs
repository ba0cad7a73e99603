//! Against the ASL conformance cases (state machines AWS accepted and ran, with what AWS
//! recorded): every definition reads and checks without a problem here (and converts to a
//! definition the renderers draw), and the data flow of
//! every one-Pass-state machine gives AWS's output.
//!
//! The cases' folder is `WORKFLOW_ASL_CASES`, by default `../shared/asl-conformance/cases`
//! beside the workspace; without it, the tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test.

use std::path::PathBuf;

use serde_json::Value;
use workflow_asl::definition::{QueryLanguage, StateMachine};
use workflow_core::{render, Mode};

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
        let Some(outcome) = state.pass_output(case["input"].clone(), &Value::Null) else {
            continue;
        };
        compared += 1;
        let same = match (&outcome, expected["status"].as_str()) {
            (Ok(output), Some("SUCCEEDED")) => *output == expected["output"],
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
