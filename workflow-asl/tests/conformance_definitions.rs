//! Every definition of the ASL conformance cases (state machines AWS accepted and ran) reads
//! and checks without a problem here.
//!
//! The cases' folder is `WORKFLOW_ASL_CASES`, by default `../shared/asl-conformance/cases`
//! beside the workspace; without it, the test says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test.

use std::path::PathBuf;

use workflow_asl::definition::StateMachine;

fn cases_folder() -> Option<PathBuf> {
    let folder = match std::env::var_os("WORKFLOW_ASL_CASES") {
        Some(folder) => PathBuf::from(folder),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/asl-conformance/cases")
        }
    };
    folder.is_dir().then_some(folder)
}

#[test]
fn every_definition_aws_ran_is_accepted() {
    let Some(folder) = cases_folder() else {
        println!("asl definitions: no cases folder (set WORKFLOW_ASL_CASES); skipped");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut refused = Vec::new();
    for file in &files {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        if let Err(error) = StateMachine::from_json(&case["definition"]) {
            refused.push(format!(
                "{}: {error}",
                file.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    println!(
        "asl definitions: {} of {} accepted",
        files.len() - refused.len(),
        files.len()
    );
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}
