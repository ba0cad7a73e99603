//! A store opened read-only, for tools that only look at it: SQLite's read-only flag, no
//! migration, a short busy timeout, and every write refused.
//!
//! A WAL database is read through its `-shm` file, which SQLite creates beside the database
//! when it is missing. Where it cannot (a read-only directory) and no `-wal` file exists
//! either, no process has uncommitted pages in a log, so the file is read as immutable (a
//! writer that starts after that is not followed: such a store is one that nobody may write
//! beside, like an archived copy).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::error::database;
use super::schema::SCHEMA_VERSION;
use super::{beside, Sqlite, SqliteStore};
use crate::store::sql::{Committer, SqlStore, Write, Written};
use crate::store::StoreError;

/// How long a read waits on a lock. Readers of a WAL database wait only on brief ones (a
/// recovery, a checkpoint resetting the log); a tool should say the store is busy rather than
/// hang for the writers' 30 s.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens the store in the existing file at `path` read-only.
pub(super) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
    let refused = |reason: &str| StoreError::InvalidUrl {
        url: path.display().to_string(),
        reason: reason.to_owned(),
    };
    if !path.is_file() {
        return Err(refused(
            "no such file (a store opened read-only is not created)",
        ));
    }
    let (connection, version) = match connect(path, false) {
        Err(error) if cannot_open(&error) && !beside(path, "-wal").exists() => connect(path, true),
        opened => opened,
    }
    .map_err(|error| explain(path, error))?;
    match version {
        Some(found) if found == SCHEMA_VERSION => {}
        Some(found) => {
            return Err(StoreError::Schema {
                found,
                expected: SCHEMA_VERSION,
            })
        }
        None => {
            return Err(refused(
                "it holds no workflow tables (a runtime creates them when it opens the file read-write; is this the right file?)",
            ))
        }
    }
    Ok(SqlStore::new(
        Sqlite::new(path.to_owned(), connection),
        Refused,
        <Sqlite as crate::store::sql::Driver>::STORE,
    ))
}

/// A read-only connection to `path` (as immutable: without locks or a `-shm` file), and the
/// schema version the file records (`None`: no `meta` table or no version in it).
fn connect(path: &Path, immutable: bool) -> rusqlite::Result<(Connection, Option<i64>)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = if immutable {
        Connection::open_with_flags(immutable_uri(path)?, flags | OpenFlags::SQLITE_OPEN_URI)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "query_only", true)?;
    // The first read: where a WAL database's `-shm` file cannot be had, this fails.
    let has_meta: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |row| row.get(0),
    )?;
    let version = if has_meta {
        connection
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .optional()?
    } else {
        None
    };
    Ok((connection, version))
}

/// `file:/absolute/path?immutable=1`, the path percent-encoded.
fn immutable_uri(path: &Path) -> rusqlite::Result<String> {
    let absolute = std::path::absolute(path)
        .map_err(|error| rusqlite::Error::InvalidPath(error.to_string().into()))?;
    let Some(text) = absolute.to_str() else {
        return Err(rusqlite::Error::InvalidPath(absolute));
    };
    let encoded: String = text
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect();
    Ok(format!("file:{encoded}?immutable=1"))
}

/// SQLite's SQLITE_READONLY_DIRECTORY: a WAL database whose `-shm` file is missing and
/// cannot be created, the directory being read-only.
const READONLY_DIRECTORY: std::ffi::c_int = rusqlite::ffi::SQLITE_READONLY | (6 << 8);

/// Whether SQLite could not read the file for want of its `-shm` file.
fn cannot_open(error: &rusqlite::Error) -> bool {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => {
            failure.code == ErrorCode::CannotOpen || failure.extended_code == READONLY_DIRECTORY
        }
        _ => false,
    }
}

/// An open that failed, as a store error that says what to do.
fn explain(path: &Path, error: rusqlite::Error) -> StoreError {
    let url = path.display().to_string();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::InvalidUrl {
            url,
            reason: "it is not a SQLite database".to_owned(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable {
            reason: format!(
                "`{url}` stayed locked for {} s: {error}",
                BUSY_TIMEOUT.as_secs()
            ),
        },
        _ if cannot_open(&error) => StoreError::database(
            format!(
                "`{url}` cannot be read: {error} (reading a store needs its `-shm` file, which SQLite creates beside it: make the directory writable, or let the writer close so that its `-wal` file goes)"
            ),
            error,
        ),
        _ => database(error),
    }
}

/// The writer of a store opened read-only: refuses every write.
struct Refused;

impl Committer for Refused {
    fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        batch
            .iter()
            .map(|_| Err(StoreError::Unsupported("writes: it was opened read-only")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::ExecutionId;
    use crate::store::{ExecutionFilter, RequestKind, Requests, Store};

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("the directory")
            .map(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// A store at `path` holding one request, left by a writer that then closed it.
    async fn written(path: &Path) -> i64 {
        let store = SqliteStore::open(path).expect("a store");
        store
            .request(
                &ExecutionId::from("e-1"),
                "W",
                RequestKind::Redrive,
                std::time::SystemTime::now(),
            )
            .await
            .expect("a request")
    }

    #[tokio::test]
    async fn reads_what_a_writer_wrote_and_refuses_writes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("store.db");
        let id = written(&path).await;
        let before = std::fs::read(&path).expect("the file");

        let store = SqliteStore::open_read_only(&path).expect("opened read-only");
        let request = store.request_of(id).await.expect("read").expect("found");
        assert_eq!(request.kind, RequestKind::Redrive);
        assert!(store
            .list(ExecutionFilter::all())
            .await
            .expect("listed")
            .is_empty());
        let refused = store
            .request(
                &ExecutionId::from("e-1"),
                "W",
                RequestKind::Redrive,
                std::time::SystemTime::now(),
            )
            .await
            .expect_err("a write to a read-only store");
        assert_eq!(
            refused.to_string(),
            "this store does not support writes: it was opened read-only"
        );
        drop(store);
        // SQLite may leave an empty `-wal` and the `-shm` index beside the file (the WAL
        // protocol's, for the next connection): the store itself is as it was.
        assert!(
            std::fs::read(&path).expect("the file") == before,
            "the file changed"
        );
        let wal = beside(&path, "-wal");
        assert!(!wal.exists() || std::fs::metadata(&wal).expect("the log").len() == 0);
    }

    #[tokio::test]
    async fn does_not_wait_for_a_writer_holding_the_lock() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("store.db");
        let id = written(&path).await;
        let writer = Connection::open(&path).expect("a writer");
        writer
            .execute_batch("BEGIN IMMEDIATE; DELETE FROM requests;")
            .expect("the write lock, held");
        let began = std::time::Instant::now();
        let store = SqliteStore::open_read_only(&path).expect("opened read-only");
        // The writer's change is not committed: the request is still there.
        assert!(store.request_of(id).await.expect("read").is_some());
        assert!(began.elapsed() < BUSY_TIMEOUT, "{:?}", began.elapsed());
        writer.execute_batch("ROLLBACK").expect("rolled back");
    }

    #[test]
    fn refuses_what_is_not_a_store_of_this_schema_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let message = |path: &Path| {
            SqliteStore::open_read_only(path)
                .expect_err("refused")
                .to_string()
        };

        let missing = dir.path().join("missing.db");
        assert!(message(&missing).contains("no such file"));
        assert!(!missing.exists());

        let empty = dir.path().join("empty.db");
        std::fs::File::create(&empty).expect("an empty file");
        assert!(message(&empty).contains("holds no workflow tables"));
        assert_eq!(std::fs::metadata(&empty).expect("the file").len(), 0);

        let text = dir.path().join("notes.txt");
        std::fs::write(
            &text,
            "not a database, but long enough to have a header: ".repeat(4),
        )
        .expect("a text file");
        assert!(
            message(&text).contains("not a SQLite database"),
            "{}",
            message(&text)
        );

        let old = dir.path().join("old.db");
        let connection = Connection::open(&old).expect("a database");
        connection
            .execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO meta VALUES ('schema_version', 5);",
            )
            .expect("schema version 5");
        assert_eq!(
            SqliteStore::open_read_only(&old).expect_err("refused"),
            StoreError::Schema {
                found: 5,
                expected: SCHEMA_VERSION
            }
        );
        let version: i64 = connection
            .query_row("SELECT value FROM meta", [], |row| row.get(0))
            .expect("the version");
        assert_eq!(version, 5, "not upgraded");

        assert_eq!(files_in(dir.path()), ["empty.db", "notes.txt", "old.db"]);
    }

    #[tokio::test]
    async fn reads_a_store_in_a_directory_it_cannot_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("store.db");
        let id = written(&path).await;
        let before = files_in(dir.path());
        let mode = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .expect("permissions set");
        };
        mode(&path, 0o444);
        mode(dir.path(), 0o555);
        // Root writes whatever the modes say: then this proves nothing (the command's tests
        // run the same check as an unprivileged user).
        let privileged = std::fs::write(dir.path().join("probe"), "").is_ok();
        let read = async {
            let store = SqliteStore::open_read_only(&path)?;
            store.request_of(id).await
        }
        .await;
        let _ = std::fs::remove_file(dir.path().join("probe"));
        mode(dir.path(), 0o755);
        if privileged {
            println!(
                "read-only directory: skipped (running as root, which file modes do not stop)"
            );
            return;
        }
        assert!(read.expect("read").is_some());
        assert_eq!(files_in(dir.path()), before);
    }
}
