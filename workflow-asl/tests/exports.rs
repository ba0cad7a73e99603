//! The ASL this project exports for its own workflows (the reviewed files in the workspace's
//! `tests/golden/`) reads back here, and converts to a definition with the same states.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use std::path::PathBuf;

use workflow_asl::definition::StateMachine;
use workflow_core::Mode;

#[test]
fn every_exported_workflow_reads_back_with_its_states() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no exported workflows in {}",
        folder.display()
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let machine = StateMachine::from_json_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let definition = machine.to_definition("Exported", Mode::Standard);
        let exported: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut names: Vec<String> = Vec::new();
        collect_names(&exported, &mut names);
        names.sort();
        let mut converted: Vec<String> = definition
            .states
            .iter()
            .map(|state| state.name.clone())
            .collect();
        converted.sort();
        assert_eq!(converted, names, "{}", file.display());
        for state in &definition.states {
            let kind = find_type(&exported, &state.name).unwrap();
            assert_eq!(
                state.kind.name(),
                kind,
                "{}: {}",
                file.display(),
                state.name
            );
        }
    }
}

/// Every state name of an ASL document, branches and processors included.
fn collect_names(graph: &serde_json::Value, out: &mut Vec<String>) {
    for (name, state) in graph["States"].as_object().unwrap() {
        out.push(name.clone());
        for branch in state["Branches"].as_array().into_iter().flatten() {
            collect_names(branch, out);
        }
        for processor in ["ItemProcessor", "Iterator"] {
            if state.get(processor).is_some() {
                collect_names(&state[processor], out);
            }
        }
    }
}

/// The `Type` of state `name` anywhere in an ASL document.
fn find_type(graph: &serde_json::Value, name: &str) -> Option<String> {
    for (state_name, state) in graph["States"].as_object()? {
        if state_name == name {
            return state["Type"].as_str().map(str::to_owned);
        }
        let inner = state["Branches"].as_array().into_iter().flatten().chain(
            ["ItemProcessor", "Iterator"]
                .iter()
                .filter_map(|key| state.get(*key)),
        );
        for graph in inner {
            if let Some(found) = find_type(graph, name) {
                return Some(found);
            }
        }
    }
    None
}
