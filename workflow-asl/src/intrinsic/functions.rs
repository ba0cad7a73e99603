//! What each intrinsic function does with its evaluated arguments. A wrong argument is a
//! `States.IntrinsicFailure`, as in Step Functions.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::Function;
use crate::error::DataError;
use crate::path::describe;
use crate::random::Draws;

/// The most items `States.ArrayRange` makes, and the longest string the Base64 functions take.
const ARRAY_RANGE_LIMIT: usize = 1000;
const BASE64_LIMIT: usize = 10_000;

pub(super) fn apply(
    function: Function,
    arguments: Vec<Value>,
    draws: Option<&Draws>,
) -> Result<Value, DataError> {
    let call = Call {
        name: function.name(),
        arguments,
    };
    match function {
        Function::Format => call.format(),
        Function::StringToJson => {
            let text = call.string(0)?;
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(text)
                .map_err(|error| call.failure(&format!("the string is not JSON: {error}")))
        }
        Function::JsonToString => Ok(Value::String(call.arguments[0].to_string())),
        Function::Array => Ok(Value::Array(call.arguments)),
        Function::ArrayPartition => {
            let items = call.array(0)?;
            let size = call.integer(1)?;
            if size <= 0 {
                return Err(call.failure("the chunk size must be greater than 0"));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::Array(
                items
                    .chunks(size)
                    .map(|chunk| Value::Array(chunk.to_vec()))
                    .collect(),
            ))
        }
        Function::ArrayContains => {
            let items = call.array(0)?;
            Ok(Value::Bool(items.contains(&call.arguments[1])))
        }
        Function::ArrayRange => call.range(),
        Function::ArrayGetItem => {
            let items = call.array(0)?;
            let index = call.integer(1)?;
            usize::try_from(index)
                .ok()
                .and_then(|index| items.get(index))
                .cloned()
                .ok_or_else(|| {
                    call.failure(&format!(
                        "the index {index} is out of the array's bounds (length {})",
                        items.len()
                    ))
                })
        }
        Function::ArrayLength => Ok(Value::from(call.array(0)?.len())),
        Function::ArrayUnique => {
            let mut unique: Vec<Value> = Vec::new();
            for item in call.array(0)? {
                if !unique.contains(item) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        Function::Base64Encode => {
            let text = call.string(0)?;
            call.within_base64_limit(text)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text),
            ))
        }
        Function::Base64Decode => {
            let text = call.string(0)?;
            call.within_base64_limit(text)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|error| call.failure(&format!("the string is not Base64: {error}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| call.failure("the decoded bytes are not UTF-8 text"))
        }
        Function::Hash => call.hash(),
        Function::JsonMerge => {
            if call.arguments[2] != Value::Bool(false) {
                return Err(call.failure(
                    "only a shallow merge is supported: the third argument must be false",
                ));
            }
            let (Value::Object(left), Value::Object(right)) =
                (&call.arguments[0], &call.arguments[1])
            else {
                return Err(call.failure("both values to merge must be JSON objects"));
            };
            let mut merged: Map<String, Value> = left.clone();
            merged.extend(
                right
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
            Ok(Value::Object(merged))
        }
        Function::MathRandom => {
            let start = call.truncated(0)?;
            let end = call.truncated(1)?;
            if start >= end {
                return Err(call.failure("the start must be less than the end"));
            }
            let mut rng = match (call.arguments.get(2), draws) {
                (Some(_), _) => fastrand::Rng::with_seed(call.truncated(2)?.cast_unsigned()),
                (None, Some(draws)) => draws.next(),
                (None, None) => fastrand::Rng::new(),
            };
            Ok(Value::from(rng.i64(start..end)))
        }
        Function::MathAdd => {
            // As on AWS, fractions are dropped: States.MathAdd(9, 4.3) is 13.
            let sum = call.truncated(0)?.checked_add(call.truncated(1)?);
            sum.map(Value::from)
                .ok_or_else(|| call.failure("the sum does not fit in an integer"))
        }
        Function::StringSplit => {
            let text = call.string(0)?;
            let delimiters = call.string(1)?;
            Ok(Value::Array(
                text.split(|c| delimiters.contains(c))
                    .filter(|piece| !piece.is_empty())
                    .map(|piece| Value::String(piece.to_owned()))
                    .collect(),
            ))
        }
        Function::Uuid => {
            let uuid = match draws {
                Some(draws) => {
                    let mut rng = draws.next();
                    let mut bytes = [0_u8; 16];
                    bytes.iter_mut().for_each(|byte| *byte = rng.u8(..));
                    uuid::Builder::from_random_bytes(bytes).into_uuid()
                }
                None => uuid::Uuid::new_v4(),
            };
            Ok(Value::String(uuid.to_string()))
        }
    }
}

/// A call's evaluated arguments, read by position with the type each function needs.
struct Call {
    name: &'static str,
    arguments: Vec<Value>,
}

impl Call {
    fn failure(&self, why: &str) -> DataError {
        DataError::intrinsic(format!("Invalid arguments in {}: {why}", self.name))
    }

    fn expected(&self, index: usize, what: &str) -> DataError {
        self.failure(&format!(
            "argument {} must be {what}, but was {}",
            index + 1,
            describe(&self.arguments[index])
        ))
    }

    fn string(&self, index: usize) -> Result<&str, DataError> {
        self.arguments[index]
            .as_str()
            .ok_or_else(|| self.expected(index, "a string"))
    }

    fn array(&self, index: usize) -> Result<&Vec<Value>, DataError> {
        self.arguments[index]
            .as_array()
            .ok_or_else(|| self.expected(index, "an array"))
    }

    /// A whole number (`3` or `3.0`).
    fn integer(&self, index: usize) -> Result<i64, DataError> {
        let value = &self.arguments[index];
        value
            .as_i64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| self.expected(index, "an integer"))
    }

    /// A number, its fraction dropped.
    fn truncated(&self, index: usize) -> Result<i64, DataError> {
        let value = &self.arguments[index];
        value
            .as_i64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.abs() < 9.0e15)
                    .map(|f| f.trunc() as i64)
            })
            .ok_or_else(|| self.expected(index, "a number"))
    }

    fn within_base64_limit(&self, text: &str) -> Result<(), DataError> {
        if text.chars().count() > BASE64_LIMIT {
            return Err(self.failure(&format!(
                "the string is longer than {BASE64_LIMIT} characters"
            )));
        }
        Ok(())
    }

    fn format(&self) -> Result<Value, DataError> {
        let template = self.string(0)?;
        let mut values = self.arguments[1..].iter();
        let mut out = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        out.push(escaped);
                    }
                }
                '{' if chars.peek() == Some(&'}') => {
                    chars.next();
                    let value = values.next().ok_or_else(|| {
                        self.failure("the template has more placeholders '{}' than arguments")
                    })?;
                    format_value(value, &mut out);
                }
                c => out.push(c),
            }
        }
        if values.next().is_some() {
            return Err(self.failure("the template has fewer placeholders '{}' than arguments"));
        }
        Ok(Value::String(out))
    }

    fn range(&self) -> Result<Value, DataError> {
        let (start, end, step) = (self.integer(0)?, self.integer(1)?, self.integer(2)?);
        if step == 0 {
            return Err(self.failure("the step must not be 0"));
        }
        let mut items = Vec::new();
        let mut next = start;
        while (step > 0 && next <= end) || (step < 0 && next >= end) {
            if items.len() == ARRAY_RANGE_LIMIT {
                return Err(self.failure(&format!(
                    "the range has more than {ARRAY_RANGE_LIMIT} items"
                )));
            }
            items.push(Value::from(next));
            match next.checked_add(step) {
                Some(after) => next = after,
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn hash(&self) -> Result<Value, DataError> {
        let data = match &self.arguments[0] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let algorithm = self.string(1)?;
        let digest: Vec<u8> = match algorithm {
            "MD5" => md5::Md5::digest(data.as_bytes()).to_vec(),
            "SHA-1" => sha1::Sha1::digest(data.as_bytes()).to_vec(),
            "SHA-256" => sha2::Sha256::digest(data.as_bytes()).to_vec(),
            "SHA-384" => sha2::Sha384::digest(data.as_bytes()).to_vec(),
            "SHA-512" => sha2::Sha512::digest(data.as_bytes()).to_vec(),
            other => {
                return Err(self.failure(&format!(
                    "'{other}' is not a hash algorithm: use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
                )))
            }
        };
        Ok(Value::String(
            digest.iter().map(|byte| format!("{byte:02x}")).collect(),
        ))
    }
}

/// A value as `States.Format` writes it: a string as it is, any other value as Step Functions'
/// Java runtime prints it (`{key=value, ...}`, `[a, b]`).
fn format_value(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => out.push_str(text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_value(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                format_value(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}
