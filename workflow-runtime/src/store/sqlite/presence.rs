//! Which owners of a SQLite file's executions are alive: each runtime holds an exclusive lock
//! on a file of its own in a folder beside the database (`<file>.owners/`), which the operating
//! system releases when the process ends, however it ends (even killed). Every process that
//! shares the database shares its folder (SQLite itself needs one machine's file locks), so a
//! restarted process takes over a dead one's executions at once rather than when its leases
//! run out, and never takes those of a live one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::store::{Liveness, Presence, StoreError};

/// The folder of the owners' lock files of the database at `database`.
fn folder(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".owners");
    PathBuf::from(name)
}

/// The lock file of `owner` (named by a digest: owner names may hold any character).
fn lock_file(database: &Path, owner: &str) -> PathBuf {
    let digest = Sha256::digest(owner.as_bytes());
    let name: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    folder(database).join(format!("{name}.lock"))
}

/// The lock of a live owner: released, and its file removed, when dropped.
struct Held {
    file: File,
    path: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Removed before it is unlocked: a process that opens it meanwhile finds it locked or
        // gone, either way not free for the taking by mistake.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Takes `owner`'s lock, for as long as the presence is kept.
pub(super) fn announce(database: &Path, owner: &str) -> Result<Presence, StoreError> {
    let unavailable = |what: &str, error: std::io::Error| StoreError::Unavailable {
        reason: format!("{what}: {error}"),
    };
    let folder = folder(database);
    std::fs::create_dir_all(&folder)
        .map_err(|error| unavailable(&format!("creating {}", folder.display()), error))?;
    let path = lock_file(database, owner);
    // A process looking at a lock file as it is created may find it free and remove it (its
    // owner looked gone): then it is made again. One that holds it a moment (removing a dead
    // owner's file) is waited for.
    for _ in 0..50 {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| unavailable(&format!("opening {}", path.display()), error))?;
        match file.try_lock() {
            Ok(()) if is_at(&file, &path) => {
                // What it is, for someone looking into the folder.
                let _ = std::io::Write::write_all(&mut &file, owner.as_bytes());
                return Ok(Presence::holding(Held { file, path }));
            }
            Ok(()) => {
                let _ = file.unlock();
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(error)) => {
                return Err(unavailable(&format!("locking {}", path.display()), error))
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(StoreError::Conflict {
        execution: String::new(),
        reason: format!("another live runtime is named `{owner}`: owner names must be unique"),
    })
}

/// Whether `file` is still the file at `path` (not removed meanwhile).
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(there)) => held.ino() == there.ino() && held.dev() == there.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Whether `owner` holds its lock.
pub(super) fn liveness(database: &Path, owner: &str) -> Liveness {
    let path = lock_file(database, owner);
    let file = match OpenOptions::new().write(true).open(&path) {
        Ok(file) => file,
        // Every live owner of this database has its file: this one has ended (or never ran
        // with this build, which its lease covers).
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Liveness::Gone,
        Err(_) => return Liveness::Unknown,
    };
    match file.try_lock() {
        Ok(()) => {
            // Free: its owner is gone. The file goes with it.
            let _ = std::fs::remove_file(&path);
            let _ = file.unlock();
            Liveness::Gone
        }
        Err(TryLockError::WouldBlock) => Liveness::Alive,
        Err(TryLockError::Error(_)) => Liveness::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_says_alive_and_a_released_one_gone() -> Result<(), StoreError> {
        let dir =
            tempfile::tempdir().map_err(|error| StoreError::database(error.to_string(), error))?;
        let database = dir.path().join("executions.db");
        assert_eq!(liveness(&database, "never-ran"), Liveness::Gone);
        let presence = announce(&database, "worker/1")?;
        assert_eq!(liveness(&database, "worker/1"), Liveness::Alive);
        assert!(matches!(
            announce(&database, "worker/1"),
            Err(StoreError::Conflict { .. })
        ));
        drop(presence);
        assert_eq!(liveness(&database, "worker/1"), Liveness::Gone);
        Ok(())
    }
}
