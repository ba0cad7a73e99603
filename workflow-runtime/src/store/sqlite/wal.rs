//! The write-ahead log's file, kept written ahead of SQLite's own writes.
//!
//! A commit appends its pages to the WAL and syncs it. While the WAL is new, every commit
//! makes the file longer, and syncing a longer file is a filesystem journal commit (its size
//! and newly allocated blocks) on top of the data: on ext4 that doubles the cost of each sync
//! (measured on the benchmark machine: 4,000–5,200 appending syncs/s against 8,000–9,000
//! overwriting ones). Once SQLite has checkpointed and restarted the log, its commits
//! overwrite the file from the start and are cheap; until then (the first 10,000 pages after
//! a store opens) they are not. So, as PostgreSQL fills new WAL segments with zeros, the
//! committer writes zeros ahead of SQLite's position, a chunk at a time, and syncs them once:
//! SQLite's commits then overwrite blocks the file already has.
//!
//! Zeros past the log's last frame are what SQLite's recovery reads as the end of the log
//! (a frame whose salt does not match the header's), so they change nothing SQLite reads. The
//! zeros are only written while the committer holds the database's write lock (inside its
//! `BEGIN IMMEDIATE` transaction) and only past the file's current end, so no writer of
//! another process can be writing there at the same time.
//!
//! Where SQLite's next frame goes is not asked: the committer keeps zeros ahead of the file's
//! end, and when a commit has gone past them (the file grew beyond the zeros), it writes the
//! next stretch before the next commit. One commit in a stretch may extend the file; the
//! others overwrite. Asking would take a WAL hook, which only rusqlite 0.33 and later offer
//! safely (the store builds on 0.32, so that it resolves beside sqlx 0.8), or reading the
//! wal-index (`-shm`) through a descriptor of our own, whose closing would drop SQLite's POSIX
//! locks on it. The log is checkpointed at [`CHECKPOINT_PAGES`] by SQLite's own automatic
//! checkpoint, set on every connection (`wal_autocheckpoint`).
//!
//! Zeros stop where the log restarts (see [`limit`]): past the checkpoint's size SQLite writes
//! from the file's start again, so zeros there would never be overwritten. That bound also
//! keeps processes sharing the file in check: each sees the zeros another wrote as a commit
//! that went past its own, and without it they would double each other's stretch without end.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::beside;

/// Pages in the WAL after which a commit checkpoints it: 10,000 (40 MiB) rather than SQLite's
/// 1,000, so that a page written by many commits is copied into the database once.
pub(super) const CHECKPOINT_PAGES: u32 = 10_000;

/// The least written ahead of SQLite's position.
const MIN_AHEAD: u64 = 1 << 20;

/// Zeros written at a time.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The writing connection's WAL file, kept written ahead of SQLite's frames.
pub(super) struct WalFile {
    /// The file (opened beside SQLite's own handle), `None` once writing ahead failed.
    file: Option<File>,
    /// Where the zeros written ahead end; `None` before any are written (or once the file
    /// shrank: a truncated log).
    filled: Option<u64>,
    /// Zeros written at a time: at least [`MIN_AHEAD`], and twice the most one commit has
    /// gone past them.
    ahead: u64,
    /// Where the zeros stop: the file's length when the log holds [`CHECKPOINT_PAGES`] frames,
    /// and a stretch more.
    limit: u64,
}

impl WalFile {
    /// The WAL file of the database at `path`, whose pages are `page_size` bytes. Without a
    /// WAL file (a database not in WAL mode), it does nothing.
    pub(super) fn open(path: &Path, page_size: u64) -> Self {
        let file = OpenOptions::new()
            .write(true)
            .open(beside(path, "-wal"))
            .ok();
        WalFile {
            file,
            filled: None,
            ahead: MIN_AHEAD,
            limit: limit(page_size),
        }
    }

    /// Writes the next stretch of zeros if the last commit went past those written before
    /// (or none were). Call only with the database's write lock held.
    pub(super) fn write_ahead(&mut self) {
        let Some(file) = &self.file else { return };
        let Ok(length) = file.metadata().map(|metadata| metadata.len()) else {
            self.file = None;
            return;
        };
        match self.filled {
            // SQLite's frames are still within the zeros (or the log restarted from its
            // start, overwriting): nothing to do.
            Some(filled) if length == filled => return,
            // A commit went past the zeros: the next stretch is longer if it went far.
            Some(filled) if length > filled => {
                self.ahead = self.ahead.max(2 * (length - filled));
            }
            _ => {}
        }
        let target = (length + self.ahead).min(self.limit);
        if target <= length {
            // As long as the log will ever be before it restarts: SQLite extends it alone.
            self.filled = Some(length);
            return;
        }
        if zero_fill(file, length, target).is_ok() {
            self.filled = Some(target);
        } else {
            // Writing ahead only saves time: give it up, leaving the file as SQLite had it.
            let _ = file.set_len(length);
            self.file = None;
        }
    }
}

/// The length of a log file that holds [`CHECKPOINT_PAGES`] frames of `page_size` bytes,
/// and [`MIN_AHEAD`] more for the commit that takes it past them.
fn limit(page_size: u64) -> u64 {
    WAL_HEADER + u64::from(CHECKPOINT_PAGES) * (FRAME_HEADER + page_size) + MIN_AHEAD
}

/// The WAL's header, before its first frame.
const WAL_HEADER: u64 = 32;

/// A frame's header, before its page.
const FRAME_HEADER: u64 = 24;

/// Writes zeros into `file` from `start` to `end`, and syncs them.
fn zero_fill(file: &File, start: u64, end: u64) -> std::io::Result<()> {
    let mut offset = start;
    while offset < end {
        let length = usize::try_from(end - offset)
            .unwrap_or(ZEROS.len())
            .min(ZEROS.len());
        file.write_all_at(&ZEROS[..length], offset)?;
        offset += length as u64;
    }
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// A new database `name` in WAL mode with a table `t`, its writer and its WAL file.
    fn new_log(dir: &Path, name: &str) -> (Connection, WalFile) {
        let path = dir.join(name);
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES};
                 CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB);"
            ))
            .unwrap();
        let wal = WalFile::open(&path, 4096);
        (writer, wal)
    }

    /// Commits `rows` rows one transaction each, as the committer does.
    fn commit_rows(writer: &mut Connection, wal: &mut WalFile, rows: std::ops::Range<i64>) {
        for row in rows {
            let transaction = writer
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            wal.write_ahead();
            transaction
                .execute("INSERT INTO t VALUES (?1, zeroblob(3000))", [row])
                .unwrap();
            transaction.commit().unwrap();
        }
    }

    #[test]
    fn the_log_is_written_ahead_and_a_crash_image_of_it_reads_back_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ahead.db");
        let (mut writer, mut wal) = new_log(dir.path(), "ahead.db");
        commit_rows(&mut writer, &mut wal, 0..500);

        // As before the next commit.
        wal.write_ahead();
        let log = dir.path().join("ahead.db-wal");
        let length = std::fs::metadata(&log).unwrap().len();

        // What a crash would leave: the database and its log as they are on disk now.
        let image = dir.path().join("image.db");
        std::fs::copy(&path, &image).unwrap();
        std::fs::copy(&log, dir.path().join("image.db-wal")).unwrap();
        let reader = Connection::open(&image).unwrap();
        let (count, last): (i64, i64) = reader
            .query_row("SELECT count(*), max(id) FROM t", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((count, last), (500, 499));

        let frames = frames_in_log(&writer);
        let written = WAL_HEADER + frames * (FRAME_HEADER + 4096);
        assert!(frames > 500, "every commit added frames: {frames}");
        assert!(
            length > written && length >= MIN_AHEAD,
            "the file ({length} bytes) runs past the log's frames ({written} bytes)"
        );
    }

    /// The frames in the log, as SQLite reports them (with a passive checkpoint).
    fn frames_in_log(writer: &Connection) -> u64 {
        let frames: i64 = writer
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
            .unwrap();
        u64::try_from(frames).unwrap()
    }

    #[test]
    fn the_log_checkpoints_and_the_restarted_log_overwrites_the_file_without_growing_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, mut wal) = new_log(dir.path(), "restart.db");
        // Each row fills a page of its own: past the checkpoint, the log starts again.
        commit_rows(&mut writer, &mut wal, 0..i64::from(CHECKPOINT_PAGES) + 100);
        let length = std::fs::metadata(dir.path().join("restart.db-wal"))
            .unwrap()
            .len();
        commit_rows(&mut writer, &mut wal, 20_000..20_100);

        assert_eq!(
            std::fs::metadata(dir.path().join("restart.db-wal"))
                .unwrap()
                .len(),
            length,
            "commits into a restarted log overwrite the file"
        );
        let count: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, i64::from(CHECKPOINT_PAGES) + 200);
        let restarted = frames_in_log(&writer);
        assert!(
            restarted < u64::from(CHECKPOINT_PAGES),
            "the log restarted: {restarted} frames"
        );
    }

    #[test]
    fn two_writers_sharing_the_log_write_zeros_no_further_than_where_it_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut first, mut first_wal) = new_log(dir.path(), "shared.db");
        // A second writer, as another process would have it: its own connection and zeros.
        let mut second = Connection::open(dir.path().join("shared.db")).unwrap();
        let mut second_wal = WalFile::open(&dir.path().join("shared.db"), 4096);
        let log = dir.path().join("shared.db-wal");
        for turn in 0..40 {
            let rows = turn * 10..turn * 10 + 10;
            if turn % 2 == 0 {
                commit_rows(&mut first, &mut first_wal, rows);
            } else {
                commit_rows(&mut second, &mut second_wal, rows);
            }
            let length = std::fs::metadata(&log).unwrap().len();
            // 10,000 frames of 4 KiB and their headers (41.2 MB), and a stretch of zeros: 1 MiB.
            assert!(
                length <= 42_300_000,
                "after turn {turn} the log is {length} bytes, past where it restarts"
            );
        }
        let count: i64 = first
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 400);
    }
}
