//! The runtime: registered workflows, shared resources, and running executions.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::definition::Definition;
use crate::engine::{self, ExecutionContext, Shared};
use crate::execution::{Execution, ExecutionId};
use crate::resources::Resources;
use crate::workflow::{StateRequirement, Workflow};

/// Runs workflows. Cheap to clone; clones share everything.
///
/// ```
/// use workflow::prelude::*;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize)] pub struct Greeting(String);
/// #[step]
/// async fn greet(name: String) -> Greeting {
///     Greeting(format!("Hello, {name}!"))
/// }
///
/// workflow! {
///     /// Greets someone.
///     pub Greeter: Express<String, Greeting> {
///         start Greet;
///         Greet: task greet -> end;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::builder().register::<Greeter>().build()?;
/// let execution = runtime.execute::<Greeter>("Ada".to_owned()).await?;
/// assert_eq!(execution.output().map(|g| g.0.as_str()), Some("Hello, Ada!"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    resources: Arc<Resources>,
    clock: Arc<dyn Clock>,
    workflows: HashMap<TypeId, &'static Definition>,
}

impl Runtime {
    /// Starts configuring a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Runs an execution of `W` to its end in the calling task, in memory, and returns its
    /// result with its full history.
    ///
    /// A failing execution is an `Ok(Execution)` whose [`result`](Execution::result) is the
    /// failure; `Err` means the execution could not be run at all.
    pub async fn execute<W: Workflow>(
        &self,
        input: W::Input,
    ) -> Result<Execution<W::Output>, RuntimeError> {
        self.registered::<W>()?;
        let definition = W::definition();
        let clock = &self.inner.clock;
        let id = ExecutionId::random();
        let shared = Shared::new(
            id.clone(),
            definition,
            Arc::clone(&self.inner.resources),
            Arc::clone(clock),
        );
        let started_at = clock.now();
        let (result, status) =
            engine::drive_with_timeout::<W>(&ExecutionContext::root(&shared), input).await;
        let stopped_at = clock.now();
        let (history, children) = shared.into_parts();
        Ok(Execution {
            id,
            workflow: definition.name.as_str(),
            status,
            started_at,
            stopped_at,
            result,
            history,
            children,
        })
    }

    /// The definitions of every registered workflow, in no particular order.
    pub fn definitions(&self) -> impl Iterator<Item = &'static Definition> + '_ {
        self.inner.workflows.values().copied()
    }

    fn registered<W: Workflow>(&self) -> Result<(), RuntimeError> {
        if self.inner.workflows.contains_key(&TypeId::of::<W>()) {
            Ok(())
        } else {
            Err(RuntimeError::NotRegistered {
                workflow: W::name(),
            })
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.definitions().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("Runtime")
            .field("workflows", &names)
            .field("resources", &self.inner.resources)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

/// Configures a [`Runtime`]: its workflows, resources and clock.
pub struct RuntimeBuilder {
    resources: Resources,
    clock: Arc<dyn Clock>,
    workflows: Vec<Registration>,
}

struct Registration {
    type_id: TypeId,
    definition: &'static Definition,
    requirements: Vec<StateRequirement>,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            resources: Resources::default(),
            clock: Arc::new(SystemClock),
            workflows: Vec::new(),
        }
    }
}

impl RuntimeBuilder {
    /// Registers workflow `W`; its steps' resources are checked by [`build`](Self::build).
    pub fn register<W: Workflow>(mut self) -> Self {
        let mut requirements = Vec::new();
        W::requirements(&mut requirements);
        self.workflows.push(Registration {
            type_id: TypeId::of::<W>(),
            definition: W::definition(),
            requirements,
        });
        self
    }

    /// Adds a resource that steps take as [`Res<T>`](crate::Res); replaces an earlier one of
    /// the same type.
    pub fn resource<T: Send + Sync + 'static>(self, value: T) -> Self {
        self.resource_arc(Arc::new(value))
    }

    /// Adds a shared resource, which may be a trait object (`Arc<dyn Gateway>`), so tests can
    /// hand steps a fake.
    pub fn resource_arc<T: ?Sized + Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.resources.insert(value);
        self
    }

    /// Replaces the clock (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the registrations and builds the runtime.
    ///
    /// Fails if two registered workflows share a name or a workflow's steps need resources
    /// the runtime lacks; the error lists every such problem.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let mut problems = Vec::new();
        let mut workflows: HashMap<TypeId, &'static Definition> = HashMap::new();
        let mut names: HashMap<&str, TypeId> = HashMap::new();
        for registration in &self.workflows {
            let name = registration.definition.name.as_str();
            match names.get(name) {
                Some(type_id) if *type_id != registration.type_id => {
                    problems.push(Problem::DuplicateName {
                        workflow: name.to_owned(),
                    });
                }
                _ => {
                    names.insert(name, registration.type_id);
                }
            }
            for needed in &registration.requirements {
                let problem = Problem::MissingResource {
                    workflow: name.to_owned(),
                    state: needed.state.to_owned(),
                    step: needed.step.to_owned(),
                    resource: needed.requirement.type_name().to_owned(),
                };
                // A step may take the same resource twice; report it once.
                if !self.resources.contains(needed.requirement.type_id)
                    && !problems.contains(&problem)
                {
                    problems.push(problem);
                }
            }
            for (state, error) in registration.definition.unraisable_errors() {
                problems.push(Problem::UnraisableError {
                    workflow: name.to_owned(),
                    raised: registration.definition.raisable_errors_of(&state),
                    state,
                    error,
                });
            }
            workflows.insert(registration.type_id, registration.definition);
        }
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        Ok(Runtime {
            inner: Arc::new(Inner {
                resources: Arc::new(self.resources),
                clock: self.clock,
                workflows,
            }),
        })
    }
}

impl fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field(
                "workflows",
                &self
                    .workflows
                    .iter()
                    .map(|r| &r.definition.name)
                    .collect::<Vec<_>>(),
            )
            .field("resources", &self.resources)
            .field("clock", &self.clock)
            .finish()
    }
}

/// The runtime could not be built; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the runtime cannot be built:{}", list(problems))]
pub struct BuildError {
    problems: Vec<Problem>,
}

impl BuildError {
    /// Every problem found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        return "only predefined `States.*` errors".to_owned();
    }
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  - {problem}"))
        .collect()
}

/// One reason a runtime cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A step needs a resource the runtime does not have.
    #[error(
        "workflow `{workflow}`, state `{state}`: step `{step}` takes `Res<{resource}>`, but no `{resource}` was added; add one with `RuntimeBuilder::resource`"
    )]
    MissingResource {
        /// The workflow's name.
        workflow: String,
        /// The state whose step needs the resource.
        state: String,
        /// The step's name.
        step: String,
        /// The resource's type.
        resource: String,
    },
    /// A retrier or catcher names an error its state never raises.
    #[error(
        "workflow `{workflow}`, state `{state}`: retry or catch names `{error}`, which the state never raises (it raises {})",
        list_names(raised)
    )]
    UnraisableError {
        /// The workflow's name.
        workflow: String,
        /// The state with the retrier or catcher.
        state: String,
        /// The error name it gives.
        error: String,
        /// What the state can raise.
        raised: Vec<String>,
    },
    /// Two different workflow types share a name.
    #[error("two different workflows are named `{workflow}`; workflow names must be unique in a runtime")]
    DuplicateName {
        /// The shared name.
        workflow: String,
    },
}

/// An execution could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The workflow was not registered on this runtime.
    #[error("workflow `{workflow}` is not registered on this runtime; register it with `RuntimeBuilder::register`")]
    NotRegistered {
        /// The workflow's name.
        workflow: &'static str,
    },
}
