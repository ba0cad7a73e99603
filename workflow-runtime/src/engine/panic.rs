//! A user's panic is a failure like any other. In a step (or a mock standing in for one), it
//! fails the attempt with `States.TaskFailed`, which the state's retriers and catchers see; in
//! the workflow's own code (a Choice rule, a Pass function, a Map selector, a `wait until`
//! closure, a payload's `Serialize`), it fails the execution with `States.Runtime`, saying
//! where. Either way the execution ends with a complete history; a panic never unwinds into
//! the runtime or the caller.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a panic said: its message, when it has one.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Polls `future` once, catching a panic; for a future pinned where it is, so that guarding
/// it does not move it (a large future's move is a copy at every state that guards one).
///
/// After a panic the future is dropped and nothing it touched is used again but the
/// execution's recorder, whose state is a plain list behind a lock that tolerates poisoning:
/// hence the assertion of unwind safety.
pub(crate) fn poll_catching<F: Future + ?Sized>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, String>> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(message(&*payload))),
    }
}

/// Calls `f`, or returns the message of its panic.
pub(crate) fn catching_call<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| message(&*payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_panics() {
        let text = catching_call(|| -> () { std::panic::panic_any("static text") });
        assert_eq!(text, Err("static text".to_owned()));
        let formatted = catching_call(|| -> () { std::panic::panic_any(format!("{} items", 3)) });
        assert_eq!(formatted, Err("3 items".to_owned()));
        let other = catching_call(|| -> () { std::panic::panic_any(7_u8) });
        assert_eq!(other, Err("a panic without a message".to_owned()));
        assert_eq!(catching_call(|| 1), Ok(1));
    }
}
