//! A SQLite store with a succeeded and a failed execution, for the command's tests.

use std::path::Path;

use workflow::prelude::*;

#[derive(Debug, thiserror::Error, StepError)]
enum CheckError {
    #[error("{0} is odd")]
    Odd(u32),
}

#[step]
async fn check(value: u32) -> Result<u32, CheckError> {
    if value % 2 == 1 {
        return Err(CheckError::Odd(value));
    }
    Ok(value)
}

#[step]
async fn halve(value: u32) -> u32 {
    value / 2
}

workflow! {
    /// Checks that a number is even, then halves it.
    Halving: Standard<u32, u32> {
        start Check;
        Check: task check -> Halve;
        Halve: task halve -> end;
    }
}

/// A store with `even-4` (succeeded) and `odd-3` (failed in Check).
pub(crate) fn store(dir: &Path) -> String {
    let path = dir.join("executions.db");
    let url = format!("sqlite://{}", path.display());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        let runtime = Runtime::builder()
            .store(workflow::store::SqliteStore::open(&path).unwrap())
            .register::<Halving>()
            .build()
            .unwrap();
        let even = runtime.start_named::<Halving>("even-4", 4).await.unwrap();
        assert_eq!(even.result().await.unwrap().unwrap(), 2);
        let odd = runtime.start_named::<Halving>("odd-3", 3).await.unwrap();
        assert!(odd.result().await.unwrap().is_err());
    });
    url
}

/// A runtime with the workflow serving `dir`'s store (carrying out requests) until dropped.
#[allow(dead_code)] // Used by the command's tests, not by the browser test.
pub(crate) fn serve(dir: &Path) -> Serving {
    let path = dir.join("executions.db");
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio.block_on(async {
            let runtime = Runtime::builder()
                .store(workflow::store::SqliteStore::open(&path).unwrap())
                .register::<Halving>()
                .build()
                .unwrap();
            let _serving = runtime.serve().unwrap();
            // Until the sender is dropped.
            while matches!(
                stopped.try_recv(),
                Err(std::sync::mpsc::TryRecvError::Empty)
            ) {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
    });
    Serving {
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// A serving runtime's thread, stopped when dropped.
#[allow(dead_code)] // Used by the command's tests, not by the browser test.
pub(crate) struct Serving {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
