//! Each state kind's own fields: Task, Pass, Choice, Wait, Fail, Parallel and Map.

use serde_json::Value;

use super::fields::{Fields, Problems};
use super::read::graph;
use super::rules::choice_rule;
use super::shaping::{list, result_path, setting_f64, setting_string, setting_u64, shaping};
use super::{Choice, Fail, Map, Parallel, Pass, QueryLanguage, Setting, Task, Wait};

pub(super) fn task(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Task> {
    let resource = fields.required_string("Resource", problems);
    let shaping = shaping(fields, language, "Parameters", problems);
    let timeout = setting_u64(
        fields,
        "TimeoutSeconds",
        Some("TimeoutSecondsPath"),
        1,
        language,
        problems,
    );
    let heartbeat = setting_u64(
        fields,
        "HeartbeatSeconds",
        Some("HeartbeatSecondsPath"),
        1,
        language,
        problems,
    );
    if let (Some(Setting::Fixed(timeout)), Some(Setting::Fixed(heartbeat))) = (&timeout, &heartbeat)
    {
        if heartbeat >= timeout {
            problems.add(
                &fields.pointer("HeartbeatSeconds"),
                "HeartbeatSeconds must be less than TimeoutSeconds",
            );
        }
    }
    let credentials = fields.raw("Credentials").cloned();
    Some(Task {
        resource: resource?,
        shaping,
        timeout,
        heartbeat,
        credentials,
    })
}

pub(super) fn pass(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Pass {
    match language {
        QueryLanguage::JsonPath => Pass {
            result: fields.raw("Result").cloned(),
            parameters: fields.template("Parameters", problems),
            result_path: result_path(fields, problems),
        },
        QueryLanguage::Jsonata => Pass::default(),
    }
}

pub(super) fn choice(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Choice> {
    let default = fields.string("Default", problems);
    if !fields.has("Choices") {
        problems.add(&fields.at, "the field Choices is required");
        return None;
    }
    let at = fields.pointer("Choices");
    let choices = list(fields, "Choices", problems, |value, at, problems| {
        choice_rule(value, at, language, problems)
    });
    if choices.is_empty()
        && fields
            .raw("Choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        problems.add(&at, "Choices must hold at least one rule");
    }
    Some(Choice { choices, default })
}

pub(super) fn wait(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Wait> {
    let seconds = setting_u64(
        fields,
        "Seconds",
        Some("SecondsPath"),
        0,
        language,
        problems,
    );
    let timestamp = setting_string(fields, "Timestamp", "TimestampPath", language, problems);
    match (seconds, timestamp) {
        (Some(seconds), None) => Some(Wait::Seconds(seconds)),
        (None, Some(timestamp)) => Some(Wait::Timestamp(timestamp)),
        (Some(_), Some(_)) => {
            problems.add(&fields.at, "a Wait state takes one of Seconds, SecondsPath, Timestamp and TimestampPath, not several");
            None
        }
        (None, None) => {
            problems.add(
                &fields.at,
                "a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
            );
            None
        }
    }
}

pub(super) fn fail(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Fail {
    Fail {
        error: setting_string(fields, "Error", "ErrorPath", language, problems),
        cause: setting_string(fields, "Cause", "CausePath", language, problems),
    }
}

pub(super) fn parallel(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Parallel> {
    let shaping = shaping(fields, language, "Parameters", problems);
    if !fields.has("Branches") {
        problems.add(&fields.at, "the field Branches is required");
        return None;
    }
    let branches = list(fields, "Branches", problems, |value, at, problems| {
        let mut branch = Fields::of(value, at, "a branch", problems);
        branch.string("Comment", problems);
        let graph = graph(&mut branch, language, problems);
        branch.finish("a branch", problems);
        graph
    });
    Some(Parallel { branches, shaping })
}

pub(super) fn map(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Map> {
    let processor_name = match (fields.has("ItemProcessor"), fields.has("Iterator")) {
        (true, true) => {
            problems.add(
                &fields.at,
                "a Map state takes ItemProcessor or Iterator, not both",
            );
            return None;
        }
        (true, false) => "ItemProcessor",
        (false, true) => "Iterator",
        (false, false) => {
            problems.add(
                &fields.at,
                "a Map state needs ItemProcessor (the states each item runs through)",
            );
            return None;
        }
    };
    let processor_at = fields.pointer(processor_name);
    let mut distributed = false;
    let processor = fields.raw_dynamic(processor_name).and_then(|value| {
        let mut processor = Fields::of(value, processor_at, processor_name, problems);
        processor.string("Comment", problems);
        if let Some(config) = processor.raw("ProcessorConfig") {
            let mut config = Fields::of(
                config,
                processor.pointer("ProcessorConfig"),
                "ProcessorConfig",
                problems,
            );
            match config.string("Mode", problems).as_deref() {
                None | Some("INLINE") => {}
                Some("DISTRIBUTED") => distributed = true,
                Some(other) => problems.add(
                    &config.pointer("Mode"),
                    format!("Mode must be \"INLINE\" or \"DISTRIBUTED\", not \"{other}\""),
                ),
            }
            config.string("ExecutionType", problems);
            config.finish("ProcessorConfig", problems);
        }
        let graph = graph(&mut processor, language, problems);
        processor.finish(processor_name, problems);
        graph
    });
    let (items_path, items) = match language {
        QueryLanguage::JsonPath => (fields.path("ItemsPath", problems), None),
        QueryLanguage::Jsonata => (None, fields.raw("Items").cloned()),
    };
    let selector_name = match (fields.has("ItemSelector"), fields.has("Parameters")) {
        (true, true) => {
            problems.add(
                &fields.at,
                "a Map state takes ItemSelector or Parameters, not both",
            );
            "ItemSelector"
        }
        (false, true) => "Parameters",
        _ => "ItemSelector",
    };
    let mut shaping = shaping(fields, language, selector_name, problems);
    if language == QueryLanguage::Jsonata && fields.has("ItemSelector") {
        // A JSONata Map's ItemSelector: `{% %}` expressions, evaluated per item.
        shaping.parameters = fields.template("ItemSelector", problems);
    }
    let max_concurrency = setting_u64(
        fields,
        "MaxConcurrency",
        Some("MaxConcurrencyPath"),
        0,
        language,
        problems,
    );
    let tolerated_failure_count = setting_u64(
        fields,
        "ToleratedFailureCount",
        Some("ToleratedFailureCountPath"),
        0,
        language,
        problems,
    );
    let tolerated_failure_percentage = setting_f64(
        fields,
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        language,
        problems,
    );
    if let Some(Setting::Fixed(percentage)) = tolerated_failure_percentage {
        if !(0.0..=100.0).contains(&percentage) {
            problems.add(
                &fields.pointer("ToleratedFailurePercentage"),
                "ToleratedFailurePercentage must be between 0 and 100",
            );
        }
    }
    let mut distributed_fields = serde_json::Map::new();
    for name in ["ItemReader", "ItemBatcher", "ResultWriter", "Label"] {
        if let Some(value) = fields.raw_dynamic(name) {
            distributed_fields.insert(name.to_owned(), value.clone());
        }
    }
    Some(Map {
        processor: processor?,
        written_as_iterator: processor_name == "Iterator",
        distributed,
        items_path,
        items,
        shaping,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        distributed_fields,
    })
}
