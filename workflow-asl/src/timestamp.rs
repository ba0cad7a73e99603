//! Timestamps as the States Language writes them: RFC 3339 with an uppercase `T` between date
//! and time and an offset (`Z` or `±hh:mm`), as in `2016-08-18T17:33:00Z`.

use jiff::Timestamp;

/// The instant `text` names, if it is a timestamp in the States Language's form.
pub fn parse(text: &str) -> Option<Timestamp> {
    // jiff also reads a space or a lowercase `t` between date and time; Step Functions does
    // not.
    if text.as_bytes().get(10) != Some(&b'T') || text.ends_with('z') {
        return None;
    }
    text.parse().ok()
}

/// The instant `text` names as a [`SystemTime`](std::time::SystemTime), if it is a timestamp
/// in the States Language's form.
pub fn parse_system_time(text: &str) -> Option<std::time::SystemTime> {
    let nanos = parse(text)?.as_nanosecond();
    let magnitude = std::time::Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).ok()?);
    match nanos >= 0 {
        true => std::time::UNIX_EPOCH.checked_add(magnitude),
        false => std::time::UNIX_EPOCH.checked_sub(magnitude),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn only_the_states_language_form_reads() {
        assert!(parse("2016-08-18T17:33:00Z").is_some());
        assert!(parse("2016-08-18T17:33:00.125+02:00").is_some());
        assert_eq!(
            parse("2016-08-18T19:33:00+02:00"),
            parse("2016-08-18T17:33:00Z")
        );
        for refused in [
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-12-05T25:29:29Z",
            "2016-12-05t21:29:29Z",
            "yesterday",
        ] {
            assert!(parse(refused).is_none(), "{refused}");
        }
    }
}
