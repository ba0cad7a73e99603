//! A durable ASL execution that resumes after a restart runs its states again from its
//! history: what it works out must come out as it did before (random intrinsic functions,
//! the context object's times), or its output would contradict what it recorded; a task it
//! finished is not run again. On every store: memory, SQLite, and PostgreSQL when
//! `WORKFLOW_TEST_POSTGRES_URL` names a server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl};
use workflow_runtime::history::EventType;
use workflow_runtime::store::Store;
use workflow_runtime::{ExecutionId, Mode, Runtime, VirtualClock};

#[path = "../../tests/support/stores.rs"]
mod stores;

fn runtime(store: Arc<dyn Store>, clock: VirtualClock) -> Runtime {
    let workflow = AslWorkflow::from_json(
        "Resume",
        Mode::Standard,
        &json!({
            "StartAt": "Draw",
            "States": {
                "Draw": {
                    "Type": "Pass",
                    "Parameters": {
                        "id.$": "States.UUID()",
                        "n.$": "States.MathRandom(0, 1000000000)",
                        "entered.$": "$$.State.EnteredTime"
                    },
                    "Assign": {"again.$": "States.UUID()"},
                    "Next": "Hold"
                },
                "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                "Done": {"Type": "Pass", "Parameters": {"drawn.$": "$", "again.$": "$again"}, "End": true}
            }
        }),
    )
    .unwrap();
    Runtime::builder()
        .store_arc(store)
        .clock(clock)
        .resource(Handlers::new())
        .register_asl(&workflow)
        .build()
        .unwrap()
}

async fn until_waiting(runtime: &Runtime, id: &ExecutionId) {
    for _ in 0..1000 {
        let events = runtime.history(id, 0, 100).await.unwrap();
        if events
            .iter()
            .any(|event| event.kind == EventType::WaitStateEntered)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the execution never reached its Wait state");
}

#[tokio::test(start_paused = true)]
async fn a_resumed_execution_draws_and_dates_what_it_did_before_the_restart() {
    for (label, store, _keep) in stores::stores().await {
        let clock = VirtualClock::new();
        let before = runtime(Arc::clone(&store), clock.clone());
        let handle = before
            .start_json("Resume", Some("r-1"), json!({}))
            .await
            .unwrap();
        let id = handle.id().clone();
        until_waiting(&before, &id).await;
        let drawn_before = before.history(&id, 0, 100).await.unwrap()[2]
            .output
            .clone()
            .unwrap();
        before.shutdown();

        tokio::time::sleep(Duration::from_secs(60)).await;
        let after = runtime(store, clock);
        after.recover().await.unwrap();
        let output: Value = after
            .handle_json(id.clone())
            .result()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            output["drawn"], drawn_before,
            "{label}: the Pass state ran again and drew the same"
        );
        let events = after.history(&id, 0, 100).await.unwrap();
        let exits: Vec<_> = events
            .iter()
            .filter(|event| event.kind == EventType::PassStateExited)
            .collect();
        assert_eq!(exits.len(), 2, "{label}: Draw and Done, each once");
        assert!(output["again"]
            .as_str()
            .is_some_and(|uuid| uuid.len() == 36));
        assert_ne!(
            output["again"], output["drawn"]["id"],
            "{label}: two draws of one visit differ"
        );
        after.shutdown();
    }
}

/// How many times the Lambda handler ran.
static CHARGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn charge(_call: workflow_asl::TaskCall) -> Result<Value, workflow_asl::TaskError> {
    CHARGED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(json!({"receipt": "r-1"}))
}

fn lambda_runtime(store: Arc<dyn Store>, clock: VirtualClock) -> Runtime {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:Charge";
    let workflow = AslWorkflow::from_json(
        "Charge",
        Mode::Standard,
        &json!({
            "StartAt": "Charge",
            "States": {
                "Charge": {"Type": "Task", "Resource": arn, "ResultPath": "$.payment", "Next": "Hold"},
                "Hold": {"Type": "Wait", "Seconds": 3600, "End": true}
            }
        }),
    )
    .unwrap();
    Runtime::builder()
        .store_arc(store)
        .clock(clock)
        .resource(Handlers::new().resource(arn, charge))
        .register_asl(&workflow)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_lambda_task_records_lambda_events_and_is_not_run_again_on_resume() {
    for (label, store, _keep) in stores::stores().await {
        let charged = CHARGED.load(std::sync::atomic::Ordering::SeqCst);
        let clock = VirtualClock::new();
        let before = lambda_runtime(Arc::clone(&store), clock.clone());
        let id = before
            .start_json("Charge", Some("c-1"), json!({"order": 7}))
            .await
            .unwrap()
            .id()
            .clone();
        until_waiting(&before, &id).await;
        before.shutdown();

        let after = lambda_runtime(store, clock);
        after.recover().await.unwrap();
        let output: Value = after
            .handle_json(id.clone())
            .result()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            output,
            json!({"order": 7, "payment": {"receipt": "r-1"}}),
            "{label}"
        );
        assert_eq!(
            CHARGED.load(std::sync::atomic::Ordering::SeqCst) - charged,
            1,
            "{label}: replayed, not run again"
        );
        let kinds: Vec<EventType> = after
            .history(&id, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|event| event.kind)
            .collect();
        assert_eq!(
            kinds[1..6],
            [
                EventType::TaskStateEntered,
                EventType::LambdaFunctionScheduled,
                EventType::LambdaFunctionStarted,
                EventType::LambdaFunctionSucceeded,
                EventType::TaskStateExited
            ],
            "{label}"
        );
        after.shutdown();
    }
}
