//! An expense approval that waits for a person: the `Approve` state hands out a task token
//! and the execution waits, durably, until someone answers with it, even across restarts of
//! this program.
//!
//! ```text
//! cargo run --example approval                       # starts (or resumes) and waits
//! cargo run --example approve -- approve <token>     # from another terminal: the answer
//! cargo run --example approve -- reject <token> "not in the budget"
//! ```
//!
//! Both use `approvals.db` in the current directory (or the path in `APPROVALS_DB`). The
//! token is written to `E-100.token` next to it, standing in for the e-mail to the manager.

#[path = "expense.rs"]
mod expense;

use expense::{Expense, ExpenseApproval};
use workflow::prelude::*;
use workflow::render;
use workflow::RuntimeError;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if let Some(format) = render::Format::from_args(std::env::args())? {
        print!("{}", render::render(ExpenseApproval::definition(), format));
        return Ok(());
    }
    let db = std::env::var("APPROVALS_DB").unwrap_or_else(|_| "approvals.db".to_owned());
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

#[cfg(test)]
#[path = "../../tests/support/golden.rs"]
mod golden;

#[cfg(test)]
mod tests {
    use super::expense::{ask_manager, ApprovalError, Decision, ExpenseApproval, Outbox};
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
        golden::check_all_formats(ExpenseApproval::definition());
    }
}
