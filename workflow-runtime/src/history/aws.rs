//! An execution's history in the JSON shape of Step Functions' `GetExecutionHistory` response,
//! for tools written against Step Functions.
//!
//! Each event becomes an AWS `HistoryEvent`: `id`, `previousEventId`, `timestamp`, `type` and
//! the `*EventDetails` object AWS writes for that type, holding what this runtime records.
//! What AWS records and the runtime has no equivalent for (a role ARN, a region, a task's
//! timeouts) is left out, and so is what the runtime records beyond AWS (the branch or
//! iteration an event belongs to, a task's attempt, the delay before a retry, the error of a
//! failed Parallel or Map state or iteration, the input and output of a Map iteration).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::{Event, EventType, History};

/// The `resourceType` of every task event: a task runs a Rust step (or a nested workflow) in
/// the runtime's process, not a service's API.
const RESOURCE_TYPE: &str = "rust";

impl History {
    /// The history in the JSON shape of Step Functions' `GetExecutionHistory` response:
    /// `{"events": [...]}`, oldest first, each event an AWS `HistoryEvent`.
    ///
    /// Every event has `id`, `previousEventId`, `timestamp` and `type` (the event type names
    /// are Step Functions' own), and for the types AWS gives details, the `*EventDetails`
    /// object AWS uses, with the fields named as AWS names them:
    ///
    /// | types | details |
    /// | --- | --- |
    /// | `ExecutionStarted` | `executionStartedEventDetails {input, inputDetails}` |
    /// | `ExecutionSucceeded` | `executionSucceededEventDetails {output, outputDetails}` |
    /// | `ExecutionFailed`, `ExecutionTimedOut`, `ExecutionAborted` | `execution{Failed,TimedOut,Aborted}EventDetails {error, cause}` |
    /// | `ExecutionRedriven` | `executionRedrivenEventDetails {redriveCount}` |
    /// | every `*StateEntered` | `stateEnteredEventDetails {name, input, inputDetails}` |
    /// | every `*StateExited` | `stateExitedEventDetails {name, output, outputDetails}` |
    /// | `TaskScheduled` | `taskScheduledEventDetails {resource, resourceType, parameters}` |
    /// | `TaskStarted` | `taskStartedEventDetails {resource, resourceType}` |
    /// | `TaskSubmitted` | `taskSubmittedEventDetails {resource, resourceType}` |
    /// | `TaskSucceeded` | `taskSucceededEventDetails {resource, resourceType, output, outputDetails}` |
    /// | `TaskFailed`, `TaskTimedOut` | `task{Failed,TimedOut}EventDetails {error, cause, resource, resourceType}` |
    /// | `MapStateStarted` | `mapStateStartedEventDetails {length}` |
    /// | `MapIteration{Started,Succeeded,Failed,Aborted}` | `mapIteration…EventDetails {name, index}` |
    ///
    /// As AWS does, `TaskStateAborted`, `WaitStateAborted`, the `Parallel*` events other than entered and exited,
    /// and `MapStateSucceeded`, `MapStateFailed` and `MapStateAborted` carry no details.
    ///
    /// How it differs from AWS, where the runtime has no equivalent:
    ///
    /// - `timestamp` is seconds since the Unix epoch, to the millisecond, as a number (the
    ///   encoding of the Step Functions API and its SDKs; the AWS CLI prints it as a date).
    /// - Inputs, outputs and `parameters` are JSON text, as in AWS's API (not nested objects),
    ///   and never truncated (`inputDetails`/`outputDetails` say `{"truncated": false}`).
    /// - A task's `resource` is its state's name and its `resourceType` is
    ///   `"rust"`, where AWS names a service action such as `invoke`
    ///   and a service such as `lambda`. `parameters` is the step's input, as the Task state
    ///   received it. There is no `region`, `roleArn`, `timeoutInSeconds` or
    ///   `heartbeatInSeconds`.
    /// - A Map iteration's `index` is read from its branch label (`Transform[3]` is item 3).
    ///   `mapStateStartedEventDetails {length}` is the number of items the attempt ran, as
    ///   recorded (histories recorded before it was are `{}`).
    /// - Fields the runtime did not record (an execution aborted without an error, a history
    ///   kept without payloads) are left out, never filled with placeholders; so are the
    ///   empty error and cause of a Fail state that gives none, as AWS leaves them out.
    ///
    /// Every event type of this runtime is a Step Functions event type, so each exports
    /// under its own name; a type AWS writes no details for has only the four common fields.
    ///
    /// ```
    /// use workflow::prelude::*;
    ///
    /// #[step]
    /// async fn greet(name: String) -> String {
    ///     format!("Hello, {name}!")
    /// }
    ///
    /// workflow! {
    ///     /// Greets someone.
    ///     pub Greeter: Express<String, String> {
    ///         start Greet;
    ///         Greet: task greet -> end;
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::builder().register::<Greeter>().build()?;
    /// let execution = runtime.execute::<Greeter>("Ada".to_owned()).await?;
    /// let aws = execution.history().to_aws_json();
    ///
    /// let started = &aws["events"][0];
    /// assert_eq!(started["type"], "ExecutionStarted");
    /// // Payloads are JSON text, as Step Functions gives them.
    /// assert_eq!(started["executionStartedEventDetails"]["input"], r#""Ada""#);
    /// let scheduled = &aws["events"][2];
    /// assert_eq!(scheduled["type"], "TaskScheduled");
    /// assert_eq!(scheduled["taskScheduledEventDetails"]["resource"], "Greet");
    /// assert_eq!(scheduled["taskScheduledEventDetails"]["resourceType"], "rust");
    /// # Ok(()) }
    /// ```
    pub fn to_aws_json(&self) -> Value {
        let events = self.events();
        // The input of the latest visit of each state, in each branch: a TaskScheduled's
        // parameters (a retry's attempt gets the same input).
        let mut entered: HashMap<(Option<&str>, Option<&str>), Option<&Value>> = HashMap::new();
        let mut redrives = 0_u64;
        let exported: Vec<Value> = events
            .iter()
            .map(|event| {
                let key = (event.state.as_deref(), event.branch.as_deref());
                let context = match event.kind {
                    EventType::TaskStateEntered => {
                        entered.insert(key, event.input.as_ref());
                        Context::Nothing
                    }
                    EventType::TaskScheduled => {
                        Context::Parameters(entered.get(&key).copied().flatten())
                    }
                    EventType::ExecutionRedriven => {
                        redrives += 1;
                        Context::RedriveCount(redrives)
                    }
                    _ => Context::Nothing,
                };
                aws_event(event, context)
            })
            .collect();
        json!({ "events": exported })
    }
}

/// What an event's details need from the events before or after it.
enum Context<'a> {
    Nothing,
    /// A TaskScheduled: the input its state was entered with.
    Parameters(Option<&'a Value>),
    /// An ExecutionRedriven: how many redrives so far, this one included.
    RedriveCount(u64),
}

fn aws_event(event: &Event, context: Context<'_>) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(event.id));
    object.insert("previousEventId".into(), json!(event.previous_event_id));
    object.insert("timestamp".into(), json!(epoch_seconds(event.timestamp)));
    object.insert("type".into(), json!(event.kind.name()));
    if let Some((key, details)) = details(event, context) {
        object.insert(key.into(), Value::Object(details));
    }
    Value::Object(object)
}

/// Seconds since the Unix epoch, to the millisecond; negative before 1970.
fn epoch_seconds(time: SystemTime) -> f64 {
    let seconds = |duration: Duration| duration.as_millis() as f64 / 1000.0;
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => seconds(since),
        Err(before) => -seconds(before.duration()),
    }
}

/// The details object's key and contents, for the types AWS gives details.
fn details(event: &Event, context: Context<'_>) -> Option<(&'static str, Map<String, Value>)> {
    use EventType::*;
    let mut details = Details::default();
    let key = match event.kind {
        ExecutionStarted => {
            details.input(event.input.as_ref());
            "executionStartedEventDetails"
        }
        ExecutionSucceeded => {
            details.output(event.output.as_ref());
            "executionSucceededEventDetails"
        }
        ExecutionFailed => {
            details.failure(event);
            "executionFailedEventDetails"
        }
        ExecutionTimedOut => {
            details.failure(event);
            "executionTimedOutEventDetails"
        }
        ExecutionAborted => {
            details.failure(event);
            "executionAbortedEventDetails"
        }
        ExecutionRedriven => {
            if let Context::RedriveCount(count) = context {
                details.set("redriveCount", json!(count));
            }
            "executionRedrivenEventDetails"
        }
        TaskStateEntered | ChoiceStateEntered | PassStateEntered | WaitStateEntered
        | SucceedStateEntered | FailStateEntered | ParallelStateEntered | MapStateEntered => {
            details.name(event);
            details.input(event.input.as_ref());
            "stateEnteredEventDetails"
        }
        TaskStateExited | ChoiceStateExited | PassStateExited | WaitStateExited
        | SucceedStateExited | ParallelStateExited | MapStateExited => {
            details.name(event);
            details.output(event.output.as_ref());
            "stateExitedEventDetails"
        }
        TaskScheduled => {
            details.resource(event);
            if let Context::Parameters(Some(input)) = context {
                details.set("parameters", json!(input.to_string()));
            }
            "taskScheduledEventDetails"
        }
        TaskStarted => {
            details.resource(event);
            "taskStartedEventDetails"
        }
        TaskSubmitted => {
            details.resource(event);
            details.output(event.output.as_ref());
            "taskSubmittedEventDetails"
        }
        TaskSucceeded => {
            details.resource(event);
            details.output(event.output.as_ref());
            "taskSucceededEventDetails"
        }
        TaskFailed => {
            details.failure(event);
            details.resource(event);
            "taskFailedEventDetails"
        }
        LambdaFunctionScheduled => {
            details.set("resource", json!(event.state));
            "lambdaFunctionScheduledEventDetails"
        }
        LambdaFunctionSucceeded => {
            details.output(event.output.as_ref());
            "lambdaFunctionSucceededEventDetails"
        }
        LambdaFunctionFailed => {
            details.failure(event);
            "lambdaFunctionFailedEventDetails"
        }
        LambdaFunctionTimedOut => {
            details.failure(event);
            "lambdaFunctionTimedOutEventDetails"
        }
        ActivityScheduled => {
            details.set("resource", json!(event.state));
            "activityScheduledEventDetails"
        }
        ActivityStarted => "activityStartedEventDetails",
        ActivitySucceeded => {
            details.output(event.output.as_ref());
            "activitySucceededEventDetails"
        }
        ActivityFailed => {
            details.failure(event);
            "activityFailedEventDetails"
        }
        ActivityTimedOut => {
            details.failure(event);
            "activityTimedOutEventDetails"
        }
        TaskTimedOut => {
            details.failure(event);
            details.resource(event);
            "taskTimedOutEventDetails"
        }
        MapStateStarted => {
            if let Some(length) = event.length {
                details.set("length", json!(length));
            }
            "mapStateStartedEventDetails"
        }
        MapIterationStarted => {
            details.iteration(event);
            "mapIterationStartedEventDetails"
        }
        MapIterationSucceeded => {
            details.iteration(event);
            "mapIterationSucceededEventDetails"
        }
        MapIterationFailed => {
            details.iteration(event);
            "mapIterationFailedEventDetails"
        }
        MapIterationAborted => {
            details.iteration(event);
            "mapIterationAbortedEventDetails"
        }
        MapRunFailed => {
            details.failure(event);
            "mapRunFailedEventDetails"
        }
        EvaluationFailed => {
            details.failure(event);
            if let Some(state) = &event.state {
                details.set("state", json!(state));
            }
            "evaluationFailedEventDetails"
        }
        // Step Functions writes no details for these.
        LambdaFunctionStarted
        | TaskStateAborted
        | WaitStateAborted
        | ParallelStateStarted
        | ParallelStateSucceeded
        | ParallelStateFailed
        | ParallelStateAborted
        | MapStateSucceeded
        | MapStateFailed
        | MapStateAborted
        | MapRunSucceeded
        | MapRunAborted => return None,
        // Step Functions names the map run's ARN; a map run here has no ARN of its own.
        MapRunStarted => return None,
    };
    Some((key, details.0))
}

/// A details object being filled in.
#[derive(Default)]
struct Details(Map<String, Value>);

impl Details {
    fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_owned(), value);
    }

    fn name(&mut self, event: &Event) {
        if let Some(state) = &event.state {
            self.set("name", json!(state));
        }
    }

    /// A payload as Step Functions gives it: JSON text, with details saying it is whole.
    fn payload(&mut self, key: &str, value: Option<&Value>) {
        if let Some(value) = value {
            self.set(key, json!(value.to_string()));
            self.set(&format!("{key}Details"), json!({ "truncated": false }));
        }
    }

    fn input(&mut self, input: Option<&Value>) {
        self.payload("input", input);
    }

    fn output(&mut self, output: Option<&Value>) {
        self.payload("output", output);
    }

    /// The error and cause; an empty one (a Fail state that gives none) is left out, as
    /// Step Functions leaves it out.
    fn failure(&mut self, event: &Event) {
        for (key, text) in [("error", &event.error), ("cause", &event.cause)] {
            if let Some(text) = text.as_deref().filter(|text| !text.is_empty()) {
                self.set(key, json!(text));
            }
        }
    }

    fn resource(&mut self, event: &Event) {
        if let Some(state) = &event.state {
            self.set("resource", json!(state));
        }
        self.set("resourceType", json!(RESOURCE_TYPE));
    }

    /// The Map state's name and the item's index, read from the iteration's branch label.
    fn iteration(&mut self, event: &Event) {
        self.name(event);
        if let Some(index) = event.branch.as_deref().and_then(iteration_index) {
            self.set("index", json!(index));
        }
    }
}

/// A Map iteration's index, from its branch label: `Enrich/1/Transform[3]` gives 3.
fn iteration_index(branch: &str) -> Option<usize> {
    let (_, index) = branch.strip_suffix(']')?.rsplit_once('[')?;
    // `parse` takes a leading `+`; an index is digits only.
    if index.is_empty() || !index.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    index.parse().ok()
}

#[cfg(test)]
#[path = "aws_tests.rs"]
mod tests;
