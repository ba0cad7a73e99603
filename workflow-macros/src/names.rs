//! Rules for names, shared by steps, states and workflows, and "did you mean" suggestions.

/// Step Functions' limit on state, workflow and execution names.
pub(crate) const MAX_NAME_LEN: usize = 80;

/// Why `name` cannot name a step, state or workflow, if it cannot.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".to_owned());
    }
    let length = name.chars().count();
    if length > MAX_NAME_LEN {
        return Some(format!(
            "`{name}` is {length} characters long; names have at most {MAX_NAME_LEN}"
        ));
    }
    // The characters Step Functions rejects in names.
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c))
    {
        return Some(format!(
            "`{name}` contains `{}`, which names cannot contain",
            bad.escape_default()
        ));
    }
    None
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
