//! The SQL store, written once: [`SqlStore`] implements [`Store`](super::Store) and every
//! capability over a [`Driver`] (`store.rs`); what each write does ([`apply`]), what each
//! read reads (`read.rs`), and every statement ([`Statements`]), over a connection or
//! transaction of either database ([`Sql`]) and its [`Dialect`]; group commit (`queue.rs`),
//! which turns the store's writes into batches for the driver's [`Committer`].
//!
//! A driver is one database: SQLite (`super::sqlite`) and PostgreSQL (`super::postgres`),
//! each a folder of the same files for the same roles: `mod.rs` (the driver type, its
//! [`Driver`] implementation, and how a store is opened), `connections.rs`, `commit.rs` (its
//! [`Committer`]), `sql.rs` (its [`Dialect`], and its connections as [`Sql`]), `schema.rs`
//! (tables and migrations), `error.rs` (what its errors mean to the runtime).
//! `SqliteStore` and `PostgresStore` are [`SqlStore`] over those drivers.
//!
//! A store operation is therefore written once for both databases, and no driver changes:
//! its method on [`SqlStore`] (`store.rs`); a write's [`Write`] variant (`queue.rs`) and what
//! it does (`apply.rs`), or a read's function (`read.rs`); its statements (`dialect.rs`).
//!
//! # What differs between the databases
//!
//! - **SQL text**, small things each [`Dialect`] says: placeholders (`?1` in SQLite, `$1` in
//!   PostgreSQL); a list parameter (SQLite has no arrays: a JSON text read with `json_each`;
//!   PostgreSQL a `TEXT[]` compared with `= ANY`); the tables' names (PostgreSQL's start
//!   with `workflow_`, for a database shared with other applications); row locks
//!   (`FOR UPDATE`, and `FOR UPDATE SKIP LOCKED` for claims, in PostgreSQL, where several
//!   processes write at once; nothing in SQLite, whose writer holds the whole file's lock
//!   for its transaction). Upserts (`ON CONFLICT … DO UPDATE`/`DO NOTHING`) and
//!   `RETURNING` are written the same in both (SQLite has had them since 3.24 and 3.35).
//! - **Column types**: `INTEGER` and `BIGINT`, `INTEGER PRIMARY KEY` and `BIGSERIAL`; both
//!   keep JSON as `TEXT` (the stored text is what a retried append is compared with, and
//!   what tools read). SQLite returns what it was given, even bytes where text was written
//!   (a damaged file); [`Row::text_if_any`] reads those as the records' reader expects.
//! - **The schema's shape is the same**: the same tables and columns, and histories kept a
//!   row per append (a JSON array of the events `first_id..=last_id`), so a history is read
//!   and extended by the same statements. Each database keeps its own schema version and
//!   migrations (`schema.rs` of each), which bring older files and databases to this shape.
//! - **How statements run**: rusqlite is synchronous, on the thread that commits (a blocking
//!   thread of tokio's); tokio-postgres is asynchronous, on connections from pools. The
//!   shared code is `async` over [`Sql`]; SQLite's futures never wait, and [`now`] drives
//!   them to their end in one poll.
//! - **How a batch commits** (each driver's [`Committer`]): SQLite applies the batch in one
//!   transaction and, if a write fails, again write by write in savepoints; PostgreSQL
//!   pipelines the batch's appends, one statement each (`postgres/commit.rs`: a round trip
//!   for all of them rather than several per append), applies the other writes each in a
//!   savepoint, and finds out whether a commit whose connection broke went through.

mod apply;
mod dialect;
mod encoded;
mod event_json;
mod known;
mod queue;
mod read;
mod store;
mod value;

use std::future::Future;

pub(crate) use apply::apply;
pub(crate) use dialect::{Dialect, Statements};
#[cfg(feature = "sqlite")]
pub(crate) use known::KnownRows;
pub(crate) use queue::{Committer, Write, Written};
pub(crate) use store::Driver;
pub use store::SqlStore;
pub(crate) use value::{Cell, Row, Value};

use super::StoreError;

/// A connection or a transaction that the shared code runs statements on.
pub(crate) trait Sql {
    /// Its database's dialect.
    type Dialect: Dialect;

    /// Runs `sql` (a statement of [`statements`](Self::statements), or one rendered with
    /// [`render`](Self::render)); how many rows it changed.
    fn execute(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>>;

    /// Runs `sql`; the rows it returns.
    fn query(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>>;

    /// The statements, in its dialect.
    fn statements(&self) -> &'static Statements {
        <Self::Dialect as Dialect>::statements()
    }

    /// A statement of the shared code's own making, in its dialect.
    fn render(&self, template: &str) -> String {
        dialect::render::<Self::Dialect>(template)
    }

    /// Runs `sql`; its first row, if any.
    fn query_first(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> impl Future<Output = Result<Option<Row>, StoreError>> {
        let rows = self.query(sql, parameters);
        async move { Ok(rows.await?.into_iter().next()) }
    }
}

/// The outcome of `future`, which must not wait (it runs statements on a synchronous
/// connection): polled once.
#[cfg(feature = "sqlite")]
pub(crate) fn now<T>(future: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut context) {
        std::task::Poll::Ready(outcome) => outcome,
        std::task::Poll::Pending => Err(StoreError::failed(
            "a statement of a synchronous connection waited",
        )),
    }
}
