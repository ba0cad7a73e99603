//! Retry, Catch, timeouts and heartbeats, on virtual time: exact delays, per-attempt history.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, ExecutionStatus, History, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payment {
    cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Receipt {
    cents: u64,
    attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum GatewayError {
    #[error("the gateway timed out")]
    Timeout,
    #[error("the card was declined")]
    Declined,
    #[error("the gateway is overloaded")]
    Overloaded,
}

/// The outcomes the fake gateway returns, in order; success once they run out.
#[derive(Default)]
struct Script {
    outcomes: Mutex<VecDeque<GatewayError>>,
    calls: AtomicU32,
}

impl Script {
    fn of(outcomes: &[GatewayError]) -> Self {
        Script {
            outcomes: Mutex::new(outcomes.iter().copied().collect()),
            calls: AtomicU32::new(0),
        }
    }
}

#[step]
async fn charge(
    payment: Payment,
    ctx: StepContext,
    script: Res<Script>,
) -> Result<Receipt, GatewayError> {
    script.calls.fetch_add(1, Ordering::SeqCst);
    let next = script.outcomes.lock().expect("script lock").pop_front();
    match next {
        Some(error) => Err(error),
        None => Ok(Receipt {
            cents: payment.cents,
            attempts: ctx.attempt(),
        }),
    }
}

/// Receives a failed payment.
#[step]
async fn hold(failed: Caught<Payment>) -> Receipt {
    assert_eq!(failed.state, "Charge");
    Receipt {
        cents: failed.input.cents,
        attempts: 0,
    }
}

fn runtime<W: Workflow>(script: Script) -> (Runtime, Arc<Script>) {
    let script = Arc::new(script);
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource_arc(Arc::clone(&script))
        .register::<W>()
        .build()
        .expect("runtime builds");
    (runtime, script)
}

/// The delays between each failed attempt and the next attempt, from the timestamps.
fn retry_gaps(history: &History) -> Vec<f64> {
    let events = history.events();
    events
        .iter()
        .enumerate()
        .filter(|(_, event)| event.kind == EventType::TaskFailed && event.retry_in.is_some())
        .map(|(index, failed)| {
            let scheduled = events[index + 1..]
                .iter()
                .find(|event| event.kind == EventType::TaskScheduled)
                .expect("a retry is scheduled");
            let gap = scheduled
                .timestamp
                .duration_since(failed.timestamp)
                .expect("time moves forward");
            assert_eq!(
                Some(gap),
                failed.retry_in,
                "the recorded delay is the delay taken"
            );
            gap.as_secs_f64()
        })
        .collect()
}

workflow! {
    FlakyGateway: Express<Payment, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry GatewayError::Timeout { max_attempts: 3, interval: 1s, backoff: 2.0 },
            catch GatewayError::Declined -> Hold;
        Hold: task hold -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn flaky_gateway_is_retried_with_backoff_until_it_answers() {
    let (runtime, script) =
        runtime::<FlakyGateway>(Script::of(&[GatewayError::Timeout, GatewayError::Timeout]));
    let execution = runtime
        .execute::<FlakyGateway>(Payment { cents: 500 })
        .await
        .expect("runs");
    assert_eq!(
        execution.output(),
        Some(&Receipt {
            cents: 500,
            attempts: 3
        })
    );
    assert_eq!(script.calls.load(Ordering::SeqCst), 3);
    use EventType::*;
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            ExecutionSucceeded,
        ]
    );
    assert_eq!(retry_gaps(execution.history()), [1.0, 2.0]);
    let attempts: Vec<u32> = execution
        .history()
        .events()
        .iter()
        .filter(|event| event.kind == TaskScheduled)
        .filter_map(|event| event.attempt)
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn declined_card_is_caught_without_retrying() {
    let (runtime, script) = runtime::<FlakyGateway>(Script::of(&[GatewayError::Declined]));
    let execution = runtime
        .execute::<FlakyGateway>(Payment { cents: 700 })
        .await
        .expect("runs");
    assert_eq!(
        execution.output(),
        Some(&Receipt {
            cents: 700,
            attempts: 0
        })
    );
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    let exited = execution
        .history()
        .of_state("Charge")
        .find(|event| event.kind == EventType::TaskStateExited)
        .expect("Charge exits through its catcher");
    let caught = exited
        .output
        .as_ref()
        .expect("the caught payload is recorded");
    assert_eq!(caught["error"], "GatewayError.Declined");
    assert_eq!(caught["cause"], "the card was declined");
    assert_eq!(caught["input"]["cents"], 700);
    assert!(execution
        .history()
        .of_state("Hold")
        .any(|event| event.kind == EventType::TaskSucceeded));
}

#[tokio::test(start_paused = true)]
async fn retries_exhausted_without_a_catcher_fail_the_execution() {
    let timeouts = [GatewayError::Timeout; 4];
    let (runtime, script) = runtime::<FlakyGateway>(Script::of(&timeouts));
    let execution = runtime
        .execute::<FlakyGateway>(Payment { cents: 1 })
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(
        (failure.state(), failure.error()),
        (Some("Charge"), "GatewayError.Timeout")
    );
    assert_eq!(
        failure.downcast_ref::<GatewayError>(),
        Some(&GatewayError::Timeout)
    );
    assert_eq!(script.calls.load(Ordering::SeqCst), 4);
    assert_eq!(retry_gaps(execution.history()), [1.0, 2.0, 4.0]);
    let last = execution.history().events().last().expect("events");
    assert_eq!(last.kind, EventType::ExecutionFailed);
}

workflow! {
    Backoff: Standard<Payment, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry GatewayError::Timeout { interval: 3s, backoff: 1.5, max_attempts: 4 };
    }
}

workflow! {
    CappedBackoff: Standard<Payment, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry GatewayError::Timeout { interval: 3s, backoff: 1.5, max_attempts: 4, max_delay: 5s };
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_are_exact() {
    let (runtime, _) = runtime::<Backoff>(Script::of(&[GatewayError::Timeout; 5]));
    let execution = runtime
        .execute::<Backoff>(Payment { cents: 1 })
        .await
        .expect("runs");
    assert_eq!(retry_gaps(execution.history()), [3.0, 4.5, 6.75, 10.125]);
    assert_eq!(
        execution.failure().map(|f| f.error()),
        Some("GatewayError.Timeout")
    );
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_millis(24_375));
}

#[tokio::test(start_paused = true)]
async fn max_delay_caps_backoff() {
    let (runtime, _) = runtime::<CappedBackoff>(Script::of(&[GatewayError::Timeout; 5]));
    let execution = runtime
        .execute::<CappedBackoff>(Payment { cents: 1 })
        .await
        .expect("runs");
    assert_eq!(retry_gaps(execution.history()), [3.0, 4.5, 5.0, 5.0]);
}

workflow! {
    NeverRetried: Standard<Payment, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry GatewayError::Declined { max_attempts: 0 },
            retry States::ALL,
            catch GatewayError::Declined -> Hold;
        Hold: task hold -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_goes_straight_to_the_catcher() {
    let (runtime, script) = runtime::<NeverRetried>(Script::of(&[GatewayError::Declined]));
    let execution = runtime
        .execute::<NeverRetried>(Payment { cents: 9 })
        .await
        .expect("runs");
    assert_eq!(execution.output().map(|r| r.attempts), Some(0));
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        1,
        "not retried, not even by States.ALL"
    );
    assert_eq!(retry_gaps(execution.history()), Vec::<f64>::new());
}

workflow! {
    TwoRetriers: Standard<Payment, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry GatewayError::Timeout | GatewayError::Declined { interval: 1s, backoff: 2.0, max_attempts: 2 },
            retry GatewayError::Overloaded { interval: 5s },
            catch States::ALL -> Hold;
        Hold: task hold -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn each_retrier_keeps_its_own_count() {
    // The scenario of the Step Functions guide: errors A, B, C, B. A and B share the first
    // retrier (two retries, 1 s then 2 s); C has its own (5 s); the second B finds the first
    // retrier used up, so the catcher takes over.
    use GatewayError::*;
    let (runtime, script) =
        runtime::<TwoRetriers>(Script::of(&[Timeout, Declined, Overloaded, Declined]));
    let execution = runtime
        .execute::<TwoRetriers>(Payment { cents: 3 })
        .await
        .expect("runs");
    assert_eq!(retry_gaps(execution.history()), [1.0, 2.0, 5.0]);
    assert_eq!(script.calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        execution.output().map(|r| r.attempts),
        Some(0),
        "the fourth error is caught"
    );
}

/// Sleeps longer than its timeout unless the attempt is the third; notes whether it was
/// dropped before finishing.
#[step(timeout = "10s")]
async fn slow(payment: Payment, ctx: StepContext, dropped: Res<DropFlag>) -> Payment {
    let guard = DropGuard(Arc::clone(&dropped.0));
    if ctx.attempt() < 3 {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    std::mem::forget(guard);
    payment
}

#[derive(Default)]
struct DropFlag(Arc<AtomicBool>);
struct DropGuard(Arc<AtomicBool>);
impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

workflow! {
    SlowTask: Standard<Payment, Payment> {
        start Slow;
        Slow: task slow -> end, retry States::Timeout { interval: 2s, backoff: 1.0 };
    }
}

#[tokio::test(start_paused = true)]
async fn timed_out_attempts_are_cancelled_and_retried() {
    let dropped = DropFlag::default();
    let flag = Arc::clone(&dropped.0);
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(dropped)
        .register::<SlowTask>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<SlowTask>(Payment { cents: 4 })
        .await
        .expect("runs");
    assert_eq!(execution.output(), Some(&Payment { cents: 4 }));
    assert!(
        flag.load(Ordering::SeqCst),
        "the timed-out future was dropped"
    );
    let timed_out: Vec<_> = execution
        .history()
        .events()
        .iter()
        .filter(|event| event.kind == EventType::TaskTimedOut)
        .collect();
    assert_eq!(timed_out.len(), 2);
    assert_eq!(timed_out[0].error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        timed_out[0].cause.as_deref(),
        Some("step `slow` did not finish within 10s")
    );
    // Two attempts of 10 s each plus two waits of 2 s.
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(24));
}

/// Works for 10 s; heartbeats every second if told to.
#[step(heartbeat = "3s")]
async fn report(beat: bool, ctx: StepContext) -> bool {
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if beat {
            ctx.heartbeat();
        }
    }
    beat
}

workflow! {
    Reporting: Standard<bool, bool> {
        start Report;
        Report: task report -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_a_task_alive_and_silence_fails_it() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Reporting>()
        .build()
        .expect("builds");
    let alive = runtime.execute::<Reporting>(true).await.expect("runs");
    assert_eq!(alive.output(), Some(&true));

    // As Step Functions records it: TaskTimedOut with States.Timeout, and the execution fails
    // with States.Timeout.
    let silent = runtime.execute::<Reporting>(false).await.expect("runs");
    let failure = silent.failure().expect("fails");
    assert_eq!(failure.error(), "States.Timeout");
    assert_eq!(failure.cause(), "step `report` sent no heartbeat for 3s");
    let timed_out = silent
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::TaskTimedOut)
        .expect("recorded");
    assert_eq!(timed_out.error.as_deref(), Some("States.Timeout"));
    assert!(timed_out.heartbeat_timeout);
    let elapsed = silent
        .stopped_at()
        .duration_since(silent.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(3));
    assert!(silent.history().kinds().contains(&EventType::TaskTimedOut));
}

workflow! {
    Bounded: Standard<Payment, Payment> {
        timeout 30s;
        start Slow;
        Slow: task slow -> end, retry States::Timeout { interval: 20s };
    }
}

#[tokio::test(start_paused = true)]
async fn workflow_timeout_ends_the_execution() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(DropFlag::default())
        .register::<Bounded>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<Bounded>(Payment { cents: 1 })
        .await
        .expect("runs");
    assert_eq!(execution.status(), ExecutionStatus::TimedOut);
    let failure = execution.failure().expect("times out");
    assert_eq!((failure.state(), failure.error()), (None, "States.Timeout"));
    let last = execution.history().events().last().expect("events");
    assert_eq!(last.kind, EventType::ExecutionTimedOut);
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(30));
}

/// Returns a map JSON cannot represent (non-string keys).
#[step]
async fn unserialisable(_payment: Payment) -> std::collections::HashMap<(u8, u8), u8> {
    [((1, 2), 3)].into_iter().collect()
}

#[step]
async fn fallback(_failed: Caught<Payment>) -> std::collections::HashMap<(u8, u8), u8> {
    std::collections::HashMap::new()
}

workflow! {
    Unrepresentable: Standard<Payment, std::collections::HashMap<(u8, u8), u8>> {
        start Make;
        Make: task unserialisable -> end, catch States::ALL -> Fallback;
        Fallback: task fallback -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn runtime_errors_are_not_caught_by_states_all() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Unrepresentable>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<Unrepresentable>(Payment { cents: 1 })
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(failure.error(), "States.Runtime");
    assert_eq!(failure.state(), Some("Make"));
    assert!(
        failure.cause().contains("could not be serialised as JSON"),
        "{}",
        failure.cause()
    );
    assert_eq!(execution.history().of_state("Fallback").count(), 0);
}

/// Errors whose names are not `Enum.Variant`: a clause matches exactly the name its variant is
/// given, whatever it is (a name whose last part is another variant's name included).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum UpstreamError {
    #[error("custom")]
    #[step_error(name = "CustomException")]
    Custom,
    #[error("timed out upstream")]
    #[step_error(name = "Upstream.Declined")]
    Timeout,
    #[error("declined")]
    Declined,
}

#[step]
async fn call_upstream(which: u8) -> Result<String, UpstreamError> {
    Err(match which {
        0 => UpstreamError::Custom,
        1 => UpstreamError::Timeout,
        _ => UpstreamError::Declined,
    })
}

#[step]
async fn caught_custom(failed: Caught<u8>) -> String {
    format!("custom: {}", failed.error)
}

#[step]
async fn caught_declined(failed: Caught<u8>) -> String {
    format!("declined: {}", failed.error)
}

workflow! {
    Upstream: Express<u8, String> {
        start Call;
        Call: task call_upstream -> end,
            catch UpstreamError::Custom -> Custom,
            catch UpstreamError::Declined -> Declined;
        Custom: task caught_custom -> end;
        Declined: task caught_declined -> end;
    }
}

#[tokio::test]
async fn custom_error_names_match_their_own_variant() {
    let runtime = Runtime::builder()
        .register::<Upstream>()
        .build()
        .expect("a variant with a custom name is one the step raises");
    let custom = runtime.call::<Upstream>(0).await.expect("runs");
    assert_eq!(custom.as_deref(), Ok("custom: CustomException"));
    let declined = runtime.call::<Upstream>(2).await.expect("runs");
    assert_eq!(declined.as_deref(), Ok("declined: UpstreamError.Declined"));
    // `Timeout` is named `Upstream.Declined`: no clause names it, so it is not caught.
    let timeout = runtime.call::<Upstream>(1).await.expect("runs");
    assert_eq!(
        timeout.map_err(|failure| failure.error().to_owned()),
        Err("Upstream.Declined".to_owned())
    );
}

#[step]
async fn after_silence(failed: Caught<bool>) -> bool {
    assert_eq!(failed.error, "States.Timeout");
    !failed.input
}

workflow! {
    /// A heartbeat timeout, retried by a `States.HeartbeatTimeout` retrier, then caught by a
    /// `States.HeartbeatTimeout` catcher: both still match it, though it reads
    /// `States.Timeout`.
    Heartbeating: Standard<bool, bool> {
        start Report;
        Report: task report -> end,
            retry States::HeartbeatTimeout { max_attempts: 1, interval: 1s },
            catch States::HeartbeatTimeout -> Recover;
        Recover: task after_silence -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_heartbeat_timeout_reads_states_timeout_and_matches_states_heartbeat_timeout() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Heartbeating>()
        .build()
        .expect("builds");
    let execution = runtime.execute::<Heartbeating>(false).await.expect("runs");
    assert_eq!(execution.output(), Some(&true), "caught");
    let timed_out: Vec<_> = execution
        .history()
        .events()
        .iter()
        .filter(|event| event.kind == EventType::TaskTimedOut)
        .map(|event| (event.error.clone(), event.retry_in))
        .collect();
    assert_eq!(
        timed_out,
        [
            (
                Some("States.Timeout".to_owned()),
                Some(Duration::from_secs(1))
            ),
            (Some("States.Timeout".to_owned()), None),
        ],
        "retried once, then caught"
    );
}

workflow! {
    /// Names an error no state here raises: `unchecked` takes it as written, on a task (whose
    /// step's error type lacks it) and on a Parallel state (whose branches never raise it).
    BusyUpstream: Standard<Payment, Receipt> {
        start Guard;
        Guard: parallel {
            branch {
                start Charge;
                Charge: task charge -> end,
                    retry unchecked "Upstream.Busy" { max_attempts: 5 };
            }
        } -> Unwrap,
            retry unchecked "Upstream.Busy",
            catch unchecked "Upstream.Busy" -> Busy,
            catch States::ALL -> Failed;
        Unwrap: pass |done: (Receipt,)| -> Receipt { done.0 } -> end;
        Busy: pass |caught: Caught<Payment>| -> Receipt { Receipt { cents: caught.input.cents, attempts: 1 } } -> end;
        Failed: pass |caught: Caught<Payment>| -> Receipt { Receipt { cents: caught.input.cents, attempts: 0 } } -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn unchecked_error_names_build_and_match_only_what_they_name() {
    use workflow::definition::StateKind;
    let definition = <BusyUpstream as Workflow>::definition();
    assert!(definition.unraisable_errors().is_empty());
    let (_, guard) = definition.state_by_name("Guard").expect("declared");
    let StateKind::Parallel(parallel) = &guard.kind else {
        panic!("Guard is a Parallel state");
    };
    assert!(parallel.retry[0].unchecked);
    assert_eq!(
        parallel
            .catch
            .iter()
            .map(|catcher| catcher.unchecked)
            .collect::<Vec<_>>(),
        [true, false]
    );

    // The runtime builds: the names are not checked against what the states raise.
    let (runtime, script) = runtime::<BusyUpstream>(Script::of(&[GatewayError::Declined]));
    let execution = runtime
        .execute::<BusyUpstream>(Payment { cents: 500 })
        .await
        .expect("runs");
    // Nothing raised `Upstream.Busy`: no retry, and the last catcher took the error.
    assert_eq!(
        execution.output(),
        Some(&Receipt {
            cents: 500,
            attempts: 0
        })
    );
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    let kinds = execution.history().kinds();
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == EventType::ParallelStateStarted)
            .count(),
        1
    );
}
