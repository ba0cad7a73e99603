//! Choice conditions written out briefly, for diagrams: `$.n NumericGreaterThan 5`,
//! `And($.a IsPresent true, Not($.b StringEquals "x"))`.

use std::fmt;

use super::rules::{Comparison, Condition, Kind, Operand, Relation, TypeTest};

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, rules: &[Condition]| {
            write!(f, "{name}(")?;
            for (i, rule) in rules.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{rule}")?;
            }
            f.write_str(")")
        };
        match self {
            Condition::And(rules) => list(f, "And", rules),
            Condition::Or(rules) => list(f, "Or", rules),
            Condition::Not(rule) => write!(f, "Not({rule})"),
            Condition::Compare {
                variable,
                comparison,
            } => write!(f, "{variable} {comparison}"),
            Condition::Expression(expression) => f.write_str(expression),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::Relation {
                kind,
                relation,
                operand,
            } => {
                let kind = match kind {
                    Kind::String => "String",
                    Kind::Numeric => "Numeric",
                    Kind::Boolean => "Boolean",
                    Kind::Timestamp => "Timestamp",
                };
                let relation = match relation {
                    Relation::Equals => "Equals",
                    Relation::LessThan => "LessThan",
                    Relation::GreaterThan => "GreaterThan",
                    Relation::LessThanEquals => "LessThanEquals",
                    Relation::GreaterThanEquals => "GreaterThanEquals",
                };
                match operand {
                    Operand::Value(value) => write!(f, "{kind}{relation} {value}"),
                    Operand::Path(path) => write!(f, "{kind}{relation}Path {path}"),
                }
            }
            Comparison::Matches(pattern) => write!(f, "StringMatches {pattern:?}"),
            Comparison::Is { test, expected } => {
                let test = match test {
                    TypeTest::Null => "IsNull",
                    TypeTest::Present => "IsPresent",
                    TypeTest::Numeric => "IsNumeric",
                    TypeTest::String => "IsString",
                    TypeTest::Boolean => "IsBoolean",
                    TypeTest::Timestamp => "IsTimestamp",
                };
                write!(f, "{test} {expected}")
            }
        }
    }
}
