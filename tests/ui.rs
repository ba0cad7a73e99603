//! Compile-fail tests: every mistake the macros catch, with the exact message and span.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
