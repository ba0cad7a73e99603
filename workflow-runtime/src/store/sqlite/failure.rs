//! What a SQLite failure means to the runtime: one that may pass (a full disk, a read-only
//! file, an I/O error, a lock held too long) is [`StoreError::Unavailable`], which running
//! executions wait out; anything else is [`StoreError::Database`].

use rusqlite::ErrorCode;

use crate::store::StoreError;

/// An error of the SQLite store, as a [`StoreError`].
pub(crate) trait Failure {
    fn store_error(self) -> StoreError;
}

impl Failure for &rusqlite::Error {
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
            StoreError::Database(self.to_string())
        }
    }
}

impl Failure for rusqlite::Error {
    fn store_error(self) -> StoreError {
        (&self).store_error()
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
        StoreError::Database(self.to_string())
    }
}

impl Failure for tokio::task::JoinError {
    fn store_error(self) -> StoreError {
        StoreError::Database(self.to_string())
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
        assert!(!constraint.store_error().is_transient());
    }
}
