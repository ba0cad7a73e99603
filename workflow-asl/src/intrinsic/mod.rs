//! Intrinsic functions: `States.Format('Hello {}', $.name)` and the others, written in a
//! `.$` field of a payload template. Parsed once with the definition (`parse.rs`), evaluated
//! for each input (`functions.rs`).

mod functions;
mod parse;

use std::fmt;

use serde_json::Value;

use crate::error::DataError;
use crate::path::{JsonPath, Scope};

/// A parsed intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    function: Function,
    arguments: Vec<Argument>,
    source: String,
}

/// An argument of an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
enum Argument {
    /// A literal: a string in single quotes, a number, `true`, `false` or `null`.
    Literal(Value),
    /// A path into the input or the context object.
    Path(JsonPath),
    /// A nested call.
    Call(Intrinsic),
}

/// Declares `Function`, its names and its argument counts, from one list.
macro_rules! functions {
    ($($variant:ident = $name:literal, $min:literal..=$max:expr;)*) => {
        /// The intrinsic functions of the States Language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Function {
            $($variant,)*
        }

        impl Function {
            const ALL: &'static [Function] = &[$(Function::$variant,)*];

            fn name(self) -> &'static str {
                match self {
                    $(Function::$variant => $name,)*
                }
            }

            /// The fewest and most arguments the function takes.
            fn arity(self) -> (usize, usize) {
                match self {
                    $(Function::$variant => ($min, $max),)*
                }
            }
        }
    };
}

functions! {
    Format = "States.Format", 1..=usize::MAX;
    StringToJson = "States.StringToJson", 1..=1;
    JsonToString = "States.JsonToString", 1..=1;
    Array = "States.Array", 0..=usize::MAX;
    ArrayPartition = "States.ArrayPartition", 2..=2;
    ArrayContains = "States.ArrayContains", 2..=2;
    ArrayRange = "States.ArrayRange", 3..=3;
    ArrayGetItem = "States.ArrayGetItem", 2..=2;
    ArrayLength = "States.ArrayLength", 1..=1;
    ArrayUnique = "States.ArrayUnique", 1..=1;
    Base64Encode = "States.Base64Encode", 1..=1;
    Base64Decode = "States.Base64Decode", 1..=1;
    Hash = "States.Hash", 2..=2;
    JsonMerge = "States.JsonMerge", 3..=3;
    MathRandom = "States.MathRandom", 2..=3;
    MathAdd = "States.MathAdd", 2..=2;
    StringSplit = "States.StringSplit", 2..=2;
    Uuid = "States.UUID", 0..=0;
}

impl Intrinsic {
    /// Parses an intrinsic function call, checking the function's name and its number of
    /// arguments; the error says what is wrong and where.
    pub fn parse(source: &str) -> Result<Intrinsic, String> {
        parse::call(source)
    }

    /// Whether `text` is meant as an intrinsic function call (it starts with `States.`).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Evaluates the call, its paths reading `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, DataError> {
        let arguments = self
            .arguments
            .iter()
            .map(|argument| match argument {
                Argument::Literal(value) => Ok(value.clone()),
                Argument::Path(path) => path.select(scope),
                Argument::Call(call) => call.evaluate(scope),
            })
            .collect::<Result<Vec<_>, _>>()?;
        functions::apply(self.function, arguments, scope.draws)
    }
}

/// Applies the intrinsic function named `name` (`States.ArrayPartition`...) to evaluated
/// arguments: for JSONata's functions of the same purpose.
pub(crate) fn apply_named(name: &str, arguments: Vec<Value>) -> Result<Value, DataError> {
    let function = Function::ALL
        .iter()
        .copied()
        .find(|function| function.name() == name)
        .ok_or_else(|| DataError::intrinsic(format!("no intrinsic function {name}")))?;
    let (min, max) = function.arity();
    if arguments.len() < min || arguments.len() > max {
        return Err(DataError::intrinsic(format!(
            "{name} takes {min} to {max} arguments, not {}",
            arguments.len()
        )));
    }
    functions::apply(function, arguments, None)
}

impl fmt::Display for Intrinsic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
