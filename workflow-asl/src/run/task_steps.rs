//! The steps that run ASL Task states on the engine: each finds the state's handler in
//! [`Handlers`] and calls it, as a request-response task, or as a task that submits work and
//! waits for its answer (`.sync`, `.waitForTaskToken`).

use std::fmt;
use std::future::Future;

use serde_json::Value;
use workflow_core::definition::{Definition, StateKind};
use workflow_runtime::__private_v0_1::{
    ArgumentError, Requirement, Step, StepArg, StepEnv, StepError, StepInfo,
};
use workflow_runtime::{Callback, Res, StepContext, TaskToken};

use super::handlers::{Handlers, TargetKind, TaskCall, TaskError};

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
        let definition = env.workflow_definition();
        let timed = has_timers(definition, context.state());
        let resource = task_resource(definition, context.state());
        let target = Res::<Handlers>::extract(env).ok().and_then(|handlers| {
            handlers.find(context.workflow(), context.state(), &resource, &input)
        });
        let started = match target {
            None => Err(missing(context.state(), &resource)),
            Some(target) => {
                let input = match target.kind {
                    TargetKind::LambdaInvoke => {
                        input.get("Payload").cloned().unwrap_or(Value::Null)
                    }
                    TargetKind::Direct | TargetKind::Mocked => input,
                };
                let call = TaskCall {
                    input,
                    context,
                    token: None,
                };
                Ok((target.kind, target.call.start(call, env)?))
            }
        };
        Ok(async move {
            let (kind, running) = started.map_err(HandlerFailure)?;
            let result = match kind {
                // A mocked timeout leaves the task running, for the state's own timer to
                // end it as a time-out.
                TargetKind::Mocked => match running.await {
                    Err(error) if timed && is_timeout(&error.error) => std::future::pending().await,
                    answered => answered,
                },
                TargetKind::Direct => running.await,
                TargetKind::LambdaInvoke => running.await.map(|result| {
                    serde_json::json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": result,
                        "StatusCode": 200
                    })
                }),
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
        let definition = env.workflow_definition();
        let resource = task_resource(definition, context.state());
        let timed = has_timers(definition, context.state());
        let sync = Pattern::of(&resource) == Pattern::Sync;
        let handlers = Res::<Handlers>::extract(env).ok();
        let started = match super::callback_input::prepare(
            definition,
            context.state(),
            input,
            token.as_str(),
        ) {
            Err(error) => Err(error),
            Ok(input) => match handlers.as_deref().and_then(|handlers| {
                handlers.find(context.workflow(), context.state(), &resource, &input)
            }) {
                // No handler: a nested execution of a machine registered here.
                None => match super::child_machine::start_child(env, &resource, &input) {
                    Some(child) => Ok((TargetKind::Direct, child?)),
                    None => Err(missing(context.state(), &resource)),
                },
                Some(target) => {
                    let call = TaskCall {
                        input,
                        context,
                        token: Some(token.as_str().to_owned()),
                    };
                    Ok((target.kind, target.call.start(call, env)?))
                }
            },
        };
        Ok(async move {
            let (kind, running) = started.map_err(HandlerFailure)?;
            match kind {
                // A mocked response answers the token: its result, or its failure. A mocked
                // timeout leaves it unanswered, for the state's own timer to end the wait.
                TargetKind::Mocked => Ok(match running.await {
                    Ok(result) => Callback::answered(result),
                    Err(error) if timed && is_timeout(&error.error) => Callback::new(),
                    Err(error) => Callback::answered_with_failure(error.error, error.cause),
                }),
                // A `.sync` job's handler answers with the job's result: the task has
                // submitted the job, then its end is the handler's answer.
                TargetKind::Direct | TargetKind::LambdaInvoke if sync => Ok(match running.await {
                    Ok(result) => Callback::answered(result),
                    Err(error) => Callback::answered_with_failure(error.error, error.cause),
                }),
                TargetKind::Direct | TargetKind::LambdaInvoke => {
                    running.await.map(|_reply| Callback::new())
                }
            }
            .map_err(HandlerFailure)
        })
    }
}

/// The failure of a task no handler runs.
fn missing(state: &str, resource: &str) -> TaskError {
    TaskError::new(
        "States.Runtime",
        format!(
            "no handler runs state '{state}' (resource '{resource}'): register one in `workflow::asl::Handlers`"
        ),
    )
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
