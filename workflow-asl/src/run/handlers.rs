//! What runs an ASL machine's Task states: handlers registered by resource (a Lambda ARN, an
//! activity, a service integration), or by state for tests and mocks.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde_json::Value;
use workflow_core::definition::{Definition, StateKind};
use workflow_runtime::__private_v0_1::{
    ArgumentError, Requirement, Step, StepArg, StepEnv, StepError, StepInfo,
};
use workflow_runtime::{Callback, Res, StepContext, TaskToken};

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

/// A handler's failure as the engine takes a step's: a type of this module's own, so that
/// compiler messages about `StepError` in users' crates do not list it among theirs.
#[derive(Debug)]
pub(crate) struct HandlerFailure(TaskError);

impl fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StepError for HandlerFailure {
    const ERROR_NAMES: &'static [&'static str] = &[];

    fn error_name(&self) -> &str {
        &self.0.error
    }

    fn cause(&self) -> String {
        self.0.cause.clone()
    }
}

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

/// The handlers of ASL Task states, registered on the runtime as a resource
/// (`RuntimeBuilder::resource(handlers)`).
///
/// A task runs the handler registered for its state (by workflow and state name), else the
/// one registered for its `Resource`. A task with neither fails with `States.Runtime`.
#[derive(Clone, Default)]
pub struct Handlers {
    by_resource: HashMap<String, Handler>,
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
            Arc::new(move |call| Box::pin(handler(call))),
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
    fn find(&self, workflow: &str, state: &str, resource: &str, input: &Value) -> Option<Target> {
        let key = (workflow.to_owned(), state.to_owned());
        if let Some(handler) = self.by_state.get(&key) {
            return Some(match self.mocked.contains(&key) {
                true => Target::Mocked(Arc::clone(handler)),
                false => Target::Direct(Arc::clone(handler)),
            });
        }
        if resource == LAMBDA_INVOKE {
            if let Some(handler) = input["FunctionName"]
                .as_str()
                .and_then(|name| self.function(name))
            {
                return Some(Target::LambdaInvoke(Arc::clone(handler)));
            }
        }
        self.by_resource
            .get(resource)
            .map(|handler| Target::Direct(Arc::clone(handler)))
    }

    /// The handler that answers a call of state `state` of `workflow` to `resource` other
    /// than its task (a Map state's item reader), if there is one.
    pub(crate) fn handler_for(
        &self,
        workflow: &str,
        state: &str,
        resource: &str,
        request: &Value,
    ) -> Option<Handler> {
        match self.find(workflow, state, resource, request)? {
            Target::Direct(handler) | Target::Mocked(handler) | Target::LambdaInvoke(handler) => {
                Some(handler)
            }
        }
    }

    /// The handler of the Lambda function `name`: registered by its ARN, or by its name alone
    /// (`Charge` for `arn:aws:lambda:us-east-1:123456789012:function:Charge`).
    fn function(&self, name: &str) -> Option<&Handler> {
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
                    .map(|(_, handler)| handler)
            })
    }
}

/// The resource of Step Functions' optimised Lambda integration.
const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// How a task's handler is called.
enum Target {
    /// On the task's input; its result is the task's.
    Direct(Handler),
    /// A mocked response: its answer is the task's result, even for a callback task.
    Mocked(Handler),
    /// On the `Payload` of a `lambda:invoke` task; its result is wrapped as the integration
    /// answers: `{"ExecutedVersion": "$LATEST", "Payload": …, "StatusCode": 200}`.
    LambdaInvoke(Handler),
}

/// A mocked task's answer: a result, or a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// The task succeeds with this result.
    Return(Value),
    /// The task fails with this error.
    Throw(TaskError),
}

/// The step of every ASL Task state: calls the state's handler.
pub(crate) struct AslTask;

impl Step for AslTask {
    type Input = Value;
    type Output = Value;
    type Error = HandlerFailure;
    type Returned = Value;

    const INFO: StepInfo = StepInfo::__new("asl", "workflow::asl::Handlers", None, None, None);

    fn into_output(returned: Value) -> Result<Value, Callback<Value>> {
        Ok(returned)
    }

    fn requirements(_out: &mut Vec<Requirement>) {}

    fn call(
        input: Value,
        env: &StepEnv<'_>,
    ) -> Result<impl Future<Output = Result<Value, HandlerFailure>> + Send + 'static, ArgumentError>
    {
        let context = StepContext::extract(env)?;
        let handlers = Res::<Handlers>::extract(env).ok();
        let resource = task_resource(env.workflow_definition(), context.state());
        let target = handlers.as_deref().and_then(|handlers| {
            handlers.find(context.workflow(), context.state(), &resource, &input)
        });
        let timed = has_timers(env.workflow_definition(), context.state());
        Ok(async move {
            let result = match target {
                // A mocked timeout leaves the task running, for the state's own timer to
                // end it as a time-out.
                Some(Target::Mocked(handler)) => {
                    let call = TaskCall {
                        input,
                        context,
                        token: None,
                    };
                    match handler(call).await {
                        Err(error) if timed && is_timeout(&error.error) => {
                            std::future::pending().await
                        }
                        answered => answered,
                    }
                }
                Some(Target::Direct(handler)) => {
                    handler(TaskCall {
                        input,
                        context,
                        token: None,
                    })
                    .await
                }
                Some(Target::LambdaInvoke(handler)) => {
                    let payload = input.get("Payload").cloned().unwrap_or(Value::Null);
                    handler(TaskCall {
                        input: payload,
                        context,
                        token: None,
                    })
                    .await
                    .map(|result| {
                        serde_json::json!({
                            "ExecutedVersion": "$LATEST",
                            "Payload": result,
                            "StatusCode": 200
                        })
                    })
                }
                None => Err(TaskError::new(
                    "States.Runtime",
                    format!(
                        "no handler runs state '{}' (resource '{resource}'): register one in `workflow::asl::Handlers`",
                        context.state()
                    ),
                )),
            };
            result.map_err(HandlerFailure)
        })
    }
}

/// The step of every `.waitForTaskToken` and `.sync` Task state: works out the state's
/// `Parameters` (or `Arguments`) with the attempt's token as `$$.Task.Token`, calls the
/// handler, and waits for the token (records `TaskSubmitted`, then the task's end); a mocked
/// response, or a `.sync` handler's answer, completes the token at once.
pub(crate) struct AslCallbackTask;

impl Step for AslCallbackTask {
    type Input = Value;
    type Output = Value;
    type Error = HandlerFailure;
    type Returned = Callback<Value>;

    const INFO: StepInfo = StepInfo::__new("asl", "workflow::asl::Handlers", None, None, None);
    const CALLBACK: bool = true;

    fn into_output(returned: Callback<Value>) -> Result<Value, Callback<Value>> {
        Err(returned)
    }

    fn requirements(_out: &mut Vec<Requirement>) {}

    fn call(
        input: Value,
        env: &StepEnv<'_>,
    ) -> Result<
        impl Future<Output = Result<Callback<Value>, HandlerFailure>> + Send + 'static,
        ArgumentError,
    > {
        let context = StepContext::extract(env)?;
        let token = TaskToken::extract(env)?;
        let handlers = Res::<Handlers>::extract(env).ok();
        let definition = env.workflow_definition();
        let resource = task_resource(definition, context.state());
        let timed = has_timers(definition, context.state());
        let sync = Pattern::of(&resource) == Pattern::Sync;
        let prepared =
            super::callback_input::prepare(definition, context.state(), input, token.as_str());
        let target = match &prepared {
            Ok(input) => handlers.as_deref().and_then(|handlers| {
                handlers.find(context.workflow(), context.state(), &resource, input)
            }),
            Err(_) => None,
        };
        Ok(async move {
            let input = prepared.map_err(HandlerFailure)?;
            let call = TaskCall {
                input,
                context,
                token: Some(token.as_str().to_owned()),
            };
            match target {
                // A mocked response answers the token: its result, or its failure. A mocked
                // timeout leaves it unanswered, for the state's own timer to end the wait.
                Some(Target::Mocked(handler)) => Ok(match handler(call).await {
                    Ok(result) => Callback::answered(result),
                    Err(error) if timed && is_timeout(&error.error) => Callback::new(),
                    Err(error) => Callback::answered_with_failure(error.error, error.cause),
                }),
                // A `.sync` job's handler answers with the job's result: the task has
                // submitted the job, then its end is the handler's answer.
                Some(Target::Direct(handler) | Target::LambdaInvoke(handler)) if sync => {
                    Ok(match handler(call).await {
                        Ok(result) => Callback::answered(result),
                        Err(error) => Callback::answered_with_failure(error.error, error.cause),
                    })
                }
                Some(Target::Direct(handler) | Target::LambdaInvoke(handler)) => {
                    handler(call).await.map(|_reply| Callback::new())
                }
                None => Err(TaskError::new(
                    "States.Runtime",
                    format!(
                        "no handler runs state '{}' (resource '{resource}'): register one in `workflow::asl::Handlers`",
                        call.context.state()
                    ),
                )),
            }
            .map_err(HandlerFailure)
        })
    }
}

/// How a Task state's resource is called, as its ARN's suffix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// The call's answer is the task's result.
    RequestResponse,
    /// `.sync` (or `.sync:2`): the call submits a job, whose end is the task's.
    Sync,
    /// `.waitForTaskToken`: the call hands on a token, whose answer is the task's result.
    WaitForTaskToken,
}

impl Pattern {
    /// The pattern of `resource`.
    pub(crate) fn of(resource: &str) -> Self {
        let suffix = resource.rsplit_once(':').map_or(resource, |(rest, last)| {
            // `.sync:2` ends in a version: the pattern is before it.
            match last.parse::<u32>() {
                Ok(_) => rest,
                Err(_) => resource,
            }
        });
        if suffix.ends_with(".waitForTaskToken") {
            Pattern::WaitForTaskToken
        } else if suffix.ends_with(".sync") {
            Pattern::Sync
        } else {
            Pattern::RequestResponse
        }
    }
}

/// Whether task state `state` has a timeout or a heartbeat, fixed or read from its input.
fn has_timers(definition: &Definition, state: &str) -> bool {
    match definition
        .state_by_name(state)
        .map(|(_, state)| &state.kind)
    {
        Some(StateKind::Task(task)) => {
            task.timeout.is_some()
                || task.heartbeat.is_some()
                || task.timeout_function.is_some()
                || task.heartbeat_function.is_some()
        }
        _ => false,
    }
}

/// Whether `error` names a timeout.
fn is_timeout(error: &str) -> bool {
    matches!(error, "States.Timeout" | "States.HeartbeatTimeout")
}

/// The `Resource` of task state `state` (what runs it, as its definition's step function).
fn task_resource(definition: &Definition, state: &str) -> String {
    match definition
        .state_by_name(state)
        .map(|(_, state)| &state.kind)
    {
        Some(StateKind::Task(task)) => task.step.function.clone(),
        _ => String::new(),
    }
}
