//! What goes into a statement and what comes out of it: parameters as [`Value`]s, rows as
//! [`Row`]s of [`Cell`]s, the same for every database (each converts its own on the way).

use std::borrow::Cow;

use crate::store::StoreError;

/// A statement's parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// NULL, of whatever type the parameter has.
    Null,
    Integer(i64),
    Bool(bool),
    Text(Cow<'a, str>),
    /// A list of texts, for `{in $N}` and `{list $N}`.
    Texts(Vec<&'a str>),
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<bool> for Value<'_> {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(value: &'a str) -> Self {
        Value::Text(Cow::Borrowed(value))
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(value: &'a String) -> Self {
        Value::Text(Cow::Borrowed(value))
    }
}

impl From<String> for Value<'_> {
    fn from(value: String) -> Self {
        Value::Text(Cow::Owned(value))
    }
}

impl<'a> From<Vec<&'a str>> for Value<'a> {
    fn from(value: Vec<&'a str>) -> Self {
        Value::Texts(value)
    }
}

impl<'a> From<&'a [String]> for Value<'a> {
    fn from(value: &'a [String]) -> Self {
        Value::Texts(value.iter().map(String::as_str).collect())
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
// PostgreSQL's reads make neither a float nor bytes (no column holds one).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) enum Cell {
    Null,
    Integer(i64),
    /// A float (no column is written as one).
    Real(f64),
    Text(String),
    /// Bytes that are not UTF-8 text (SQLite stores what it is given).
    Bytes(Vec<u8>),
}

/// A row of a statement's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    fn cell(&self, index: usize) -> Result<&Cell, StoreError> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::failed(format!("a row has no column {index}")))
    }

    /// Column `index`, text or NULL.
    pub(crate) fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Text(text) => Ok(Some(text.clone())),
            other => Err(mismatch(index, "text", other)),
        }
    }

    /// Column `index`, text.
    pub(crate) fn text(&self, index: usize) -> Result<String, StoreError> {
        self.optional_text(index)?
            .ok_or_else(|| mismatch(index, "text", &Cell::Null))
    }

    /// Column `index` if it reads as text (UTF-8 bytes too), `None` otherwise: for data that
    /// may be damaged, which is reported rather than refused.
    pub(crate) fn text_if_any(&self, index: usize) -> Option<String> {
        match self.0.get(index)? {
            Cell::Text(text) => Some(text.clone()),
            Cell::Bytes(bytes) => String::from_utf8(bytes.clone()).ok(),
            _ => None,
        }
    }

    /// Column `index`, an integer or NULL.
    pub(crate) fn optional_integer(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Integer(value) => Ok(Some(*value)),
            other => Err(mismatch(index, "an integer", other)),
        }
    }

    /// Column `index`, an integer.
    pub(crate) fn integer(&self, index: usize) -> Result<i64, StoreError> {
        self.optional_integer(index)?
            .ok_or_else(|| mismatch(index, "an integer", &Cell::Null))
    }
}

fn mismatch(index: usize, wanted: &str, found: &Cell) -> StoreError {
    let found = match found {
        Cell::Null => "NULL",
        Cell::Integer(_) => "an integer",
        Cell::Real(_) => "a float",
        Cell::Text(_) => "text",
        Cell::Bytes(_) => "bytes",
    };
    StoreError::failed(format!("column {index} is {found}, not {wanted}"))
}
