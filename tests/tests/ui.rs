//! Compile-time behaviour of the macros: every misuse is a spanned error (its
//! reviewed `.stderr` beside it), and handlers of every shape still compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
