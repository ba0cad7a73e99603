//! What can go wrong in a store, and the error beneath it.

use std::error::Error;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed, for a reason that does not pass by itself: a query or a value it
    /// refuses, a file that is not a store, a URL or setting it cannot use. The message says
    /// what failed (with the underlying error's own text); [`source`](Error::source) is the
    /// underlying error, where there is one (a `rusqlite::Error`, a `tokio_postgres::Error`,
    /// an `std::io::Error`…), for callers that need more than the message.
    #[error("the store failed: {message}")]
    Database {
        /// What failed.
        message: String,
        /// The error beneath, if the failure came from one.
        #[source]
        source: Option<ErrorSource>,
    },
    /// The store cannot be reached or cannot write for now (a database restarting, a lost
    /// connection, a full disk, a read-only file, a lock held too long): the same call may
    /// succeed later. The runtime retries its own writes with backoff; running executions
    /// pause meanwhile, they do not fail.
    #[error("the store is unavailable: {reason}")]
    Unavailable {
        /// What failed.
        reason: String,
    },
    /// Stored data could not be read back.
    #[error("stored data of execution `{execution}` is unreadable: {reason}")]
    Corrupt {
        /// The execution the data belongs to.
        execution: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A recorded definition could not be read back.
    #[error("the recorded definition of workflow `{workflow}` is unreadable: {reason}")]
    CorruptDefinition {
        /// The workflow.
        workflow: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store was written by an incompatible version.
    #[error("the store's schema is version {found}, this build reads version {expected}")]
    Schema {
        /// The version found.
        found: i64,
        /// The version this build reads.
        expected: i64,
    },
    /// The store has shut down.
    #[error("the store has shut down")]
    Closed,
    /// The execution's lease is held by another worker now: this one must not advance it.
    #[error("execution `{execution}` is now leased to another worker; this worker lost its lease")]
    LeaseLost {
        /// The execution.
        execution: String,
    },
    /// A write found the execution other than it expected and did nothing: it had ended
    /// (or was reopened, or never existed), or its history had grown by someone else's
    /// events. Every write that changes an execution is conditional on its state, in the
    /// same transaction.
    #[error("execution `{execution}` was not changed: {reason}")]
    Conflict {
        /// The execution.
        execution: String,
        /// What the write found.
        reason: String,
    },
    /// The store refuses this operation, as it was opened: writes to a store opened
    /// read-only ([`SqliteStore::open_read_only`](super::SqliteStore::open_read_only)).
    /// (What a store cannot do at all, it says by the capabilities it offers: see
    /// [`Store`](super::Store).)
    #[error("this store does not support {0}")]
    Unsupported(&'static str),
    /// A store URL that names no store this build can open.
    #[error("`{url}` names no store: {reason}")]
    InvalidUrl {
        /// The URL (without its password).
        url: String,
        /// Why.
        reason: String,
    },
}

impl StoreError {
    /// Whether the same call may succeed later, the store having recovered
    /// ([`StoreError::Unavailable`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// A [`StoreError::Database`] for `source`, saying `message` (which should include
    /// what `source` says: the message is what users read).
    pub fn database(
        message: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        StoreError::Database {
            message: message.into(),
            source: Some(ErrorSource::from_box(source.into())),
        }
    }

    /// A [`StoreError::Database`] that no underlying error caused: a setting the store
    /// cannot use, a value it refuses.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        StoreError::Database {
            message: message.into(),
            source: None,
        }
    }
}

/// The error beneath a [`StoreError::Database`]: the database client's, the file system's,
/// the JSON encoder's.
///
/// It dereferences to the error itself, so `downcast_ref` finds the client's type, and it is
/// what [`StoreError`]'s [`source`](Error::source) returns. It is shared, not copied, when the
/// error is cloned: the failed commit of a batch of writes is the error of each of them. Two
/// are equal when they say the same (errors are compared in tests, by what they say).
#[derive(Clone)]
pub struct ErrorSource(Arc<dyn Error + Send + Sync>);

impl ErrorSource {
    /// Wraps `error`.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        ErrorSource(Arc::new(error))
    }

    fn from_box(error: Box<dyn Error + Send + Sync>) -> Self {
        ErrorSource(Arc::from(error))
    }
}

impl Deref for ErrorSource {
    type Target = dyn Error + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl PartialEq for ErrorSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for ErrorSource {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_keeps_its_source_and_its_message() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no entry");
        let error = StoreError::database(format!("`/x.db` cannot be opened: {io}"), io);
        assert_eq!(
            error.to_string(),
            "the store failed: `/x.db` cannot be opened: no entry"
        );
        let source = error.source().expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the io error");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(!error.is_transient());
        // Clones share it, and compare equal.
        assert_eq!(error.clone(), error);
        assert!(StoreError::failed("no").source().is_none());
    }
}
