//! JSONata expressions, `{% … %}`, in states whose query language is JSONata: evaluated by
//! the `jsonata-rs` crate, with the functions Step Functions adds (`$partition`, `$range`,
//! `$hash`, `$parse`), and `$states` (input, result, error output, context) and the variables
//! bound.
//!
//! `jsonata-rs` says it is incomplete; against the 49 distinct expressions of the
//! conformance cases it evaluated 46 as JSONata does, and the three others are the functions
//! added here. A panic inside it is caught: the state fails with
//! `States.QueryEvaluationError`, the runtime goes on.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, FunctionContext, JsonAta, Value as Data};
use serde_json::{Map, Value};

use crate::error::DataError;

/// A parsed JSONata expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    source: String,
}

/// What an expression reads: `$states` and the variables in scope.
#[derive(Debug, Clone, Copy)]
pub struct Bindings<'v> {
    /// `$states`: `input`, `context`, and `result` or `errorOutput` where they exist.
    pub states: &'v Value,
    /// The variables, by name (`$name`).
    pub variables: Option<&'v Map<String, Value>>,
}

/// The error name of an expression that fails.
pub(crate) const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

impl Expression {
    /// `text` as a JSONata expression if it is one (`{% … %}`): `None` for a plain string,
    /// an error for an expression that does not parse.
    pub fn of(text: &str) -> Option<Result<Expression, String>> {
        let trimmed = text.trim();
        let inner = trimmed.strip_prefix("{%")?.strip_suffix("%}")?.trim();
        Some(Expression::parse(inner))
    }

    /// Parses the expression `source` (without its `{% %}`).
    pub fn parse(source: &str) -> Result<Expression, String> {
        let arena = Bump::new();
        match catch_unwind(AssertUnwindSafe(|| {
            JsonAta::new(source, &arena).map(|_| ())
        })) {
            Ok(Ok(())) => Ok(Expression {
                source: source.to_owned(),
            }),
            Ok(Err(error)) => Err(format!(
                "'{source}' is not a valid JSONata expression: {error}"
            )),
            Err(_) => Err(format!("'{source}' is not a valid JSONata expression")),
        }
    }

    /// The expression as written, without its `{% %}`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression's value, or `None` when it gives nothing (JSONata's undefined).
    pub fn evaluate(&self, bindings: &Bindings<'_>) -> Result<Option<Value>, DataError> {
        let arena = Bump::new();
        let evaluated = catch_unwind(AssertUnwindSafe(|| {
            let jsonata = JsonAta::new(&self.source, &arena)?;
            jsonata.register_function("partition", 2, partition);
            jsonata.register_function("range", 3, range);
            jsonata.register_function("hash", 2, hash);
            jsonata.register_function("parse", 1, parse);
            let mut bound: HashMap<&str, &Value> = HashMap::new();
            bound.insert("states", bindings.states);
            for (name, value) in bindings.variables.into_iter().flatten() {
                bound.insert(name.as_str(), value);
            }
            let value = jsonata.evaluate(None, Some(&bound))?;
            Ok::<_, jsonata_rs::Error>(match value.is_undefined() {
                true => None,
                false => Some(value.serialize(false)),
            })
        }));
        let text = match evaluated {
            Ok(Ok(text)) => text,
            Ok(Err(error)) => return Err(self.failed(&error.to_string())),
            Err(_) => return Err(self.failed("the evaluator panicked")),
        };
        match text {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(|value| Some(normalised(value)))
                .map_err(|error| self.failed(&format!("its value is not JSON: {error}"))),
        }
    }

    fn failed(&self, why: &str) -> DataError {
        DataError {
            error: QUERY_EVALUATION_ERROR,
            cause: format!(
                "The JSONata expression '{}' could not be evaluated: {why}",
                self.source
            ),
        }
    }
}

/// A JSONata result as JSON writes it: a number without a fraction as an integer (`2`, not
/// `2.0`; `0`, not `-0.0`).
fn normalised(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalised).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, normalised(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A JSON value as the evaluator's.
fn to_data<'a>(arena: &'a Bump, value: &Value) -> &'a Data<'a> {
    match value {
        Value::Null => Data::null(arena),
        Value::Bool(b) => arena.alloc(Data::Bool(*b)),
        Value::Number(n) => Data::number(arena, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Data::string(arena, s),
        Value::Array(items) => {
            let array = Data::array_with_capacity(arena, items.len(), ArrayFlags::empty());
            for item in items {
                array.push(to_data(arena, item));
            }
            array
        }
        Value::Object(fields) => {
            let object = Data::object_with_capacity(arena, fields.len());
            for (key, field) in fields {
                object.insert(key, to_data(arena, field));
            }
            object
        }
    }
}

/// The evaluator's value as JSON (undefined as null).
fn to_json<'a>(value: &'a Data<'a>) -> Value {
    if value.is_undefined() {
        return Value::Null;
    }
    serde_json::from_str(&value.serialize(false)).unwrap_or(Value::Null)
}

type Native<'a> = jsonata_rs::Result<&'a Data<'a>>;

/// Runs `function` on the arguments as JSON, giving back its JSON result.
fn native<'a>(
    context: &FunctionContext<'a, '_>,
    arguments: &[&'a Data<'a>],
    function: impl FnOnce(&[Value]) -> Result<Value, String>,
) -> Native<'a> {
    let arguments: Vec<Value> = arguments.iter().map(|argument| to_json(argument)).collect();
    match function(&arguments) {
        Ok(value) => Ok(to_data(context.arena, &value)),
        Err(why) => Err(jsonata_rs::Error::D3137Error(format!(
            "${}: {why}",
            context.name
        ))),
    }
}

/// Step Functions' intrinsic function of the same purpose, on JSONata's arguments.
fn intrinsic(name: &str, arguments: &[Value]) -> Result<Value, String> {
    crate::intrinsic::apply_named(name, arguments.to_vec()).map_err(|error| error.cause)
}

fn partition<'a>(context: FunctionContext<'a, '_>, arguments: &[&'a Data<'a>]) -> Native<'a> {
    native(&context, arguments, |args| {
        intrinsic("States.ArrayPartition", args)
    })
}

/// `$range` gives a sequence, as Step Functions' does: a range of one number is that number.
fn range<'a>(context: FunctionContext<'a, '_>, arguments: &[&'a Data<'a>]) -> Native<'a> {
    let list = native(&context, arguments, |args| {
        intrinsic("States.ArrayRange", args)
    })?;
    let sequence = Data::array_with_capacity(context.arena, list.len(), ArrayFlags::SEQUENCE);
    for item in list.members() {
        sequence.push(item);
    }
    Ok(sequence)
}

fn hash<'a>(context: FunctionContext<'a, '_>, arguments: &[&'a Data<'a>]) -> Native<'a> {
    native(&context, arguments, |args| intrinsic("States.Hash", args))
}

fn parse<'a>(context: FunctionContext<'a, '_>, arguments: &[&'a Data<'a>]) -> Native<'a> {
    native(&context, arguments, |args| {
        intrinsic("States.StringToJson", args)
    })
}

/// `value` with every `{% … %}` string in it evaluated (at any depth), as JSONata states'
/// `Arguments`, `Output` and `Assign` are: an expression that gives nothing is an error
/// naming the field (`field` is its place, e.g. `Output/result`).
pub fn evaluate_template(
    value: &Value,
    field: &str,
    bindings: &Bindings<'_>,
) -> Result<Value, DataError> {
    match value {
        Value::String(text) => match Expression::of(text) {
            None => Ok(value.clone()),
            Some(Err(why)) => Err(DataError {
                error: QUERY_EVALUATION_ERROR,
                cause: why,
            }),
            Some(Ok(expression)) => expression.evaluate(bindings)?.ok_or_else(|| DataError {
                error: QUERY_EVALUATION_ERROR,
                cause: format!(
                    "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                    expression.source()
                ),
            }),
        },
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| evaluate_template(item, &format!("{field}/{i}"), bindings))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (key, item) in fields {
                out.insert(key.clone(), evaluate_template(item, &format!("{field}/{key}"), bindings)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn evaluate(source: &str, states: Value) -> Result<Option<Value>, DataError> {
        let variables = json!({"bias": 10});
        Expression::parse(source).unwrap().evaluate(&Bindings {
            states: &states,
            variables: variables.as_object(),
        })
    }

    #[test]
    fn expressions_read_states_and_variables() {
        let states = json!({"input": {"n": 2, "items": [1, 2, 3]}});
        assert_eq!(
            evaluate("$states.input.n + $bias", states.clone()).unwrap(),
            Some(json!(12))
        );
        assert_eq!(
            evaluate("$sum($states.input.items)", states.clone()).unwrap(),
            Some(json!(6))
        );
        assert_eq!(
            evaluate("$partition([1,2,3], 2)", states.clone()).unwrap(),
            Some(json!([[1, 2], [3]]))
        );
        assert_eq!(
            evaluate("$parse('{\"a\": 1}')", states.clone()).unwrap(),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            evaluate("$range(1, 9, 4)", states.clone()).unwrap(),
            Some(json!([1, 5, 9]))
        );
        // A sequence of one: the number itself, as Step Functions gives it.
        assert_eq!(
            evaluate("$range(1, 9, 9)", states.clone()).unwrap(),
            Some(json!(1))
        );
        assert_eq!(evaluate("$states.input.missing", states).unwrap(), None);
    }

    #[test]
    fn templates_evaluate_at_every_depth_and_name_what_gave_nothing() {
        let states = json!({"input": {"n": 2}});
        let bindings = Bindings {
            states: &states,
            variables: None,
        };
        let value = json!({"a": "{% $states.input.n * 2 %}", "b": ["plain", "{% 'x' %}"]});
        assert_eq!(
            evaluate_template(&value, "Output", &bindings).unwrap(),
            json!({"a": 4, "b": ["plain", "x"]})
        );
        let error =
            evaluate_template(&json!({"r": "{% $nothing %}"}), "Output", &bindings).unwrap_err();
        assert_eq!(error.error, "States.QueryEvaluationError");
        assert_eq!(
            error.cause,
            "The JSONata expression '$nothing' specified for the field 'Output/r' returned nothing (undefined)."
        );
    }

    #[test]
    fn a_malformed_expression_is_refused_when_read() {
        assert!(Expression::parse("$states.input +")
            .unwrap_err()
            .contains("not a valid JSONata expression"));
        assert!(Expression::of("plain").is_none());
    }
}
