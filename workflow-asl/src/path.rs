//! Paths into a state's input or the context object: `$.order.items[0]`, `$$.Execution.Id`.
//!
//! A *reference path* names one node by fields and indexes (`$.a.b[2]['c d']`); it is read
//! here directly, can be written into (`ResultPath`), and is the only kind where the States
//! Language wants a single node. Any other path (wildcards, slices, filters, descendants) is a
//! JSONPath query, evaluated by `serde_json_path` (RFC 9535), and selects the list of what it
//! matches, as Step Functions' JSONPath does.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde_json::Value;
use serde_json_path::JsonPath as Query;

use crate::error::DataError;

/// What a path starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input (or whatever the field applies to).
    Input,
    /// `$$`: the context object (execution, state, task token, Map item).
    Context,
    /// `$name`: a variable set by an earlier state's `Assign`.
    Variable(String),
}

/// What paths and intrinsic functions read: the value `$` stands for, the context object,
/// the variables in scope, and where random values are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'v> {
    /// What `$` stands for.
    pub input: &'v Value,
    /// The context object, `$$`.
    pub context: &'v Value,
    /// The variables in scope, by name.
    pub variables: Option<&'v serde_json::Map<String, Value>>,
    /// Where `States.UUID` and `States.MathRandom` draw from; without it, from the
    /// operating system's randomness.
    pub draws: Option<&'v crate::random::Draws>,
}

impl<'v> Scope<'v> {
    /// A scope of `input` and `context`, without variables.
    pub fn new(input: &'v Value, context: &'v Value) -> Self {
        Scope {
            input,
            context,
            variables: None,
            draws: None,
        }
    }
}

/// One step of a reference path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Selector {
    /// Fields and indexes: exactly one node, or nothing.
    Reference(Vec<Step>),
    /// Anything else: a list of nodes.
    Query(Box<Query>),
}

/// A parsed path, as written in `InputPath`, `OutputPath`, `ItemsPath`, a `.$` field, a
/// Choice rule's `Variable`...
#[derive(Debug, Clone)]
pub struct JsonPath {
    source: String,
    root: Root,
    selector: Selector,
}

impl PartialEq for JsonPath {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl JsonPath {
    /// Parses a path beginning with `$` or `$$`; the error says what is wrong with it.
    pub fn parse(source: &str) -> Result<JsonPath, String> {
        let (root, rest) = match source.strip_prefix("$$") {
            Some(rest) => (Root::Context, rest),
            None => match source.strip_prefix('$') {
                Some(rest) => {
                    let name_len = rest
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    match name_len {
                        0 => (Root::Input, rest),
                        _ => (
                            Root::Variable(rest[..name_len].to_owned()),
                            &rest[name_len..],
                        ),
                    }
                }
                None => return Err(format!("'{source}' is not a path: a path begins with '$'")),
            },
        };
        let selector = match reference_steps(rest) {
            Some(steps) => Selector::Reference(steps),
            None => {
                let query = Query::parse(&format!("${rest}"))
                    .map_err(|error| format!("'{source}' is not a valid JSONPath: {error}"))?;
                Selector::Query(Box::new(query))
            }
        };
        Ok(JsonPath {
            source: source.to_owned(),
            root,
            selector,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// What the path starts from.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Whether the path names one node (fields and indexes only), rather than a list.
    pub fn is_reference(&self) -> bool {
        matches!(self.selector, Selector::Reference(_))
    }

    /// The path's node in `input` or `context` (by its root), if there is one; for a query,
    /// the list of the nodes it matches (possibly empty).
    pub fn find<'v>(&self, scope: &Scope<'v>) -> Option<Cow<'v, Value>> {
        let from = match &self.root {
            Root::Input => scope.input,
            Root::Context => scope.context,
            Root::Variable(name) => scope.variables?.get(name)?,
        };
        match &self.selector {
            Selector::Reference(steps) => walk(from, steps).map(Cow::Borrowed),
            Selector::Query(query) => Some(Cow::Owned(Value::Array(
                query.query(from).all().into_iter().cloned().collect(),
            ))),
        }
    }

    /// The value the path selects, or the `States.Runtime` error Step Functions raises when a
    /// path names nothing.
    pub fn select(&self, scope: &Scope<'_>) -> Result<Value, DataError> {
        match self.find(scope) {
            Some(value) => Ok(value.into_owned()),
            None => Err(DataError::runtime(format!(
                "Invalid path '{}' : No results for path: {}",
                self.source,
                self.normalized()
            ))),
        }
    }

    /// The path in the bracketed form Step Functions' messages use: `$['a'][0]`.
    pub fn normalized(&self) -> String {
        match &self.selector {
            Selector::Reference(steps) => {
                let mut out = match &self.root {
                    Root::Variable(name) => format!("${name}"),
                    Root::Input | Root::Context => String::from("$"),
                };
                for step in steps {
                    // Writing to a String cannot fail.
                    let _ = match step {
                        Step::Field(name) => write!(out, "['{name}']"),
                        Step::Index(index) => write!(out, "[{index}]"),
                    };
                }
                out
            }
            Selector::Query(query) => query.to_string(),
        }
    }

    /// Writes `value` at this path in `target` (a `ResultPath`): `$` replaces the whole;
    /// missing fields on the way are made objects. Only a reference path into the input can be
    /// written; the definition's checks refuse any other in `ResultPath`.
    pub fn write(&self, target: &mut Value, value: Value) -> Result<(), DataError> {
        let (Root::Input, Selector::Reference(steps)) = (&self.root, &self.selector) else {
            return Err(self.unwritable("only a reference path into the input can be written"));
        };
        let mut place = target;
        for step in steps {
            if place.is_null() && matches!(step, Step::Field(_)) {
                *place = Value::Object(serde_json::Map::new());
            }
            let why = match (step, &*place) {
                (Step::Field(_), Value::Object(_)) => None,
                (Step::Index(index), Value::Array(items)) if *index < items.len() => None,
                (_, other) => Some(describe(other)),
            };
            if let Some(other) = why {
                return Err(self.unwritable(&format!("the value on the way is {other}")));
            }
            place = match (step, place) {
                (Step::Field(name), Value::Object(fields)) => {
                    fields.entry(name.clone()).or_insert(Value::Null)
                }
                (Step::Index(index), Value::Array(items)) => &mut items[*index],
                // Checked just above.
                _ => return Err(self.unwritable("the value on the way changed")),
            };
        }
        *place = value;
        Ok(())
    }

    fn unwritable(&self, why: &str) -> DataError {
        DataError::runtime(format!(
            "Invalid path '{}' : Unable to write the result at this path: {why}",
            self.source
        ))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A JSON value's kind and text, for messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => format!("the boolean {value}"),
        Value::Number(_) => format!("the number {value}"),
        Value::String(_) => format!("the string {value}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn walk<'v>(from: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(from, |value, step| match step {
        Step::Field(name) => value.as_object()?.get(name),
        Step::Index(index) => value.as_array()?.get(*index),
    })
}

/// The steps of `rest` (a path after its `$`) if it is a reference path: `.name`,
/// `['name']`, `["name"]` and `[index]` only. `None` for anything a query must evaluate (or
/// that is not a path at all: the query parser then says what is wrong).
fn reference_steps(rest: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '.' => {
                let start = at + 1;
                let mut end = rest.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c == '.' || c == '[' {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                let name = &rest[start..end];
                if name.is_empty() || name.contains(['*', '?', '(', ')', '\'', '"', ']', ',']) {
                    return None;
                }
                steps.push(Step::Field(name.to_owned()));
            }
            '[' => {
                let (_, first) = chars.next()?;
                if first == '\'' || first == '"' {
                    let mut name = String::new();
                    loop {
                        let (_, c) = chars.next()?;
                        match c {
                            '\\' => name.push(chars.next()?.1),
                            c if c == first => break,
                            c => name.push(c),
                        }
                    }
                    if chars.next()?.1 != ']' {
                        return None;
                    }
                    steps.push(Step::Field(name));
                } else {
                    let mut digits = String::from(first);
                    loop {
                        let (_, c) = chars.next()?;
                        if c == ']' {
                            break;
                        }
                        digits.push(c);
                    }
                    if !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    steps.push(Step::Index(digits.parse().ok()?));
                }
            }
            _ => return None,
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn select(path: &str, input: &Value) -> Result<Value, DataError> {
        let context = json!({"Execution": {"Id": "e-1"}});
        let variables = json!({"total": {"n": 3}});
        let scope = Scope {
            variables: variables.as_object(),
            ..Scope::new(input, &context)
        };
        JsonPath::parse(path).unwrap().select(&scope)
    }

    #[test]
    fn reference_paths_select_one_node() {
        let input = json!({"a": {"b c": [10, 20]}, "x-y": 1});
        assert_eq!(select("$", &input).unwrap(), input);
        assert_eq!(select("$.a['b c'][1]", &input).unwrap(), json!(20));
        assert_eq!(select("$.x-y", &input).unwrap(), json!(1));
        assert_eq!(select("$$.Execution.Id", &input).unwrap(), json!("e-1"));
        assert_eq!(select("$total.n", &input).unwrap(), json!(3));
        assert!(select("$missing", &input).is_err());
        assert!(JsonPath::parse("$.a.b").unwrap().is_reference());
    }

    #[test]
    fn a_reference_path_that_names_nothing_is_a_runtime_error() {
        let error = select("$.missing.x", &json!({})).unwrap_err();
        assert_eq!(error.error, "States.Runtime");
        assert_eq!(
            error.cause,
            "Invalid path '$.missing.x' : No results for path: $['missing']['x']"
        );
    }

    #[test]
    fn queries_select_lists() {
        let input = json!({"items": [{"v": 1}, {"v": 2}, {"v": 3}]});
        assert_eq!(select("$.items[*].v", &input).unwrap(), json!([1, 2, 3]));
        assert_eq!(
            select("$.items[1:]", &input).unwrap(),
            json!([{"v": 2}, {"v": 3}])
        );
        assert_eq!(select("$..v", &input).unwrap(), json!([1, 2, 3]));
        assert_eq!(
            select("$.items[?(@.v > 1)].v", &input).unwrap(),
            json!([2, 3])
        );
        assert_eq!(select("$.none[*]", &input).unwrap(), json!([]));
    }

    #[test]
    fn malformed_paths_are_refused_with_a_reason() {
        assert!(JsonPath::parse("items")
            .unwrap_err()
            .contains("begins with '$'"));
        assert!(JsonPath::parse("$.items[")
            .unwrap_err()
            .contains("not a valid JSONPath"));
    }

    #[test]
    fn writing_makes_missing_objects_and_replaces_the_root() {
        let mut target = json!({"keep": 1});
        JsonPath::parse("$.result.value")
            .unwrap()
            .write(&mut target, json!(2))
            .unwrap();
        assert_eq!(target, json!({"keep": 1, "result": {"value": 2}}));
        JsonPath::parse("$")
            .unwrap()
            .write(&mut target, json!("all"))
            .unwrap();
        assert_eq!(target, json!("all"));
        let error = JsonPath::parse("$.x")
            .unwrap()
            .write(&mut target, json!(1))
            .unwrap_err();
        assert!(error.cause.contains("the string \"all\""), "{error}");
    }
}
