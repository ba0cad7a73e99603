//! Callback steps: a step that hands out a [`TaskToken`] and returns [`Callback<T>`]; its
//! state then waits, durably, until someone completes the token with
//! [`Runtime::send_task_success`](crate::Runtime::send_task_success) (or a failure, or
//! heartbeats).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::args::{ArgumentError, Requirement, StepArg, StepEnv};

/// The prefix of every token: its format's version.
const PREFIX: &str = "wt1-";

/// The token of one attempt of a callback step: 256 random bits from the operating system.
///
/// The step hands it to whoever will answer (in an e-mail, a queue message, a webhook
/// registration); they complete it with [`Runtime::send_task_success`],
/// [`send_task_failure`](crate::Runtime::send_task_failure) or keep it alive with
/// [`send_task_heartbeat`](crate::Runtime::send_task_heartbeat). A token works once, and only
/// while its attempt waits. Only its hash is stored; histories never hold it, and its `Debug`
/// form shows only its last characters. `Display` writes the whole token, to be sent.
///
/// [`Runtime::send_task_success`]: crate::Runtime::send_task_success
#[derive(Clone, PartialEq, Eq)]
pub struct TaskToken(Arc<str>);

impl TaskToken {
    /// A new random token.
    pub(crate) fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        let hex: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(TaskToken(format!("{PREFIX}{hex}").into()))
    }

    /// The token, to hand out.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash the store keeps of `token`, or `None` for text that is not a token.
    pub(crate) fn hash_of(token: &str) -> Option<String> {
        let secret = token.trim().strip_prefix(PREFIX)?;
        if secret.len() != 64 || !secret.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        let digest = Sha256::digest(token.trim().as_bytes());
        Some(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The hash the store keeps of this token.
    pub(crate) fn hash(&self) -> String {
        TaskToken::hash_of(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for TaskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TaskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = &self.0[self.0.len().saturating_sub(4)..];
        write!(f, "TaskToken({PREFIX}…{tail})")
    }
}

impl StepArg for TaskToken {
    fn requirement() -> Option<Requirement> {
        None
    }

    fn extract(env: &StepEnv<'_>) -> Result<Self, ArgumentError> {
        env.token.cloned().ok_or_else(|| {
            ArgumentError::new(format!(
                "step `{}` takes a `TaskToken`, which only a callback step (one returning `Callback<T>`) is given",
                env.step
            ))
        })
    }
}

/// What a callback step returns: "the output comes later, with the token". Its state then
/// waits until the token is completed, its timeout passes, or its heartbeat goes silent.
///
/// ```
/// use workflow::prelude::*;
/// use workflow::{Callback, TaskToken};
///
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Expense { approver: String }
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Decision { approved: bool }
/// # struct Mailer; impl Mailer { fn send(&self, _: &str, _: &str) {} }
/// /// Asks the approver; the execution waits for their answer.
/// #[step]
/// async fn ask_approval(expense: Expense, token: TaskToken, mailer: Res<Mailer>) -> Callback<Decision> {
///     mailer.send(&expense.approver, &format!("Approve? Reply with {token}"));
///     Callback::new()
/// }
/// ```
pub struct Callback<T> {
    /// What the token is completed with at once, if it is (an output, or an error name and
    /// cause): a stand-in for whoever would complete it (a mocked callback task).
    answer: Option<Result<serde_json::Value, (String, String)>>,
    output: PhantomData<fn() -> T>,
}

impl<T> Callback<T> {
    /// The step has handed out its token; the output comes with it.
    pub fn new() -> Self {
        Callback {
            answer: None,
            output: PhantomData,
        }
    }

    /// The token is completed at once with `output`, as if whoever holds it had answered:
    /// for a stand-in of a callback task (a mocked response). Not a public API.
    #[doc(hidden)]
    pub fn answered(output: serde_json::Value) -> Self {
        Callback {
            answer: Some(Ok(output)),
            output: PhantomData,
        }
    }

    /// The token is failed at once with `error` and `cause`, as if whoever holds it had
    /// answered so: for a stand-in of a callback task. Not a public API.
    #[doc(hidden)]
    pub fn answered_with_failure(error: String, cause: String) -> Self {
        Callback {
            answer: Some(Err((error, cause))),
            output: PhantomData,
        }
    }

    /// What the token is to be completed with at once, if anything.
    pub(crate) fn answer(self) -> Option<Result<serde_json::Value, (String, String)>> {
        self.answer
    }
}

impl<T> Default for Callback<T> {
    fn default() -> Self {
        Callback::new()
    }
}

impl<T> fmt::Debug for Callback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Callback<{}>", std::any::type_name::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_only_when_well_formed() {
        let one = TaskToken::generate().unwrap_or_else(|_| TaskToken(Arc::from("")));
        let two = TaskToken::generate().unwrap_or_else(|_| TaskToken(Arc::from("")));
        assert_ne!(one, two);
        assert_eq!(one.as_str().len(), PREFIX.len() + 64);
        assert_eq!(TaskToken::hash_of(one.as_str()), Some(one.hash()));
        assert_eq!(one.hash().len(), 64);
        assert!(!format!("{one:?}").contains(&one.as_str()[8..40]));
        assert_eq!(TaskToken::hash_of("wt1-1234"), None);
        assert_eq!(
            TaskToken::hash_of(&one.as_str().replace("wt1-", "wt2-")),
            None
        );
    }
}
