use workflow::prelude::*;

#[derive(Debug, thiserror::Error, StepError)]
enum States {
    #[error("boom")]
    Boom,
}

#[derive(Debug, thiserror::Error, StepError)]
enum PaymentError {
    #[error("declined")]
    #[step_error(name = "States.Timeout")]
    Declined,
    #[error("declined again")]
    #[step_error(name = "PaymentError.Twice")]
    Twice,
    #[error("twice")]
    #[step_error(name = "PaymentError.Twice")]
    AlsoTwice,
}

fn main() {}
