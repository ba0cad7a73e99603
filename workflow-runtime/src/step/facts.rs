//! What the runtime knows of a step without its type, as one static value per step.
//!
//! The facts a workflow's definition, its resource check and the layers of a task's attempt
//! need of a step (its name, its types' names, how to read its output from JSON) are fields
//! of a constant here, most of them pointers to functions generic over a payload type. Code
//! that reads them is compiled once, rather than once for every step of every workflow: as
//! functions generic over the step, they were a large part of what a workflow of many states
//! made the compiler do (see `benches/compile.sh`).

use std::any::{type_name, Any, TypeId};

use super::{Payload, Requirement, Step, StepInfo};

/// A step's output, its type erased.
pub(crate) type AnyOutput = Box<dyn Any + Send>;

/// What the runtime knows of a step without its type: [`facts`] of it.
#[doc(hidden)]
pub struct StepFacts {
    /// Name, options and documentation.
    pub(crate) info: StepInfo,
    /// Whether the step hands out a task token.
    pub(crate) callback: bool,
    /// Whether the step is a nested workflow.
    pub(crate) child_workflow: bool,
    step_type: fn() -> TypeId,
    input_type: fn() -> &'static str,
    output_type: fn() -> &'static str,
    error_type: fn() -> &'static str,
    error_names: fn() -> Vec<String>,
    requirements: fn(&mut Vec<Requirement>),
    decode: fn(serde_json::Value) -> Result<AnyOutput, serde_json::Error>,
    check_output: fn(&serde_json::Value) -> Result<(), String>,
}

/// The facts of step `S`, a constant (so that a reference to it is `'static`).
trait HasFacts: Step {
    const FACTS: StepFacts;
}

impl<S: Step> HasFacts for S {
    const FACTS: StepFacts = StepFacts {
        info: S::INFO,
        callback: S::CALLBACK,
        child_workflow: S::CHILD_WORKFLOW,
        step_type: TypeId::of::<S>,
        input_type: type_name::<S::Input>,
        output_type: type_name::<S::Output>,
        error_type: type_name::<S::Error>,
        error_names: S::error_names,
        requirements: S::requirements,
        decode: decode::<S::Output>,
        check_output: check_output::<S::Output>,
    };
}

/// The facts of step `S`.
#[doc(hidden)]
pub const fn facts<S: Step>() -> &'static StepFacts {
    &<S as HasFacts>::FACTS
}

impl StepFacts {
    /// The step's name.
    pub(crate) fn name(&self) -> &'static str {
        self.info.name()
    }

    /// The step type's identity.
    pub(crate) fn step_type(&self) -> TypeId {
        (self.step_type)()
    }

    /// The name of the step's input type.
    pub(crate) fn input_type(&self) -> &'static str {
        (self.input_type)()
    }

    /// The name of the step's output type, for messages.
    pub(crate) fn output_type(&self) -> &'static str {
        (self.output_type)()
    }

    /// The name of the step's error type.
    pub(crate) fn error_type(&self) -> &'static str {
        (self.error_type)()
    }

    /// Every error name the step can raise.
    pub(crate) fn error_names(&self) -> Vec<String> {
        (self.error_names)()
    }

    /// What the step needs from the runtime (its resources).
    pub(crate) fn requirements(&self) -> Vec<Requirement> {
        let mut requirements = Vec::new();
        (self.requirements)(&mut requirements);
        requirements
    }

    /// Reads `value` (a stored output, a callback's) as the step's output.
    pub(crate) fn decode(&self, value: serde_json::Value) -> Result<AnyOutput, serde_json::Error> {
        (self.decode)(value)
    }

    /// Whether `output` reads as the step's output: why not, if it does not.
    pub(crate) fn check_output(&self, output: &serde_json::Value) -> Result<(), String> {
        (self.check_output)(output)
    }
}

fn decode<O: Payload>(value: serde_json::Value) -> Result<AnyOutput, serde_json::Error> {
    serde_json::from_value::<O>(value).map(|output| Box::new(output) as AnyOutput)
}

/// Whether `output` reads as `T`.
fn check_output<T: Payload>(output: &serde_json::Value) -> Result<(), String> {
    T::deserialize(output)
        .map(|_| ())
        .map_err(|error| format!("it does not read as `{}`: {error}", type_name::<T>()))
}
