//! Reading one JSON object of a definition field by field, noting each problem at its
//! pointer. The fields a reader asks for are the ones allowed: whatever else the object has is
//! reported as unknown when it is finished.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::problem::{did_you_mean, Problem};
use crate::path::JsonPath;
use crate::pointer::Pointer;
use crate::template::Template;

/// Where problems are noted while a definition is read.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, at: &Pointer, message: impl Into<String>) {
        self.0.push(Problem {
            at: at.clone(),
            message: message.into(),
        });
    }
}

/// One object being read.
pub(crate) struct Fields<'v> {
    /// `None` when the value is not an object (already reported).
    object: Option<&'v Map<String, Value>>,
    pub(crate) at: Pointer,
    asked: HashSet<String>,
}

impl<'v> Fields<'v> {
    /// The object `value` at `at`; a problem (and nothing to read) if it is not an object.
    pub(crate) fn of(value: &'v Value, at: Pointer, what: &str, problems: &mut Problems) -> Self {
        let object = match value {
            Value::Object(object) => Some(object),
            other => {
                problems.add(
                    &at,
                    format!("{what} must be a JSON object, not {}", kind(other)),
                );
                None
            }
        };
        Fields {
            object,
            at,
            asked: HashSet::new(),
        }
    }

    /// Whether the object has field `name` (which counts as asking for it).
    pub(crate) fn has(&mut self, name: &'static str) -> bool {
        self.asked.insert(name.to_owned());
        self.object.is_some_and(|object| object.contains_key(name))
    }

    /// Field `name`'s value, if present.
    pub(crate) fn raw(&mut self, name: &'static str) -> Option<&'v Value> {
        self.raw_dynamic(name)
    }

    /// Field `name`'s value, if present, for a name found in the object rather than known in
    /// advance.
    pub(crate) fn raw_dynamic(&mut self, name: &str) -> Option<&'v Value> {
        if !self.asked.contains(name) {
            self.asked.insert(name.to_owned());
        }
        self.object?.get(name)
    }

    /// The names of the object's fields.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'v str> {
        self.object
            .into_iter()
            .flat_map(|object| object.keys().map(String::as_str))
    }

    pub(crate) fn pointer(&self, name: &str) -> Pointer {
        self.at.field(name)
    }

    fn typed<T>(
        &mut self,
        name: &'static str,
        what: &str,
        problems: &mut Problems,
        read: impl FnOnce(&'v Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.raw(name)?;
        let read = read(value);
        if read.is_none() {
            problems.add(
                &self.pointer(name),
                format!("{name} must be {what}, not {}", kind(value)),
            );
        }
        read
    }

    pub(crate) fn string(&mut self, name: &'static str, problems: &mut Problems) -> Option<String> {
        self.typed(name, "a string", problems, |v| {
            v.as_str().map(str::to_owned)
        })
    }

    pub(crate) fn required_string(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<String> {
        if !self.has(name) {
            problems.add(&self.at, format!("the field {name} is required"));
            return None;
        }
        self.string(name, problems)
    }

    pub(crate) fn boolean(&mut self, name: &'static str, problems: &mut Problems) -> Option<bool> {
        self.typed(name, "true or false", problems, Value::as_bool)
    }

    /// A whole number of at least `min`.
    pub(crate) fn count(
        &mut self,
        name: &'static str,
        min: u64,
        problems: &mut Problems,
    ) -> Option<u64> {
        let at = self.pointer(name);
        let count = self.typed(name, "a whole number", problems, Value::as_u64)?;
        if count < min {
            problems.add(&at, format!("{name} must be at least {min}, not {count}"));
            return None;
        }
        Some(count)
    }

    pub(crate) fn number(&mut self, name: &'static str, problems: &mut Problems) -> Option<f64> {
        self.typed(name, "a number", problems, Value::as_f64)
    }

    /// A path (`$...`); `None` also when the field holds JSON `null` (see [`Self::is_null`]).
    pub(crate) fn path(&mut self, name: &'static str, problems: &mut Problems) -> Option<JsonPath> {
        let at = self.pointer(name);
        match self.raw(name)? {
            Value::Null => None,
            Value::String(text) => JsonPath::parse(text)
                .map_err(|why| problems.add(&at, why))
                .ok(),
            other => {
                problems.add(
                    &at,
                    format!("{name} must be a path string, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// Whether field `name` is present and JSON `null`.
    pub(crate) fn is_null(&mut self, name: &'static str) -> bool {
        self.raw(name).is_some_and(Value::is_null)
    }

    pub(crate) fn template(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<Template> {
        let at = self.pointer(name);
        let value = self.raw(name)?;
        Template::parse(value, &at)
            .map_err(|found| {
                for (at, why) in found {
                    problems.add(&at, why);
                }
            })
            .ok()
    }

    /// A non-empty list of strings.
    pub(crate) fn strings(
        &mut self,
        name: &'static str,
        problems: &mut Problems,
    ) -> Option<Vec<String>> {
        let at = self.pointer(name);
        let list = self.typed(name, "a list of strings", problems, |v| {
            v.as_array()?
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })?;
        if list.is_empty() {
            problems.add(&at, format!("{name} must not be empty"));
        }
        Some(list)
    }

    /// Reports every field nobody asked for. `context` says what the object is, for the
    /// message (`"a Pass state"`).
    pub(crate) fn finish(self, context: &str, problems: &mut Problems) {
        let mut allowed: Vec<&str> = self.asked.iter().map(String::as_str).collect();
        allowed.sort_unstable();
        for name in self.object.into_iter().flat_map(Map::keys) {
            if !self.asked.contains(name.as_str()) {
                problems.add(
                    &self.at.field(name),
                    format!(
                        "the field {name} is not supported in {context}{}",
                        did_you_mean(name, allowed.iter().copied())
                    ),
                );
            }
        }
    }
}

/// A JSON value's kind, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
