//! PostgreSQL as the shared SQL code sees it: its [`Dialect`], and a connection or
//! transaction as [`Sql`]. Every statement is prepared once per connection (then a statement
//! is one round trip, not two).

use std::sync::OnceLock;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Statement;

use super::error::database;
use super::Postgres;
use crate::store::sql::{Cell, Dialect, Row, Sql, Statements, Value};
use crate::store::StoreError;

/// PostgreSQL's dialect: `$N` parameters, lists as `TEXT[]`, row locks (`FOR UPDATE`, and
/// `SKIP LOCKED` for claims: several processes write at once), tables prefixed `workflow_`.
impl Dialect for Postgres {
    const TABLE_PREFIX: &'static str = "workflow_";
    const LOCK: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    fn parameter(index: &str) -> String {
        format!("${index}")
    }

    fn in_list(index: &str) -> String {
        format!(" = ANY(${index}::TEXT[])")
    }

    fn list(index: &str) -> String {
        format!("${index}::TEXT[]")
    }

    fn statements() -> &'static Statements {
        static STATEMENTS: OnceLock<Statements> = OnceLock::new();
        STATEMENTS.get_or_init(Statements::new::<Postgres>)
    }
}

/// A connection or transaction, for the shared code.
pub(crate) struct PostgresSql<'a, C>(pub(super) &'a C);

impl<C: GenericClient> PostgresSql<'_, C> {
    async fn prepared(&self, sql: &str) -> Result<Statement, StoreError> {
        self.0.prepare_cached(sql).await.map_err(database)
    }
}

/// `values` as parameters of `statement`: a NULL takes the type of its parameter.
fn parameters<'a>(
    statement: &Statement,
    values: &'a [Value<'_>],
) -> Vec<Box<dyn ToSql + Sync + 'a>> {
    values
        .iter()
        .zip(statement.params())
        .map(|(value, kind)| -> Box<dyn ToSql + Sync + 'a> {
            match value {
                Value::Null => match *kind {
                    Type::INT8 => Box::new(None::<i64>),
                    Type::BOOL => Box::new(None::<bool>),
                    Type::TEXT_ARRAY => Box::new(None::<Vec<&str>>),
                    _ => Box::new(None::<&str>),
                },
                Value::Integer(value) => Box::new(*value),
                Value::Bool(value) => Box::new(*value),
                Value::Text(text) => Box::new(text.as_ref()),
                Value::Texts(texts) => Box::new(texts.as_slice()),
            }
        })
        .collect()
}

fn references<'a>(parameters: &'a [Box<dyn ToSql + Sync + '_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    parameters
        .iter()
        .map(|parameter| &**parameter as &(dyn ToSql + Sync))
        .collect()
}

impl<C: GenericClient> Sql for PostgresSql<'_, C> {
    type Dialect = Postgres;

    async fn execute(&self, sql: &str, values: &[Value<'_>]) -> Result<u64, StoreError> {
        let statement = self.prepared(sql).await?;
        let parameters = parameters(&statement, values);
        self.0
            .execute(&statement, &references(&parameters))
            .await
            .map_err(database)
    }

    async fn query(&self, sql: &str, values: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepared(sql).await?;
        let parameters = parameters(&statement, values);
        let rows = self
            .0
            .query(&statement, &references(&parameters))
            .await
            .map_err(database)?;
        rows.iter().map(row).collect()
    }
}

/// A row PostgreSQL returned.
fn row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let cells = row
        .columns()
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let cell = match *column.type_() {
                Type::INT8 => row
                    .try_get::<_, Option<i64>>(index)
                    .map(|value| value.map(Cell::Integer)),
                Type::INT4 => row
                    .try_get::<_, Option<i32>>(index)
                    .map(|value| value.map(|value| Cell::Integer(i64::from(value)))),
                Type::BOOL => row
                    .try_get::<_, Option<bool>>(index)
                    .map(|value| value.map(|value| Cell::Integer(i64::from(value)))),
                _ => row
                    .try_get::<_, Option<String>>(index)
                    .map(|value| value.map(Cell::Text)),
            };
            cell.map(|cell| cell.unwrap_or(Cell::Null))
                .map_err(database)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Row(cells))
}
