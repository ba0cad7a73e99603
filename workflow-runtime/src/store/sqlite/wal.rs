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
//! Where SQLite's next frame goes comes from the wal-index (the `-shm` file SQLite maps and
//! shares between connections): its header's `mxFrame`, the frames in the log, read after
//! each commit. The log is checkpointed at [`CHECKPOINT_PAGES`] by SQLite's own automatic
//! checkpoint, set on every connection (`wal_autocheckpoint`).
//!
//! Reading the wal-index rather than installing a WAL hook keeps the store buildable on every
//! `rusqlite` from 0.32 on (0.32 has no safe WAL hook), so that it resolves beside sqlx 0.8,
//! which pins the `libsqlite3-sys` of rusqlite 0.32.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rusqlite::Connection;

use super::beside;

/// Pages in the WAL after which a commit checkpoints it: 10,000 (40 MiB) rather than SQLite's
/// 1,000, so that a page written by many commits is copied into the database once.
pub(super) const CHECKPOINT_PAGES: u32 = 10_000;

/// The WAL's header, before its first frame.
const HEADER: u64 = 32;

/// A frame's header, before its page.
const FRAME_HEADER: u64 = 24;

/// The least written ahead of SQLite's position.
const MIN_AHEAD: u64 = 1 << 20;

/// Zeros written at a time.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The wal-index header (<https://sqlite.org/walformat.html>): two copies of 48 bytes, which
/// agree unless a writer is between updating them.
const INDEX_HEADER: usize = 48;
/// In the header: `isInit`, 1 once the header is written.
const INDEX_IS_INIT: usize = 12;
/// In the header: `mxFrame`, the frames in the log, a `u32` in the machine's byte order.
const INDEX_FRAMES: usize = 16;

/// The frames in the log, as the wal-index `shm` says; `None` when it cannot say (not yet
/// written, or caught between its two copies' updates).
fn frames_in_log(shm: &File) -> Option<u32> {
    let mut header = [0; 2 * INDEX_HEADER];
    shm.read_exact_at(&mut header, 0).ok()?;
    let (first, second) = header.split_at(INDEX_HEADER);
    if first != second || first[INDEX_IS_INIT] != 1 {
        return None;
    }
    let frames = first.get(INDEX_FRAMES..INDEX_FRAMES + 4)?;
    Some(u32::from_ne_bytes(frames.try_into().ok()?))
}

/// The writing connection's WAL file, written ahead of SQLite's frames.
pub(super) struct WalFile {
    /// The file (opened beside SQLite's own handle), `None` once writing ahead failed.
    file: Option<File>,
    /// Bytes of a frame: its header and one page.
    frame: u64,
    /// The file's length as last seen or made.
    length: u64,
    /// Bytes kept written past SQLite's position: at least [`MIN_AHEAD`], and twice the most
    /// one commit has added.
    ahead: u64,
    /// Frames in the log after the last commit.
    frames: u32,
    /// The wal-index, which says how many frames the log has (`None`: not opened yet).
    shm: Option<File>,
    /// Where the database is.
    path: std::path::PathBuf,
}

impl WalFile {
    /// The WAL file of the database at `path`, committed to by the connection `writer`.
    /// Without a WAL file (a database not in WAL mode), it does nothing.
    pub(super) fn open(writer: &Connection, path: &Path) -> Self {
        let page: u64 = writer
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap_or(4096);
        let file = OpenOptions::new()
            .write(true)
            .open(beside(path, "-wal"))
            .ok();
        let length = file
            .as_ref()
            .and_then(|file| file.metadata().ok())
            .map_or(0, |metadata| metadata.len());
        WalFile {
            file,
            frame: FRAME_HEADER + page,
            length,
            ahead: MIN_AHEAD,
            frames: 0,
            shm: None,
            path: path.to_owned(),
        }
    }

    /// Writes zeros past the file's end if SQLite's next commit could reach it. Call only
    /// with the database's write lock held.
    pub(super) fn write_ahead(&mut self) {
        let Some(file) = &self.file else { return };
        let position = HEADER + u64::from(self.frames) * self.frame;
        if position + self.ahead <= self.length {
            return;
        }
        // SQLite may have made the file longer itself (a commit bigger than what was ahead).
        let Ok(length) = file.metadata().map(|metadata| metadata.len()) else {
            self.file = None;
            return;
        };
        self.length = length;
        if position + self.ahead <= length {
            return;
        }
        let target = position + 2 * self.ahead;
        if zero_fill(file, length, target).is_ok() {
            self.length = target;
        } else {
            // Writing ahead only saves time: give it up, leaving the file as SQLite had it.
            let _ = file.set_len(length);
            self.file = None;
        }
    }

    /// Takes note of where the last commit left the log.
    pub(super) fn committed(&mut self) {
        if self.file.is_none() {
            return;
        }
        if self.shm.is_none() {
            self.shm = File::open(beside(&self.path, "-shm")).ok();
        }
        if let Some(frames) = self.shm.as_ref().and_then(frames_in_log) {
            // A restarted log counts from zero again.
            let added = u64::from(frames.saturating_sub(self.frames)) * self.frame;
            self.ahead = self.ahead.max(2 * added);
            self.frames = frames;
        }
    }
}

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
        let wal = WalFile::open(&writer, &path);
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
            wal.committed();
        }
    }

    #[test]
    fn the_log_is_written_ahead_and_a_crash_image_of_it_reads_back_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ahead.db");
        let (mut writer, mut wal) = new_log(dir.path(), "ahead.db");
        commit_rows(&mut writer, &mut wal, 0..500);

        let log = dir.path().join("ahead.db-wal");
        let written = HEADER + u64::from(wal.frames) * wal.frame;
        let length = std::fs::metadata(&log).unwrap().len();
        assert!(
            wal.frames > 500,
            "every commit added frames: {}",
            wal.frames
        );
        assert!(
            length >= written + MIN_AHEAD,
            "the file ({length} bytes) runs at least {MIN_AHEAD} bytes past the log's frames ({written} bytes)"
        );

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
    }

    #[test]
    fn the_log_checkpoints_and_the_restarted_log_overwrites_the_file_without_growing_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, mut wal) = new_log(dir.path(), "restart.db");
        // Each row fills a page of its own: past the checkpoint, the log starts again.
        commit_rows(&mut writer, &mut wal, 0..i64::from(CHECKPOINT_PAGES) + 100);
        let restarted = wal.frames;
        let length = std::fs::metadata(dir.path().join("restart.db-wal"))
            .unwrap()
            .len();
        commit_rows(&mut writer, &mut wal, 20_000..20_100);

        assert!(
            restarted < CHECKPOINT_PAGES,
            "the log restarted: {restarted} frames"
        );
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
    }
}
