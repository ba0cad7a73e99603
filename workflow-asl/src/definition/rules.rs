//! Choice rules: `{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}`, `And`, `Or`,
//! `Not`, and JSONata's `Condition`.

use serde_json::Value;

use super::fields::{kind, Fields, Problems};
use super::problem::did_you_mean;
use super::{ChoiceRule, QueryLanguage};
use crate::path::JsonPath;
use crate::pointer::Pointer;

/// What a Choice rule tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `And`: every rule holds.
    And(Vec<Condition>),
    /// `Or`: some rule holds.
    Or(Vec<Condition>),
    /// `Not`: the rule does not hold.
    Not(Box<Condition>),
    /// `Variable` and one comparison operator.
    Compare {
        /// `Variable`: the value tested.
        variable: JsonPath,
        /// The operator and its operand.
        comparison: Comparison,
    },
    /// `Condition`: a JSONata expression (`{% … %}`).
    Expression(String),
}

/// A comparison operator of a rule, with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// `StringEquals`, `NumericLessThanPath`, `TimestampGreaterThanEquals`...
    Relation {
        /// What the values are compared as.
        kind: Kind,
        /// How.
        relation: Relation,
        /// With what.
        operand: Operand,
    },
    /// `StringMatches`: a pattern where `*` stands for any characters (`\*` for a star).
    Matches(String),
    /// `IsNull`, `IsPresent`...: whether the test's outcome is `expected`.
    Is {
        /// The test.
        test: TypeTest,
        /// Its expected outcome.
        expected: bool,
    },
}

/// What a comparison compares values as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `String…`.
    String,
    /// `Numeric…`.
    Numeric,
    /// `Boolean…`.
    Boolean,
    /// `Timestamp…`.
    Timestamp,
}

/// How a comparison relates the variable to its operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `…Equals`.
    Equals,
    /// `…LessThan`.
    LessThan,
    /// `…GreaterThan`.
    GreaterThan,
    /// `…LessThanEquals`.
    LessThanEquals,
    /// `…GreaterThanEquals`.
    GreaterThanEquals,
}

/// A comparison's operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Written in the rule.
    Value(Value),
    /// `…Path`: read from the input.
    Path(JsonPath),
}

/// The type tests: `IsNull`, `IsPresent`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    /// `IsNull`.
    Null,
    /// `IsPresent`.
    Present,
    /// `IsNumeric`.
    Numeric,
    /// `IsString`.
    String,
    /// `IsBoolean`.
    Boolean,
    /// `IsTimestamp`.
    Timestamp,
}

const KINDS: [(&str, Kind); 4] = [
    ("String", Kind::String),
    ("Numeric", Kind::Numeric),
    ("Boolean", Kind::Boolean),
    ("Timestamp", Kind::Timestamp),
];
const RELATIONS: [(&str, Relation); 5] = [
    ("Equals", Relation::Equals),
    ("LessThanEquals", Relation::LessThanEquals),
    ("GreaterThanEquals", Relation::GreaterThanEquals),
    ("LessThan", Relation::LessThan),
    ("GreaterThan", Relation::GreaterThan),
];
const TESTS: [(&str, TypeTest); 6] = [
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

/// Every comparison operator's name, for suggestions.
fn operator_names() -> Vec<String> {
    let mut names = vec!["StringMatches".to_owned()];
    for (kind_name, kind) in KINDS {
        for (relation_name, relation) in RELATIONS {
            if kind == Kind::Boolean && relation != Relation::Equals {
                continue;
            }
            names.push(format!("{kind_name}{relation_name}"));
            names.push(format!("{kind_name}{relation_name}Path"));
        }
    }
    names.extend(TESTS.iter().map(|(name, _)| (*name).to_owned()));
    names
}

/// The operator named `name`: its kind, relation, and whether it takes a path.
fn relation_operator(name: &str) -> Option<(Kind, Relation, bool)> {
    let (base, by_path) = match name.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (kind, rest) = KINDS
        .iter()
        .find_map(|(prefix, kind)| Some((*kind, base.strip_prefix(prefix)?)))?;
    let relation = RELATIONS
        .iter()
        .find_map(|(name, relation)| (*name == rest).then_some(*relation))?;
    if kind == Kind::Boolean && relation != Relation::Equals {
        return None;
    }
    Some((kind, relation, by_path))
}

/// One rule of `Choices` (with its `Next`).
pub(super) fn choice_rule(
    value: &Value,
    at: Pointer,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<ChoiceRule> {
    let mut fields = Fields::of(value, at, "a choice rule", problems);
    let next = fields.required_string("Next", problems);
    let assign = fields.template("Assign", problems);
    let output = match language {
        QueryLanguage::Jsonata => fields.raw("Output").cloned(),
        QueryLanguage::JsonPath => None,
    };
    fields.raw("Comment");
    let condition = condition(fields, language, problems);
    Some(ChoiceRule {
        condition: condition?,
        next: next?,
        assign,
        output,
    })
}

/// A rule inside `And`, `Or` or `Not` (no `Next`).
fn nested(
    value: &Value,
    at: Pointer,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Condition> {
    let mut fields = Fields::of(value, at, "a nested choice rule", problems);
    fields.raw("Comment");
    condition(fields, language, problems)
}

/// The condition of a rule's fields; then reports the fields nobody asked for (the caller
/// asked for its own first).
fn condition(
    mut fields: Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Condition> {
    let condition = read_condition(&mut fields, language, problems);
    fields.finish("a choice rule", problems);
    condition
}

fn read_condition(
    fields: &mut Fields<'_>,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Condition> {
    if language == QueryLanguage::Jsonata {
        let expression = fields.required_string("Condition", problems)?;
        return Some(Condition::Expression(expression));
    }
    for (name, combine) in [("And", true), ("Or", false)] {
        if let Some(list) = fields.raw(name) {
            let at = fields.pointer(name);
            let Some(items) = list.as_array().filter(|items| !items.is_empty()) else {
                problems.add(&at, format!("{name} must be a non-empty list of rules"));
                return None;
            };
            let rules: Vec<Option<Condition>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| nested(item, at.index(i), language, problems))
                .collect();
            let rules: Option<Vec<Condition>> = rules.into_iter().collect();
            return Some(match combine {
                true => Condition::And(rules?),
                false => Condition::Or(rules?),
            });
        }
    }
    if let Some(rule) = fields.raw("Not") {
        let at = fields.pointer("Not");
        return nested(rule, at, language, problems).map(|rule| Condition::Not(Box::new(rule)));
    }
    let variable_at = fields.pointer("Variable");
    let variable = fields.raw("Variable");
    let candidates: Vec<(String, Pointer)> = fields
        .keys()
        .filter(|name| !matches!(*name, "Variable" | "Next" | "Assign" | "Comment" | "Output"))
        .map(|name| (name.to_owned(), fields.pointer(name)))
        .collect();
    let Some(variable) = variable else {
        problems.add(
            &fields.at,
            "a choice rule needs And, Or, Not, or a Variable with a comparison operator",
        );
        return None;
    };
    let variable = match variable.as_str().map(JsonPath::parse) {
        Some(Ok(path)) => Some(path),
        Some(Err(why)) => {
            problems.add(&variable_at, why);
            None
        }
        None => {
            problems.add(
                &variable_at,
                format!("Variable must be a path string, not {}", kind(variable)),
            );
            None
        }
    };
    let mut comparisons = Vec::new();
    for (name, at) in &candidates {
        let Some(comparison) = comparison(name, fields, at, problems) else {
            continue;
        };
        comparisons.push(comparison);
    }
    match (variable, comparisons.len()) {
        (Some(variable), 1) => Some(Condition::Compare {
            variable,
            comparison: comparisons.pop()?,
        }),
        (_, 0) if candidates.is_empty() => {
            problems.add(
                &fields.at,
                "a choice rule with a Variable needs a comparison operator",
            );
            None
        }
        (_, n) if n > 1 => {
            problems.add(&fields.at, "a choice rule takes one comparison operator");
            None
        }
        _ => None,
    }
}

/// The comparison of operator field `name`, or `None` (and a problem) if `name` is none.
fn comparison(
    name: &str,
    fields: &mut Fields<'_>,
    at: &Pointer,
    problems: &mut Problems,
) -> Option<Comparison> {
    let value = fields.raw_dynamic(name)?;
    if let Some((_, test)) = TESTS.iter().find(|(test, _)| *test == name) {
        let Some(expected) = value.as_bool() else {
            problems.add(
                at,
                format!("{name} must be true or false, not {}", kind(value)),
            );
            return None;
        };
        return Some(Comparison::Is {
            test: *test,
            expected,
        });
    }
    if name == "StringMatches" {
        let Some(pattern) = value.as_str() else {
            problems.add(
                at,
                format!("StringMatches must be a string, not {}", kind(value)),
            );
            return None;
        };
        return Some(Comparison::Matches(pattern.to_owned()));
    }
    let Some((kind_of, relation, by_path)) = relation_operator(name) else {
        let names = operator_names();
        problems.add(
            at,
            format!(
                "{name} is not a comparison operator{}",
                did_you_mean(name, names.iter().map(String::as_str))
            ),
        );
        return None;
    };
    let operand = if by_path {
        match value.as_str().map(JsonPath::parse) {
            Some(Ok(path)) => Operand::Path(path),
            Some(Err(why)) => {
                problems.add(at, why);
                return None;
            }
            None => {
                problems.add(
                    at,
                    format!("{name} must be a path string, not {}", kind(value)),
                );
                return None;
            }
        }
    } else {
        let fits = match kind_of {
            Kind::String | Kind::Timestamp => value.is_string(),
            Kind::Numeric => value.is_number(),
            Kind::Boolean => value.is_boolean(),
        };
        if !fits {
            let expected = match kind_of {
                Kind::String | Kind::Timestamp => "a string",
                Kind::Numeric => "a number",
                Kind::Boolean => "true or false",
            };
            problems.add(
                at,
                format!("{name} must be {expected}, not {}", kind(value)),
            );
            return None;
        }
        Operand::Value(value.clone())
    };
    Some(Comparison::Relation {
        kind: kind_of,
        relation,
        operand,
    })
}
