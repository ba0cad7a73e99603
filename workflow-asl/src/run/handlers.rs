//! What runs an ASL machine's Task states: handlers registered by resource (a Lambda ARN, an
//! activity, a service integration), or by state for tests and mocks.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde_json::Value;
use workflow_runtime::__private_v0_1::{ArgumentError, Step, StepEnv, StepError};
use workflow_runtime::StepContext;

/// How a task failed: its error name (what retriers and catchers match) and cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The error name, e.g. `Lambda.ServiceException` or `PaymentDeclined`.
    pub error: String,
    /// The human-readable cause.
    pub cause: String,
}

impl TaskError {
    /// A failure named `error`, with `cause`.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cause)
    }
}

impl std::error::Error for TaskError {}

/// One call of a task: its input, and where it runs.
#[derive(Debug)]
pub struct TaskCall {
    /// The task's input: the state's input after `InputPath` and `Parameters`.
    pub input: Value,
    /// The execution, workflow, state and attempt.
    pub context: StepContext,
    /// For a `.waitForTaskToken` task, the attempt's token (also in the input where the
    /// definition puts `$$.Task.Token`): whoever answers completes it with
    /// `Runtime::send_task_success` or `send_task_failure`. The handler's own result is then
    /// the service's reply, and the task's result comes with the token.
    pub token: Option<String>,
}

pub(crate) type Handler =
    Arc<dyn Fn(TaskCall) -> BoxFuture<'static, Result<Value, TaskError>> + Send + Sync>;

/// A `#[step]` function as a handler: started on the task's JSON input, in the engine's view
/// of the call, which gives the step its further arguments (resources, context).
type StepHandler = Arc<
    dyn Fn(
            Value,
            &StepEnv<'_>,
        ) -> Result<BoxFuture<'static, Result<Value, TaskError>>, ArgumentError>
        + Send
        + Sync,
>;

/// What a task's handler is: a function of the task's call, or a step.
#[derive(Clone)]
pub(crate) enum Call {
    Json(Handler),
    Step(StepHandler),
}

impl Call {
    /// Starts the call `task` in the step environment `env`.
    pub(crate) fn start(
        &self,
        task: TaskCall,
        env: &StepEnv<'_>,
    ) -> Result<BoxFuture<'static, Result<Value, TaskError>>, ArgumentError> {
        match self {
            Call::Json(handler) => Ok(handler(task)),
            Call::Step(step) => step(task.input, env),
        }
    }
}

/// The handlers of ASL Task states, registered on the runtime as a resource
/// (`RuntimeBuilder::resource(handlers)`).
///
/// A task runs the handler registered for its state (by workflow and state name), else the
/// one registered for its `Resource`. A task with neither fails with `States.Runtime`.
#[derive(Clone, Default)]
pub struct Handlers {
    by_resource: HashMap<String, Call>,
    by_state: HashMap<(String, String), Handler>,
    /// The states answered by mocked responses (`respond`), whose answers are the task's
    /// result even for a `.waitForTaskToken` task (they complete its token).
    mocked: std::collections::HashSet<(String, String)>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut resources: Vec<&str> = self.by_resource.keys().map(String::as_str).collect();
        resources.sort_unstable();
        f.debug_struct("Handlers")
            .field("resources", &resources)
            .field("states", &self.by_state.len())
            .finish()
    }
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs tasks whose `Resource` is `resource` with `handler`. A Lambda function's handler
    /// (registered by its ARN, or by its name alone) also runs the `lambda:invoke` tasks whose
    /// `FunctionName` names it: on their `Payload`, its result answered as the integration
    /// does (`{"ExecutedVersion": "$LATEST", "Payload": …, "StatusCode": 200}`).
    #[must_use]
    pub fn resource<F, Fut>(mut self, resource: &str, handler: F) -> Self
    where
        F: Fn(TaskCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.by_resource.insert(
            resource.to_owned(),
            Call::Json(Arc::new(move |call| Box::pin(handler(call)))),
        );
        self
    }

    /// Runs tasks whose `Resource` names the step `S` (a `#[step]` function) with it: a
    /// resource that is the step's name, or a Lambda function ARN ending in it (as the ASL
    /// export of a `workflow!` writes them), and `lambda:invoke` tasks whose `FunctionName`
    /// names it. The step's input is read from the task's JSON and its output written back
    /// as JSON; its errors are named as its error type names them, and its other arguments
    /// (`Res<T>`, `StepContext`) come from the runtime as for any step. A callback step
    /// cannot run an ASL task: it fails with `States.Runtime`.
    ///
    /// ```
    /// use workflow::asl::Handlers;
    /// use workflow::prelude::*;
    ///
    /// #[step]
    /// async fn double(n: u64) -> u64 {
    ///     n * 2
    /// }
    ///
    /// // Runs `"Resource": "arn:aws:lambda:us-east-1:000000000000:function:double"`.
    /// let handlers = Handlers::new().step::<double>();
    /// ```
    #[must_use]
    pub fn step<S: Step>(mut self) -> Self {
        self.by_resource.insert(
            S::INFO.name().to_owned(),
            Call::Step(Arc::new(start_step::<S>)),
        );
        self
    }

    /// Runs state `state` of workflow `workflow` with `handler`, whatever its resource.
    #[must_use]
    pub fn state<F, Fut>(mut self, workflow: &str, state: &str, handler: F) -> Self
    where
        F: Fn(TaskCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.by_state.insert(
            (workflow.to_owned(), state.to_owned()),
            Arc::new(move |call| Box::pin(handler(call))),
        );
        self
    }

    /// Answers state `state` of workflow `workflow` with `responses`, one per call of the
    /// state in an execution (the first call gets the first); past the last, the last again.
    #[must_use]
    pub fn respond(mut self, workflow: &str, state: &str, responses: Vec<Response>) -> Self {
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        self.mocked.insert((workflow.to_owned(), state.to_owned()));
        self.state(workflow, state, move |call: TaskCall| {
            let execution = call.context.execution_id().as_str().to_owned();
            let index = {
                let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
                let count = calls.entry(execution).or_insert(0);
                *count += 1;
                *count - 1
            };
            let response = responses
                .get(index)
                .or(responses.last())
                .cloned()
                .unwrap_or(Response::Return(Value::Null));
            async move {
                match response {
                    Response::Return(value) => Ok(value),
                    Response::Throw(error) => Err(error),
                }
            }
        })
    }

    /// What runs state `state` of `workflow`, whose resource is `resource` and whose input
    /// is `input`: its own handler; else, for the Lambda integration
    /// (`arn:aws:states:::lambda:invoke`), the handler of the function its `FunctionName`
    /// names, called on its `Payload` and answered in the integration's shape; else the
    /// resource's handler.
    pub(crate) fn find(
        &self,
        workflow: &str,
        state: &str,
        resource: &str,
        input: &Value,
    ) -> Option<Target> {
        let key = (workflow.to_owned(), state.to_owned());
        if let Some(handler) = self.by_state.get(&key) {
            let kind = match self.mocked.contains(&key) {
                true => TargetKind::Mocked,
                false => TargetKind::Direct,
            };
            return Some(Target {
                kind,
                call: Call::Json(Arc::clone(handler)),
            });
        }
        if resource == LAMBDA_INVOKE {
            if let Some(call) = input["FunctionName"]
                .as_str()
                .and_then(|name| self.function(name))
            {
                return Some(Target {
                    kind: TargetKind::LambdaInvoke,
                    call: call.clone(),
                });
            }
        }
        let call = match resource.contains(":function:") {
            true => self.function(resource),
            false => self.by_resource.get(resource),
        };
        call.map(|call| Target {
            kind: TargetKind::Direct,
            call: call.clone(),
        })
    }

    /// The handler that answers a call of state `state` of `workflow` to `resource` other
    /// than its task (a Map state's item reader), if there is one: a function of the call,
    /// not a step.
    pub(crate) fn handler_for(
        &self,
        workflow: &str,
        state: &str,
        resource: &str,
        request: &Value,
    ) -> Option<Handler> {
        match self.find(workflow, state, resource, request)?.call {
            Call::Json(handler) => Some(handler),
            Call::Step(_) => None,
        }
    }

    /// The handler of the Lambda function `name`: registered by its ARN, or by its name alone
    /// (`Charge` for `arn:aws:lambda:us-east-1:123456789012:function:Charge`).
    fn function(&self, name: &str) -> Option<&Call> {
        let short = |arn: &str| arn.rsplit(":function:").next().unwrap_or(arn).to_owned();
        let wanted = short(name);
        self.by_resource
            .get(name)
            .or_else(|| self.by_resource.get(&wanted))
            .or_else(|| {
                self.by_resource
                    .iter()
                    .find(|(resource, _)| {
                        resource.contains(":function:") && short(resource) == wanted
                    })
                    .map(|(_, call)| call)
            })
    }
}

/// Starts step `S` on a task's JSON `input`, in `env`.
fn start_step<S: Step>(
    input: Value,
    env: &StepEnv<'_>,
) -> Result<BoxFuture<'static, Result<Value, TaskError>>, ArgumentError> {
    let name = S::INFO.name();
    let input: S::Input = match serde_json::from_value(input) {
        Ok(input) => input,
        Err(error) => {
            let cause = format!("the input of step `{name}` does not fit its type: {error}");
            return Ok(Box::pin(std::future::ready(Err(TaskError::new(
                "States.Runtime",
                cause,
            )))));
        }
    };
    let running = S::call(input, env)?;
    Ok(Box::pin(async move {
        let returned = running
            .await
            .map_err(|error| TaskError::new(error.error_name(), error.cause()))?;
        let Ok(output) = S::into_output(returned) else {
            return Err(TaskError::new(
                "States.Runtime",
                format!("step `{name}` is a callback step, which cannot run an ASL task"),
            ));
        };
        serde_json::to_value(output).map_err(|error| {
            TaskError::new(
                "States.Runtime",
                format!("the output of step `{name}` is not JSON: {error}"),
            )
        })
    }))
}

/// The resource of Step Functions' optimised Lambda integration.
const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// What runs a task: its call, and how it is called.
pub(crate) struct Target {
    pub(crate) kind: TargetKind,
    pub(crate) call: Call,
}

/// How a task's handler is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetKind {
    /// Registered for the state or the resource.
    Direct,
    /// A mocked response: its answer is the task's result, even for a callback task.
    Mocked,
    /// On the `Payload` of a `lambda:invoke` task; its result is wrapped as the integration
    /// answers: `{"ExecutedVersion": "$LATEST", "Payload": …, "StatusCode": 200}`.
    LambdaInvoke,
}

/// A mocked task's answer: a result, or a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// The task succeeds with this result.
    Return(Value),
    /// The task fails with this error.
    Throw(TaskError),
}
