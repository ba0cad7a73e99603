//! Rules for names, shared by steps, states and workflows, and "did you mean" suggestions.

use workflow_core::names::{NameProblem, MAX_NAME_LEN};

/// Why `name` cannot name a step, state or workflow, if it cannot (`workflow_core`'s rules,
/// the runtime's too), said of the name itself.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    workflow_core::names::name_problem(name).map(|problem| match problem {
        NameProblem::Empty => problem.to_string(),
        NameProblem::TooLong { length } => {
            format!("`{name}` is {length} characters long; names have at most {MAX_NAME_LEN}")
        }
        NameProblem::Forbidden(c) => format!(
            "`{name}` contains `{}`, which names cannot contain",
            c.escape_default()
        ),
    })
}

/// The candidate closest to `wanted`, if one is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let score =
                strsim::normalized_damerau_levenshtein(&wanted_lower, &candidate.to_lowercase());
            (candidate, score)
        })
        .filter(|(_, score)| *score >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| candidate)
}

/// `"; did you mean `X`?"`, or nothing; goes at the end of a message.
pub(crate) fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    suggest(wanted, candidates)
        .map_or_else(String::new, |close| format!("; did you mean `{close}`?"))
}
