//! The type checks of `workflow!`, as traits each type meets by being the one expected: a type
//! that is not is reported through the trait's message, which says what the workflow expects,
//! on the user's token.
//!
//! A transition's check names the states it joins through const parameters the generated code
//! names after them (a const generic prints as its name where it is generic), so a message
//! reads "`Validate` ends it with `Order`".

/// `Self`, the workflow `W`'s input, is `T`, what its start state `STATE` takes.
#[diagnostic::on_unimplemented(
    message = "the workflow `{W}` takes `{Self}`, but its start state `{STATE}` takes `{T}`",
    label = "expected `{T}`, found `{Self}`",
    note = "the start state receives the workflow's input"
)]
pub trait WorkflowStart<W, const STATE: bool, T> {
    /// The value, as what the state takes.
    fn hand_on(self) -> T;
}

impl<W, const STATE: bool, T> WorkflowStart<W, STATE, T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// `Self`, the input of the Parallel state `PARALLEL`, is `T`, what `STATE`, the start of one
/// of its branches, takes.
#[diagnostic::on_unimplemented(
    message = "the Parallel state `{PARALLEL}` hands each branch `{Self}`, but `{STATE}`, which starts one, takes `{T}`",
    label = "expected `{T}`, found `{Self}`",
    note = "every branch of a Parallel state receives the Parallel state's input"
)]
pub trait BranchStart<const PARALLEL: bool, const STATE: bool, T> {
    /// The value, as what the state takes.
    fn hand_on(self) -> T;
}

impl<const PARALLEL: bool, const STATE: bool, T> BranchStart<PARALLEL, STATE, T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// `Self`, an item of the Map state `MAP`, is `T`, what `STATE`, the start of its iteration,
/// takes.
#[diagnostic::on_unimplemented(
    message = "the Map state `{MAP}` hands each iteration a `{Self}`, but `{STATE}`, which starts the iteration, takes `{T}`",
    label = "expected `{T}`, found `{Self}`",
    note = "each iteration of a Map state receives one of the items its selector returns"
)]
pub trait IterationStart<const MAP: bool, const STATE: bool, T> {
    /// The value, as what the state takes.
    fn hand_on(self) -> T;
}

impl<const MAP: bool, const STATE: bool, T> IterationStart<MAP, STATE, T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// `Self`, what `STATE` ends the workflow `W` with, is `O`, the workflow's output.
#[diagnostic::on_unimplemented(
    message = "the workflow `{W}` returns `{O}`, but `{STATE}` ends it with `{Self}`",
    label = "expected `{O}`, found `{Self}`",
    note = "a workflow returns what the state going to `end`, or to a Succeed state, hands on"
)]
pub trait WorkflowEnd<W, const STATE: bool, O> {
    /// The value, as the workflow's output.
    fn hand_on(self) -> O;
}

impl<W, const STATE: bool, O> WorkflowEnd<W, STATE, O> for O {
    fn hand_on(self) -> O {
        self
    }
}

/// `Self`, what `STATE` ends a branch of `OWNER` with, is `O`, what the branch ends with
/// elsewhere.
#[diagnostic::on_unimplemented(
    message = "a branch of `{OWNER}` ends with `{O}` elsewhere, but `{STATE}` ends it with `{Self}`",
    label = "expected `{O}`, found `{Self}`",
    note = "a Parallel branch or a Map iteration outputs one type: every state ending it hands on the same"
)]
pub trait BranchEnd<const OWNER: bool, const STATE: bool, O> {
    /// The value, as the branch's output.
    fn hand_on(self) -> O;
}

impl<const OWNER: bool, const STATE: bool, O> BranchEnd<OWNER, STATE, O> for O {
    fn hand_on(self) -> O {
        self
    }
}

/// `Self`, what `FROM` hands on, is `T`, what `TO`, the state it goes to, takes.
#[diagnostic::on_unimplemented(
    message = "`{TO}` takes `{T}`, but `{FROM}` hands it `{Self}`",
    label = "expected `{T}`, found `{Self}`",
    note = "a state receives the output of the state before it"
)]
pub trait NextState<const FROM: bool, const TO: bool, T> {
    /// The value, as what the next state takes.
    fn hand_on(self) -> T;
}

impl<const FROM: bool, const TO: bool, T> NextState<FROM, TO, T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// `Self`, what the Choice state `CHOICE` receives and hands on, is `T`, what `TO`, one of its
/// targets, takes.
#[diagnostic::on_unimplemented(
    message = "`{TO}` takes `{T}`, but the Choice state `{CHOICE}` hands it `{Self}`",
    label = "expected `{T}`, found `{Self}`",
    note = "a Choice state hands on what it receives, unchanged"
)]
pub trait ChoiceTarget<const CHOICE: bool, const TO: bool, T> {
    /// The value, as what the target takes.
    fn hand_on(self) -> T;
}

impl<const CHOICE: bool, const TO: bool, T> ChoiceTarget<CHOICE, TO, T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// `Self`, what a Pass state's function returns, is `T`, what is expected where it goes. (Its
/// type is only known to rustc, so the check is not named after the states.)
#[diagnostic::on_unimplemented(
    message = "this Pass state's function returns `{Self}`, but `{T}` is expected where it goes",
    label = "expected `{T}`, found `{Self}`",
    note = "a Pass state hands on what its function returns"
)]
pub trait PassOutput<T> {
    /// The value, as what is expected.
    fn hand_on(self) -> T;
}

impl<T> PassOutput<T> for T {
    fn hand_on(self) -> T {
        self
    }
}

/// Hands on a Pass state's output, `S`, where `T` is expected.
pub fn pass_output<T, S: PassOutput<T>>(value: S) -> T {
    value.hand_on()
}

/// The items a Map state `MAP` iterates over, from its selector, each what `STATE`, the start
/// of its iteration, takes.
pub fn select_items<const MAP: bool, const STATE: bool, I, T: ?Sized, C>(
    selector: impl FnOnce(&T) -> C,
    value: &T,
) -> Vec<I>
where
    C: IntoIterator,
    C::Item: IterationStart<MAP, STATE, I>,
{
    selector(value)
        .into_iter()
        .map(IterationStart::hand_on)
        .collect()
}

/// Declares a trait met by `Self`, the input of a state of kind `$kind`, when it is `P`, the
/// type a function over that input names as its parameter (`|value: &P| ...`).
macro_rules! state_input {
    ($(#[$doc:meta])* $name:ident, $message:literal, $label:literal, $note:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(message = $message, label = $label, note = $note)]
        pub trait $name<P: ?Sized> {
            /// The input, as the function's parameter.
            fn as_param(&self) -> &P;
        }

        impl<T: ?Sized> $name<T> for T {
            fn as_param(&self) -> &T {
                self
            }
        }
    };
}

state_input!(
    /// What a Choice state receives, as its predicates' parameter.
    ChoiceInput,
    "this Choice state receives `{Self}`, not `{P}`",
    "the predicate takes `&{P}`; the state receives `{Self}`",
    "a Choice state receives the output of the state leading into it; its predicates take a reference to it: `|value: &{Self}| ...`"
);

state_input!(
    /// What a Wait state receives, as the parameter of the function giving its wait.
    WaitInput,
    "this Wait state receives `{Self}`, not `{P}`",
    "the function takes `&{P}`; the state receives `{Self}`",
    "a Wait state receives the output of the state leading into it; `wait for` and `wait until` take a reference to it: `|value: &{Self}| ...`"
);

state_input!(
    /// What a task state receives, as the parameter of a function giving its timeout or
    /// heartbeat.
    TaskInput,
    "this task state receives `{Self}`, not `{P}`",
    "the function takes `&{P}`; the state receives `{Self}`",
    "a task state receives its step's input; `timeout` and `heartbeat` functions take a reference to it: `|value: &{Self}| ...`"
);

state_input!(
    /// What a Map state receives, as the parameter of its selector or of a function giving its
    /// concurrency or tolerance.
    MapInput,
    "this Map state receives `{Self}`, not `{P}`",
    "the function takes `&{P}`; the state receives `{Self}`",
    "a Map state receives the output of the state leading into it; its selector, `max_concurrency` and `tolerate` functions take a reference to it: `|value: &{Self}| ...`"
);

state_input!(
    /// What a Fail state receives, as the parameter of a function computing its error name
    /// or cause.
    FailInput,
    "this Fail state receives `{Self}`, not `{P}`",
    "the function takes `&{P}`; the state receives `{Self}`",
    "a Fail state receives the output of the state leading into it; functions computing its error or cause take a reference to it: `|value: &{Self}| ...`"
);
