//! What the recorded cases redacted, matched against what runs here: the snapshot replaced
//! generated names, ids and times with placeholders (`<ArnPart_0idx>`, `"date"`,
//! `snf_role_arn`, ...). Our values get the case's own text replacements, as AWS's got
//! them; a placeholder then matches whatever stands in its place.

use regex::Regex;
use serde_json::Value;

/// The redactions of one case.
pub(crate) struct Redactions {
    /// The case's text replacements (`regex` transformers), applied to our JSON text.
    replacements: Vec<(Regex, String)>,
    /// What a placeholder inside a recorded string looks like.
    placeholder: Regex,
    /// Recorded strings that replaced a whole value (`jsonpath` transformers, `"date"`, ...).
    whole: Vec<String>,
}

impl Redactions {
    /// The redactions `case` lists in its `snapshot_transformers`.
    pub(crate) fn of(case: &Value) -> Self {
        let transformers = case["snapshot_transformers"].as_array().cloned();
        let transformers = transformers.unwrap_or_default();
        let replacements: Vec<(Regex, String)> = transformers
            .iter()
            .filter(|transformer| transformer["kind"] == "regex")
            .filter_map(|transformer| {
                let pattern = Regex::new(transformer["pattern"].as_str()?).ok()?;
                Some((pattern, transformer["replacement"].as_str()?.to_owned()))
            })
            .collect();
        // A placeholder in angle brackets, or the plain text a replacement put in the place
        // of a generated name (its own characters only: no quotes or escapes).
        let mut stand_ins: Vec<String> = vec![r"<[^<>\s]+>".to_owned()];
        stand_ins.extend(
            replacements
                .iter()
                .map(|(_, replacement)| replacement)
                .filter(|replacement| {
                    !replacement.is_empty() && !replacement.contains(['\\', '"', '<', '>'])
                })
                .map(|replacement| regex::escape(replacement)),
        );
        let placeholder = Regex::new(&stand_ins.join("|")).unwrap();
        let mut whole = vec!["date".to_owned(), "timestamp".to_owned()];
        whole.extend(
            transformers
                .iter()
                .filter(|transformer| transformer["kind"] == "jsonpath")
                .filter_map(|transformer| transformer["replacement"].as_str().map(str::to_owned)),
        );
        Redactions {
            replacements,
            placeholder,
            whole,
        }
    }

    /// Our `value` with the case's text replacements made in its JSON text.
    pub(crate) fn apply(&self, value: &Value) -> Value {
        let mut text = value.to_string();
        for (pattern, replacement) in &self.replacements {
            text = pattern
                .replace_all(&text, regex::NoExpand(replacement))
                .into_owned();
        }
        serde_json::from_str(&text).unwrap_or_else(|_| value.clone())
    }

    /// Our text `ours` (redacted as AWS's was) against the recorded `recorded`.
    pub(crate) fn same_text(&self, recorded: &str, ours: &str) -> bool {
        self.matches(
            &Value::String(recorded.to_owned()),
            &self.apply(&Value::String(ours.to_owned())),
        )
    }

    /// Whether our (redacted) `ours` is what AWS recorded as `recorded`, placeholders
    /// standing for any value.
    pub(crate) fn matches(&self, recorded: &Value, ours: &Value) -> bool {
        match (recorded, ours) {
            (Value::String(recorded), _) if self.whole.contains(recorded) => true,
            (Value::String(recorded), Value::String(ours)) => self.same_string(recorded, ours),
            (Value::Array(recorded), Value::Array(ours)) => {
                recorded.len() == ours.len()
                    && recorded
                        .iter()
                        .zip(ours)
                        .all(|(recorded, ours)| self.matches(recorded, ours))
            }
            (Value::Object(recorded), Value::Object(ours)) => {
                recorded.len() == ours.len()
                    && recorded.iter().all(|(key, recorded)| {
                        ours.get(key)
                            .is_some_and(|ours| self.matches(recorded, ours))
                    })
            }
            (recorded, ours) => recorded == ours,
        }
    }

    /// A recorded string, each placeholder in it standing for any text, against ours.
    fn same_string(&self, recorded: &str, ours: &str) -> bool {
        if recorded == ours {
            return true;
        }
        let mut pattern = String::from("^(?s)");
        let mut from = 0;
        for found in self.placeholder.find_iter(recorded) {
            pattern.push_str(&regex::escape(&recorded[from..found.start()]));
            pattern.push_str(".*");
            from = found.end();
        }
        if from == 0 {
            return false;
        }
        pattern.push_str(&regex::escape(&recorded[from..]));
        pattern.push('$');
        Regex::new(&pattern).is_ok_and(|pattern| pattern.is_match(ours))
    }
}
