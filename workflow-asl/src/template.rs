//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`. A field whose name ends
//! in `.$` takes its value from a path or an intrinsic function call; the rest is copied as
//! written. Nested objects and arrays are templates too.

use serde_json::{Map, Value};

use crate::error::DataError;
use crate::intrinsic::Intrinsic;
use crate::path::{JsonPath, Scope};
use crate::pointer::Pointer;

/// A parsed payload template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Node);

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Nothing below is computed.
    Literal(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Path(JsonPath),
    Call(Intrinsic),
}

/// What is wrong with a template: where (a JSON pointer below the template) and why.
pub type TemplateProblem = (Pointer, String);

impl Template {
    /// Parses `value` as a template; every field that cannot be read is reported, with the
    /// pointer of the field under `at`.
    pub fn parse(value: &Value, at: &Pointer) -> Result<Template, Vec<TemplateProblem>> {
        let mut problems = Vec::new();
        let node = node(value, at, &mut problems);
        match problems.is_empty() {
            true => Ok(Template(node)),
            false => Err(problems),
        }
    }

    /// The template as written, when nothing in it is computed by a path or an intrinsic
    /// function (a JSONata state's fields, whose `{% %}` strings JSONata evaluates).
    pub fn literal(&self) -> Option<&Value> {
        match &self.0 {
            Node::Literal(value) => Some(value),
            _ => None,
        }
    }

    /// The template's value for `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, DataError> {
        evaluate(&self.0, scope)
    }
}

fn node(value: &Value, at: &Pointer, problems: &mut Vec<TemplateProblem>) -> Node {
    match value {
        Value::Object(fields) => {
            let mut entries = Vec::with_capacity(fields.len());
            let mut computed = false;
            for (key, field) in fields {
                let here = at.field(key);
                let entry = match key.strip_suffix(".$") {
                    Some(name) => {
                        computed = true;
                        (name.to_owned(), dynamic(field, &here, problems))
                    }
                    None => {
                        let child = node(field, &here, problems);
                        computed |= !matches!(child, Node::Literal(_));
                        (key.clone(), child)
                    }
                };
                entries.push(entry);
            }
            match computed {
                true => Node::Object(entries),
                false => Node::Literal(value.clone()),
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, item)| node(item, &at.index(i), problems))
                .collect();
            match nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                true => Node::Literal(value.clone()),
                false => Node::Array(nodes),
            }
        }
        other => Node::Literal(other.clone()),
    }
}

/// The value of a `.$` field: a path or an intrinsic function call.
fn dynamic(value: &Value, at: &Pointer, problems: &mut Vec<TemplateProblem>) -> Node {
    let Some(text) = value.as_str() else {
        problems.push((
            at.clone(),
            "the value of a field ending in '.$' must be a string: a path or an intrinsic function"
                .to_owned(),
        ));
        return Node::Literal(Value::Null);
    };
    let parsed = match Intrinsic::looks_like(text) {
        true => Intrinsic::parse(text).map(Node::Call),
        false => JsonPath::parse(text).map(Node::Path),
    };
    parsed.unwrap_or_else(|why| {
        problems.push((at.clone(), why));
        Node::Literal(Value::Null)
    })
}

fn evaluate(node: &Node, scope: &Scope<'_>) -> Result<Value, DataError> {
    Ok(match node {
        Node::Literal(value) => value.clone(),
        Node::Object(entries) => {
            let mut fields = Map::with_capacity(entries.len());
            for (key, child) in entries {
                fields.insert(key.clone(), evaluate(child, scope)?);
            }
            Value::Object(fields)
        }
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| evaluate(item, scope))
                .collect::<Result<_, _>>()?,
        ),
        Node::Path(path) => path.select(scope)?,
        Node::Call(call) => call.evaluate(scope)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_ending_in_dollar_are_computed_at_every_depth() {
        let template = Template::parse(
            &json!({
                "fixed": {"a": [1, 2]},
                "id.$": "$$.Execution.Id",
                "nested": {"sum.$": "States.MathAdd($.n, 1)", "list": [{"v.$": "$.n"}]},
            }),
            &Pointer::root(),
        )
        .unwrap();
        let input = json!({"n": 41});
        let context = json!({"Execution": {"Id": "e-1"}});
        assert_eq!(
            template.evaluate(&Scope::new(&input, &context)).unwrap(),
            json!({
                "fixed": {"a": [1, 2]},
                "id": "e-1",
                "nested": {"sum": 42, "list": [{"v": 41}]},
            })
        );
    }

    #[test]
    fn every_bad_field_is_reported_with_its_pointer() {
        let problems = Template::parse(
            &json!({"a.$": 1, "b": {"c.$": "States.Nope()", "d/e.$": "x"}}),
            &Pointer::root().field("Parameters"),
        )
        .unwrap_err();
        let pointers: Vec<String> = problems.iter().map(|(at, _)| at.to_string()).collect();
        assert_eq!(
            pointers,
            [
                "/Parameters/a.$",
                "/Parameters/b/c.$",
                "/Parameters/b/d~1e.$"
            ]
        );
        assert!(problems[1]
            .1
            .contains("unknown intrinsic function 'States.Nope'"));
    }
}
