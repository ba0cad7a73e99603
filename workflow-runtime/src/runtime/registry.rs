//! The workflows a runtime runs: by type for `workflow!` workflows (the fast path of every
//! typed start), and by name for all, as stored executions name their workflow.

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use workflow_core::definition::Definition;

use super::json::{ChildJson, ChildJsonRun};
use super::{Registered, RuntimeError};
use crate::step::StepEnv;
use crate::type_map::TypeMap;

/// The registered workflows.
#[derive(Default)]
pub(super) struct Registry {
    entries: Vec<Registered>,
    by_type: TypeMap<usize>,
    /// Each name's versions, by version: the last one is the latest. Keyed by the name alone,
    /// so that a lookup by `&str` (every start asks for its definition's fingerprint) makes no
    /// key.
    by_name: HashMap<String, BTreeMap<u32, usize>>,
}

impl Registry {
    /// Adds a workflow, known by its type too when it has one. `false` if one of that name and
    /// version is registered already (it is not added).
    pub(super) fn insert(&mut self, type_id: Option<TypeId>, registered: Registered) -> bool {
        let index = self.entries.len();
        let definition = registered.definition;
        let versions = self.by_name.entry(definition.name.clone()).or_default();
        if versions.contains_key(&definition.version) {
            return false;
        }
        versions.insert(definition.version, index);
        if let Some(type_id) = type_id {
            self.by_type.insert(type_id, index);
        }
        self.entries.push(registered);
        true
    }

    /// Version `version` of the workflow named `name`.
    pub(super) fn version(&self, name: &str, version: u32) -> Option<&Registered> {
        self.entries.get(*self.by_name.get(name)?.get(&version)?)
    }

    /// The workflow of type `type_id`.
    #[inline]
    pub(super) fn of_type(&self, type_id: TypeId) -> Option<&Registered> {
        self.entries.get(*self.by_type.get(&type_id)?)
    }

    /// The latest registered version of the workflow named `name`.
    pub(super) fn named(&self, name: &str) -> Option<&Registered> {
        let (_, &index) = self.by_name.get(name)?.last_key_value()?;
        self.entries.get(index)
    }

    /// The latest registered version of each name.
    pub(super) fn latest(&self) -> impl Iterator<Item = &Registered> {
        self.by_name
            .values()
            .filter_map(|versions| self.entries.get(*versions.last_key_value()?.1))
    }

    /// Every registered workflow, in the order of registration.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Registered> {
        self.entries.iter()
    }
}

/// The workflows of a runtime, by name: a resource every runtime has, for a workflow defined
/// at run time that starts another by name as a child (an ASL `startExecution.sync` task).
/// Not a public API.
#[doc(hidden)]
#[derive(Default)]
pub struct WorkflowDefinitions(HashMap<String, (&'static Definition, ChildJson)>);

impl WorkflowDefinitions {
    /// The workflows of `registry`.
    pub(super) fn of(registry: &Registry) -> Self {
        WorkflowDefinitions(
            registry
                .latest()
                .map(|registered| {
                    let name = registered.definition.name.clone();
                    (name, (registered.definition, registered.child_json))
                })
                .collect(),
        )
    }

    /// Starts the workflow named `name` as a child of the execution of the step `env` is
    /// the environment of, on `input` (JSON): `None` if no such workflow is registered, an
    /// error if the input does not read as its input.
    pub fn start_child(
        &self,
        env: &StepEnv<'_>,
        name: &str,
        input: Value,
    ) -> Option<Result<ChildJsonRun, RuntimeError>> {
        let (definition, start) = self.0.get(name)?;
        Some(start(env, definition, input))
    }
}

impl std::fmt::Debug for WorkflowDefinitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
