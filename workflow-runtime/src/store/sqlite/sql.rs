//! SQLite as the shared SQL code sees it: its [`Dialect`], and a connection (or the writer's
//! transaction, which derefs to one) as [`Sql`]. Statements run synchronously, cached per
//! connection; their futures are ready when first polled.

use std::future::Future;
use std::sync::OnceLock;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ParamsFromIter};

use super::error::database;
use super::Sqlite;
use crate::store::sql::{Cell, Dialect, Row, Sql, Statements, Value};
use crate::store::StoreError;

/// SQLite's dialect: `?N` parameters, lists as JSON texts read with `json_each`, no row locks
/// (the writer holds the file's lock for its whole transaction), no table prefix.
impl Dialect for Sqlite {
    const TABLE_PREFIX: &'static str = "";
    const LOCK: &'static str = "";
    const SKIP_LOCKED: &'static str = "";

    fn parameter(index: &str) -> String {
        format!("?{index}")
    }

    fn in_list(index: &str) -> String {
        format!(" IN (SELECT value FROM json_each(?{index}))")
    }

    fn list(index: &str) -> String {
        format!("?{index}")
    }

    fn statements() -> &'static Statements {
        static STATEMENTS: OnceLock<Statements> = OnceLock::new();
        STATEMENTS.get_or_init(Statements::new::<Sqlite>)
    }
}

/// A connection, for the shared code.
pub(crate) struct SqliteSql<'a>(pub(super) &'a Connection);

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(value) => ToSqlOutput::Borrowed(ValueRef::Integer(*value)),
            Value::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*value))),
            Value::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            // Read with `json_each`.
            Value::Texts(texts) => ToSqlOutput::Owned(rusqlite::types::Value::Text(
                serde_json::to_string(texts)
                    .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?,
            )),
        })
    }
}

impl SqliteSql<'_> {
    /// Runs `run` on `sql`, prepared once per connection, with `parameters`.
    fn run<T>(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        run: impl FnOnce(
            &mut rusqlite::CachedStatement<'_>,
            ParamsFromIter<std::slice::Iter<'_, Value<'_>>>,
        ) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut statement = self.0.prepare_cached(sql).map_err(database)?;
        run(
            &mut statement,
            rusqlite::params_from_iter(parameters.iter()),
        )
        .map_err(database)
    }
}

impl Sql for SqliteSql<'_> {
    type Dialect = Sqlite;

    fn execute(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>> {
        let changed = self.run(sql, parameters, |statement, parameters| {
            statement.execute(parameters)
        });
        std::future::ready(changed.map(|changed| changed as u64))
    }

    fn query(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>> {
        let rows = self.run(sql, parameters, |statement, parameters| {
            let columns = statement.column_count();
            let mut rows = statement.query(parameters)?;
            let mut read = Vec::new();
            while let Some(row) = rows.next()? {
                let cells = (0..columns)
                    .map(|index| row.get_ref(index).map(cell))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                read.push(Row(cells));
            }
            Ok(read)
        });
        std::future::ready(rows)
    }
}

/// A value SQLite returned.
fn cell(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(value) => Cell::Integer(value),
        ValueRef::Real(value) => Cell::Real(value),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Cell::Text(text.to_owned()),
            Err(_) => Cell::Bytes(bytes.to_vec()),
        },
        ValueRef::Blob(bytes) => Cell::Bytes(bytes.to_vec()),
    }
}
