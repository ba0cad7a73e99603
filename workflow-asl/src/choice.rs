//! Whether a Choice rule holds for a state's input.
//!
//! As in Step Functions: a comparison between values of different types is false (a
//! `NumericEquals` on a string does not hold), and a `Variable` or `…Path` operand that
//! names nothing is a `States.Runtime` error, except for `IsPresent`, which tests exactly that.

use std::cmp::Ordering;

use serde_json::Value;

use crate::definition::{Comparison, Condition, Kind, Operand, Relation, TypeTest};
use crate::error::DataError;
use crate::path::{JsonPath, Scope};
use crate::timestamp;

impl Condition {
    /// Whether the rule holds in `scope`. A JSONata `Condition` cannot be evaluated here yet:
    /// it is a `States.Runtime` error.
    pub fn holds(&self, scope: &Scope<'_>) -> Result<bool, DataError> {
        match self {
            Condition::And(rules) => {
                for rule in rules {
                    if !rule.holds(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(rules) => {
                for rule in rules {
                    if rule.holds(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(rule) => Ok(!rule.holds(scope)?),
            Condition::Compare {
                variable,
                comparison,
            } => compare(variable, comparison, scope),
            Condition::Expression(expression) => Err(DataError::runtime(format!(
                "the JSONata condition '{expression}' cannot be evaluated: JSONata is not supported yet"
            ))),
        }
    }
}

fn compare(
    variable: &JsonPath,
    comparison: &Comparison,
    scope: &Scope<'_>,
) -> Result<bool, DataError> {
    let value = variable.find(scope);
    if let Comparison::Is {
        test: TypeTest::Present,
        expected,
    } = comparison
    {
        return Ok(value.is_some() == *expected);
    }
    let Some(value) = value else {
        return Err(invalid_value(variable));
    };
    Ok(match comparison {
        Comparison::Is { test, expected } => {
            let outcome = match test {
                TypeTest::Null => value.is_null(),
                TypeTest::Present => true,
                TypeTest::Numeric => value.is_number(),
                TypeTest::String => value.is_string(),
                TypeTest::Boolean => value.is_boolean(),
                TypeTest::Timestamp => value.as_str().and_then(timestamp::parse).is_some(),
            };
            outcome == *expected
        }
        Comparison::Matches(pattern) => value
            .as_str()
            .is_some_and(|text| matches_pattern(text, pattern)),
        Comparison::Relation {
            kind,
            relation,
            operand,
        } => {
            let operand = match operand {
                Operand::Value(operand) => std::borrow::Cow::Borrowed(operand),
                Operand::Path(path) => path.find(scope).ok_or_else(|| invalid_value(path))?,
            };
            order(*kind, &value, &operand)
                .is_some_and(|ordering| relation_holds(*relation, ordering))
        }
    })
}

fn invalid_value(path: &JsonPath) -> DataError {
    DataError::runtime(format!(
        "Invalid path '{path}': The choice state's condition path references an invalid value."
    ))
}

/// How `left` compares with `right` as values of `kind`; `None` if either is not one.
fn order(kind: Kind, left: &Value, right: &Value) -> Option<Ordering> {
    match kind {
        Kind::String => Some(left.as_str()?.cmp(right.as_str()?)),
        Kind::Numeric => match (left.as_i64(), right.as_i64()) {
            (Some(left), Some(right)) => Some(left.cmp(&right)),
            _ => left.as_f64()?.partial_cmp(&right.as_f64()?),
        },
        // Booleans are only compared for equality: any ordering but `Equal` says they differ.
        Kind::Boolean => Some(match left.as_bool()? == right.as_bool()? {
            true => Ordering::Equal,
            false => Ordering::Less,
        }),
        Kind::Timestamp => {
            let left = timestamp::parse(left.as_str()?)?;
            let right = timestamp::parse(right.as_str()?)?;
            Some(left.cmp(&right))
        }
    }
}

fn relation_holds(relation: Relation, ordering: Ordering) -> bool {
    match relation {
        Relation::Equals => ordering == Ordering::Equal,
        Relation::LessThan => ordering == Ordering::Less,
        Relation::GreaterThan => ordering == Ordering::Greater,
        Relation::LessThanEquals => ordering != Ordering::Greater,
        Relation::GreaterThanEquals => ordering != Ordering::Less,
    }
}

/// `StringMatches`: `*` stands for any characters; `\*` is a star and `\\` a backslash.
fn matches_pattern(text: &str, pattern: &str) -> bool {
    enum Piece {
        Char(char),
        Any,
    }
    let mut pieces = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pieces.push(match c {
            '\\' => Piece::Char(chars.next().unwrap_or('\\')),
            '*' => Piece::Any,
            c => Piece::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with one backtrack point, the last star seen: linear for patterns
    // without stars, and never exponential.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pieces.get(p) {
            Some(Piece::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Piece::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pieces[p..].iter().all(|piece| matches!(piece, Piece::Any))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::StateMachine;
    use serde_json::json;

    /// The condition of the first rule of a one-Choice machine with `rule`.
    fn condition(rule: Value) -> Condition {
        let mut rule = rule;
        rule["Next"] = json!("Done");
        let machine = StateMachine::from_json(&json!({
            "StartAt": "C",
            "States": {"C": {"Type": "Choice", "Choices": [rule]}, "Done": {"Type": "Succeed"}}
        }))
        .unwrap();
        let crate::definition::StateKind::Choice(choice) = &machine.graph.state("C").unwrap().kind
        else {
            unreachable!("C is a Choice state")
        };
        choice.choices[0].condition.clone()
    }

    fn holds(rule: Value, input: Value) -> Result<bool, DataError> {
        condition(rule).holds(&Scope::new(&input, &Value::Null))
    }

    #[test]
    fn comparisons_hold_only_between_values_of_their_kind() {
        let input = json!({"n": 5, "s": "b", "t": "2020-01-01T00:00:00Z", "flag": true, "min": 5});
        assert!(holds(
            json!({"Variable": "$.n", "NumericEquals": 5}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.n", "NumericEquals": 5.0}),
            input.clone()
        )
        .unwrap());
        assert!(!holds(
            json!({"Variable": "$.s", "NumericEquals": 5}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.s", "StringGreaterThan": "a"}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.min"}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.flag", "BooleanEquals": true}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.t", "TimestampLessThan": "2020-01-01T01:00:00+00:30"}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"Not": {"Variable": "$.s", "IsNumeric": true}}),
            input.clone()
        )
        .unwrap());
        assert!(holds(
            json!({"And": [{"Variable": "$.n", "IsPresent": true}, {"Variable": "$.x", "IsPresent": false}]}),
            input
        )
        .unwrap());
    }

    #[test]
    fn a_variable_that_names_nothing_is_a_runtime_error() {
        let error = holds(
            json!({"Variable": "$.missing", "StringEquals": "x"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(error.error, "States.Runtime");
        assert_eq!(
            error.cause,
            "Invalid path '$.missing': The choice state's condition path references an invalid value."
        );
    }

    #[test]
    fn string_matches_takes_stars_and_escapes() {
        for (pattern, text, expected) in [
            ("log-*.txt", "log-2020.txt", true),
            ("log-*.txt", "log-2020.csv", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("star\\*", "star*", true),
            ("star\\*", "starX", false),
        ] {
            assert_eq!(
                matches_pattern(text, pattern),
                expected,
                "{pattern} on {text}"
            );
        }
    }
}
