//! The AWS account an ASL workflow runs as: the region, account id and role its context
//! object's ARNs name.

/// The AWS account an ASL workflow runs as, for the ARNs its context object gives
/// (`$$.Execution.Id`, `$$.StateMachine.Id`, `$$.Execution.RoleArn`). A machine that passes
/// those ARNs on, or a test that compares them with what AWS recorded, sets the account the
/// machine runs in on AWS; by default the region is `local` and the account `000000000000`.
///
/// ```
/// use workflow::asl::{AslWorkflow, AwsAccount};
/// use workflow::Mode;
///
/// let definition = serde_json::json!({
///     "StartAt": "Who",
///     "States": {"Who": {"Type": "Pass", "Parameters": {"id.$": "$$.StateMachine.Id"}, "End": true}}
/// });
/// let workflow = AslWorkflow::from_json("Orders", Mode::Standard, &definition)?
///     .in_account(AwsAccount::new("eu-west-1", "123456789012"));
/// assert_eq!(
///     workflow.account().state_machine_arn("Orders"),
///     "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders"
/// );
/// # Ok::<(), workflow::asl::definition::DefinitionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAccount {
    region: String,
    id: String,
    role_arn: Option<String>,
}

impl AwsAccount {
    /// The account `id` (twelve digits) in `region` (e.g. `us-east-1`).
    pub fn new(region: impl Into<String>, id: impl Into<String>) -> Self {
        AwsAccount {
            region: region.into(),
            id: id.into(),
            role_arn: None,
        }
    }

    /// The IAM role executions run with, as `$$.Execution.RoleArn` gives it; by default
    /// `arn:aws:iam::<account>:role/<workflow>`.
    #[must_use]
    pub fn with_role_arn(mut self, role_arn: impl Into<String>) -> Self {
        self.role_arn = Some(role_arn.into());
        self
    }

    /// The ARN of the state machine `workflow`.
    pub fn state_machine_arn(&self, workflow: &str) -> String {
        format!("{}:stateMachine:{workflow}", self.prefix())
    }

    /// The ARN of the execution `execution` of the state machine `workflow`.
    pub fn execution_arn(&self, workflow: &str, execution: &str) -> String {
        format!("{}:execution:{workflow}:{execution}", self.prefix())
    }

    /// The role the executions of `workflow` run with.
    pub fn role_arn(&self, workflow: &str) -> String {
        match &self.role_arn {
            Some(role_arn) => role_arn.clone(),
            None => format!("arn:aws:iam::{}:role/{workflow}", self.id),
        }
    }

    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.id)
    }
}

impl Default for AwsAccount {
    fn default() -> Self {
        AwsAccount::new("local", "000000000000")
    }
}
