//! A service's own data in sqlx (SQLite, and PostgreSQL when `WORKFLOW_TEST_POSTGRES_URL`
//! names a server), and its workflows on `workflow`'s stores of the same databases.

use std::error::Error;
use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use workflow::prelude::*;
use workflow::store::PostgresStore;

#[step]
async fn greet(name: String) -> String {
    format!("hello, {name}")
}

workflow! {
    /// One task.
    Greets: Standard<String, String> {
        start Greet;
        Greet: task greet -> end;
    }
}

async fn greeted(runtime: &Runtime, name: String) -> Result<String, Box<dyn Error>> {
    let handle = runtime.start::<Greets>(name).await?;
    Ok(handle.result().await??)
}

async fn on_sqlite(dir: &Path) -> Result<(), Box<dyn Error>> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("app.db"))
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new().connect_with(options).await?;
    sqlx::query("CREATE TABLE people (name TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO people VALUES ('Ada')")
        .execute(&pool)
        .await?;
    let name: String = sqlx::query_scalar("SELECT name FROM people")
        .fetch_one(&pool)
        .await?;
    let runtime = Runtime::builder()
        .store(SqliteStore::open(dir.join("workflows.db"))?)
        .register::<Greets>()
        .build()?;
    let output = greeted(&runtime, name).await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await?;
    println!("sqlite {version}: {output}");
    assert_eq!(output, "hello, Ada");
    Ok(())
}

async fn on_postgres(url: &str) -> Result<(), Box<dyn Error>> {
    let pool = sqlx::postgres::PgPoolOptions::new().connect(url).await?;
    let name: String = sqlx::query_scalar("SELECT 'Grace'::text")
        .fetch_one(&pool)
        .await?;
    let schema = format!("sqlx_beside_{}", std::process::id());
    let runtime = Runtime::builder()
        .store(PostgresStore::connect_in_schema(url, &schema).await?)
        .register::<Greets>()
        .build()?;
    let output = greeted(&runtime, name).await?;
    println!("postgres: {output}");
    assert_eq!(output, "hello, Grace");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("sqlx-beside-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    on_sqlite(&dir).await?;
    match std::env::var("WORKFLOW_TEST_POSTGRES_URL") {
        Ok(url) => on_postgres(&url).await?,
        Err(_) => println!("postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL)"),
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
