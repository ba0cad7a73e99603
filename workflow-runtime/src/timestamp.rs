//! Times in serialised records and events: RFC 3339 in UTC (`2026-12-01T16:41:01.250Z`), what people and
//! scripts read, rather than serde's default `{secs_since_epoch, nanos_since_epoch}`; with as
//! many decimals as the time needs (none, 3, 6 or 9), so that it reads back exactly.
//!
//! A damaged record may hold a time RFC 3339 cannot write (before 1970, after 9999): such a
//! time is written as a number, signed seconds since 1970, so that listing a damaged record
//! never fails. Both forms read back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// 10000-01-01T00:00:00Z in seconds since 1970: RFC 3339 has four-digit years.
const FIRST_SECOND_PAST_9999: u64 = 253_402_300_800;

pub(crate) fn serialize<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_secs() < FIRST_SECOND_PAST_9999 => {
            serializer.collect_str(&rfc3339(*at, since.subsec_nanos()))
        }
        Ok(since) => serializer.serialize_f64(since.as_secs_f64()),
        Err(before) => serializer.serialize_f64(-before.duration().as_secs_f64()),
    }
}

/// `at` as [`serialize`] writes it into JSON, appended to `out`: the same text, without a
/// serializer's `collect_str`, which escapes what it writes (a time holds nothing to escape;
/// the SQL stores write every event's time).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn write_json(out: &mut String, at: SystemTime) {
    use std::fmt::Write;
    // Writing into a `String` cannot fail.
    let _ = match at.duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_secs() < FIRST_SECOND_PAST_9999 => {
            write!(out, "\"{}\"", rfc3339(at, since.subsec_nanos()))
        }
        // As serde_json writes an `f64`.
        Ok(since) => write!(out, "{}", json_f64(since.as_secs_f64())),
        Err(before) => write!(out, "{}", json_f64(-before.duration().as_secs_f64())),
    };
}

/// `value` as serde_json writes an `f64`: `null` when it is not finite.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn json_f64(value: f64) -> serde_json::Value {
    serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// `at` with as many decimals as it needs to read back exactly, in steps of three.
fn rfc3339(at: SystemTime, subsec_nanos: u32) -> humantime::Rfc3339Timestamp {
    if subsec_nanos == 0 {
        humantime::format_rfc3339_seconds(at)
    } else if subsec_nanos.is_multiple_of(1_000_000) {
        humantime::format_rfc3339_millis(at)
    } else if subsec_nanos.is_multiple_of(1_000) {
        humantime::format_rfc3339_micros(at)
    } else {
        humantime::format_rfc3339_nanos(at)
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<SystemTime, D::Error> {
    deserializer.deserialize_any(TimeVisitor)
}

/// `Option<SystemTime>` the same way, `null` for `None`.
pub(crate) mod optional {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        at: &Option<SystemTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        #[derive(Deserialize)]
        struct Time(#[serde(with = "super")] SystemTime);
        Ok(Option::<Time>::deserialize(deserializer)?.map(|Time(at)| at))
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = SystemTime;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time in UTC, or seconds since 1970")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SystemTime, E> {
        humantime::parse_rfc3339(text).map_err(|error| E::custom(format!("`{text}`: {error}")))
    }

    fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<SystemTime, E> {
        let magnitude = Duration::try_from_secs_f64(seconds.abs())
            .map_err(|_| E::custom(format!("{seconds} is not a time in seconds since 1970")))?;
        since_1970(seconds, seconds < 0.0, magnitude)
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<SystemTime, E> {
        since_1970(
            seconds,
            seconds < 0,
            Duration::from_secs(seconds.unsigned_abs()),
        )
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<SystemTime, E> {
        since_1970(seconds, false, Duration::from_secs(seconds))
    }
}

/// The time `magnitude` after 1970 (before, if `before`), read from `seconds`.
fn since_1970<E: de::Error>(
    seconds: impl std::fmt::Display,
    before: bool,
    magnitude: Duration,
) -> Result<SystemTime, E> {
    let at = if before {
        UNIX_EPOCH.checked_sub(magnitude)
    } else {
        UNIX_EPOCH.checked_add(magnitude)
    };
    at.ok_or_else(|| E::custom(format!("{seconds} seconds since 1970 is out of range")))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct At(#[serde(with = "super")] SystemTime);

    fn json(at: SystemTime) -> String {
        serde_json::to_string(&At(at)).unwrap_or_else(|error| error.to_string())
    }

    fn back(text: &str) -> Result<SystemTime, String> {
        serde_json::from_str::<At>(text)
            .map(|At(at)| at)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn times_are_rfc3339_with_the_decimals_they_need_and_read_back_exactly() {
        let second = UNIX_EPOCH + Duration::from_secs(1_796_143_261);
        for (at, text) in [
            (second, "\"2026-12-01T16:41:01Z\""),
            (
                second + Duration::from_millis(250),
                "\"2026-12-01T16:41:01.250Z\"",
            ),
            (
                second + Duration::from_micros(250_001),
                "\"2026-12-01T16:41:01.250001Z\"",
            ),
            (
                second + Duration::from_nanos(7),
                "\"2026-12-01T16:41:01.000000007Z\"",
            ),
        ] {
            assert_eq!(json(at), text);
            assert_eq!(back(text), Ok(at));
        }
    }

    #[test]
    fn times_rfc3339_cannot_write_are_seconds_since_1970_and_read_back() {
        let before = UNIX_EPOCH - Duration::from_millis(1_500);
        assert_eq!(json(before), "-1.5");
        assert_eq!(back("-1.5"), Ok(before));
        let past_9999 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(json(past_9999), "253402300800.0");
        assert_eq!(back("253402300800.0"), Ok(past_9999));
        assert_eq!(back("253402300800"), Ok(past_9999));
        assert_eq!(back("-2"), Ok(UNIX_EPOCH - Duration::from_secs(2)));
    }

    #[test]
    fn what_is_not_a_time_is_refused_with_its_text() {
        let error = back("\"yesterday\"").unwrap_err();
        assert!(error.contains("`yesterday`"), "{error}");
        assert!(back("1e300").is_err());
        assert!(back("true").is_err());
    }
}
