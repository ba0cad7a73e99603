//! Reading a definition's JSON into the model, every problem noted at its pointer: the
//! document, its graphs and each state's common fields here; each kind's own fields in
//! `kinds.rs`; the fields several kinds share (result shaping, settings, retriers, catchers)
//! in `shaping.rs`. Each reader asks for exactly the fields its state kind allows (in its
//! query language), so whatever else an object holds is reported as unsupported.

use serde_json::Value;

use super::fields::{Fields, Problems};
use super::kinds;
use super::{Graph, QueryLanguage, Selection, State, StateKind, StateMachine, Transition};
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
pub(super) fn graph(
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
        false => fields.template("Assign", problems),
        true => None,
    };
    let output = match (jsonpath, type_name.as_str()) {
        (false, "Fail") | (true, _) => None,
        (false, _) => fields.raw("Output").cloned(),
    };
    let kind = match type_name.as_str() {
        "Task" => {
            kinds::task(&mut fields, language, problems).map(|t| StateKind::Task(Box::new(t)))
        }
        "Pass" => Some(StateKind::Pass(kinds::pass(
            &mut fields,
            language,
            problems,
        ))),
        "Choice" => kinds::choice(&mut fields, language, problems).map(StateKind::Choice),
        "Wait" => kinds::wait(&mut fields, language, problems).map(StateKind::Wait),
        "Succeed" => Some(StateKind::Succeed),
        "Fail" => Some(StateKind::Fail(kinds::fail(
            &mut fields,
            language,
            problems,
        ))),
        "Parallel" => kinds::parallel(&mut fields, language, problems)
            .map(|p| StateKind::Parallel(Box::new(p))),
        "Map" => kinds::map(&mut fields, language, problems).map(|m| StateKind::Map(Box::new(m))),
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
