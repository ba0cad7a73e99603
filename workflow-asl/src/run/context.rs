//! The context object, `$$`: what a state can read of its execution besides its input.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::account::AwsAccount;

/// Where a state runs, for its context object.
pub(crate) struct Facts<'a> {
    pub(crate) account: &'a AwsAccount,
    pub(crate) workflow: &'a str,
    pub(crate) execution: &'a str,
    pub(crate) execution_input: &'a Value,
    pub(crate) started_at: SystemTime,
    pub(crate) state: &'a str,
    pub(crate) entered_at: SystemTime,
    /// How many times a Task state's step was retried: only Task states have this count.
    pub(crate) retry_count: Option<u32>,
}

impl Facts<'_> {
    /// The context object, with a Map item's index and value for an `ItemSelector`.
    pub(crate) fn object(&self, item: Option<(usize, &Value)>) -> Value {
        let mut object = json!({
            "Execution": {
                "Id": self.account.execution_arn(self.workflow, self.execution),
                "Input": self.execution_input,
                "Name": self.execution,
                "RoleArn": self.account.role_arn(self.workflow),
                "StartTime": time(self.started_at),
                "RedriveCount": 0,
            },
            "State": {
                "EnteredTime": time(self.entered_at),
                "Name": self.state,
            },
            "StateMachine": {
                "Id": self.account.state_machine_arn(self.workflow),
                "Name": self.workflow,
            },
        });
        if let Some(retry_count) = self.retry_count {
            object["State"]["RetryCount"] = retry_count.into();
        }
        if let Some((index, value)) = item {
            object["Map"] = json!({"Item": {"Index": index, "Value": value}});
        }
        object
    }
}

/// A time as Step Functions writes it: RFC 3339 in UTC, to the millisecond.
fn time(at: SystemTime) -> String {
    match jiff::Timestamp::try_from(at) {
        Ok(at) => format!("{at:.3}"),
        Err(_) => String::new(),
    }
}
