//! Workflow modes: Standard (durable, long-running) and Express (short, high-volume).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a workflow's executions run, chosen in `workflow!` (`Standard<I, O>` or `Express<I, O>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Durable: every event persisted, tasks at most once, runs up to a year.
    Standard,
    /// Short and high-volume: up to five minutes, history sent to a log sink.
    Express,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 2] = [Mode::Standard, Mode::Express];

    /// The longest an execution of this mode may run.
    pub const fn max_duration(self) -> Duration {
        match self {
            // A year, as in Step Functions.
            Mode::Standard => Duration::from_secs(365 * 24 * 60 * 60),
            Mode::Express => Duration::from_secs(5 * 60),
        }
    }

    /// `"Standard"` or `"Express"`.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Standard => "Standard",
            Mode::Express => "Express",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
