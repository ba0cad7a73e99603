//! Answers an approval request of the `approval` example, from another process: completes its
//! task token with a decision (or a rejection) in the shared store.
//!
//! ```text
//! cargo run --example approve -- approve <token>
//! cargo run --example approve -- reject <token> "not in the budget"
//! ```

#[path = "approval/expense.rs"]
mod expense;

use expense::Decision;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (verb, token, note) = match args.as_slice() {
        [verb, token] => (verb.as_str(), token.as_str(), "approved"),
        [verb, token, note] => (verb.as_str(), token.as_str(), note.as_str()),
        _ => {
            eprintln!("usage: approve approve|reject <token> [note]");
            std::process::exit(2);
        }
    };
    let db = std::env::var("APPROVALS_DB").unwrap_or_else(|_| "approvals.db".to_owned());
    let runtime = expense::runtime(std::path::Path::new(&db))?;
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
