// Callback steps: a token without a callback, a callback without a token, and a callback
// step in an Express workflow.

use workflow::prelude::*;

#[workflow::step]
async fn token_only(input: u32, token: TaskToken) -> u32 {
    let _ = token;
    input
}

#[workflow::step]
async fn callback_only(input: u32) -> Callback<u32> {
    let _ = input;
    Callback::new()
}

#[workflow::step]
async fn ask(input: u32, token: TaskToken) -> Callback<u32> {
    let _ = (input, token);
    Callback::new()
}

workflow::workflow! {
    Quick: Express<u32, u32> {
        start Ask;
        Ask: task ask -> end;
    }
}

fn main() {}
