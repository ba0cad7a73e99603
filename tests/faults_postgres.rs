//! Faults of the PostgreSQL store: its server restarted (`pg_ctl restart -m fast`, which closes
//! every connection) or stopped for a while, under load. The store must reconnect by itself,
//! calls in flight must wait for the server and go on, calls made while it is away must fail
//! with `StoreError::Unavailable` within the configured wait, and no execution may fail
//! because the database was briefly away.
//!
//! Each test starts a throwaway server of its own with `scripts/postgres-server` (its own port
//! and data directory, so the server other tests share is never disturbed), and restarts or
//! stops it. Without PostgreSQL (not installed, and not root to install it) they are skipped,
//! saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, NewExecution, PostgresStore, Store, StoreError};
use workflow::{Event, ExecutionId, ExecutionStatus, RuntimeError};

/// A PostgreSQL server of this test's own, stopped (and its data deleted) when dropped.
struct Server {
    data: tempfile::TempDir,
    port: u16,
    url: String,
}

impl Server {
    /// Starts a server on a free port, or says why not (`postgres: skipped`) and returns `None`.
    fn start() -> Option<Server> {
        let data = tempfile::Builder::new()
            .prefix("workflow-faults-")
            .tempdir()
            .expect("temporary directory");
        // As root the server runs as `postgres`, which must reach the data directory inside.
        std::fs::set_permissions(
            data.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("permissions");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = Server {
            data,
            port,
            url: String::new(),
        };
        match server.script("start") {
            Ok(url) => {
                server.url = url.trim().to_owned();
                Some(server)
            }
            Err(error) => {
                // Straight to stderr: the test harness would capture `eprintln!` of a passing test.
                let line = format!("postgres: skipped (no server for the fault tests: {error})\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
                None
            }
        }
    }

    /// Runs `scripts/postgres-server COMMAND` for this server; its output.
    fn script(&self, command: &str) -> Result<String, String> {
        let output = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/postgres-server"
        ))
        .arg(command)
        .env("WORKFLOW_POSTGRES_PORT", self.port.to_string())
        .env("WORKFLOW_POSTGRES_DATA", self.data.path().join("pg"))
        .output()
        .map_err(|error| error.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// `pg_ctl restart -m fast`: every connection is closed, and the server is back at once.
    fn restart(&self) {
        tokio::task::block_in_place(|| self.script("restart")).expect("restarts");
    }

    /// Stops the server, keeping its data.
    fn stop(&self) {
        tokio::task::block_in_place(|| self.script("stop")).expect("stops");
    }

    /// Starts the stopped server again, with its data.
    fn resume(&self) {
        tokio::task::block_in_place(|| self.script("resume")).expect("starts again");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// Event `id` of an execution's history, as the store takes it.
fn event(id: u64) -> Event {
    let kind = if id == 1 {
        "ExecutionStarted"
    } else {
        "PassStateEntered"
    };
    serde_json::from_value(serde_json::json!({
        "id": id,
        "previous_event_id": id - 1,
        "timestamp": humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
        "type": kind,
        "state": (id > 1).then_some("Step"),
    }))
    .expect("an event")
}

fn new_execution(name: &str) -> NewExecution {
    NewExecution {
        id: ExecutionId::from(format!("faults-{name}").as_str()),
        name: name.to_owned(),
        workflow: "Faults".to_owned(),
        version: 1,
        input: serde_json::json!({ "name": name }),
        fingerprint: "f".to_owned(),
        started_at: SystemTime::now(),
        events: vec![event(1)],
        lease: None,
    }
}

/// The ids of an execution's stored history.
async fn history_ids(store: &PostgresStore, execution: &ExecutionId) -> Vec<u64> {
    store
        .history(execution, 0, usize::MAX)
        .await
        .expect("reads the history")
        .iter()
        .map(|event| event.id)
        .collect()
}

/// What the writers of a test saw: how many calls, and the first few failures.
#[derive(Default)]
struct Tally {
    calls: AtomicU64,
    failures: AtomicU64,
    first_failures: Mutex<Vec<String>>,
}

impl Tally {
    /// Counts a call and its outcome; `true` if it succeeded.
    async fn count<T>(&self, what: &str, outcome: Result<T, StoreError>) -> Option<T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                self.failures.fetch_add(1, Ordering::SeqCst);
                {
                    let mut first = self.first_failures.lock().unwrap();
                    if first.len() < 5 {
                        first.push(format!("{what}: {error}"));
                    }
                }
                // Not a busy loop against a store that fails at once.
                tokio::time::sleep(Duration::from_millis(20)).await;
                None
            }
        }
    }

    /// Waits until `more` calls more were made, or 30 seconds passed.
    async fn wait_for(&self, more: u64) {
        let target = self.calls.load(Ordering::SeqCst) + more;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.calls.load(Ordering::SeqCst) < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Appends, creates and reads in flight while the server restarts wait for it and go on, on
/// the same store: not one of them fails, nothing is written twice or lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_during_a_restart_wait_for_the_server_and_go_on() {
    let Some(server) = Server::start() else {
        return;
    };
    let store = Arc::new(PostgresStore::connect(&server.url).await.expect("connects"));
    const WRITERS: usize = 40;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (store, stop, tally) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&tally));
        writers.push(tokio::spawn(async move {
            let mut generation = 0;
            let mut executions = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                // A new execution now and then, appended to one event at a time.
                let execution = new_execution(&format!("w{writer}-{generation}"));
                generation += 1;
                let id = execution.id.clone();
                if tally
                    .count("create", store.create(execution).await)
                    .await
                    .is_none()
                {
                    continue;
                }
                let mut last = 1;
                for next in 2..=20 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let appended = store.append(&id, &[event(next)], None).await;
                    if tally.count("append", appended).await.is_none() {
                        break;
                    }
                    last = next;
                    if next % 5 == 0 {
                        tally.count("read", store.execution(&id).await).await;
                    }
                }
                executions.push((id, last));
            }
            executions
        }));
    }
    // Let the writers get going, restart the server under them twice, and let them go on.
    tally.wait_for(500).await;
    server.restart();
    tally.wait_for(500).await;
    server.restart();
    tally.wait_for(500).await;
    stop.store(true, Ordering::SeqCst);
    let mut executions = Vec::new();
    for writer in writers {
        executions.append(&mut writer.await.expect("the writer ends"));
    }
    let failures = tally.failures.load(Ordering::SeqCst);
    println!(
        "postgres restarts under load: {} calls, {failures} failed, {} executions",
        tally.calls.load(Ordering::SeqCst),
        executions.len()
    );
    assert_eq!(
        failures,
        0,
        "calls failed, the first: {:?}",
        tally.first_failures.lock().unwrap()
    );
    // Every append that succeeded is there, once.
    for (id, last) in &executions {
        assert_eq!(
            history_ids(&store, id).await,
            (1..=*last).collect::<Vec<_>>(),
            "{id}"
        );
    }
    // The same store reads and writes as before.
    let fresh = new_execution("after");
    store.create(fresh.clone()).await.expect("creates");
    store
        .append(&fresh.id, &[event(2)], None)
        .await
        .expect("appends");
    assert_eq!(history_ids(&store, &fresh.id).await, vec![1, 2]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Parcel {
    number: u32,
}

impl Parcel {
    /// How long each of its steps takes: 40 to 220 ms, so that executions drift apart and the
    /// restart finds them in every state rather than in lockstep.
    fn busy(&self) -> Duration {
        Duration::from_millis(40 + u64::from(self.number % 10) * 20)
    }
}

/// How many times each task of each execution ran.
#[derive(Default)]
struct Ledger {
    runs: Mutex<HashMap<(String, &'static str), u32>>,
}

impl Ledger {
    fn note(&self, ctx: &StepContext) {
        let key = (ctx.execution_id().to_string(), ctx.state());
        *self.runs.lock().unwrap().entry(key).or_default() += 1;
    }

    fn total(&self) -> u32 {
        self.runs.lock().unwrap().values().sum()
    }
}

#[step]
async fn pack(parcel: Parcel, ctx: StepContext, ledger: Res<Ledger>) -> Parcel {
    ledger.note(&ctx);
    tokio::time::sleep(parcel.busy()).await;
    parcel
}

#[step]
async fn label(parcel: Parcel, ctx: StepContext, ledger: Res<Ledger>) -> Parcel {
    ledger.note(&ctx);
    tokio::time::sleep(parcel.busy()).await;
    parcel
}

#[step]
async fn dispatch(parcel: Parcel, ctx: StepContext, ledger: Res<Ledger>) -> u32 {
    ledger.note(&ctx);
    tokio::time::sleep(parcel.busy()).await;
    parcel.number * 2 + 1
}

workflow! {
    /// Three tasks, none retried: a task run twice would be the store's doing.
    Shipment: Standard<Parcel, u32> {
        start Pack;
        Pack: task pack -> Label;
        Label: task label -> Dispatch;
        Dispatch: task dispatch -> end;
    }
}

/// The figure: 200 durable executions, the server restarted mid-run with
/// `pg_ctl restart -m fast`; all 200 succeed and each task ran exactly once. The store waits
/// for the server (its default wait), so the runtime sees no error at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_go_on_after_a_restart_mid_run() {
    restart_mid_run(None, "postgres restart").await;
}

/// The same with a store that does not wait: calls made while the server restarts fail with
/// `StoreError::Unavailable`, and the runtime tries its writes again until they are made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_go_on_after_a_restart_mid_run_when_the_store_does_not_wait() {
    restart_mid_run(
        Some(Duration::ZERO),
        "postgres restart, the store not waiting",
    )
    .await;
}

/// Runs 200 executions of `Shipment` on a server of its own, restarts the server once about
/// a third of the tasks have run, and checks that every execution succeeded with each task
/// run once; prints the figures after `label`.
async fn restart_mid_run(wait: Option<Duration>, label: &str) {
    let Some(server) = Server::start() else {
        return;
    };
    const EXECUTIONS: u32 = 200;
    let mut builder = PostgresStore::builder(&server.url);
    if let Some(wait) = wait {
        builder = builder.connection_wait(wait);
    }
    let store = Arc::new(builder.connect().await.expect("connects"));
    let ledger = Arc::new(Ledger::default());
    let runtime = Runtime::builder()
        .store_arc(store.clone())
        .resource_arc(Arc::clone(&ledger))
        .register::<Shipment>()
        .build()
        .expect("builds");
    // Mid-run, once about a third of the tasks have run, while executions are still being
    // started: the server restarts.
    let server = Arc::new(server);
    let restarted = tokio::spawn({
        let (server, ledger) = (Arc::clone(&server), Arc::clone(&ledger));
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while ledger.total() < EXECUTIONS && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let ran = ledger.total();
            server.restart();
            ran
        }
    });
    // A start refused because the server is away (a store that does not wait) is made again:
    // by name, so a start whose answer was lost finds its execution rather than a twin.
    let mut handles = Vec::new();
    let mut refused = 0;
    for number in 0..EXECUTIONS {
        let name = format!("parcel-{number}");
        loop {
            match runtime
                .start_named::<Shipment>(&name, Parcel { number })
                .await
            {
                Ok(handle) => {
                    handles.push(handle);
                    break;
                }
                Err(RuntimeError::Store(error)) if error.is_transient() => {
                    refused += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("{name} did not start: {error}"),
            }
        }
    }
    let ran_at_restart = restarted.await.expect("the server restarted");
    let results = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(handles.iter().map(|handle| handle.result())),
    )
    .await
    .expect("every execution ends within two minutes");
    let mut succeeded = 0;
    let mut failed = Vec::new();
    for (handle, result) in handles.iter().zip(results) {
        match result {
            Ok(Ok(_)) => succeeded += 1,
            Ok(Err(failure)) => failed.push(format!("{}: {failure:?}", handle.id())),
            Err(error) => failed.push(format!("{}: {error}", handle.id())),
        }
    }
    let twice = ledger
        .runs
        .lock()
        .unwrap()
        .values()
        .filter(|runs| **runs > 1)
        .count();
    println!(
        "{label}: {EXECUTIONS} executions, {succeeded} succeeded, {} failed, {twice} tasks run twice ({ran_at_restart} of {} tasks had run at the restart; {refused} starts refused as unavailable and made again)",
        failed.len(),
        EXECUTIONS * 3
    );
    assert!(
        failed.is_empty(),
        "failed: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert_eq!(succeeded, EXECUTIONS);
    assert_eq!(twice, 0, "tasks ran twice");
    assert!(
        ran_at_restart < EXECUTIONS * 3,
        "the restart came after every task had run"
    );
    let running = store
        .list(ExecutionFilter::all().status(ExecutionStatus::Running))
        .await
        .expect("lists");
    assert!(running.is_empty(), "{} still running", running.len());
}

/// While the server is down a call waits for it, up to the configured wait: it goes on if the
/// server is back in time, and fails with `StoreError::Unavailable` otherwise (later calls
/// at once, the outage being known); once the server is back the same store serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_during_an_outage_wait_then_are_unavailable() {
    let Some(server) = Server::start() else {
        return;
    };
    const WAIT: Duration = Duration::from_secs(3);
    const SLACK: Duration = Duration::from_secs(2);
    let store = Arc::new(
        PostgresStore::builder(&server.url)
            .connection_wait(WAIT)
            .connect()
            .await
            .expect("connects"),
    );
    let first = new_execution("before");
    store.create(first.clone()).await.expect("creates");

    // Back within the wait: the call goes on.
    server.stop();
    let started = Instant::now();
    let reading = tokio::spawn({
        let (store, id) = (Arc::clone(&store), first.id.clone());
        async move { store.execution(&id).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.resume();
    let read = reading
        .await
        .expect("the read ends")
        .expect("reads once the server is back");
    assert_eq!(read.map(|record| record.name).as_deref(), Some("before"));
    assert!(started.elapsed() >= Duration::from_secs(1));

    // Away for longer: the call gives up after the wait.
    server.stop();
    let started = Instant::now();
    let error = store.execution(&first.id).await.expect_err("no server");
    let waited = started.elapsed();
    assert!(
        matches!(error, StoreError::Unavailable { .. }) && error.is_transient(),
        "{error:?}"
    );
    assert!(
        waited >= WAIT - Duration::from_millis(100) && waited < WAIT + SLACK,
        "gave up after {waited:?}"
    );
    println!("postgres outage: a read gave up after {waited:?} (wait {WAIT:?}): {error}");
    // The outage known, a write fails after one try.
    let started = Instant::now();
    let during = new_execution("during");
    let error = store.create(during.clone()).await.expect_err("no server");
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(started.elapsed() < SLACK, "{:?}", started.elapsed());
    // Connecting waits the same way.
    let started = Instant::now();
    let error = PostgresStore::builder(&server.url)
        .connection_wait(Duration::ZERO)
        .connect()
        .await
        .expect_err("no server");
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(started.elapsed() < SLACK, "{:?}", started.elapsed());

    // Back: the same store reads and writes, and the write that failed was not made.
    server.resume();
    let read = store.execution(&first.id).await.expect("reads");
    assert_eq!(read.map(|record| record.name).as_deref(), Some("before"));
    assert_eq!(store.execution(&during.id).await.expect("reads"), None);
    store.create(new_execution("after")).await.expect("creates");
}

/// A tokio runtime shutting down ends the store's connections and refuses new ones: the
/// writes it leaves in flight end at once (`StoreError::Closed`) rather than wait for a
/// database that is not away, holding the shutdown up.
#[test]
fn a_runtime_shutting_down_is_not_held_up_by_the_store() {
    let Some(server) = Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let store = runtime
        .block_on(PostgresStore::connect(&server.url))
        .expect("connects");
    // Writes under way, one after another, when the runtime is dropped.
    runtime.spawn(async move {
        for number in 0.. {
            let _ = store.create(new_execution(&format!("n{number}"))).await;
        }
    });
    runtime.block_on(async { tokio::time::sleep(Duration::from_millis(200)).await });
    let started = Instant::now();
    drop(runtime);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "the shutdown took {took:?}");
}
