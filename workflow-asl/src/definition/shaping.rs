//! The fields several state kinds share: where a result goes (`ResultPath`), how it is
//! shaped (`Parameters`, `ResultSelector`), settings written as numbers, `…Path` fields or
//! JSONata expressions, and retriers and catchers.

use serde_json::Value;

use super::fields::{kind, Fields, Problems};
use super::{Catcher, QueryLanguage, ResultPath, ResultShaping, Retrier, Setting};
use crate::pointer::Pointer;

pub(super) fn result_path(fields: &mut Fields<'_>, problems: &mut Problems) -> ResultPath {
    if fields.is_null("ResultPath") {
        return ResultPath::Discard;
    }
    let at = fields.pointer("ResultPath");
    match fields.path("ResultPath", problems) {
        Some(path) if path.as_str() == "$" => ResultPath::Replace,
        Some(path) if path.is_reference() && *path.root() == crate::path::Root::Input => {
            ResultPath::At(path)
        }
        Some(path) => {
            problems.add(
                &at,
                format!("ResultPath must be a reference path into the input ($.field, $['field'], $.list[0]), not '{path}'"),
            );
            ResultPath::Replace
        }
        None => ResultPath::Replace,
    }
}

/// A setting written as a number, or as a `…Path` field (JSONPath), or as a JSONata
/// expression in the number's place.
pub(super) fn setting_u64(
    fields: &mut Fields<'_>,
    name: &'static str,
    path_name: Option<&'static str>,
    min: u64,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Setting<u64>> {
    let path = match (language, path_name) {
        (QueryLanguage::JsonPath, Some(path_name)) => {
            fields.path(path_name, problems).map(Setting::Path)
        }
        _ => None,
    };
    let fixed = match fields.raw(name) {
        Some(Value::String(text)) if language == QueryLanguage::Jsonata && is_expression(text) => {
            Some(Setting::Expression(text.clone()))
        }
        Some(_) => fields.count(name, min, problems).map(Setting::Fixed),
        None => None,
    };
    both_or_one(fields, name, path_name, fixed, path, problems)
}

pub(super) fn setting_f64(
    fields: &mut Fields<'_>,
    name: &'static str,
    path_name: &'static str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Setting<f64>> {
    let path = match language {
        QueryLanguage::JsonPath => fields.path(path_name, problems).map(Setting::Path),
        QueryLanguage::Jsonata => None,
    };
    let fixed = match fields.raw(name) {
        Some(Value::String(text)) if language == QueryLanguage::Jsonata && is_expression(text) => {
            Some(Setting::Expression(text.clone()))
        }
        Some(_) => fields.number(name, problems).map(Setting::Fixed),
        None => None,
    };
    both_or_one(fields, name, Some(path_name), fixed, path, problems)
}

pub(super) fn setting_string(
    fields: &mut Fields<'_>,
    name: &'static str,
    path_name: &'static str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Setting<String>> {
    let path = match language {
        QueryLanguage::JsonPath => fields.path(path_name, problems).map(Setting::Path),
        QueryLanguage::Jsonata => None,
    };
    let fixed = fields.string(name, problems).map(|text| {
        match language == QueryLanguage::Jsonata && is_expression(&text) {
            true => Setting::Expression(text),
            false => Setting::Fixed(text),
        }
    });
    both_or_one(fields, name, Some(path_name), fixed, path, problems)
}

fn both_or_one<T>(
    fields: &Fields<'_>,
    name: &str,
    path_name: Option<&str>,
    fixed: Option<Setting<T>>,
    path: Option<Setting<T>>,
    problems: &mut Problems,
) -> Option<Setting<T>> {
    match (fixed, path) {
        (Some(_), Some(_)) => {
            problems.add(
                &fields.at,
                format!(
                    "{name} and {} cannot both be given",
                    path_name.unwrap_or_default()
                ),
            );
            None
        }
        (fixed, path) => fixed.or(path),
    }
}

/// Whether `text` is a JSONata expression: `{% … %}`.
pub(super) fn is_expression(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("{%") && text.ends_with("%}")
}

/// `Parameters` or `Arguments`, `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
pub(super) fn shaping(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    parameters_name: &'static str,
    problems: &mut Problems,
) -> ResultShaping {
    let mut shaping = ResultShaping::default();
    match language {
        QueryLanguage::JsonPath => {
            shaping.parameters = fields.template(parameters_name, problems);
            shaping.result_selector = fields.template("ResultSelector", problems);
            shaping.result_path = result_path(fields, problems);
        }
        QueryLanguage::Jsonata => {
            shaping.arguments = fields.raw("Arguments").cloned();
        }
    }
    shaping.retry = list(fields, "Retry", problems, |value, at, problems| {
        retrier(value, at, problems)
    });
    shaping.catch = list(fields, "Catch", problems, |value, at, problems| {
        catcher(value, at, language, problems)
    });
    shaping
}

pub(super) fn list<T>(
    fields: &mut Fields<'_>,
    name: &'static str,
    problems: &mut Problems,
    mut read: impl FnMut(&Value, Pointer, &mut Problems) -> Option<T>,
) -> Vec<T> {
    let at = fields.pointer(name);
    match fields.raw(name) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read(item, at.index(i), problems))
            .collect(),
        Some(other) => {
            problems.add(&at, format!("{name} must be a list, not {}", kind(other)));
            Vec::new()
        }
    }
}

fn retrier(value: &Value, at: Pointer, problems: &mut Problems) -> Option<Retrier> {
    let mut fields = Fields::of(value, at, "a retrier", problems);
    let error_equals = error_equals(&mut fields, problems);
    let interval_seconds = fields.count("IntervalSeconds", 1, problems).unwrap_or(1);
    let max_attempts = fields.count("MaxAttempts", 0, problems).unwrap_or(3);
    let backoff_rate = fields.number("BackoffRate", problems).unwrap_or(2.0);
    if backoff_rate < 1.0 {
        problems.add(
            &fields.pointer("BackoffRate"),
            format!("BackoffRate must be at least 1.0, not {backoff_rate}"),
        );
    }
    let max_delay_seconds = fields.count("MaxDelaySeconds", 1, problems);
    let full_jitter = match fields.string("JitterStrategy", problems).as_deref() {
        None | Some("NONE") => false,
        Some("FULL") => true,
        Some(other) => {
            problems.add(
                &fields.pointer("JitterStrategy"),
                format!("JitterStrategy must be \"FULL\" or \"NONE\", not \"{other}\""),
            );
            false
        }
    };
    fields.raw("Comment");
    fields.finish("a retrier", problems);
    Some(Retrier {
        error_equals: error_equals?,
        interval_seconds,
        max_attempts,
        backoff_rate,
        max_delay_seconds,
        full_jitter,
    })
}

fn catcher(
    value: &Value,
    at: Pointer,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Catcher> {
    let mut fields = Fields::of(value, at, "a catcher", problems);
    let error_equals = error_equals(&mut fields, problems);
    let next = fields.required_string("Next", problems);
    let (result_path, output) = match language {
        QueryLanguage::JsonPath => (result_path(&mut fields, problems), None),
        QueryLanguage::Jsonata => (ResultPath::Replace, fields.raw("Output").cloned()),
    };
    let assign = fields.template("Assign", problems);
    fields.raw("Comment");
    fields.finish("a catcher", problems);
    Some(Catcher {
        error_equals: error_equals?,
        next: next?,
        result_path,
        assign,
        output,
    })
}

/// `ErrorEquals`: required, non-empty, `States.ALL` alone.
fn error_equals(fields: &mut Fields<'_>, problems: &mut Problems) -> Option<Vec<String>> {
    if !fields.has("ErrorEquals") {
        problems.add(&fields.at, "the field ErrorEquals is required");
        return None;
    }
    let at = fields.pointer("ErrorEquals");
    let names = fields.strings("ErrorEquals", problems)?;
    if names.len() > 1 && names.iter().any(|name| name == "States.ALL") {
        problems.add(&at, "States.ALL must appear alone in ErrorEquals");
    }
    Some(names)
}
