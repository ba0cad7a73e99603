// `#[workflow::test]` on a function that is not async, takes arguments, or is given options.

#[workflow::test]
fn not_async() {}

#[workflow::test]
async fn takes_an_argument(count: u32) {
    let _ = count;
}

#[workflow::test(flavor = "multi_thread")]
async fn given_options() {}

fn main() {}
