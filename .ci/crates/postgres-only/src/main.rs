//! A workflow on PostgreSQL, in a build without SQLite (`WORKFLOW_TEST_POSTGRES_URL` names
//! the server).

use std::error::Error;

use workflow::prelude::*;
use workflow::store::PostgresStore;

#[step]
async fn count(items: Vec<u32>) -> usize {
    items.len()
}

workflow! {
    /// One task.
    Counts: Standard<Vec<u32>, usize> {
        start Count;
        Count: task count -> end;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // A SQLite URL is refused, saying which feature would open it.
    let refused = workflow::store::open("sqlite://x.db").await.err();
    println!("sqlite: {}", refused.map_or_else(String::new, |error| error.to_string()));
    let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
        println!("postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL)");
        return Ok(());
    };
    let schema = format!("postgres_only_{}", std::process::id());
    let runtime = Runtime::builder()
        .store(PostgresStore::connect_in_schema(&url, &schema).await?)
        .register::<Counts>()
        .build()?;
    let counted = runtime.start::<Counts>(vec![1, 2, 3]).await?.result().await??;
    println!("postgres: counted {counted}");
    assert_eq!(counted, 3);
    Ok(())
}
