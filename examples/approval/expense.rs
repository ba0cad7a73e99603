//! The expense workflow shared by `approval` (which runs it) and `approve` (which completes
//! its approval request from another process).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

/// An expense claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Expense {
    pub(crate) id: String,
    pub(crate) employee: String,
    pub(crate) cents: u64,
    pub(crate) reason: String,
}

/// The manager's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Decision {
    pub(crate) approved_by: String,
    pub(crate) note: String,
}

/// What the employee is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Reimbursed {
    pub(crate) approved_by: String,
    pub(crate) message: String,
}

#[derive(Debug, thiserror::Error, StepError)]
pub(crate) enum ApprovalError {
    #[error("the manager rejected the expense")]
    Rejected,
}

/// Where approval requests go: one file per expense holding its token (a stand-in for the
/// e-mail or chat message a real system would send).
pub(crate) struct Outbox {
    pub(crate) dir: PathBuf,
}

impl Outbox {
    /// The file an expense's approval request is written to.
    pub(crate) fn request_file(&self, expense: &str) -> PathBuf {
        self.dir.join(format!("{expense}.token"))
    }
}

/// Sends the approval request, with its token, to the manager; the execution then waits.
#[step(timeout = "7d")]
pub(crate) async fn ask_manager(
    expense: Expense,
    token: TaskToken,
    outbox: Res<Outbox>,
) -> Result<Callback<Decision>, ApprovalError> {
    let file = outbox.request_file(&expense.id);
    // A request that cannot be sent is no decision: the task fails and the token expires.
    if std::fs::write(&file, token.to_string()).is_err() {
        return Err(ApprovalError::Rejected);
    }
    println!(
        "approval request for {} ({} cents, {}) written to {}",
        expense.id,
        expense.cents,
        expense.reason,
        file.display()
    );
    Ok(Callback::new())
}

/// Pays the expense back.
#[step]
pub(crate) async fn reimburse(decision: Decision) -> Reimbursed {
    Reimbursed {
        message: format!(
            "reimbursed, approved by {} ({})",
            decision.approved_by, decision.note
        ),
        approved_by: decision.approved_by,
    }
}

workflow! {
    /// Waits for a manager's approval, then reimburses; a rejection ends it.
    pub(crate) ExpenseApproval: Standard<Expense, Reimbursed> {
        timeout 30d;
        start Approve;
        /// Waits (durably, across restarts) for the manager's answer.
        Approve: task ask_manager -> Reimburse,
            catch ApprovalError::Rejected -> Rejected;
        Reimburse: task reimburse -> end;
        Rejected: fail "ExpenseRejected", cause "The manager rejected the expense";
    }
}

/// The runtime both programs use: the store in `db`, requests written next to it.
pub(crate) fn runtime(db: &std::path::Path) -> Result<Runtime, Box<dyn std::error::Error>> {
    let dir = db
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_owned);
    Ok(Runtime::builder()
        .store(workflow::store::SqliteStore::open(db)?)
        .resource(Outbox { dir })
        .register::<ExpenseApproval>()
        .build()?)
}
