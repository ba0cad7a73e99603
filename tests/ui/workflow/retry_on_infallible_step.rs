use workflow::prelude::*;

#[derive(Debug, thiserror::Error, StepError)]
pub enum PaymentError {
    #[error("declined")]
    Declined,
}

#[step]
async fn double(value: u64) -> u64 {
    value * 2
}

workflow! {
    Doubler: Standard<u64, u64> {
        start Double;
        Double: task double -> end, retry PaymentError::Declined, retry PaymentError::*;
    }
}

fn main() {}
