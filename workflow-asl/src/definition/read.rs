//! Reading a definition's JSON into the model, every problem noted at its pointer. Each
//! reader asks for exactly the fields its state kind allows (in its query language), so
//! whatever else an object holds is reported as unsupported.

use serde_json::Value;

use super::fields::{kind, Fields, Problems};
use super::rules::choice_rule;
use super::{
    Catcher, Choice, Fail, Graph, Map, Parallel, Pass, QueryLanguage, ResultPath, ResultShaping,
    Retrier, Selection, Setting, State, StateKind, StateMachine, Task, Transition, Wait,
};
use crate::pointer::Pointer;

/// The longest state name Step Functions accepts.
const NAME_LIMIT: usize = 80;

pub(super) fn machine(definition: &Value, problems: &mut Problems) -> Option<StateMachine> {
    let mut fields = Fields::of(
        definition,
        Pointer::root(),
        "a state machine definition",
        problems,
    );
    let comment = fields.string("Comment", problems);
    let timeout_seconds = fields.count("TimeoutSeconds", 1, problems);
    if let Some(version) = fields.string("Version", problems) {
        if version != "1.0" {
            problems.add(
                &fields.pointer("Version"),
                format!("Version must be \"1.0\", not \"{version}\""),
            );
        }
    }
    let query_language = language(&mut fields, QueryLanguage::JsonPath, problems);
    let graph = graph(&mut fields, query_language, problems);
    fields.finish("a state machine definition", problems);
    Some(StateMachine {
        comment,
        graph: graph?,
        timeout_seconds,
        query_language,
    })
}

/// `QueryLanguage`, or `inherited` when absent.
fn language(
    fields: &mut Fields<'_>,
    inherited: QueryLanguage,
    problems: &mut Problems,
) -> QueryLanguage {
    match fields.string("QueryLanguage", problems).as_deref() {
        None => inherited,
        Some("JSONPath") => QueryLanguage::JsonPath,
        Some("JSONata") => QueryLanguage::Jsonata,
        Some(other) => {
            problems.add(
                &fields.pointer("QueryLanguage"),
                format!("QueryLanguage must be \"JSONPath\" or \"JSONata\", not \"{other}\""),
            );
            inherited
        }
    }
}

/// `StartAt` and `States` of the object being read.
fn graph(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Graph> {
    let start_at = fields.required_string("StartAt", problems);
    if !fields.has("States") {
        problems.add(&fields.at, "the field States is required");
        return None;
    }
    let states_at = fields.pointer("States");
    let Some(Value::Object(entries)) = fields.raw("States") else {
        problems.add(&states_at, "States must be a JSON object of states by name");
        return None;
    };
    if entries.is_empty() {
        problems.add(&states_at, "States must hold at least one state");
    }
    let states: Vec<Option<State>> = entries
        .iter()
        .map(|(name, value)| state(name, value, states_at.field(name), language, problems))
        .collect();
    Some(Graph {
        start_at: start_at?,
        states: states.into_iter().collect::<Option<Vec<_>>>()?,
    })
}

fn state(
    name: &str,
    value: &Value,
    at: Pointer,
    inherited: QueryLanguage,
    problems: &mut Problems,
) -> Option<State> {
    if name.is_empty() || name.chars().count() > NAME_LIMIT {
        problems.add(
            &at,
            format!("a state name must have 1 to {NAME_LIMIT} characters"),
        );
    }
    let mut fields = Fields::of(value, at, "a state", problems);
    let type_name = fields.required_string("Type", problems)?;
    let language = language(&mut fields, inherited, problems);
    let comment = fields.string("Comment", problems);
    let jsonpath = language == QueryLanguage::JsonPath;
    let terminal = matches!(type_name.as_str(), "Succeed" | "Fail");
    let transition = match type_name.as_str() {
        "Task" | "Pass" | "Wait" | "Parallel" | "Map" => transition(&mut fields, problems),
        _ => None,
    };
    let (input_path, output_path) = match (jsonpath, type_name.as_str()) {
        (true, "Fail") | (false, _) => (Selection::Whole, Selection::Whole),
        (true, _) => (
            selection(&mut fields, "InputPath", problems),
            selection(&mut fields, "OutputPath", problems),
        ),
    };
    let assign = match terminal {
        false => fields.raw("Assign").cloned(),
        true => None,
    };
    let output = match (jsonpath, type_name.as_str()) {
        (false, "Fail") | (true, _) => None,
        (false, _) => fields.raw("Output").cloned(),
    };
    let kind = match type_name.as_str() {
        "Task" => task(&mut fields, language, problems).map(|t| StateKind::Task(Box::new(t))),
        "Pass" => Some(StateKind::Pass(pass(&mut fields, language, problems))),
        "Choice" => choice(&mut fields, language, problems).map(StateKind::Choice),
        "Wait" => wait(&mut fields, language, problems).map(StateKind::Wait),
        "Succeed" => Some(StateKind::Succeed),
        "Fail" => Some(StateKind::Fail(fail(&mut fields, language, problems))),
        "Parallel" => {
            parallel(&mut fields, language, problems).map(|p| StateKind::Parallel(Box::new(p)))
        }
        "Map" => map(&mut fields, language, problems).map(|m| StateKind::Map(Box::new(m))),
        other => {
            problems.add(
                &fields.pointer("Type"),
                format!(
                    "\"{other}\" is not a state type: use Task, Pass, Choice, Wait, Succeed, Fail, Parallel or Map{}",
                    super::problem::did_you_mean(other, ["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"])
                ),
            );
            None
        }
    };
    let context = format!(
        "a {type_name} state{}",
        if jsonpath { "" } else { " written in JSONata" }
    );
    fields.finish(&context, problems);
    Some(State {
        name: name.to_owned(),
        comment,
        query_language: language,
        kind: kind?,
        transition,
        input_path,
        output_path,
        assign,
        output,
    })
}

fn transition(fields: &mut Fields<'_>, problems: &mut Problems) -> Option<Transition> {
    let next = fields.string("Next", problems);
    let end = fields.boolean("End", problems);
    match (next, end) {
        (Some(_), Some(true)) => {
            problems.add(
                &fields.at,
                "a state has either Next or \"End\": true, not both",
            );
            None
        }
        (Some(next), _) => Some(Transition::Next(next)),
        (None, Some(true)) => Some(Transition::End),
        (None, _) => {
            problems.add(
                &fields.at,
                "the state needs Next (the state that follows) or \"End\": true",
            );
            None
        }
    }
}

fn selection(fields: &mut Fields<'_>, name: &'static str, problems: &mut Problems) -> Selection {
    if fields.is_null(name) {
        return Selection::Nothing;
    }
    match fields.path(name, problems) {
        Some(path) if path.as_str() == "$" => Selection::Whole,
        Some(path) => Selection::At(path),
        None => Selection::Whole,
    }
}

fn result_path(fields: &mut Fields<'_>, problems: &mut Problems) -> ResultPath {
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
fn setting_u64(
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

fn setting_f64(
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

fn setting_string(
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
fn shaping(
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

fn list<T>(
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
    let assign = fields.raw("Assign").cloned();
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

fn task(fields: &mut Fields<'_>, language: QueryLanguage, problems: &mut Problems) -> Option<Task> {
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

fn pass(fields: &mut Fields<'_>, language: QueryLanguage, problems: &mut Problems) -> Pass {
    match language {
        QueryLanguage::JsonPath => Pass {
            result: fields.raw("Result").cloned(),
            parameters: fields.template("Parameters", problems),
            result_path: result_path(fields, problems),
        },
        QueryLanguage::Jsonata => Pass::default(),
    }
}

fn choice(
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

fn wait(fields: &mut Fields<'_>, language: QueryLanguage, problems: &mut Problems) -> Option<Wait> {
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

fn fail(fields: &mut Fields<'_>, language: QueryLanguage, problems: &mut Problems) -> Fail {
    Fail {
        error: setting_string(fields, "Error", "ErrorPath", language, problems),
        cause: setting_string(fields, "Cause", "CausePath", language, problems),
    }
}

fn parallel(
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

fn map(fields: &mut Fields<'_>, language: QueryLanguage, problems: &mut Problems) -> Option<Map> {
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
    let shaping = shaping(fields, language, selector_name, problems);
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
