//! A store whose writes fail for a while, then work again: running executions pause and go
//! on, none fails, no task runs twice. Also when a write is applied but its answer is lost
//! (the runtime tries it again; appends are idempotent). A store that fails for longer than
//! the runtime's patience stops the runs: the handle says why, the execution stays as
//! recorded, and it goes on once the store works again.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use workflow::prelude::*;
use workflow::store::{SqliteStore, Store, StoreError};
use workflow::{EventType, ExecutionStatus, RuntimeError, VirtualClock};

use crate::faulty_store::Flaky;

use crate::support::recorded::until_recorded;
use crate::support::stores::stores;

/// How often each task of each execution ran.
#[derive(Default)]
struct Ledger(Mutex<HashMap<(String, String), u32>>);

#[step]
async fn stage(number: u32, ctx: StepContext, ledger: Res<Ledger>) -> u32 {
    *ledger
        .0
        .lock()
        .unwrap()
        .entry((ctx.execution_id().to_string(), ctx.state().to_owned()))
        .or_default() += 1;
    tokio::time::sleep(Duration::from_millis(100)).await;
    number + 1
}

workflow! {
    /// Three stages, a pause between the second and the third.
    Stages: Standard<u32, u32> {
        start One;
        One: task stage -> Two;
        Two: task stage -> Rest;
        Rest: wait 1s -> Three;
        Three: task stage -> end;
    }
}

fn runtime(store: Arc<dyn Store>, ledger: Arc<Ledger>, patience: Duration) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(VirtualClock::new())
        .resource_arc(ledger)
        .store_patience(patience)
        .register::<Stages>()
        .build()
        .expect("builds")
}

/// 50 executions; mid-run the store fails every write for 3 s (refusing them, or applying
/// them and losing the answer), then works again: all 50 succeed, each task ran once.
#[tokio::test(start_paused = true)]
async fn a_store_that_fails_for_a_while_pauses_executions_and_they_go_on() {
    for (label, store, _keep) in stores().await {
        for lose_answers in [false, true] {
            let flaky = Flaky::new(Arc::clone(&store));
            let ledger = Arc::new(Ledger::default());
            let runtime = runtime(flaky.clone(), Arc::clone(&ledger), Duration::from_secs(300));
            let mut handles = Vec::new();
            for number in 0..50 {
                handles.push(runtime.start::<Stages>(number).await.expect(label));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
            let switch = if lose_answers {
                &flaky.lose_answers
            } else {
                &flaky.refuse
            };
            switch.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3)).await;
            switch.store(false, Ordering::SeqCst);
            for (number, handle) in (0..50).zip(&handles) {
                let output = handle.result().await.expect(label);
                assert_eq!(output.expect(label), number + 3, "{label}");
            }
            let runs = ledger.0.lock().unwrap();
            assert_eq!(runs.len(), 150, "{label}: every task ran");
            let twice = runs.values().filter(|runs| **runs > 1).count();
            assert_eq!(twice, 0, "{label}: tasks ran twice");
            println!(
                "outage ({label}, {}): 50 executions, {} failed writes tried again, 50 succeeded, 0 failed, 0 tasks run twice",
                if lose_answers { "writes applied, answers lost" } else { "writes refused" },
                flaky.failed.load(Ordering::SeqCst)
            );
        }
    }
}

/// A store that keeps failing past the runtime's patience: `result()` returns the store's
/// error, the execution stays as recorded (running, its history intact), and once the store
/// works again it goes on and succeeds.
#[tokio::test(start_paused = true)]
async fn past_its_patience_the_runtime_leaves_the_execution_as_recorded() {
    for (label, store, _keep) in stores().await {
        let flaky = Flaky::new(Arc::clone(&store));
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(flaky.clone(), Arc::clone(&ledger), Duration::from_secs(10));
        let handle = runtime.start::<Stages>(7).await.expect(label);
        // Between tasks: a task whose end was not yet durable would count as lost (at most
        // once), as after a crash.
        until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
        flaky.refuse.store(true, Ordering::SeqCst);
        let gave_up = tokio::time::timeout(Duration::from_secs(120), handle.result())
            .await
            .unwrap_or_else(|_| panic!("{label}: result() did not return"));
        assert!(
            matches!(
                gave_up,
                Err(RuntimeError::Store(StoreError::Unavailable { .. }))
            ),
            "{label}: {gave_up:?}"
        );
        let record = store
            .execution(handle.id())
            .await
            .expect(label)
            .expect(label);
        assert_eq!(record.status, ExecutionStatus::Running, "{label}");
        let recorded = store.history(handle.id(), 0, 100).await.expect(label);
        assert!(
            !recorded
                .iter()
                .any(|event| event.kind == EventType::ExecutionFailed),
            "{label}: {recorded:?}"
        );

        flaky.refuse.store(false, Ordering::SeqCst);
        // Once its lease has run out, the runtime takes it back (its keeper does so by itself).
        tokio::time::sleep(Duration::from_secs(61)).await;
        let recovery = runtime.recover().await.expect(label);
        assert_eq!(recovery.resumed, [handle.id().clone()], "{label}");
        let output = handle.result().await.expect(label);
        let kinds: Vec<String> = store
            .history(handle.id(), 0, 100)
            .await
            .expect(label)
            .iter()
            .map(|event| format!("{} {:?}", event.kind, event.state))
            .collect();
        assert_eq!(
            output,
            Ok(10),
            "{label}: {kinds:#?} (recorded before: {})",
            recorded.len()
        );
        let history = store.history(handle.id(), 0, 100).await.expect(label);
        assert!(
            history.starts_with(&recorded),
            "{label}: what was recorded before the outage is kept"
        );
        println!(
            "outage ({label}): past its patience (10 s), result() returned the store's error; the execution stayed as recorded ({} events) and succeeded once the store worked again",
            recorded.len()
        );
    }
}

/// A small filesystem of its own for a SQLite file (a tmpfs, mounted for the test), unmounted
/// when dropped; `None` where mounting is not allowed.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[step]
async fn bulky(number: u32, ctx: StepContext, ledger: Res<Ledger>) -> String {
    *ledger
        .0
        .lock()
        .unwrap()
        .entry((ctx.execution_id().to_string(), ctx.state().to_owned()))
        .or_default() += 1;
    tokio::time::sleep(Duration::from_millis(20)).await;
    format!("{number}:{}", "x".repeat(20_000))
}

#[step]
async fn measure(text: String) -> usize {
    text.len()
}

workflow! {
    /// Writes bulky events.
    Bulky: Standard<u32, usize> {
        start Make;
        Make: task bulky -> Measure;
        Measure: task measure -> end;
    }
}

/// A SQLite file on a real filesystem that fills up: executions pause while the disk is
/// full (SQLite's "database or disk is full" is a passing failure) and all go on, each task
/// once, when space is freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_executions_until_space_is_freed() {
    let Some(disk) = SmallDisk::mount("4m") else {
        println!("outage (full disk): skipped, mounting a tmpfs is not allowed here");
        return;
    };
    let store = SqliteStore::open(disk.path().join("executions.db")).expect("opens");
    // Most of the disk taken by a file that can be deleted.
    let ballast = disk.path().join("ballast");
    std::fs::write(&ballast, vec![0_u8; 3 << 20]).expect("ballast");
    let ledger = Arc::new(Ledger::default());
    let runtime = Runtime::builder()
        .store(store)
        .resource_arc(Arc::clone(&ledger))
        .store_patience(Duration::from_secs(120))
        .register::<Bulky>()
        .build()
        .expect("builds");
    let mut handles = Vec::new();
    for number in 0..60 {
        match runtime.start::<Bulky>(number).await {
            Ok(handle) => handles.push(handle),
            // A start once the disk is full is refused, as a transient failure.
            Err(RuntimeError::Store(error)) if error.is_transient() => {}
            Err(other) => panic!("{other}"),
        }
    }
    // Let the disk fill up, then free it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let full = std::fs::metadata(disk.path().join("executions.db-wal")).is_ok();
    std::fs::remove_file(&ballast).expect("frees the disk");
    for handle in &handles {
        let output = tokio::time::timeout(Duration::from_secs(60), handle.result())
            .await
            .expect("result() returns")
            .expect("a result");
        assert!(output.expect("succeeds") > 20_000, "{}", handle.id());
    }
    let runs = ledger.0.lock().unwrap();
    let twice = runs.values().filter(|runs| **runs > 1).count();
    assert_eq!(twice, 0, "tasks ran twice");
    println!(
        "outage (full disk, sqlite): {} executions started before the 4 MiB disk filled up ({} refused at start), paused while it was full{}, all succeeded once space was freed, 0 tasks run twice",
        handles.len(),
        60 - handles.len(),
        if full { "" } else { " (no WAL seen)" }
    );
    assert!(!handles.is_empty());
}
