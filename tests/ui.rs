//! Compile-fail tests: every mistake the macros catch, with the exact message and span, in
//! one folder per macro (`tests/ui/fixtures` holds what the cases share).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

// rustc writes a type's shortest unambiguous path (`String` or `std::string::String`) by
// the crates it has loaded, which the features decide: the reviewed messages are those of
// the README's test command, with every feature on.
#[test]
#[cfg_attr(
    not(feature = "asl"),
    ignore = "the reviewed messages are those of `cargo test --workspace --all-features`"
)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/step/*.rs");
    cases.compile_fail("tests/ui/step_error/*.rs");
    cases.compile_fail("tests/ui/test_attribute/*.rs");
    cases.compile_fail("tests/ui/workflow/*.rs");
}
