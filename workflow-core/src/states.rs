//! The predefined error names of the States Language.

use std::fmt;

/// The predefined error names of the States Language (`States.*`).
///
/// The runtime raises these itself (a timeout, a lost worker, a payload over the size limit);
/// retriers and catchers match them by name like user errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum States {
    /// `States.ALL`: matches every error name except `States.Runtime` (it matches
    /// `States.DataLimitExceeded`, as AWS does, though AWS's documentation says it does not).
    /// Only valid alone and last in a list of retriers or catchers.
    All,
    /// `States.Timeout`: a task ran longer than its timeout, or the execution longer than its own.
    Timeout,
    /// `States.HeartbeatTimeout`: a task went quiet for longer than its heartbeat interval.
    HeartbeatTimeout,
    /// `States.TaskFailed`: a task failed during execution (also: its worker was lost mid-task).
    TaskFailed,
    /// `States.Permissions`: a task lacked the privileges to run.
    Permissions,
    /// `States.BranchFailed`: a branch of a Parallel state failed.
    BranchFailed,
    /// `States.NoChoiceMatched`: no branch of a Choice state matched.
    NoChoiceMatched,
    /// `States.IntrinsicFailure`: an intrinsic function failed.
    IntrinsicFailure,
    /// `States.ExceedToleratedFailureThreshold`: a Map state had more failed items than tolerated.
    ExceedToleratedFailureThreshold,
    /// `States.DataLimitExceeded`: a payload exceeded the size limit. Matched by `States.ALL`
    /// (as AWS does), not by `States.TaskFailed`.
    DataLimitExceeded,
    /// `States.Runtime`: the execution cannot continue (for example, a payload could not be
    /// serialised). Not matched by `States.ALL`.
    Runtime,
}

impl States {
    /// Every predefined error, in the order above.
    pub const EVERY: [States; 11] = [
        States::All,
        States::Timeout,
        States::HeartbeatTimeout,
        States::TaskFailed,
        States::Permissions,
        States::BranchFailed,
        States::NoChoiceMatched,
        States::IntrinsicFailure,
        States::ExceedToleratedFailureThreshold,
        States::DataLimitExceeded,
        States::Runtime,
    ];

    /// The error's name, e.g. `States.Timeout`.
    pub const fn name(self) -> &'static str {
        match self {
            States::All => "States.ALL",
            States::Timeout => "States.Timeout",
            States::HeartbeatTimeout => "States.HeartbeatTimeout",
            States::TaskFailed => "States.TaskFailed",
            States::Permissions => "States.Permissions",
            States::BranchFailed => "States.BranchFailed",
            States::NoChoiceMatched => "States.NoChoiceMatched",
            States::IntrinsicFailure => "States.IntrinsicFailure",
            States::ExceedToleratedFailureThreshold => "States.ExceedToleratedFailureThreshold",
            States::DataLimitExceeded => "States.DataLimitExceeded",
            States::Runtime => "States.Runtime",
        }
    }

    /// The predefined error with this name, if there is one.
    pub fn from_name(name: &str) -> Option<States> {
        States::EVERY.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<States> for str {
    fn eq(&self, other: &States) -> bool {
        self == other.name()
    }
}

impl PartialEq<States> for &str {
    fn eq(&self, other: &States) -> bool {
        *self == other.name()
    }
}
