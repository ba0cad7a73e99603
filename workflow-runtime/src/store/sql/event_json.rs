//! An event's JSON text, written straight into the text of an append: the same bytes as
//! `serde_json::to_writer(event)`, made without the serializer's per-field work.
//!
//! Every event a durable execution records is encoded once, on the executions' threads. Through
//! serde, each field name is escaped as a string, each time goes through `collect_str` and
//! its escaping, and the whole text is checked to be UTF-8 again: callgrind of
//! `standard_durable` (2,000 executions) put that at 25 % of all the instructions of the run.
//! Here the field names are literals, integers go through `itoa`, a time is written without
//! escaping (it holds nothing to escape), a name or error is escaped only if it holds a
//! character JSON escapes, and payloads that are not scalars are written by serde_json
//! itself. The tests compare the text with serde_json's for events of every shape and time.

use std::fmt::Write;

use serde_json::Value;

use crate::history::Event;

/// Appends `event`'s JSON text to `out`.
pub(crate) fn write_event(out: &mut String, event: &Event) {
    // Every field named: a field added to `Event` is a compile error here until it is written.
    let Event {
        id,
        previous_event_id,
        timestamp,
        kind,
        state,
        branch,
        input,
        output,
        error,
        cause,
        attempt,
        retry_in,
        length,
        heartbeat_timeout,
    } = event;
    out.push_str("{\"id\":");
    write_integer(out, *id);
    out.push_str(",\"previous_event_id\":");
    write_integer(out, *previous_event_id);
    out.push_str(",\"timestamp\":");
    crate::timestamp::write_json(out, *timestamp);
    out.push_str(",\"type\":\"");
    out.push_str(kind.name());
    out.push('"');
    if let Some(state) = state {
        out.push_str(",\"state\":");
        write_string(out, state);
    }
    if let Some(branch) = branch {
        out.push_str(",\"branch\":");
        write_string(out, branch);
    }
    if let Some(input) = input {
        out.push_str(",\"input\":");
        write_value(out, input);
    }
    if let Some(output) = output {
        out.push_str(",\"output\":");
        write_value(out, output);
    }
    if let Some(error) = error {
        out.push_str(",\"error\":");
        write_string(out, error);
    }
    if let Some(cause) = cause {
        out.push_str(",\"cause\":");
        write_string(out, cause);
    }
    if let Some(attempt) = attempt {
        out.push_str(",\"attempt\":");
        write_integer(out, *attempt);
    }
    if let Some(retry_in) = retry_in {
        out.push_str(",\"retry_in\":");
        write_string(out, &humantime::format_duration(*retry_in).to_string());
    }
    if let Some(length) = length {
        out.push_str(",\"length\":");
        write_integer(out, *length);
    }
    if *heartbeat_timeout {
        out.push_str(",\"heartbeat_timeout\":true");
    }
    out.push('}');
}

/// `text` as a JSON string: as it is between quotes when it holds nothing JSON escapes (the
/// names of states and errors, nearly always), else as serde_json escapes it.
fn write_string(out: &mut String, text: &str) {
    if text
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        write_display(out, &Value::from(text));
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// An integer, as serde_json writes it (with `itoa`).
fn write_integer(out: &mut String, value: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// A payload, in serde_json's compact form: a number, string, boolean or null written here,
/// anything else by serde_json (through `fmt`, whose machinery costs more than such a value).
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::String(text) => write_string(out, text),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => write_integer(out, unsigned),
            (None, Some(signed)) => write_integer(out, signed),
            // Written as serde_json writes it, with `ryu`.
            (None, None) => write_display(out, number),
        },
        Value::Array(_) | Value::Object(_) => write_display(out, value),
    }
}

fn write_display(out: &mut String, value: &impl std::fmt::Display) {
    // Writing into a `String` cannot fail.
    let _ = write!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::history::EventType;

    fn text(event: &Event) -> String {
        let mut out = String::new();
        write_event(&mut out, event);
        out
    }

    fn bare(at: SystemTime) -> Event {
        Event::new(7, 6, at, EventType::TaskStateEntered)
    }

    #[test]
    fn every_field_is_written_as_serde_json_writes_it() {
        let at = UNIX_EPOCH + Duration::new(1_764_000_000, 250_000_000);
        let mut full = bare(at);
        full.state = Some(Cow::Borrowed("Charge"));
        full.branch = Some("Enrich/1".to_owned());
        full.input = Some(json!({"b": [1, 2.5, null, true], "a": "x\"y", "é": {"n": -3}}));
        full.output = Some(Value::Null);
        full.error = Some("States.TaskFailed".to_owned());
        full.cause = Some("line one\nline \"two\"\t\\ \u{1}".to_owned());
        full.attempt = Some(3);
        full.retry_in = Some(Duration::from_millis(1_500));
        full.length = Some(12);
        full.heartbeat_timeout = true;

        let mut shapes = vec![bare(at), full];
        for (kind, state) in [
            (EventType::ExecutionStarted, None),
            (EventType::MapRunFailed, Some("naïve ✓ \u{7f} \u{1f}")),
            (EventType::WaitStateExited, Some("")),
        ] {
            let mut event = Event::new(1, 0, at, kind);
            event.state = state.map(|name| Cow::Owned(name.to_owned()));
            event.input = Some(json!(18_446_744_073_709_551_615_u64));
            event.output = Some(json!(-0.000_001_5));
            shapes.push(event.clone());
            event.input = Some(json!(i64::MIN));
            event.output = Some(json!([1.0, -2, "a\u{0}b", false, {"k": null}]));
            shapes.push(event.clone());
            event.input = Some(json!(1e300));
            event.output = Some(json!("plain"));
            shapes.push(event.clone());
            event.input = Some(json!(true));
            event.output = Some(json!(false));
            shapes.push(event);
        }
        for event in &shapes {
            assert_eq!(text(event), serde_json::to_string(event).unwrap());
        }
    }

    #[test]
    fn times_of_every_precision_and_out_of_range_are_written_as_serde_json_writes_them() {
        let times = [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_764_000_000, 0),
            UNIX_EPOCH + Duration::new(1_764_000_000, 5_000_000),
            UNIX_EPOCH + Duration::new(1_764_000_000, 5_000),
            UNIX_EPOCH + Duration::new(1_764_000_000, 5),
            UNIX_EPOCH + Duration::new(253_402_300_800, 500_000_000),
            UNIX_EPOCH - Duration::new(86_400, 250_000_000),
        ];
        for at in times {
            let event = bare(at);
            assert_eq!(text(&event), serde_json::to_string(&event).unwrap());
        }
    }
}
