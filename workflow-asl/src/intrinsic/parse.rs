//! The syntax of intrinsic function calls: `States.Name(argument, ...)`, where an argument is
//! a string in single quotes (`\'`, `\{`, `\}` and `\\` escaped), a number, `true`, `false`,
//! `null`, a path (`$.a`, `$$.Execution.Id`) or another call.

use serde_json::Value;

use super::{Argument, Function, Intrinsic};
use crate::path::JsonPath;

pub(super) fn call(source: &str) -> Result<Intrinsic, String> {
    let mut parser = Parser {
        text: source,
        at: 0,
    };
    parser.skip_spaces();
    let call = parser.call()?;
    parser.skip_spaces();
    match parser.rest().chars().next() {
        None => Ok(call),
        Some(c) => Err(format!(
            "unexpected '{c}' after the call to {} at character {}",
            call.function.name(),
            parser.at + 1
        )),
    }
}

struct Parser<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn call(&mut self) -> Result<Intrinsic, String> {
        let start = self.at;
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(self.rest().len());
        let name = &self.rest()[..name_len];
        let Some(function) = Function::ALL.iter().copied().find(|f| f.name() == name) else {
            return Err(unknown_function(name));
        };
        self.at += name_len;
        self.skip_spaces();
        if self.bump() != Some('(') {
            return Err(format!("expected '(' after {name}"));
        }
        let mut arguments = Vec::new();
        self.skip_spaces();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_spaces();
                let first = function == Function::Format && arguments.is_empty();
                arguments.push(self.argument(first)?);
                self.skip_spaces();
                match self.bump() {
                    Some(',') => {}
                    Some(')') => break,
                    Some(c) => {
                        return Err(format!(
                            "expected ',' or ')' in the arguments of {name}, found '{c}' at character {}",
                            self.at
                        ))
                    }
                    None => return Err(format!("the arguments of {name} are not closed by ')'")),
                }
            }
        }
        let (min, max) = function.arity();
        if arguments.len() < min || arguments.len() > max {
            let expected = match (min, max) {
                (min, usize::MAX) => format!("at least {min}"),
                (min, max) if min == max => format!("{min}"),
                (min, max) => format!("{min} to {max}"),
            };
            return Err(format!(
                "{name} takes {expected} argument{}, not {}",
                if expected == "1" { "" } else { "s" },
                arguments.len()
            ));
        }
        Ok(Intrinsic {
            function,
            arguments,
            source: self.text[start..self.at].to_owned(),
        })
    }

    /// One argument; `template` for the first of `States.Format`, whose escaped braces must
    /// stay told apart from its placeholders.
    fn argument(&mut self, template: bool) -> Result<Argument, String> {
        match self.peek() {
            Some('\'') => {
                self.bump();
                let mut text = String::new();
                loop {
                    match self.bump() {
                        Some('\\') => match self.bump() {
                            Some(c @ ('{' | '}')) if template => {
                                text.push('\\');
                                text.push(c);
                            }
                            Some('\\') if template => text.push_str("\\\\"),
                            Some(c) => text.push(c),
                            None => return Err("a string ends with a lone '\\'".to_owned()),
                        },
                        Some('\'') => break,
                        Some(c) => text.push(c),
                        None => return Err("a string is not closed by '".to_owned()),
                    }
                }
                Ok(Argument::Literal(Value::String(text)))
            }
            Some('$') => {
                let start = self.at;
                let mut depth = 0_usize;
                let mut quote = None;
                while let Some(c) = self.peek() {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '\'' | '"') => quote = Some(c),
                        (None, '[' | '(') => depth += 1,
                        (None, ']') => depth = depth.saturating_sub(1),
                        (None, ')') if depth > 0 => depth -= 1,
                        (None, ',' | ')') => break,
                        _ => {}
                    }
                    self.bump();
                }
                let source = self.text[start..self.at].trim_end();
                JsonPath::parse(source).map(Argument::Path)
            }
            Some(c) if c.is_ascii_alphabetic() && self.rest().starts_with("States.") => {
                self.call().map(Argument::Call)
            }
            Some(_) => {
                let start = self.at;
                while self.peek().is_some_and(|c| c != ',' && c != ')') {
                    self.bump();
                }
                let token = self.text[start..self.at].trim();
                match serde_json::from_str::<Value>(token) {
                    Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(Argument::Literal(value))
                    }
                    _ => Err(format!(
                        "'{token}' is not an argument: use a string in single quotes, a number, true, false, null, a path or a call"
                    )),
                }
            }
            None => Err("an argument is missing".to_owned()),
        }
    }
}

fn unknown_function(name: &str) -> String {
    let closest = Function::ALL
        .iter()
        .map(|f| (strsim::levenshtein(name, f.name()), f.name()))
        .min()
        .filter(|(distance, _)| *distance <= 3);
    match closest {
        Some((_, known)) => format!("unknown intrinsic function '{name}'; did you mean '{known}'?"),
        None => format!("unknown intrinsic function '{name}'"),
    }
}
