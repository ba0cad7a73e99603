//! Amazon States Language export.
//!
//! The JSON follows the [States Language specification](https://states-language.net/spec.html)
//! and the field names of AWS Step Functions. What Rust code decides (Choice conditions, Map
//! item selectors, Wait-until selectors, Pass transforms, a Fail state's computed error
//! and cause) cannot be expressed as JSONPath: it
//! is exported as a placeholder that validators accept, with the Rust code in the `Comment`.

mod catchers;
mod model;

use std::collections::HashMap;

use crate::definition::{Branch, Definition, Next, StateId, StateKind, WaitFor};
use catchers::set_catchers;
use model::{
    join, placeholder, retriers, seconds, AslState, ChoiceRule, Machine, States, SubMachine,
};

/// The `Resource` of a task whose step has no mapping: `{step}` stands for the step's name.
pub const DEFAULT_RESOURCE: &str = "arn:aws:lambda:us-east-1:000000000000:function:{step}";

/// The `StateMachineArn` a nested workflow's task starts: `{workflow}` stands for its name.
pub const DEFAULT_STATE_MACHINE: &str =
    "arn:aws:states:us-east-1:000000000000:stateMachine:{workflow}";

/// Exports definitions as Amazon States Language JSON.
///
/// Each Task state's `Resource` is the ARN mapped to its step's name with
/// [`resource`](Self::resource); steps without a mapping get
/// [`default_resource`](Self::default_resource), [`DEFAULT_RESOURCE`] unless changed. A task
/// running a nested workflow starts it as a child execution
/// (`arn:aws:states:::states:startExecution.sync:2`).
///
/// Durations round up to whole seconds, as the States Language counts in seconds.
///
/// ```
/// use workflow::render::Asl;
/// # use workflow::prelude::*;
/// # #[step] async fn charge(cents: u64) -> u64 { cents }
/// # workflow! { Checkout: Express<u64, u64> { start Charge; Charge: task charge -> end; } }
///
/// let asl = Asl::new()
///     .resource("charge", "arn:aws:lambda:eu-west-1:123456789012:function:charge")
///     .default_resource("arn:aws:lambda:eu-west-1:123456789012:function:orders-{step}")
///     .render(Checkout::definition());
/// assert!(asl.contains("function:charge"));
/// ```
#[derive(Debug, Clone)]
pub struct Asl {
    resources: HashMap<String, String>,
    default_resource: String,
    state_machine: String,
}

impl Default for Asl {
    fn default() -> Self {
        Asl::new()
    }
}

impl Asl {
    /// An exporter with the default resources.
    pub fn new() -> Self {
        Asl {
            resources: HashMap::new(),
            default_resource: DEFAULT_RESOURCE.to_owned(),
            state_machine: DEFAULT_STATE_MACHINE.to_owned(),
        }
    }

    /// Maps the step named `step` to the `Resource` ARN `arn`.
    pub fn resource(mut self, step: &str, arn: &str) -> Self {
        self.resources.insert(step.to_owned(), arn.to_owned());
        self
    }

    /// The `Resource` of steps without a mapping; `{step}` in it stands for the step's name.
    pub fn default_resource(mut self, template: &str) -> Self {
        template.clone_into(&mut self.default_resource);
        self
    }

    /// The `StateMachineArn` of nested workflows; `{workflow}` stands for the workflow's name.
    pub fn state_machine(mut self, template: &str) -> Self {
        template.clone_into(&mut self.state_machine);
        self
    }

    /// The definition as pretty-printed States Language JSON.
    pub fn render(&self, definition: &Definition) -> String {
        let machine = self.machine(definition);
        // Serializing plain structs and strings into a String cannot fail.
        serde_json::to_string_pretty(&machine).unwrap_or_default()
    }

    /// The definition as a JSON value.
    pub fn to_value(&self, definition: &Definition) -> serde_json::Value {
        serde_json::to_value(self.machine(definition)).unwrap_or_default()
    }

    fn machine<'d>(&'d self, definition: &'d Definition) -> Machine<'d> {
        let mut comment = definition.comment.clone().unwrap_or_default();
        if !comment.is_empty() {
            comment.push_str("\n\n");
        }
        comment.push_str(&format!(
            "{} workflow `{}` from `{}` to `{}`.",
            definition.mode, definition.name, definition.input_type, definition.output_type
        ));
        Machine {
            comment: Some(comment),
            start_at: definition.state_name(definition.start_at),
            timeout_seconds: definition.timeout.map(seconds).map(Into::into),
            states: States {
                exporter: self,
                definition,
                ids: definition.top_level(),
                depth: 0,
                within_jsonata: false,
            },
        }
    }

    fn state<'d>(&'d self, definition: &'d Definition, id: StateId, depth: usize) -> AslState<'d> {
        let name = |id: StateId| definition.state_name(id);
        let next = |next: Next| match next {
            Next::State(id) => (Some(name(id)), None),
            Next::End => (None, Some(true)),
        };
        let Some(state) = definition.state(id) else {
            return AslState::new("Succeed", None);
        };
        let comment = state.comment.clone();
        match &state.kind {
            StateKind::Task(task) => {
                let mut lines: Vec<String> = comment.into_iter().collect();
                let mut asl = AslState::new("Task", None);
                (asl.next, asl.end) = next(task.next);
                if task.step.child_workflow {
                    asl.resource = Some("arn:aws:states:::states:startExecution.sync:2".to_owned());
                    asl.parameters = Some(serde_json::json!({
                        "StateMachineArn": self.state_machine.replace("{workflow}", &task.step.name),
                        "Input.$": "$",
                    }));
                } else {
                    let function = match self.resources.get(&task.step.name) {
                        Some(arn) => arn.clone(),
                        None => self.default_resource.replace("{step}", &task.step.name),
                    };
                    if task.step.callback {
                        // Step Functions' callback pattern: the function gets the task token.
                        asl.resource =
                            Some("arn:aws:states:::lambda:invoke.waitForTaskToken".to_owned());
                        asl.parameters = Some(serde_json::json!({
                            "FunctionName": function,
                            "Payload": { "input.$": "$", "token.$": "$$.Task.Token" },
                        }));
                    } else {
                        asl.resource = Some(function);
                    }
                }
                let timeout = task.timeout.map(seconds);
                let mut heartbeat = task.heartbeat.map(seconds);
                if let (Some(timeout), Some(beat)) = (timeout, heartbeat) {
                    // Rounding up may make them equal; Step Functions wants the heartbeat shorter.
                    if beat >= timeout {
                        heartbeat = (timeout > 1).then_some(timeout - 1);
                    }
                }
                asl.timeout_seconds = timeout.map(Into::into);
                asl.heartbeat_seconds = heartbeat.map(Into::into);
                asl.timeout_seconds_path =
                    placeholder(&mut lines, "$.timeout_seconds", &task.timeout_function);
                asl.heartbeat_seconds_path =
                    placeholder(&mut lines, "$.heartbeat_seconds", &task.heartbeat_function);
                asl.comment = join(lines);
                asl.retry = retriers(&task.retry);
                set_catchers(&mut asl, definition, name(id), &task.catch);
                asl
            }
            StateKind::Choice(choice) => {
                let mut lines: Vec<String> = comment.into_iter().collect();
                lines.push("Rules are Rust conditions (placeholders below):".to_owned());
                let choices = choice
                    .choices
                    .iter()
                    .enumerate()
                    .map(|(index, rule)| {
                        lines.push(format!("$.conditions[{index}]: {}", rule.condition));
                        ChoiceRule {
                            variable: format!("$.conditions[{index}]"),
                            boolean_equals: true,
                            next: name(rule.next),
                        }
                    })
                    .collect();
                let mut asl = AslState::new("Choice", Some(lines.join("\n")));
                asl.choices = Some(choices);
                asl.default = choice.default.map(name);
                asl
            }
            StateKind::Wait(wait) => {
                let mut lines: Vec<String> = comment.into_iter().collect();
                let mut asl = match &wait.wait {
                    WaitFor::Duration(duration) => {
                        let mut asl = AslState::new("Wait", None);
                        asl.seconds = Some(seconds(*duration));
                        asl
                    }
                    WaitFor::Until(selector) => {
                        lines.push(format!(
                            "$.wait_until is a placeholder for the Rust selector {selector}"
                        ));
                        let mut asl = AslState::new("Wait", None);
                        asl.timestamp_path = Some("$.wait_until".to_owned());
                        asl
                    }
                    WaitFor::DurationFrom(function) => {
                        let mut asl = AslState::new("Wait", None);
                        asl.seconds_path =
                            placeholder(&mut lines, "$.wait_seconds", &Some(function.clone()));
                        asl
                    }
                };
                asl.comment = join(lines);
                (asl.next, asl.end) = next(wait.next);
                asl
            }
            StateKind::Pass(pass) => {
                let mut lines: Vec<String> = comment.into_iter().collect();
                if let Some(transform) = &pass.transform {
                    lines.push(format!(
                        "Transforms its input with the Rust function {transform}"
                    ));
                }
                let mut asl = AslState::new("Pass", join(lines));
                (asl.next, asl.end) = next(pass.next);
                asl
            }
            StateKind::Parallel(parallel) => {
                let mut asl = AslState::new("Parallel", comment);
                (asl.next, asl.end) = next(parallel.next);
                asl.branches = Some(
                    parallel
                        .branches
                        .iter()
                        .map(|branch| self.sub_machine(definition, branch, None, depth + 1))
                        .collect(),
                );
                asl.retry = retriers(&parallel.retry);
                set_catchers(&mut asl, definition, name(id), &parallel.catch);
                asl
            }
            StateKind::Map(map) => {
                let mut lines: Vec<String> = comment.into_iter().collect();
                lines.push(format!(
                    "Items: the Rust selector {} (ItemsPath is a placeholder)",
                    map.items
                ));
                let mut asl = AslState::new("Map", None);
                (asl.next, asl.end) = next(map.next);
                asl.items_path = Some("$".to_owned());
                asl.item_processor = Some(self.sub_machine(
                    definition,
                    &map.iterator,
                    Some(serde_json::json!({ "Mode": "INLINE" })),
                    depth + 1,
                ));
                asl.max_concurrency_path = placeholder(
                    &mut lines,
                    "$.max_concurrency",
                    &map.max_concurrency_function,
                );
                asl.tolerated_failure_count_path = placeholder(
                    &mut lines,
                    "$.tolerated_failure_count",
                    &map.tolerated_failure_count_function,
                );
                asl.tolerated_failure_percentage_path = placeholder(
                    &mut lines,
                    "$.tolerated_failure_percentage",
                    &map.tolerated_failure_percentage_function,
                );
                asl.comment = join(lines);
                asl.max_concurrency = match asl.max_concurrency_path {
                    Some(_) => None,
                    None => Some(map.max_concurrency.into()),
                };
                asl.tolerated_failure_count = map.tolerated_failure_count.map(Into::into);
                asl.tolerated_failure_percentage = map.tolerated_failure_percentage.map(|share| {
                    if share.fract() == 0.0 {
                        serde_json::json!(share as u64)
                    } else {
                        serde_json::json!(share)
                    }
                });
                asl.retry = retriers(&map.retry);
                set_catchers(&mut asl, definition, name(id), &map.catch);
                asl
            }
            StateKind::Succeed => AslState::new("Succeed", comment),
            StateKind::Fail(fail) => {
                let mut asl = AslState::new("Fail", None);
                let mut lines: Vec<String> = comment.into_iter().collect();
                if let Some(function) = &fail.error_function {
                    lines.push(format!(
                        "$.error is a placeholder for the Rust function {function}"
                    ));
                    asl.error_path = Some("$.error");
                }
                if let Some(function) = &fail.cause_function {
                    lines.push(format!(
                        "$.cause is a placeholder for the Rust function {function}"
                    ));
                    asl.cause_path = Some("$.cause");
                }
                asl.error = fail.error.clone();
                asl.cause = fail.cause.clone();
                asl.comment = join(lines);
                asl
            }
        }
    }

    fn sub_machine<'d>(
        &'d self,
        definition: &'d Definition,
        branch: &Branch,
        processor_config: Option<serde_json::Value>,
        depth: usize,
    ) -> SubMachine<'d> {
        SubMachine {
            processor_config,
            start_at: definition.state_name(branch.start_at),
            states: States {
                exporter: self,
                definition,
                ids: branch.states.clone(),
                depth,
                within_jsonata: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::build::{self, TaskOptions};
    use crate::Mode;

    fn one_task(timeout_ms: Option<u64>, heartbeat_ms: Option<u64>) -> Definition {
        let step = build::step_definition(
            "charge",
            "charge",
            None,
            "",
            "",
            "",
            Vec::new(),
            false,
            None,
            None,
            Vec::new(),
        );
        let options = TaskOptions {
            timeout_ms,
            heartbeat_ms,
            ..TaskOptions::default()
        };
        let task = build::task_state("Charge", None, step, None, options);
        build::definition(
            "Pay",
            Mode::Standard,
            None,
            None,
            "In",
            "Out",
            0,
            vec![task],
        )
    }

    #[test]
    fn resources_come_from_the_mapping_or_the_default() {
        let definition = one_task(None, None);
        let default = Asl::new().to_value(&definition);
        assert_eq!(
            default["States"]["Charge"]["Resource"],
            "arn:aws:lambda:us-east-1:000000000000:function:charge"
        );
        let mapped = Asl::new()
            .resource("charge", "arn:aws:lambda:eu-west-1:1:function:pay")
            .to_value(&definition);
        assert_eq!(
            mapped["States"]["Charge"]["Resource"],
            "arn:aws:lambda:eu-west-1:1:function:pay"
        );
        let templated = Asl::new()
            .default_resource("arn:aws:lambda:eu-west-1:1:function:shop-{step}")
            .to_value(&definition);
        assert_eq!(
            templated["States"]["Charge"]["Resource"],
            "arn:aws:lambda:eu-west-1:1:function:shop-charge"
        );
        assert_eq!(default["States"]["Charge"]["End"], true);
    }

    #[test]
    fn durations_round_up_and_the_heartbeat_stays_shorter() {
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_millis(1_500)), 2);
        assert_eq!(seconds(Duration::from_secs(3)), 3);
        let value = Asl::new().to_value(&one_task(Some(1_500), Some(1_200)));
        assert_eq!(value["States"]["Charge"]["TimeoutSeconds"], 2);
        assert_eq!(value["States"]["Charge"]["HeartbeatSeconds"], 1);
        let value = Asl::new().to_value(&one_task(Some(900), Some(500)));
        assert_eq!(value["States"]["Charge"]["TimeoutSeconds"], 1);
        assert!(value["States"]["Charge"].get("HeartbeatSeconds").is_none());
    }
}
