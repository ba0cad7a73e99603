//! How results are shown: aligned tables for people, JSON for scripts.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use workflow_runtime::store::{ExecutionRecord, StoredDefinition};

/// A time as RFC 3339, to the second, in UTC.
pub(crate) fn time(at: SystemTime) -> String {
    // humantime panics on times before 1970 or after 9999, which a damaged history may hold.
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_secs() < LAST_RFC3339_SECOND => {
            humantime::format_rfc3339_seconds(at).to_string()
        }
        Ok(since) => format!("{}s after 1970 (past 9999)", since.as_secs()),
        Err(before) => format!("{}s before 1970", before.duration().as_secs()),
    }
}

/// 10000-01-01T00:00:00Z, in seconds since 1970: RFC 3339 has four-digit years.
const LAST_RFC3339_SECOND: u64 = 253_402_300_800;

/// A record's status as shown: `unreadable` when its stored data does not read.
pub(crate) fn shown_status(record: &ExecutionRecord) -> &'static str {
    if record.unreadable.is_some() {
        "unreadable"
    } else {
        record.status.name()
    }
}

/// An execution as JSON: the record's own serialised form, the one the runtime documents.
pub(crate) fn record_json(record: &ExecutionRecord) -> Value {
    // A record holds only strings, JSON values, numbers and times, whose forms never fail;
    // a failure would still show rather than panic.
    serde_json::to_value(record).unwrap_or_else(|error| json!({ "error": error.to_string() }))
}

/// A recorded definition, in brief, as JSON.
pub(crate) fn definition_json(definition: &StoredDefinition) -> Value {
    json!({
        "workflow": definition.workflow,
        "fingerprint": definition.fingerprint,
        "mode": format!("{:?}", definition.definition.mode),
        "states": definition.definition.states.len(),
        "registered_at": time(definition.registered_at),
    })
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart, without
/// borders (as `ps` or `kubectl` print), so that scripts can still split on whitespace.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_header(header.iter().copied())
        .add_rows(rows.iter().map(|row| row.iter().map(String::as_str)));
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let text = table(
            &["id", "status"],
            &[
                vec!["a".into(), "running".into()],
                vec!["long-id".into(), "failed".into()],
            ],
        );
        assert_eq!(text, "id       status\na        running\nlong-id  failed\n");
    }

    #[test]
    fn times_out_of_rfc3339_range_are_written_without_panicking() {
        use std::time::Duration;
        assert_eq!(time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(time(UNIX_EPOCH - Duration::from_secs(5)), "5s before 1970");
        let far = UNIX_EPOCH + Duration::from_secs(LAST_RFC3339_SECOND);
        assert!(time(far).contains("past 9999"), "{}", time(far));
    }
}
