//! A public workflow may run private steps: in branches and iterations too, whose machines
//! name the steps' types (a public one would leak them, E0446).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed expectation fails the test.

use workflow::prelude::*;

#[step]
async fn count(items: Vec<u32>) -> Vec<u32> {
    items
}

#[step]
async fn double(item: u32) -> u32 {
    item * 2
}

#[step]
async fn total(items: Vec<u32>) -> u32 {
    items.iter().sum()
}

workflow! {
    /// Public, over private steps in a Parallel branch and a Map iteration.
    pub Totals: Express<Vec<u32>, (Vec<u32>, u32)> {
        start Count;
        Count: task count -> Both;
        Both: parallel {
            branch {
                start Each;
                Each: map |items: &Vec<u32>| items.clone() {
                    start Double;
                    Double: task double -> end;
                } -> end;
            }
            branch { start Total; Total: task total -> end; }
        } -> end;
    }
}

#[tokio::test]
async fn a_public_workflow_runs_private_steps() {
    let runtime = Runtime::builder().register::<Totals>().build().unwrap();
    assert_eq!(
        runtime.call::<Totals>(vec![1, 2, 3]).await.unwrap(),
        Ok((vec![2, 4, 6], 6))
    );
}
