//! Callback tasks: a step hands out a token and its state waits, durably, until the token is
//! completed; timeouts and heartbeats apply; tokens are single-use and unguessable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use workflow::prelude::*;
use workflow::store::{CallbackStatus, MemoryStore, Store};

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;
use workflow::testing::Harness;
use workflow::{CallbackError, EventType, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Expense {
    id: u32,
    cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Decision {
    approved: bool,
    by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, StepError)]
enum ApprovalError {
    #[error("the expense was rejected")]
    Rejected,
}

/// Where the step "sends" its approval requests: the tokens, in order.
struct Outbox {
    sender: mpsc::UnboundedSender<String>,
}

/// Asks for approval, handing out the token.
#[step(timeout = "1h", heartbeat = "10m")]
async fn ask_approval(
    expense: Expense,
    token: TaskToken,
    outbox: Res<Outbox>,
) -> Result<Callback<Decision>, ApprovalError> {
    let _ = expense;
    let _ = outbox.sender.send(token.to_string());
    Ok(Callback::new())
}

/// Records the decision.
#[step]
async fn record(decision: Decision) -> String {
    format!("approved by {}", decision.by)
}

/// Records a rejection.
#[step]
async fn reject(failed: Caught<Expense>) -> String {
    format!("expense {} rejected: {}", failed.input.id, failed.cause)
}

workflow! {
    Approval: Standard<Expense, String> {
        start Ask;
        Ask: task ask_approval -> Record,
            catch ApprovalError::Rejected -> Rejected;
        Record: task record -> end;
        Rejected: task reject -> end;
    }
}

/// A harness whose approval requests arrive on the returned channel.
fn harness() -> (Harness, mpsc::UnboundedReceiver<String>) {
    let (sender, tokens) = mpsc::unbounded_channel();
    let harness = Harness::builder()
        .resource(Outbox { sender })
        .register::<Approval>()
        .build()
        .expect("builds");
    (harness, tokens)
}

fn expense() -> Expense {
    Expense {
        id: 7,
        cents: 12_000,
    }
}

#[workflow::test]
async fn a_completed_token_resumes_the_execution_with_its_output() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.expect("a token was handed out");
    tokio::time::sleep(Duration::from_secs(120)).await;

    harness
        .runtime()
        .send_task_success(
            &token,
            &Decision {
                approved: true,
                by: "ada".into(),
            },
        )
        .await
        .expect("completes");
    let run = running.await.expect("runs");

    run.expect()
        .succeeded()
        .path(["Ask", "Record"])
        .attempts("Ask", 1);
    assert_eq!(run.output().map(String::as_str), Some("approved by ada"));
    assert_eq!(run.elapsed(), Duration::from_secs(120));
    let kinds: Vec<EventType> = run
        .history()
        .of_state("Ask")
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventType::TaskStateEntered,
            EventType::TaskScheduled,
            EventType::TaskStarted,
            EventType::TaskSubmitted,
            EventType::TaskSucceeded,
            EventType::TaskStateExited,
        ]
    );
    // The token is nowhere in the history.
    let history = serde_json::to_string(run.history()).unwrap();
    assert!(
        !history.contains(&token[4..]),
        "the history holds the token"
    );
    // A token works once.
    let again = harness
        .runtime()
        .send_task_success(
            &token,
            &Decision {
                approved: false,
                by: "bob".into(),
            },
        )
        .await;
    assert!(matches!(
        again,
        Err(CallbackError::AlreadyCompleted {
            status: CallbackStatus::Succeeded
        })
    ));
}

#[workflow::test]
async fn a_failure_sent_with_the_token_is_caught() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.unwrap();

    // Reserved names and oversized failures are refused, and change nothing.
    for (error, cause) in [
        ("States.Runtime", "escapes catch States::ALL".to_owned()),
        ("States.ALL", String::new()),
        ("ApprovalError.Rejected", "x".repeat(30 << 20)),
    ] {
        let refused = harness
            .runtime()
            .send_task_failure(&token, error, &cause)
            .await;
        assert!(
            matches!(refused, Err(CallbackError::InvalidFailure { .. })),
            "{error}: {refused:?}"
        );
    }
    let long_name = "E".repeat(257);
    assert!(matches!(
        harness
            .runtime()
            .send_task_failure(&token, &long_name, "")
            .await,
        Err(CallbackError::InvalidFailure { .. })
    ));
    harness
        .runtime()
        .send_task_failure(&token, "ApprovalError.Rejected", "over budget")
        .await
        .expect("fails the task");
    let run = running.await.unwrap();

    run.expect().succeeded().path(["Ask", "Rejected"]).caught(
        "Ask",
        "ApprovalError.Rejected",
        "Rejected",
    );
    assert_eq!(
        run.output().map(String::as_str),
        Some("expense 7 rejected: over budget")
    );
}

#[workflow::test]
async fn silence_after_heartbeats_times_out_and_expires_the_token() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.unwrap();
    let runtime = harness.runtime();

    // Heartbeats at 5 and 13 minutes keep it waiting; then nothing.
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    runtime.send_task_heartbeat(&token).await.expect("alive");
    tokio::time::sleep(Duration::from_secs(8 * 60)).await;
    runtime.send_task_heartbeat(&token).await.expect("alive");
    let run = running.await.unwrap();

    run.expect()
        .failed_with("States.Timeout")
        .attempts("Ask", 1);
    // 13 minutes, then the 10-minute heartbeat interval.
    assert_eq!(run.elapsed(), Duration::from_secs(23 * 60));
    let late = runtime
        .send_task_success(
            &token,
            &Decision {
                approved: true,
                by: "ada".into(),
            },
        )
        .await;
    assert_eq!(late, Err(CallbackError::Expired));
    assert_eq!(
        runtime.send_task_heartbeat(&token).await,
        Err(CallbackError::Expired)
    );
}

#[workflow::test]
async fn the_timeout_covers_the_wait() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.unwrap();
    // Heartbeats every 9 minutes: only the hour's timeout ends it.
    let runtime = harness.runtime().clone();
    let beating = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(9 * 60)).await;
            if runtime.send_task_heartbeat(&token).await.is_err() {
                break;
            }
        }
    });
    let run = running.await.unwrap();
    beating.await.unwrap();

    run.expect().failed_with("States.Timeout");
    assert_eq!(run.elapsed(), Duration::from_secs(3600));
}

#[workflow::test]
async fn concurrent_completions_complete_once() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.unwrap();
    let runtime = harness.runtime();

    let yes = Decision {
        approved: true,
        by: "ada".into(),
    };
    let no = Decision {
        approved: true,
        by: "bob".into(),
    };
    let (first, second) = tokio::join!(
        runtime.send_task_success(&token, &yes),
        runtime.send_task_success(&token, &no),
    );
    let wins = [&first, &second]
        .iter()
        .filter(|result| result.is_ok())
        .count();
    assert_eq!(wins, 1, "{first:?} / {second:?}");
    let run = running.await.unwrap();
    let by = run.output().unwrap().clone();
    let winner = if first.is_ok() {
        "approved by ada"
    } else {
        "approved by bob"
    };
    assert_eq!(by, winner);
}

#[workflow::test]
async fn forged_malformed_and_ill_typed_completions_change_nothing() {
    let (harness, mut tokens) = harness();
    let running = tokio::spawn({
        let harness = harness.clone();
        async move { harness.run::<Approval>(expense()).await }
    });
    let token = tokens.recv().await.unwrap();
    let runtime = harness.runtime();
    let decision = Decision {
        approved: true,
        by: "ada".into(),
    };

    // A well-formed token nobody was given, one character changed, and plain nonsense.
    let forged = format!("wt1-{}", "ab".repeat(32));
    let mut altered = token.clone();
    let last = if altered.ends_with('0') { "1" } else { "0" };
    altered.replace_range(altered.len() - 1.., last);
    for bad in [forged.as_str(), altered.as_str(), "let me in", ""] {
        assert_eq!(
            runtime.send_task_success(bad, &decision).await,
            Err(CallbackError::UnknownToken),
            "{bad}"
        );
        assert_eq!(
            runtime.send_task_failure(bad, "X", "y").await,
            Err(CallbackError::UnknownToken)
        );
    }
    // An output that is not a Decision is refused, and the task still waits.
    let wrong = runtime.send_task_success(&token, &"yes please").await;
    assert!(
        matches!(&wrong, Err(CallbackError::WrongOutput { state, .. }) if state == "Ask"),
        "{wrong:?}"
    );
    runtime
        .send_task_success(&token, &decision)
        .await
        .expect("the real completion");
    running.await.unwrap().expect().succeeded();
}

/// The runtime of the restart test, on `store`.
fn durable(
    store: Arc<dyn Store>,
    clock: VirtualClock,
    sender: mpsc::UnboundedSender<String>,
) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(clock)
        .resource(Outbox { sender })
        .callback_poll_interval(Duration::from_secs(30))
        .register::<Approval>()
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn a_restart_while_waiting_waits_again_and_a_completion_then_resumes_it() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let (sender, mut tokens) = mpsc::unbounded_channel();
        let before = durable(Arc::clone(&store), clock.clone(), sender.clone());
        let handle = before.start::<Approval>(expense()).await.expect(label);
        let token = tokens.recv().await.expect(label);
        tokio::time::sleep(Duration::from_secs(60)).await;
        before.shutdown(); // The worker goes down while the task waits.

        // Completed while no process runs the execution: the store keeps the completion.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let after = durable(Arc::clone(&store), clock.clone(), sender);
        after
            .send_task_success(
                &token,
                &Decision {
                    approved: true,
                    by: "ada".into(),
                },
            )
            .await
            .expect(label);
        after.recover().await.expect(label);
        let output = after
            .handle::<Approval>(handle.id().clone())
            .result()
            .await
            .expect(label);
        assert_eq!(output.as_deref(), Ok("approved by ada"), "{label}");
        assert!(
            tokens.try_recv().is_err(),
            "{label}: the step did not run again, so no second token"
        );
        let events = after.history(handle.id(), 0, 100).await.expect(label);
        let submitted = events
            .iter()
            .filter(|event| event.kind == EventType::TaskSubmitted)
            .count();
        assert_eq!(submitted, 1, "{label}");
        after.shutdown();
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_execution_waits_for_a_completion_from_elsewhere() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = VirtualClock::new();
    let (sender, mut tokens) = mpsc::unbounded_channel();
    let before = durable(Arc::clone(&store), clock.clone(), sender.clone());
    let handle = before.start::<Approval>(expense()).await.unwrap();
    let token = tokens.recv().await.unwrap();
    before.shutdown();

    let after = durable(Arc::clone(&store), clock.clone(), sender.clone());
    after.recover().await.unwrap();
    // Another process (its own runtime on the same store) completes the token.
    let elsewhere = durable(store, clock, sender);
    tokio::time::sleep(Duration::from_secs(200)).await;
    elsewhere
        .send_task_success(
            &token,
            &Decision {
                approved: true,
                by: "eve".into(),
            },
        )
        .await
        .unwrap();
    let output = after
        .handle::<Approval>(handle.id().clone())
        .result()
        .await
        .unwrap();
    assert_eq!(output.as_deref(), Ok("approved by eve"));
    after.shutdown();
}
