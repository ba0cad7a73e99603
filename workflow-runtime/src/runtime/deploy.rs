//! The deploy check: can this runtime's registered workflows resume every running execution
//! of them in its store? Run before deploying a binary, it says per workflow and version how
//! many executions are open, in which states, and which would be left without code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use workflow_core::definition::Definition;

use super::{Runtime, RuntimeError};
use crate::execution::ExecutionStatus;
use crate::store::{ExecutionFilter, Store, StoreError};

/// What a deploy check ([`Runtime::check_deploy`], [`DeployCheck::run`]) found, per
/// workflow and version with running executions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployCheck {
    /// One entry per workflow and version, in name and version order.
    pub versions: Vec<VersionCheck>,
}

/// The running executions of one version of a workflow, as [`Runtime::check_deploy`] saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionCheck {
    /// The workflow's name.
    pub workflow: String,
    /// The version the executions run on.
    pub version: u32,
    /// How many are running (parked ones included).
    pub executions: u64,
    /// How many are in each top-level state (the state of their latest event; `-` before
    /// any), by state name.
    pub states: BTreeMap<String, u64>,
    /// How many started on a definition of this version other than the registered one (a
    /// change made without a new version): they resume if their history still fits it.
    pub changed: u64,
    /// Why some of them could not resume here; empty when all can.
    pub problems: Vec<String>,
}

impl DeployCheck {
    /// Whether every running execution can resume on this runtime's workflows.
    pub fn ok(&self) -> bool {
        self.versions
            .iter()
            .all(|version| version.problems.is_empty())
    }
}

impl fmt::Display for DeployCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.versions.is_empty() {
            return writeln!(f, "no running executions of the registered workflows");
        }
        for check in &self.versions {
            let verdict = if check.problems.is_empty() {
                "resumable here"
            } else {
                "NOT resumable here"
            };
            writeln!(
                f,
                "{} version {}: {} running, {verdict}",
                check.workflow, check.version, check.executions
            )?;
            let states: Vec<String> = check
                .states
                .iter()
                .map(|(state, count)| format!("{state} {count}"))
                .collect();
            writeln!(f, "  in states: {}", states.join(", "))?;
            if check.changed > 0 {
                writeln!(
                    f,
                    "  {} started on another definition of this version (resumed if their history fits the registered one)",
                    check.changed
                )?;
            }
            for problem in &check.problems {
                writeln!(f, "  problem: {problem}")?;
            }
        }
        Ok(())
    }
}

impl Runtime {
    /// Compares the registered workflows with the running executions of their names in the
    /// store: see [`DeployCheck::run`]. [`DeployCheck::ok`] is what a deploy pipeline asks
    /// before replacing the binaries that run the old versions.
    pub async fn check_deploy(&self) -> Result<DeployCheck, RuntimeError> {
        let definitions: Vec<&Definition> = self.definitions().collect();
        Ok(DeployCheck::run(self.inner.store.as_ref(), &definitions).await?)
    }

    /// The registered workflows' definitions as a JSON array, for `workflow check-deploy
    /// --definitions FILE` to check a store against a binary that is not running yet.
    pub fn export_definitions(&self) -> String {
        let definitions: Vec<&Definition> = self.definitions().collect();
        serde_json::to_string_pretty(&definitions).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl DeployCheck {
    /// Compares `definitions` (the workflows a binary registers, every version of each) with
    /// the running executions of their names in `store`: per workflow and version, how many
    /// executions are open, in which states, and whether that binary could resume every one
    /// (its version there, every state its history visited still declared).
    ///
    /// Reads every running execution's history: a check to run once per deploy, not in a loop.
    pub async fn run(store: &dyn Store, definitions: &[&Definition]) -> Result<Self, StoreError> {
        let registered: BTreeMap<(&str, u32), (&Definition, String)> = definitions
            .iter()
            .map(|definition| {
                let key = (definition.name.as_str(), definition.version);
                (key, (*definition, definition.fingerprint()))
            })
            .collect();
        let names: BTreeSet<&str> = registered.keys().map(|(name, _)| *name).collect();
        let mut checks: BTreeMap<(String, u32), VersionCheck> = BTreeMap::new();
        // For each workflow and version: the states missing from the registered definition,
        // with how many executions visited each.
        let mut missing: BTreeMap<(String, u32), BTreeMap<String, u64>> = BTreeMap::new();
        for name in names {
            let filter = ExecutionFilter::all()
                .workflow(name)
                .status(ExecutionStatus::Running);
            for record in store.list(filter).await? {
                let key = (record.workflow.clone(), record.version);
                let check = checks.entry(key.clone()).or_insert_with(|| VersionCheck {
                    workflow: record.workflow.clone(),
                    version: record.version,
                    executions: 0,
                    states: BTreeMap::new(),
                    changed: 0,
                    problems: Vec::new(),
                });
                check.executions += 1;
                let events = store.full_history(&record.id).await?;
                let state = events
                    .iter()
                    .rev()
                    .filter(|event| event.branch.is_none())
                    .find_map(|event| event.state.as_deref())
                    .unwrap_or("-");
                *check.states.entry(state.to_owned()).or_default() += 1;
                let Some((definition, fingerprint)) = registered.get(&(name, record.version))
                else {
                    continue;
                };
                if !record.fingerprint.is_empty() && record.fingerprint != *fingerprint {
                    check.changed += 1;
                }
                let visited: BTreeSet<&str> = events
                    .iter()
                    .filter_map(|event| event.state.as_deref())
                    .collect();
                for state in visited {
                    if definition.state_by_name(state).is_none() {
                        *missing
                            .entry(key.clone())
                            .or_default()
                            .entry(state.to_owned())
                            .or_default() += 1;
                    }
                }
            }
        }
        for (key, check) in &mut checks {
            if !registered.contains_key(&(key.0.as_str(), key.1)) {
                check.problems.push(format!(
                    "version {} of `{}` is not registered here: register its type beside the newer versions until no execution runs on it",
                    key.1, key.0
                ));
            }
            for (state, count) in missing.get(key).into_iter().flatten() {
                check.problems.push(format!(
                    "{count} execution(s) went through state `{state}`, which the registered version {} no longer declares",
                    key.1
                ));
            }
        }
        Ok(DeployCheck {
            versions: checks.into_values().collect(),
        })
    }
}
