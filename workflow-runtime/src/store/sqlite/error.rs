//! What a SQLite failure means to the runtime: one that may pass (a full disk, a read-only
//! file, an I/O error, a lock held too long) is [`StoreError::Unavailable`], which running
//! executions wait out; anything else is [`StoreError::Database`].

use rusqlite::ErrorCode;

use crate::store::StoreError;

/// An error of the SQLite store, as a [`StoreError`] that keeps it as its source.
pub(super) trait Failure {
    fn store_error(self) -> StoreError;
}

/// `error` as a [`StoreError`], for `map_err`.
pub(super) fn database(error: impl Failure) -> StoreError {
    error.store_error()
}

impl Failure for rusqlite::Error {
    fn store_error(self) -> StoreError {
        let passing = matches!(
            self.sqlite_error_code(),
            Some(
                ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::OutOfMemory
                    | ErrorCode::FileLockingProtocolFailed
            )
        );
        if passing {
            StoreError::Unavailable {
                reason: self.to_string(),
            }
        } else {
            StoreError::database(self.to_string(), self)
        }
    }
}

impl Failure for std::io::Error {
    fn store_error(self) -> StoreError {
        StoreError::Unavailable {
            reason: self.to_string(),
        }
    }
}

impl Failure for serde_json::Error {
    fn store_error(self) -> StoreError {
        StoreError::database(self.to_string(), self)
    }
}

impl Failure for tokio::task::JoinError {
    fn store_error(self) -> StoreError {
        StoreError::database(self.to_string(), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_may_pass_and_a_constraint_does_not() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(full.store_error().is_transient());
        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );
        let error = constraint.store_error();
        assert!(!error.is_transient());
        // The SQLite error stays reachable beneath the store's.
        let source = std::error::Error::source(&error).expect("a source");
        let sqlite = source.downcast_ref::<rusqlite::Error>().expect("SQLite's");
        assert_eq!(
            sqlite.sqlite_error_code(),
            Some(ErrorCode::ConstraintViolation)
        );
    }
}
