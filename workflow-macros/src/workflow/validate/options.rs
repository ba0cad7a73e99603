//! Checks of the options of task, parallel and map states: timeouts, retriers, catchers,
//! concurrency and tolerated failures.

use syn::{Ident, Lit};

use super::{limit_text, max_millis, CatchModel, Edge, ErrorModel, Mode, RetryModel, TaskModel};
use crate::diagnostics::Errors;
use crate::names;
use crate::workflow::parse::{ErrorItem, RetryParam, RetryValue, Setting, TaskOption};

/// The kind of state whose options are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Task,
    Parallel,
    Map,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Task => "task",
            Kind::Parallel => "parallel",
            Kind::Map => "map",
        }
    }

    /// The keyword of `option` if this kind does not take it.
    fn refuses(self, option: &TaskOption) -> Option<&Ident> {
        match (self, option) {
            (
                Kind::Task,
                TaskOption::MaxConcurrency { keyword, .. } | TaskOption::Tolerate { keyword, .. },
            )
            | (
                Kind::Parallel,
                TaskOption::MaxConcurrency { keyword, .. } | TaskOption::Tolerate { keyword, .. },
            )
            | (
                Kind::Parallel | Kind::Map,
                TaskOption::Timeout { keyword, .. } | TaskOption::Heartbeat { keyword, .. },
            ) => Some(keyword),
            _ => None,
        }
    }

    /// Whether a state of this kind can raise the predefined error `name`.
    fn raises(self, name: &str) -> bool {
        match name {
            "States.ALL"
            | "States.TaskFailed"
            | "States.Timeout"
            | "States.HeartbeatTimeout"
            | "States.DataLimitExceeded" => true,
            "States.ExceedToleratedFailureThreshold" => self == Kind::Map,
            // A Choice state without a default inside a branch or iteration.
            "States.NoChoiceMatched" => self != Kind::Task,
            _ => false,
        }
    }
}

/// The options of a task, parallel or map state, each checked against what the kind allows.
pub(super) fn options_model<'a>(
    kind: Kind,
    options: &'a [TaskOption],
    mode: Mode,
    errors: &mut Errors,
    resolve: &mut dyn FnMut(&'a Ident, &mut Errors) -> Edge<'a>,
) -> TaskModel<'a> {
    let mut task = TaskModel::default();
    for option in options {
        if let Some(keyword) = kind.refuses(option) {
            errors.at(
                keyword.span(),
                format!("a {} state takes no `{keyword}` option", kind.name()),
            );
            continue;
        }
        match option {
            TaskOption::MaxConcurrency {
                keyword,
                value: Setting::Computed(function),
            } => {
                if task.max_concurrency.is_some()
                    || task.computed.max_concurrency.replace(function).is_some()
                {
                    errors.at(keyword.span(), "`max_concurrency` is given more than once");
                }
            }
            TaskOption::MaxConcurrency {
                keyword,
                value: Setting::Given(value),
            } => match value.base10_parse::<u32>() {
                Ok(limit) => {
                    if task.computed.max_concurrency.is_some()
                        || task.max_concurrency.replace(limit).is_some()
                    {
                        errors.at(keyword.span(), "`max_concurrency` is given more than once");
                    }
                }
                Err(_) => errors.at(
                    value.span(),
                    "`max_concurrency` is a whole number (0 for no limit)",
                ),
            },
            TaskOption::Tolerate {
                keyword,
                value: Setting::Computed(function),
                percent,
            } => {
                let (given, computed, what) = if *percent {
                    (
                        task.tolerated_percentage.is_some(),
                        &mut task.computed.tolerated_percentage,
                        "a tolerated percentage",
                    )
                } else {
                    (
                        task.tolerated_count.is_some(),
                        &mut task.computed.tolerated_count,
                        "a tolerated count",
                    )
                };
                if given || computed.replace(function).is_some() {
                    errors.at(keyword.span(), format!("{what} is given more than once"));
                }
            }
            TaskOption::Tolerate {
                keyword,
                value: Setting::Given(value),
                percent,
            } => {
                let number = match value {
                    syn::Lit::Int(int) => int.base10_parse::<f64>().ok(),
                    syn::Lit::Float(float) if *percent => float.base10_parse::<f64>().ok(),
                    _ => None,
                };
                match (number, percent) {
                    (Some(share), true) if (0.0..=100.0).contains(&share) => {
                        if task.computed.tolerated_percentage.is_some()
                            || task.tolerated_percentage.replace(share).is_some()
                        {
                            errors.at(keyword.span(), "a tolerated percentage is given more than once");
                        }
                    }
                    (Some(count), false) if count >= 0.0 && count <= f64::from(u32::MAX) => {
                        if task.computed.tolerated_count.is_some()
                            || task.tolerated_count.replace(count as u32).is_some()
                        {
                            errors.at(keyword.span(), "a tolerated count is given more than once");
                        }
                    }
                    _ => errors.at(
                        value.span(),
                        "`tolerate` takes a number of items (`tolerate 3`) or a percentage from 0 to 100 (`tolerate 10%`)",
                    ),
                }
            }
            TaskOption::Timeout {
                keyword,
                duration: Setting::Computed(function),
            }
            | TaskOption::Heartbeat {
                keyword,
                duration: Setting::Computed(function),
            } => {
                let (given, computed) = if matches!(option, TaskOption::Timeout { .. }) {
                    (task.timeout.is_some(), &mut task.computed.timeout)
                } else {
                    (task.heartbeat.is_some(), &mut task.computed.heartbeat)
                };
                if given || computed.replace(function).is_some() {
                    errors.at(
                        keyword.span(),
                        format!("`{keyword}` is given more than once"),
                    );
                }
            }
            TaskOption::Timeout {
                keyword,
                duration: Setting::Given(duration),
            }
            | TaskOption::Heartbeat {
                keyword,
                duration: Setting::Given(duration),
            } => {
                let is_timeout = matches!(option, TaskOption::Timeout { .. });
                let (slot, computed) = if is_timeout {
                    (&mut task.timeout, task.computed.timeout)
                } else {
                    (&mut task.heartbeat, task.computed.heartbeat)
                };
                if slot.replace(*duration).is_some() || computed.is_some() {
                    errors.at(
                        keyword.span(),
                        format!("`{keyword}` is given more than once"),
                    );
                }
                if mode == Mode::Express && duration.millis > max_millis(Mode::Express) {
                    errors.at(
                        duration.span,
                        format!(
                            "this {keyword} is longer than the mode allows: {}",
                            limit_text(Mode::Express)
                        ),
                    );
                }
            }
            TaskOption::Retry {
                keyword,
                unchecked,
                errors: written,
                params,
            } => {
                let mut retry = RetryModel {
                    keyword,
                    unchecked: unchecked.is_some(),
                    errors: error_models(kind, unchecked.as_ref(), written, errors),
                    interval_ms: None,
                    max_attempts: None,
                    backoff_rate: None,
                    max_delay_ms: None,
                    full_jitter: false,
                };
                retry_params(&mut retry, params, errors);
                task.retries.push(retry);
            }
            TaskOption::Catch {
                keyword,
                unchecked,
                errors: written,
                target,
            } => {
                let errors_model = error_models(kind, unchecked.as_ref(), written, errors);
                task.catches.push(CatchModel {
                    keyword,
                    unchecked: unchecked.is_some(),
                    errors: errors_model,
                    edge: resolve(target, errors),
                });
            }
        }
    }
    if let (Some(timeout), Some(heartbeat)) = (task.timeout, task.heartbeat) {
        if heartbeat.millis >= timeout.millis {
            errors.at(
                heartbeat.span,
                "the heartbeat interval must be shorter than the timeout",
            );
        }
    }
    for (clause, lists) in [
        (
            "retrier",
            task.retries
                .iter()
                .map(|retry| &retry.errors)
                .collect::<Vec<_>>(),
        ),
        (
            "catcher",
            task.catches
                .iter()
                .map(|catch| &catch.errors)
                .collect::<Vec<_>>(),
        ),
    ] {
        let last = lists.len().saturating_sub(1);
        for (index, list) in lists.iter().enumerate() {
            for error in list.iter() {
                if let ErrorModel::Predefined {
                    name: "States.ALL",
                    written,
                } = error
                {
                    if list.len() > 1 {
                        errors.at(
                            written.span(),
                            "`States::ALL` must stand alone in its list of errors",
                        );
                    }
                    if index != last {
                        errors.at(
                            written.span(),
                            format!("`States::ALL` matches every error, so it must be in the last {clause}"),
                        );
                    }
                }
            }
        }
    }
    task
}

/// The predefined error names, by the variant of `States` that names them.
const PREDEFINED: [(&str, &str); 12] = [
    ("ALL", "States.ALL"),
    ("All", "States.ALL"),
    ("Timeout", "States.Timeout"),
    ("HeartbeatTimeout", "States.HeartbeatTimeout"),
    ("TaskFailed", "States.TaskFailed"),
    ("DataLimitExceeded", "States.DataLimitExceeded"),
    ("Runtime", "States.Runtime"),
    ("Permissions", "States.Permissions"),
    ("BranchFailed", "States.BranchFailed"),
    ("NoChoiceMatched", "States.NoChoiceMatched"),
    ("IntrinsicFailure", "States.IntrinsicFailure"),
    (
        "ExceedToleratedFailureThreshold",
        "States.ExceedToleratedFailureThreshold",
    ),
];

fn error_models<'a>(
    kind: Kind,
    unchecked: Option<&Ident>,
    written: &'a [ErrorItem],
    errors: &mut Errors,
) -> Vec<ErrorModel<'a>> {
    written
        .iter()
        .filter_map(|item| {
            if let (Some(marker), ErrorItem::Path(error)) = (unchecked, item) {
                errors.at(
                    error.span(),
                    format!(
                        "`{marker}` is for error names given as strings, which nothing checks; `{}` is checked when the workflow compiles: write it in a clause without `{marker}`",
                        error.text()
                    ),
                );
                return None;
            }
            let error = match item {
                ErrorItem::Path(error) => error,
                ErrorItem::Name(name) => {
                    let text = name.value();
                    if text.trim().is_empty() {
                        errors.at(name.span(), "an error name cannot be empty");
                        return None;
                    }
                    if text.starts_with("States.") {
                        errors.at(name.span(), "write predefined errors as paths: `States::Timeout`, not a string");
                        return None;
                    }
                    return Some(if unchecked.is_some() {
                        ErrorModel::Unchecked(name)
                    } else {
                        ErrorModel::Named(name)
                    });
                }
            };
            let is_predefined = error.segments.len() == 2 && error.segments[0] == "States" && error.leading_colon.is_none();
            if error.segments[0] == "States" && !is_predefined {
                errors.at(error.span(), "predefined errors are written `States::Name`, e.g. `States::Timeout`");
                return None;
            }
            if !is_predefined {
                return Some(if error.wildcard.is_some() {
                    ErrorModel::AllOf(error)
                } else {
                    ErrorModel::Variant(error)
                });
            }
            if error.wildcard.is_some() {
                errors.at(error.span(), "write `States::ALL` to match every error");
                return None;
            }
            let variant = error.last().to_string();
            let Some((_, name)) = PREDEFINED.iter().find(|(written, _)| *written == variant) else {
                errors.at(
                    error.last().span(),
                    format!(
                        "unknown predefined error `States::{variant}`{}",
                        names::did_you_mean(&variant, PREDEFINED.iter().map(|(written, _)| *written))
                    ),
                );
                return None;
            };
            if *name == "States.Runtime" {
                errors.at(
                    error.last().span(),
                    "`States::Runtime` cannot be retried or caught: such an error always fails the execution",
                );
                return None;
            }
            if !kind.raises(name) {
                errors.at(error.last().span(), format!("a {} state never raises `{name}`", kind.name()));
                return None;
            }
            Some(ErrorModel::Predefined { name, written: error })
        })
        .collect()
}

const RETRY_PARAMS: [&str; 5] = ["max_attempts", "interval", "backoff", "max_delay", "jitter"];

fn retry_params(retry: &mut RetryModel<'_>, params: &[RetryParam], errors: &mut Errors) {
    let mut seen: Vec<String> = Vec::new();
    let mut interval = None;
    let mut max_delay = None;
    for param in params {
        let key = param.key.to_string();
        if seen.contains(&key) {
            errors.at(param.key.span(), format!("`{key}` is given more than once"));
            continue;
        }
        seen.push(key.clone());
        match (key.as_str(), &param.value) {
            ("max_attempts", RetryValue::Number(Lit::Int(count))) => match count.base10_parse::<u32>() {
                Ok(count) if count <= 99_999_999 => retry.max_attempts = Some(count),
                _ => errors.at(count.span(), "`max_attempts` is a whole number from 0 to 99999999"),
            },
            ("max_attempts", _) => errors.at(param.key.span(), "`max_attempts` is a whole number, e.g. `max_attempts: 3`"),
            ("backoff", RetryValue::Number(number @ (Lit::Float(_) | Lit::Int(_)))) => {
                let rate = match number {
                    Lit::Float(float) => float.base10_parse::<f64>().ok(),
                    Lit::Int(int) => int.base10_parse::<f64>().ok(),
                    _ => None,
                };
                match rate {
                    Some(rate) if rate.is_finite() && rate >= 1.0 => retry.backoff_rate = Some(rate),
                    _ => errors.at(
                        number.span(),
                        "`backoff` must be at least 1.0: each retry waits at least as long as the one before",
                    ),
                }
            }
            ("backoff", _) => errors.at(param.key.span(), "`backoff` is a number of at least 1.0, e.g. `backoff: 2.0`"),
            ("interval", RetryValue::Duration(duration)) => interval = Some(*duration),
            ("max_delay", RetryValue::Duration(duration)) => max_delay = Some(*duration),
            ("jitter", RetryValue::Word(word)) => match word.to_string().to_lowercase().as_str() {
                "full" => retry.full_jitter = true,
                "none" => retry.full_jitter = false,
                _ => errors.at(word.span(), "`jitter` is `none` or `full`"),
            },
            ("jitter", _) => errors.at(param.key.span(), "`jitter` is `none` or `full`"),
            _ => errors.at(
                param.key.span(),
                format!(
                    "unknown retry setting `{key}`: the settings are `max_attempts`, `interval`, `backoff`, `max_delay` and `jitter`{}",
                    names::did_you_mean(&key, RETRY_PARAMS)
                ),
            ),
        }
    }
    retry.interval_ms = interval.map(|interval| interval.millis);
    retry.max_delay_ms = max_delay.map(|max_delay| max_delay.millis);
    if let Some(max_delay) = max_delay {
        // The default interval is one second.
        let interval_ms = interval.map_or(1000, |interval| interval.millis);
        if max_delay.millis < interval_ms {
            errors.at(
                max_delay.span,
                "`max_delay` cannot be shorter than the `interval` (1s by default)",
            );
        }
    }
}
