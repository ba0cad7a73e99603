//! An expense approval that waits for a person: the `Approve` state hands out a task token
//! and the execution waits, durably, until someone answers with it, even across restarts of
//! this program.
//!
//! ```text
//! cargo run --example approval                               # starts (or resumes) and waits
//! cargo run --example approval -- approve <token>            # another terminal: the answer
//! cargo run --example approval -- reject <token> "not in the budget"
//! ```
//!
//! Both use `approvals.db` in the current directory (or the path in `APPROVALS_DB`). The
//! token is written to `E-100.token` next to it, standing in for the e-mail to the manager.

mod expense;

use expense::{Decision, Expense, ExpenseApproval};
use workflow::prelude::*;
use workflow::render;
use workflow::RuntimeError;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(ExpenseApproval::definition())? {
        return Ok(());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => wait_for_a_decision().await,
        Some(verb) => answer(verb, &args[1..]).await,
    }
}

/// The store both sides share.
fn store_path() -> String {
    std::env::var("APPROVALS_DB").unwrap_or_else(|_| "approvals.db".to_owned())
}

/// Starts the approval of one claim (or resumes it) and waits for its outcome.
async fn wait_for_a_decision() -> Result<(), Box<dyn std::error::Error>> {
    let db = store_path();
    let runtime = expense::runtime(std::path::Path::new(&db))?;
    // A previous run that stopped while waiting goes on waiting.
    let resumed = runtime.recover().await?.resumed;
    if !resumed.is_empty() {
        println!("resumed {} waiting execution(s)", resumed.len());
    }
    let claim = Expense {
        id: "E-100".to_owned(),
        employee: "ada".to_owned(),
        cents: 42_00,
        reason: "train to the customer".to_owned(),
    };
    let handle = match runtime
        .start_named::<ExpenseApproval>(&claim.id, claim.clone())
        .await
    {
        Ok(handle) => handle,
        Err(RuntimeError::ExecutionAlreadyExists { .. }) => {
            println!(
                "{} was decided already; delete {db} to start over",
                claim.id
            );
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    println!("waiting for the manager's decision on {} ...", claim.id);
    match handle.result().await? {
        Ok(reimbursed) => println!("{}: {}", claim.id, reimbursed.message),
        Err(failure) => println!("{}: {} ({})", claim.id, failure.error(), failure.cause()),
    }
    let history = workflow::History::from(runtime.history(handle.id(), 0, usize::MAX).await?);
    println!("\n{}", history.table());
    runtime.shutdown();
    Ok(())
}

/// Answers a waiting approval from another process: `approve <token> [note]` or
/// `reject <token> [note]` completes its task token in the shared store.
async fn answer(verb: &str, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (token, note) = match args {
        [token] => (token.as_str(), "approved"),
        [token, note] => (token.as_str(), note.as_str()),
        _ => {
            eprintln!("usage: approval [approve|reject <token> [note]]");
            std::process::exit(2);
        }
    };
    let runtime = expense::runtime(std::path::Path::new(&store_path()))?;
    let sent = match verb {
        "approve" => {
            let decision = Decision {
                approved_by: std::env::var("USER").unwrap_or_else(|_| "manager".to_owned()),
                note: note.to_owned(),
            };
            runtime.send_task_success(token, &decision).await
        }
        "reject" => {
            runtime
                .send_task_failure(token, "ApprovalError.Rejected", note)
                .await
        }
        other => {
            eprintln!("unknown decision `{other}`: approve or reject");
            std::process::exit(2);
        }
    };
    match sent {
        Ok(()) => println!("{verb}d"),
        Err(error) => {
            eprintln!("could not {verb}: {error}");
            std::process::exit(1);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::expense::{ask_manager, ApprovalError, Outbox};
    use super::*;
    use workflow::testing::{Harness, Script};

    fn claim() -> Expense {
        Expense {
            id: "E-1".to_owned(),
            employee: "ada".to_owned(),
            cents: 1_000,
            reason: "lunch".to_owned(),
        }
    }

    fn harness(ask: Script<ask_manager>) -> Harness {
        Harness::builder()
            .mock(ask)
            .register::<ExpenseApproval>()
            .build()
            .expect("builds")
    }

    #[workflow::test]
    async fn an_approval_reimburses() {
        let decision = Decision {
            approved_by: "bob".to_owned(),
            note: "fine".to_owned(),
        };
        // The mock stands for the whole exchange: request sent, answer received.
        let run = harness(Script::new().ok(decision))
            .run::<ExpenseApproval>(claim())
            .await;
        run.expect().succeeded().path(["Approve", "Reimburse"]);
    }

    #[workflow::test]
    async fn a_rejection_ends_it() {
        let run = harness(Script::new().err(ApprovalError::Rejected))
            .run::<ExpenseApproval>(claim())
            .await;
        run.expect().failed_with("ExpenseRejected").caught(
            "Approve",
            "ApprovalError.Rejected",
            "Rejected",
        );
    }

    #[workflow::test]
    async fn the_real_request_waits_for_the_token() {
        let dir = tempfile::tempdir().expect("a directory");
        let harness = Harness::builder()
            .resource(Outbox {
                dir: dir.path().to_owned(),
            })
            .register::<ExpenseApproval>()
            .build()
            .expect("builds");
        let running = tokio::spawn({
            let harness = harness.clone();
            async move { harness.run::<ExpenseApproval>(claim()).await }
        });
        let file = dir.path().join("E-1.token");
        // The request is written before the wait begins; a day passes on virtual time.
        tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        let token = std::fs::read_to_string(&file).expect("the request");
        harness
            .runtime()
            .send_task_success(
                &token,
                &Decision {
                    approved_by: "bob".to_owned(),
                    note: "ok".to_owned(),
                },
            )
            .await
            .expect("completes");
        let run = running.await.expect("runs");
        run.expect().succeeded();
        assert_eq!(run.elapsed().as_secs(), 24 * 3600);
    }

    #[test]
    fn the_diagrams_are_as_reviewed() {
        // Its pictures, as reviewed (`UPDATE_GOLDEN=1` rewrites them after a change).
        let reviewed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        workflow::testing::assert_diagrams(ExpenseApproval::definition(), reviewed);
    }
}
