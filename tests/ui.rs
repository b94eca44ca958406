//! Compile-fail tests: each file under `tests/ui/` holds one mistake; its `.stderr` is the
//! message the user sees. Bless with `cargo xtask bless` (TRYBUILD=overwrite), then review.
//!
//! Compiler messages depend on the crates in the build (rustc shortens `quarry::ColumnType` to
//! `ColumnType` only while no other crate has an item of that name, and lists the implementors
//! it finds), so these run with the default features only: `cargo xtask test` runs them in a
//! second `cargo test -p quarry --test ui` after the all-features run.
#![cfg(not(any(
    feature = "postgres",
    feature = "mysql",
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "serde_json",
    feature = "rust_decimal"
)))]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/table/*.rs");
    t.compile_fail("tests/ui/sql_enum/*.rs");
    t.compile_fail("tests/ui/select/*.rs");
    t.compile_fail("tests/ui/insert/*.rs");
    t.compile_fail("tests/ui/update/*.rs");
    t.compile_fail("tests/ui/delete/*.rs");
}
