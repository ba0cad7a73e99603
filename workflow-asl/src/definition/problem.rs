//! Why a definition is refused: every problem, each at its JSON pointer.

use std::fmt;

use crate::pointer::Pointer;

/// One problem of a definition, at the JSON pointer of the value it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `/States/Charge/Next`.
    pub at: Pointer,
    /// What is wrong, and what to write instead where that can be said.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A definition that is not valid States Language, with all of its problems, ordered by
/// their pointers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", listed(&self.problems))]
pub struct DefinitionError {
    /// The problems, at least one.
    pub problems: Vec<Problem>,
}

/// The problems under a heading, one per line.
fn listed(problems: &[Problem]) -> String {
    let count = problems.len();
    let mut text = format!(
        "the state machine definition has {count} problem{}:",
        if count == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str(&format!("\n  {problem}"));
    }
    text
}

/// `known`'s name closest to `name`, if one is close enough to be a likely typo.
pub(crate) fn closest<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(name.len()) / 3).max(1))
        .min()
        .map(|(_, candidate)| candidate)
}

/// `"; did you mean \"X\"?"`, or nothing.
pub(crate) fn did_you_mean<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> String {
    closest(name, known)
        .map(|known| format!("; did you mean \"{known}\"?"))
        .unwrap_or_default()
}
