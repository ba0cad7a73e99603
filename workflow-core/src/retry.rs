//! Retriers and catchers: which errors they match, and how long to wait before a retry.
//!
//! The semantics are those of the Amazon States Language:
//! - Retriers are evaluated in order; the first whose error list matches applies. Each keeps its
//!   own count of retries within one visit to the state; when it is used up, the error goes to
//!   the catchers.
//! - The delay before retry *n* (1 for the first) is `interval × backoff^(n−1)`, capped at
//!   `max_delay` if set; with full jitter it is drawn uniformly from `[0, delay]`.
//! - `States.ALL` matches every error except `States.Runtime` (`States.DataLimitExceeded` too,
//!   as AWS does, though its documentation says otherwise).
//!   `States.TaskFailed` matches every error a task raises except timeouts (and those two).
//!   `States.Timeout` also matches `States.HeartbeatTimeout`, a heartbeat timeout being a kind
//!   of timeout.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::definition::StateId;
use crate::states::States;

/// A retry policy for some errors of a state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Retrier {
    /// The error names it applies to (`ErrorEquals`).
    pub errors: Vec<String>,
    /// The delay before the first retry (`IntervalSeconds`, default 1 s).
    #[serde(with = "crate::serde_duration")]
    pub interval: Duration,
    /// How many retries at most (`MaxAttempts`, default 3; 0 = never retry).
    pub max_attempts: u32,
    /// The factor by which the delay grows with each retry (`BackoffRate`, default 2.0, ≥ 1.0).
    pub backoff_rate: f64,
    /// The longest a delay may be (`MaxDelaySeconds`), if capped.
    #[serde(default, with = "crate::serde_duration::option")]
    pub max_delay: Option<Duration>,
    /// Whether delays are randomised (`JitterStrategy`).
    pub jitter: Jitter,
    /// Whether its error names are taken as written, even ones its state is not known to
    /// raise (`retry unchecked "..."`); they are then not checked when a runtime is built.
    // Left out when false, so definitions without it keep their fingerprints.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchecked: bool,
}

impl Retrier {
    /// A retrier for `errors` with Step Functions' defaults.
    pub fn new(errors: Vec<String>) -> Self {
        Retrier {
            errors,
            interval: Duration::from_secs(1),
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay: None,
            jitter: Jitter::None,
            unchecked: false,
        }
    }

    /// Whether the retrier applies to `error`.
    pub fn matches(&self, error: &str) -> bool {
        matches_any(&self.errors, error)
    }

    /// The delay before retry `retry` (1 for the first), before jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.interval.as_secs_f64() * self.backoff_rate.powi(exponent);
        let delay = if seconds.is_finite() && seconds < Duration::MAX.as_secs_f64() {
            Duration::from_secs_f64(seconds)
        } else {
            Duration::MAX
        };
        match self.max_delay {
            Some(max) => delay.min(max),
            None => delay,
        }
    }

    /// The delay before retry `retry`, with jitter applied.
    pub fn jittered_delay(&self, retry: u32) -> Duration {
        let delay = self.delay(retry);
        match self.jitter {
            Jitter::None => delay,
            Jitter::Full => delay.mul_f64(fastrand::f64()),
        }
    }
}

/// How retry delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Jitter {
    /// No randomisation (`NONE`).
    #[default]
    None,
    /// Uniformly random in `[0, delay]` (`FULL`).
    Full,
}

impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Jitter::None => "NONE",
            Jitter::Full => "FULL",
        })
    }
}

/// A fallback for some errors of a state: where the execution goes instead of failing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Catcher {
    /// The error names it applies to (`ErrorEquals`).
    pub errors: Vec<String>,
    /// The state that receives the failed state's input and the error (`Next`).
    pub next: StateId,
    /// Whether its error names are taken as written, even ones its state is not known to
    /// raise (`catch unchecked "..."`); they are then not checked when a runtime is built.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchecked: bool,
}

impl Catcher {
    /// Whether the catcher applies to `error`.
    pub fn matches(&self, error: &str) -> bool {
        matches_any(&self.errors, error)
    }
}

fn matches_any(patterns: &[String], error: &str) -> bool {
    patterns.iter().any(|pattern| error_matches(pattern, error))
}

/// Whether the `ErrorEquals` entry `pattern` matches the error named `error`.
pub fn error_matches(pattern: &str, error: &str) -> bool {
    if pattern == error {
        return true;
    }
    let runtime = error == States::Runtime.name();
    let data_limit = error == States::DataLimitExceeded.name();
    let timeout = error == States::Timeout.name() || error == States::HeartbeatTimeout.name();
    match States::from_name(pattern) {
        // AWS's documentation says `States.ALL` does not match `States.DataLimitExceeded`; the
        // histories AWS records show it does (a task whose result is over the limit goes to
        // the `States.ALL` catcher), and what AWS does is what counts.
        Some(States::All) => !runtime,
        Some(States::TaskFailed) => !runtime && !data_limit && !timeout,
        Some(States::Timeout) => error == States::HeartbeatTimeout.name(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrier(errors: &[&str], interval_ms: u64, max_attempts: u32, backoff_rate: f64) -> Retrier {
        Retrier {
            interval: Duration::from_millis(interval_ms),
            max_attempts,
            backoff_rate,
            ..Retrier::new(errors.iter().map(|e| (*e).to_owned()).collect())
        }
    }

    #[test]
    fn exponential_backoff_exact_delays() {
        let r = retrier(&["E"], 3000, 4, 1.5);
        let seconds: Vec<f64> = (1..=4).map(|n| r.delay(n).as_secs_f64()).collect();
        assert_eq!(seconds, [3.0, 4.5, 6.75, 10.125]);
    }

    #[test]
    fn max_delay_caps_the_delay() {
        let r = Retrier {
            max_delay: Some(Duration::from_secs(5)),
            ..retrier(&["E"], 3000, 4, 1.5)
        };
        let seconds: Vec<f64> = (1..=4).map(|n| r.delay(n).as_secs_f64()).collect();
        assert_eq!(seconds, [3.0, 4.5, 5.0, 5.0]);
    }

    #[test]
    fn full_jitter_stays_within_the_delay_and_varies() {
        let r = Retrier {
            jitter: Jitter::Full,
            ..retrier(&["E"], 4000, 10, 2.0)
        };
        let samples: Vec<Duration> = (0..1000).map(|_| r.jittered_delay(2)).collect();
        let ceiling = Duration::from_secs(8);
        assert!(samples.iter().all(|d| *d <= ceiling));
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(
            distinct.len() > 900,
            "only {} distinct delays",
            distinct.len()
        );
        let mean = samples.iter().sum::<Duration>() / 1000;
        // The mean of U[0, 8 s] is 4 s; 1,000 samples put it well within ±0.5 s.
        assert!(
            mean > Duration::from_millis(3500) && mean < Duration::from_millis(4500),
            "mean {mean:?}"
        );
    }

    #[test]
    fn huge_backoff_saturates_instead_of_panicking() {
        let r = retrier(&["E"], 1000, 1000, 10.0);
        assert_eq!(r.delay(900), Duration::MAX);
    }

    #[test]
    fn predefined_wildcards() {
        for error in [
            "PaymentError.Declined",
            "States.TaskFailed",
            "States.Timeout",
            "States.HeartbeatTimeout",
        ] {
            assert!(error_matches("States.ALL", error), "{error}");
        }
        for error in ["States.Runtime", "States.DataLimitExceeded"] {
            assert!(!error_matches("States.TaskFailed", error), "{error}");
        }
        assert!(!error_matches("States.ALL", "States.Runtime"));
        assert!(error_matches("States.ALL", "States.DataLimitExceeded"));
        assert!(error_matches("States.TaskFailed", "PaymentError.Declined"));
        assert!(!error_matches("States.TaskFailed", "States.Timeout"));
        assert!(error_matches("States.Timeout", "States.HeartbeatTimeout"));
        assert!(!error_matches("States.HeartbeatTimeout", "States.Timeout"));
        assert!(error_matches(
            "States.DataLimitExceeded",
            "States.DataLimitExceeded"
        ));
        assert!(!error_matches(
            "PaymentError.Declined",
            "PaymentError.GatewayTimeout"
        ));
    }
}
