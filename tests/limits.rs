//! Step Functions' limits as typed errors: payload size and history length.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Request {
    size: usize,
}

/// Returns a string of the requested size.
#[step]
async fn inflate(request: Request) -> String {
    "x".repeat(request.size)
}

#[step]
async fn shrink(failed: Caught<Request>) -> String {
    format!("too big: {}", failed.error)
}

workflow! {
    Careful: Standard<Request, String> {
        start Inflate;
        Inflate: task inflate -> end, catch States::DataLimitExceeded -> Shrink;
        Shrink: task shrink -> end;
    }
}

workflow! {
    Careless: Standard<Request, String> {
        start Inflate;
        Inflate: task inflate -> end, catch States::ALL -> Shrink;
        Shrink: task shrink -> end;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .payload_limit(1024)
        .register::<Careful>()
        .register::<Careless>()
        .register::<Looping>()
        .history_limit(50)
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn an_output_over_the_payload_limit_is_data_limit_exceeded() {
    let runtime = runtime();
    let small = runtime
        .execute::<Careful>(Request { size: 100 })
        .await
        .expect("runs");
    assert_eq!(small.output().map(String::len), Some(100));

    let caught = runtime
        .execute::<Careful>(Request { size: 5000 })
        .await
        .expect("runs");
    assert_eq!(
        caught.output().map(String::as_str),
        Some("too big: States.DataLimitExceeded")
    );
    let failed = caught
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::TaskFailed)
        .expect("the attempt fails");
    assert!(
        failed
            .cause
            .as_deref()
            .unwrap()
            .contains("over the limit of 1024"),
        "{failed:?}"
    );

    // `States.ALL` catches it too, as AWS does (its documentation says otherwise).
    let by_all = runtime
        .execute::<Careless>(Request { size: 5000 })
        .await
        .expect("runs");
    assert_eq!(
        by_all.output().map(String::as_str),
        Some("too big: States.DataLimitExceeded")
    );
}

workflow! {
    Blow: Express<Request, String> {
        start Inflate;
        Inflate: task inflate -> end;
    }
}

/// A synchronous `call` keeps no history and runs tasks on a shorter path; the limit holds
/// there all the same.
#[tokio::test(start_paused = true)]
async fn a_call_without_history_enforces_the_payload_limit_too() {
    let runtime = Runtime::builder()
        .payload_limit(1024)
        .register::<Blow>()
        .build()
        .expect("builds");
    let fits = runtime
        .call::<Blow>(Request { size: 1000 })
        .await
        .expect("runs");
    assert_eq!(fits.map(|output| output.len()), Ok(1000));
    let too_big = runtime
        .call::<Blow>(Request { size: 5000 })
        .await
        .expect("runs");
    let failure = too_big.expect_err("fails");
    assert_eq!(
        (failure.state(), failure.error()),
        (Some("Inflate"), "States.DataLimitExceeded")
    );
    assert!(
        failure.cause().contains("over the limit of 1024"),
        "{failure:?}"
    );
}

workflow! {
    Echo: Express<String, String> {
        start Relay;
        Relay: pass -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn an_execution_input_over_the_limit_fails_the_execution_at_once() {
    let runtime = Runtime::builder()
        .payload_limit(1024)
        .register::<Echo>()
        .build()
        .expect("builds");
    let fits = runtime
        .execute::<Echo>("x".repeat(1000))
        .await
        .expect("runs");
    assert_eq!(fits.output().map(String::len), Some(1000));
    let too_big = runtime
        .execute::<Echo>("x".repeat(2000))
        .await
        .expect("runs");
    let failure = too_big.failure().expect("fails");
    assert_eq!(
        (failure.state(), failure.error()),
        (None, "States.DataLimitExceeded")
    );
    assert_eq!(too_big.history().kinds(), [EventType::ExecutionFailed]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counter {
    left: u32,
}

#[step]
async fn count_down(counter: Counter) -> Counter {
    Counter {
        left: counter.left.saturating_sub(1),
    }
}

workflow! {
    Looping: Standard<Counter, Counter> {
        start Count;
        Count: task count_down -> Check;
        Check: choice {
            |counter: &Counter| counter.left > 0 => Count,
            _ => Done,
        };
        Done: succeed;
    }
}

#[tokio::test(start_paused = true)]
async fn a_history_over_its_limit_fails_the_execution_clearly() {
    let runtime = runtime();
    let short = runtime
        .execute::<Looping>(Counter { left: 3 })
        .await
        .expect("runs");
    assert_eq!(short.output(), Some(&Counter { left: 0 }));

    let long = runtime
        .execute::<Looping>(Counter { left: 1000 })
        .await
        .expect("runs");
    let failure = long.failure().expect("fails");
    assert_eq!(failure.error(), "States.Runtime");
    assert_eq!(
        failure.cause(),
        "the execution's history reached its limit of 50 events"
    );
    assert_eq!(long.history().len(), 51, "50 events, then the end");
    assert_eq!(
        long.history().events().last().map(|event| event.kind),
        Some(EventType::ExecutionFailed)
    );
}
