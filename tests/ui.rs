//! Compile-fail tests: each file under `tests/ui/` holds one mistake; its `.stderr` is the
//! message the user sees. Bless with `cargo xtask bless` (TRYBUILD=overwrite, --all-features as
//! in CI: the feature types show in rustc's lists of implementors), then review.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/table/*.rs");
    t.compile_fail("tests/ui/select/*.rs");
    t.compile_fail("tests/ui/insert/*.rs");
    t.compile_fail("tests/ui/update/*.rs");
    t.compile_fail("tests/ui/delete/*.rs");
}
