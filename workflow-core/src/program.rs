//! What runs a workflow defined at run time rather than by `workflow!` (an Amazon States
//! Language machine): opaque here, carried with its [`Definition`](crate::definition::Definition)
//! so that the engine's machine finds it from the definition it runs.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The code of a workflow defined at run time, and a fingerprint of its source.
///
/// Empty for `workflow!` workflows. It serialises as the source's fingerprint alone, so that
/// a definition's [fingerprint](crate::definition::Definition::fingerprint) changes when the
/// source does (a changed `Parameters` template changes no state or transition); read back,
/// it has the fingerprint and no code.
#[derive(Clone, Default)]
pub struct Program {
    fingerprint: String,
    code: Option<Arc<dyn Any + Send + Sync>>,
}

impl Program {
    /// A program: `code` runs it, `fingerprint` identifies its source.
    pub fn new(fingerprint: impl Into<String>, code: Arc<dyn Any + Send + Sync>) -> Self {
        Program {
            fingerprint: fingerprint.into(),
            code: Some(code),
        }
    }

    /// Whether there is no program: a `workflow!` workflow's definition.
    pub fn is_empty(&self) -> bool {
        self.fingerprint.is_empty() && self.code.is_none()
    }

    /// The fingerprint of the program's source.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The program's code, if it is a `T`.
    pub fn code<T: Any>(&self) -> Option<&T> {
        self.code.as_deref()?.downcast_ref()
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("fingerprint", &self.fingerprint)
            .field("code", &self.code.is_some())
            .finish()
    }
}

/// Programs are equal when their sources are.
impl PartialEq for Program {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Serialize for Program {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.fingerprint)
    }
}

impl<'de> Deserialize<'de> for Program {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Program {
            fingerprint: String::deserialize(deserializer)?,
            code: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_travels_as_its_fingerprint_and_gives_its_code_back() {
        let program = Program::new("abc", Arc::new(42_u32));
        assert_eq!(program.code::<u32>(), Some(&42));
        assert_eq!(program.code::<String>(), None);
        let json = serde_json::to_string(&program).unwrap_or_default();
        assert_eq!(json, "\"abc\"");
        let back: Program = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, program);
        assert!(back.code::<u32>().is_none());
        assert!(Program::default().is_empty());
    }
}
