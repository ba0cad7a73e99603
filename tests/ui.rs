//! Compile-fail tests: every mistake the macros catch, with the exact message and span, in
//! one folder per macro (`tests/ui/fixtures` holds what the cases share).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/step/*.rs");
    cases.compile_fail("tests/ui/step_error/*.rs");
    cases.compile_fail("tests/ui/test_attribute/*.rs");
    cases.compile_fail("tests/ui/workflow/*.rs");
}
