//! Settings worked out from a state's input, as Step Functions' `*Path` fields read them: a
//! Wait state's duration (`SecondsPath`), a task's timeout and heartbeat
//! (`TimeoutSecondsPath`, `HeartbeatSecondsPath`), a Map state's concurrency and tolerated
//! failures (`MaxConcurrencyPath`, `ToleratedFailureCountPath`,
//! `ToleratedFailurePercentagePath`). Each is a closure over the state's input; a value out of
//! range fails the state with `States.Runtime`, as on Step Functions. On virtual time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::definition::{StateKind, WaitFor};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

mod support {
    pub(crate) mod golden;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cooling {
    seconds: u64,
}

workflow! {
    /// Waits as long as the input says.
    CoolingOff: Standard<Cooling, Cooling> {
        start Wait;
        Wait: wait for |order: &Cooling| Duration::from_secs(order.seconds) -> Done;
        Done: succeed;
    }
}

fn elapsed(execution: &workflow::Execution<impl Sized>) -> Duration {
    execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward")
}

#[tokio::test(start_paused = true)]
async fn a_wait_lasts_as_long_as_its_function_of_the_input_says() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<CoolingOff>()
        .build()
        .expect("builds");
    for seconds in [90, 86_400] {
        let execution = runtime
            .execute::<CoolingOff>(Cooling { seconds })
            .await
            .expect("runs");
        assert_eq!(execution.output(), Some(&Cooling { seconds }));
        assert_eq!(elapsed(&execution), Duration::from_secs(seconds));
    }
    let definition = CoolingOff::definition();
    let StateKind::Wait(wait) = &definition.states[0].kind else {
        panic!("a Wait state");
    };
    assert_eq!(
        wait.wait,
        WaitFor::DurationFrom("|order: &Cooling| Duration::from_secs(order.seconds)".to_owned())
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    /// How long the work takes.
    work_seconds: u64,
    /// How long it may take.
    limit_seconds: u64,
    /// The longest silence allowed.
    silence_seconds: u64,
}

/// Works for `work_seconds`, heartbeating every second.
#[step]
async fn work(job: Job, ctx: StepContext) -> u64 {
    for _ in 0..job.work_seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ctx.heartbeat();
    }
    job.work_seconds
}

/// Works for `work_seconds` without a heartbeat.
#[step]
async fn work_silently(job: Job) -> u64 {
    tokio::time::sleep(Duration::from_secs(job.work_seconds)).await;
    job.work_seconds
}

/// Says the work timed out.
#[step]
async fn too_slow(failed: Caught<Job>) -> u64 {
    assert_eq!(failed.error, "States.Timeout");
    0
}

workflow! {
    Timed: Standard<Job, u64> {
        start Work;
        Work: task work -> end,
            timeout |job: &Job| Duration::from_secs(job.limit_seconds),
            catch States::Timeout -> TooSlow;
        TooSlow: task too_slow -> end;
    }
}

workflow! {
    Watched: Standard<Job, u64> {
        start Work;
        Work: task work_silently -> end,
            timeout 1h,
            heartbeat |job: &Job| Duration::from_secs(job.silence_seconds);
    }
}

workflow! {
    /// Both timers from the input; no retrier or catcher.
    BothTimers: Standard<Job, u64> {
        start Work;
        Work: task work -> end,
            timeout |job: &Job| Duration::from_secs(job.limit_seconds),
            heartbeat |job: &Job| Duration::from_secs(job.silence_seconds);
    }
}

fn job(work_seconds: u64, limit_seconds: u64, silence_seconds: u64) -> Job {
    Job {
        work_seconds,
        limit_seconds,
        silence_seconds,
    }
}

fn timed_runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Timed>()
        .register::<Watched>()
        .register::<BothTimers>()
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn a_task_times_out_after_the_timeout_its_input_gives() {
    let runtime = timed_runtime();
    let within = runtime.execute::<Timed>(job(5, 10, 0)).await.expect("runs");
    assert_eq!(within.output(), Some(&5));

    // The same work with a 3 s limit times out at 3 s, and the catcher (which needs a timeout
    // to exist at compile time) takes over.
    let over = runtime.execute::<Timed>(job(5, 3, 0)).await.expect("runs");
    assert_eq!(over.output(), Some(&0));
    let timed_out = over
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::TaskTimedOut)
        .expect("recorded");
    assert_eq!(
        timed_out.cause.as_deref(),
        Some("step `work` did not finish within 3s")
    );
    assert_eq!(elapsed(&over), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_task_fails_after_the_silence_its_input_allows() {
    let runtime = timed_runtime();
    let quiet = runtime
        .execute::<Watched>(job(10, 0, 4))
        .await
        .expect("runs");
    let failure = quiet.failure().expect("fails");
    assert_eq!(failure.error(), "States.Timeout");
    assert_eq!(
        failure.cause(),
        "step `work_silently` sent no heartbeat for 4s"
    );
    assert_eq!(elapsed(&quiet), Duration::from_secs(4));

    let patient = runtime
        .execute::<Watched>(job(10, 0, 60))
        .await
        .expect("runs");
    assert_eq!(patient.output(), Some(&10));
}

#[tokio::test(start_paused = true)]
async fn timers_out_of_range_fail_the_state_with_states_runtime() {
    let runtime = timed_runtime();
    // A zero timeout, and a heartbeat as long as the timeout: Step Functions refuses both.
    for (job, cause) in [
        (
            job(1, 0, 0),
            "the timeout worked out from the state's input is 0s; it must be positive",
        ),
        (
            job(1, 5, 5),
            "the heartbeat interval (5s) must be shorter than the timeout (5s); one of them is worked out from the state's input",
        ),
    ] {
        let execution = runtime.execute::<BothTimers>(job).await.expect("runs");
        let failure = execution.failure().expect("fails");
        assert_eq!(failure.error(), "States.Runtime");
        assert_eq!(failure.state(), Some("Work"));
        assert_eq!(failure.cause(), cause);
        // The state was entered, and no attempt started.
        let kinds = execution.history().kinds();
        assert_eq!(
            kinds,
            [
                EventType::ExecutionStarted,
                EventType::TaskStateEntered,
                EventType::ExecutionFailed
            ]
        );
    }
    // A catcher does not take `States.Runtime`.
    let execution = runtime.execute::<Timed>(job(1, 0, 0)).await.expect("runs");
    assert_eq!(
        execution.failure().map(|failure| failure.error()),
        Some("States.Runtime")
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rows {
    rows: Vec<i64>,
    at_once: u32,
    failures_allowed: u32,
    share_allowed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum RowError {
    #[error("negative values are not allowed")]
    Negative,
}

#[derive(Default)]
struct Probe {
    running: AtomicUsize,
    most_running: AtomicUsize,
}

/// Doubles a row after a second, counting how many run at once.
#[step]
async fn double(row: i64, probe: Res<Probe>) -> Result<i64, RowError> {
    let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
    probe.most_running.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    probe.running.fetch_sub(1, Ordering::SeqCst);
    if row < 0 {
        return Err(RowError::Negative);
    }
    Ok(row * 2)
}

workflow! {
    Batch: Standard<Rows, Vec<i64>> {
        start Double;
        Double: map |batch: &Rows| batch.rows.clone() {
            start Row;
            Row: task double -> end;
        } -> end, max_concurrency |batch: &Rows| batch.at_once;
    }
}

workflow! {
    CountingBatch: Standard<Rows, Vec<Result<i64, Caught<i64>>>> {
        start Double;
        Double: map |batch: &Rows| batch.rows.clone() {
            start Row;
            Row: task double -> end;
        } -> end, tolerate |batch: &Rows| batch.failures_allowed;
    }
}

workflow! {
    SharingBatch: Standard<Rows, Vec<Result<i64, Caught<i64>>>> {
        start Double;
        Double: map |batch: &Rows| batch.rows.clone() {
            start Row;
            Row: task double -> end;
        } -> end, tolerate |batch: &Rows| batch.share_allowed %, max_concurrency 2;
    }
}

fn rows(rows: Vec<i64>) -> Rows {
    Rows {
        rows,
        at_once: 0,
        failures_allowed: 0,
        share_allowed: 0.0,
    }
}

fn map_runtime(probe: &Arc<Probe>) -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .resource_arc(Arc::clone(probe))
        .register::<Batch>()
        .register::<CountingBatch>()
        .register::<SharingBatch>()
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn a_map_runs_as_many_items_at_once_as_its_input_says() {
    for (at_once, most, seconds) in [(3, 3, 2), (1, 1, 6), (0, 6, 1)] {
        let probe = Arc::new(Probe::default());
        let runtime = map_runtime(&probe);
        let execution = runtime
            .execute::<Batch>(Rows {
                at_once,
                ..rows((1..=6).collect())
            })
            .await
            .expect("runs");
        assert_eq!(execution.output(), Some(&vec![2, 4, 6, 8, 10, 12]));
        assert_eq!(probe.most_running.load(Ordering::SeqCst), most);
        assert_eq!(elapsed(&execution), Duration::from_secs(seconds));
    }
}

#[tokio::test(start_paused = true)]
async fn a_map_tolerates_as_many_failed_items_as_its_input_says() {
    let runtime = map_runtime(&Arc::new(Probe::default()));
    let tolerated = runtime
        .execute::<CountingBatch>(Rows {
            failures_allowed: 2,
            ..rows(vec![1, -2, -3, 4])
        })
        .await
        .expect("runs");
    let output = tolerated.output().expect("succeeds");
    assert_eq!(output[0], Ok(2));
    assert!(output[1].is_err() && output[2].is_err());

    let exceeded = runtime
        .execute::<CountingBatch>(Rows {
            failures_allowed: 1,
            ..rows(vec![1, -2, -3, 4])
        })
        .await
        .expect("runs");
    let failure = exceeded.failure().expect("fails");
    assert_eq!(failure.error(), "States.ExceedToleratedFailureThreshold");
    assert_eq!(
        failure.cause(),
        "2 of 4 items failed, more than tolerated (1 items)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_map_tolerates_the_share_of_failed_items_its_input_says() {
    let runtime = map_runtime(&Arc::new(Probe::default()));
    let tolerated = runtime
        .execute::<SharingBatch>(Rows {
            share_allowed: 50.0,
            ..rows(vec![1, -2, -3, 4])
        })
        .await
        .expect("runs");
    assert!(tolerated.output().is_some());

    let exceeded = runtime
        .execute::<SharingBatch>(Rows {
            share_allowed: 25.0,
            ..rows(vec![1, -2, -3, 4])
        })
        .await
        .expect("runs");
    assert_eq!(
        exceeded.failure().map(|failure| failure.cause()),
        Some("2 of 4 items failed, more than tolerated (25%)")
    );

    // Out of range: the state fails with States.Runtime, before any item runs.
    let refused = runtime
        .execute::<SharingBatch>(Rows {
            share_allowed: 150.0,
            ..rows(vec![1, 2])
        })
        .await
        .expect("runs");
    let failure = refused.failure().expect("fails");
    assert_eq!(failure.error(), "States.Runtime");
    assert_eq!(failure.state(), Some("Double"));
    assert_eq!(
        failure.cause(),
        "the tolerated failure percentage worked out from the state's input is 150; it must be from 0 to 100"
    );
    assert!(!refused
        .history()
        .kinds()
        .contains(&EventType::MapIterationStarted));
}

#[test]
fn definitions_and_asl_name_the_functions_and_use_path_fields() {
    let timed = Timed::definition();
    let StateKind::Task(task) = &timed.states[0].kind else {
        panic!("a Task state");
    };
    assert_eq!(task.timeout, None);
    assert_eq!(
        task.timeout_function.as_deref(),
        Some("|job: &Job| Duration::from_secs(job.limit_seconds)")
    );
    let sharing = SharingBatch::definition();
    let StateKind::Map(map) = &sharing.states[0].kind else {
        panic!("a Map state");
    };
    assert_eq!(
        map.tolerated_failure_percentage_function.as_deref(),
        Some("|batch: &Rows| batch.share_allowed")
    );
    assert_eq!(map.max_concurrency, 2);

    // Placeholder paths, as for the other Rust functions the ASL cannot hold; asl-validator
    // accepts them (checked in CI with the examples).
    for (definition, name) in [
        (CoolingOff::definition(), "CoolingOff.asl.json"),
        (BothTimers::definition(), "BothTimers.asl.json"),
        (CountingBatch::definition(), "CountingBatch.asl.json"),
    ] {
        support::golden::check(name, &workflow::render::asl(definition));
    }
    // The diagrams name the functions too.
    support::golden::check_all_formats(Batch::definition());
}
