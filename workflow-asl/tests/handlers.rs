//! What runs a Task state: the handler of its state, of its Lambda function through the
//! `lambda:invoke` integration (answered in the integration's shape), or of its resource.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl, TaskCall, TaskError};
use workflow_runtime::{Mode, Runtime, VirtualClock};

async fn greet(call: TaskCall) -> Result<Value, TaskError> {
    Ok(json!(format!(
        "hello {}",
        call.input["who"].as_str().unwrap_or("?")
    )))
}

async fn run(definition: Value, handlers: Handlers) -> workflow_runtime::Execution<Value> {
    let workflow = AslWorkflow::from_json("Hello", Mode::Express, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(handlers)
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    runtime
        .execute_json("Hello", json!({"who": "Ada"}))
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn lambda_invoke_calls_the_function_on_its_payload_and_wraps_the_result() {
    let definition = json!({
        "StartAt": "Invoke",
        "States": {"Invoke": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Greet", "Payload.$": "$"},
            "End": true
        }}
    });
    let expected = json!({"ExecutedVersion": "$LATEST", "Payload": "hello Ada", "StatusCode": 200});
    let by_arn = Handlers::new().resource(
        "arn:aws:lambda:us-east-1:123456789012:function:Greet",
        greet,
    );
    assert_eq!(
        run(definition.clone(), by_arn).await.output(),
        Some(&expected)
    );
    // A function registered under its name alone answers for its ARN too.
    let by_name = Handlers::new().resource(
        "arn:aws:lambda:eu-west-1:000000000000:function:Greet",
        greet,
    );
    assert_eq!(run(definition, by_name).await.output(), Some(&expected));
}

#[tokio::test(start_paused = true)]
async fn a_state_handler_wins_over_the_resource_and_a_missing_one_says_what_to_register() {
    let definition = json!({
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": "arn:work", "End": true}}
    });
    let both = Handlers::new()
        .resource("arn:work", |_call| async { Ok(json!("by resource")) })
        .state("Hello", "Work", |_call| async { Ok(json!("by state")) });
    assert_eq!(
        run(definition.clone(), both).await.output(),
        Some(&json!("by state"))
    );
    let none = run(definition, Handlers::new()).await;
    let failure = none.failure().unwrap();
    assert!(
        failure
            .cause()
            .contains("no handler runs state 'Work' (resource 'arn:work')"),
        "{failure:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sync_task_records_its_job_submitted_then_the_job_s_end() {
    const JOB: &str = "arn:aws:states:::states:startExecution.sync:2";
    let definition = |resource: &str| {
        json!({"StartAt": "Job", "States": {"Job": {
            "Type": "Task", "Resource": resource, "Parameters": {"Input.$": "$"}, "End": true
        }}})
    };
    let kinds = |execution: &workflow_runtime::Execution<Value>| -> Vec<&'static str> {
        execution
            .history()
            .events()
            .iter()
            .map(|event| event.kind.name())
            .filter(|name| name.starts_with("Task"))
            .collect()
    };
    let done = run(definition(JOB), Handlers::new().resource(JOB, greet)).await;
    assert_eq!(done.output(), Some(&json!("hello ?")));
    assert_eq!(
        kinds(&done),
        [
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited"
        ]
    );
    let failing = Handlers::new().resource(JOB, |_call: TaskCall| async {
        Err::<Value, _>(TaskError::new("SomeFailure", "the job failed"))
    });
    let failed = run(definition(JOB), failing).await;
    assert_eq!(
        failed.failure().map(|failure| failure.error().to_owned()),
        Some("SomeFailure".to_owned())
    );
    assert_eq!(
        kinds(&failed),
        [
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskFailed"
        ]
    );
}

mod steps {
    use workflow::prelude::*;

    pub(crate) struct Rates {
        pub(crate) percent: u64,
    }

    /// Why a charge fails.
    #[derive(Debug, thiserror::Error, StepError)]
    pub(crate) enum ChargeError {
        #[error("the card was declined")]
        Declined,
    }

    /// Adds the fee, as the rates resource says.
    #[step]
    pub(crate) async fn add_fee(amount: u64, rates: Res<Rates>) -> Result<u64, ChargeError> {
        if amount == 0 {
            return Err(ChargeError::Declined);
        }
        Ok(amount + amount * rates.percent / 100)
    }
}

#[tokio::test(start_paused = true)]
async fn a_step_runs_the_tasks_that_name_it_with_its_resources_and_its_error_names() {
    let definition = json!({"StartAt": "Fee", "States": {
        "Fee": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:add_fee", "Next": "Invoke"},
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "add_fee", "Payload.$": "$"},
                   "OutputPath": "$.Payload", "End": true}
    }});
    let workflow = AslWorkflow::from_json("Fees", Mode::Express, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(Handlers::new().step::<steps::add_fee>())
        .resource(steps::Rates { percent: 10 })
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    let charged = runtime.execute_json("Fees", json!(100)).await.unwrap();
    assert_eq!(charged.output(), Some(&json!(121)));

    let declined = runtime.execute_json("Fees", json!(0)).await.unwrap();
    let failure = declined.failure().unwrap();
    assert_eq!(failure.error(), "ChargeError.Declined");
    assert_eq!(failure.cause(), "the card was declined");

    let mistyped = runtime.execute_json("Fees", json!("ten")).await.unwrap();
    let failure = mistyped.failure().unwrap();
    assert_eq!(failure.error(), "States.Runtime");
    assert!(failure
        .cause()
        .contains("the input of step `add_fee` does not fit its type"));
}

#[tokio::test(start_paused = true)]
async fn a_sync_task_without_a_handler_runs_the_machine_it_names_as_a_child() {
    let child = AslWorkflow::from_json(
        "Child",
        Mode::Standard,
        &json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Double"}
            ], "Default": "Refuse"},
            "Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"}, "End": true},
            "Refuse": {"Type": "Fail", "Error": "NotPositive", "Cause": "n must be above 0"}
        }}),
    )
    .unwrap();
    let parent = AslWorkflow::from_json(
        "Parent",
        Mode::Standard,
        &json!({"StartAt": "Nested", "States": {"Nested": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:Child",
                "Input.$": "$"
            },
            "OutputPath": "$.Output",
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failed", "Next": "Caught"}],
            "End": true
        }, "Caught": {"Type": "Pass", "End": true}}}),
    )
    .unwrap();
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register_asl(&child)
        .register_asl(&parent)
        .build()
        .unwrap();

    let doubled = runtime
        .execute_json("Parent", json!({"n": 4}))
        .await
        .unwrap();
    assert_eq!(doubled.output(), Some(&json!({"n": 8})));
    let children = doubled.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].workflow, "Child");
    let kinds: Vec<&str> = doubled
        .history()
        .events()
        .iter()
        .map(|event| event.kind.name())
        .collect();
    assert!(
        kinds
            .windows(2)
            .any(|pair| pair == ["TaskSubmitted", "TaskSucceeded"]),
        "{kinds:?}"
    );

    let refused = runtime
        .execute_json("Parent", json!({"n": 0}))
        .await
        .unwrap();
    let failed = &refused.output().expect("caught")["failed"];
    assert_eq!(failed["Error"], "States.TaskFailed");
    let cause: Value = serde_json::from_str(failed["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["Status"], "FAILED");
    assert_eq!(cause["Error"], "NotPositive");
    assert_eq!(cause["Cause"], "n must be above 0");
    assert!(cause["ExecutionArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:states:local:000000000000:execution:Child:"));
}

#[tokio::test(start_paused = true)]
async fn a_retried_task_works_its_parameters_out_again_with_its_retry_count() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = std::sync::Arc::default();
    let record = std::sync::Arc::clone(&seen);
    let flaky = Handlers::new().resource("arn:flaky", move |call: TaskCall| {
        let record = std::sync::Arc::clone(&record);
        async move {
            let mut seen = record.lock().unwrap();
            seen.push(call.input.clone());
            match seen.len() {
                1 | 2 => Err(TaskError::new("Busy", "try again")),
                _ => Ok(call.input),
            }
        }
    });
    let execution = run(
        json!({"StartAt": "Flaky", "States": {"Flaky": {
            "Type": "Task", "Resource": "arn:flaky",
            "Parameters": {"retry.$": "$$.State.RetryCount", "who.$": "$.who"},
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            "End": true
        }}}),
        flaky,
    )
    .await;
    assert_eq!(execution.output(), Some(&json!({"retry": 2, "who": "Ada"})));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            json!({"retry": 0, "who": "Ada"}),
            json!({"retry": 1, "who": "Ada"}),
            json!({"retry": 2, "who": "Ada"})
        ]
    );
}
