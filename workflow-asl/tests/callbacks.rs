//! `.waitForTaskToken` tasks: the handler gets the attempt's token (and the input carries it
//! where the definition puts `$$.Task.Token`); the state waits until the token is completed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl, Response, TaskCall, TaskError};
use workflow_runtime::history::EventType;
use workflow_runtime::store::{MemoryStore, Store};
use workflow_runtime::{Mode, Runtime, VirtualClock};

fn approval() -> AslWorkflow {
    AslWorkflow::from_json(
        "Approval",
        Mode::Standard,
        &json!({
            "StartAt": "Ask",
            "States": {"Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"MessageBody": {"expense.$": "$.expense", "token.$": "$$.Task.Token"}},
                "ResultPath": "$.decision",
                "End": true
            }}
        }),
    )
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_state_waits_for_its_token_and_goes_on_with_the_answer() {
    let sent: Arc<Mutex<Vec<TaskCall>>> = Arc::default();
    let outbox = Arc::clone(&sent);
    let handlers = Handlers::new().resource(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        move |call: TaskCall| {
            outbox.lock().unwrap().push(call);
            async { Ok::<Value, TaskError>(json!({"MessageId": "m-1"})) }
        },
    );
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Runtime::builder()
        .store_arc(store)
        .clock(VirtualClock::new())
        .resource(handlers)
        .register_asl(&approval())
        .build()
        .unwrap();
    let handle = runtime
        .start_json("Approval", Some("e-1"), json!({"expense": 120}))
        .await
        .unwrap();
    let token = loop {
        if let Some(call) = sent.lock().unwrap().first() {
            let body = &call.input["MessageBody"];
            assert_eq!(body["expense"], json!(120));
            assert_eq!(
                body["token"].as_str(),
                call.token.as_deref(),
                "the token in the message"
            );
            break call.token.clone().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    runtime
        .send_task_success(&token, &json!({"approved": true}))
        .await
        .unwrap();
    let output = handle.result().await.unwrap().unwrap();
    assert_eq!(
        output,
        json!({"expense": 120, "decision": {"approved": true}})
    );
    let kinds: Vec<EventType> = runtime
        .history(handle.id(), 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|event| event.kind)
        .collect();
    assert!(kinds.contains(&EventType::TaskSubmitted), "{kinds:?}");
}

#[tokio::test(start_paused = true)]
async fn a_mocked_response_completes_the_token_at_once() {
    let handlers = Handlers::new().respond(
        "Approval",
        "Ask",
        vec![Response::Return(json!({"approved": false}))],
    );
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(handlers)
        .register_asl(&approval())
        .build()
        .unwrap();
    let execution = runtime
        .execute_json("Approval", json!({"expense": 5000}))
        .await
        .unwrap();
    assert_eq!(
        execution.output(),
        Some(&json!({"expense": 5000, "decision": {"approved": false}}))
    );
    let kinds: Vec<EventType> = execution
        .history()
        .events()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds[2..6],
        [
            EventType::TaskScheduled,
            EventType::TaskStarted,
            EventType::TaskSubmitted,
            EventType::TaskSucceeded
        ]
    );
}
