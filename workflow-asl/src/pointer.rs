//! JSON pointers (RFC 6901) into a definition, to say where a problem is: `/States/Charge/Next`.

use std::fmt;

/// The place of a value in a definition, as a JSON pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document: the empty pointer.
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// The member `name` of the object here.
    #[must_use]
    pub fn field(&self, name: &str) -> Self {
        let escaped = name.replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{escaped}", self.0))
    }

    /// Item `index` of the array here.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        Pointer(format!("{}/{index}", self.0))
    }

    /// The pointer as text (empty for the whole document).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.is_empty() {
            true => f.write_str("/"),
            false => f.write_str(&self.0),
        }
    }
}
