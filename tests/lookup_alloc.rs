//! Allocations of one primary-key lookup on SQLite (issue 21, item 1): `select!(User WHERE
//! User::id == id)` executed and read with `first()`, counted by a global allocator over many
//! executions. The row itself is two allocations (`name`, `hair_color`); everything else is
//! the per-statement overhead this test pins, so that it can only go down.
//!
//! `harness = false` (Cargo.toml), as `pool_alloc`: libtest's own thread allocates while a
//! test runs, and the counter sees the whole process.

use std::alloc::System;

use quarry::Statement as _;
use quarry::prelude::*;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "alloc_users", metadata = META)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

const LOOKUPS: usize = 2_000;

/// The allocations of one lookup beyond its row's two strings, today: 1, in rusqlite's
/// statement cache (`prepare_cached` keys the statement it hands back with a new `Arc<str>`
/// each time; a raw rusqlite user pays it too). The statement itself allocates nothing: the
/// call site is static, so it takes the zero-render path (`quarry_core::sql::fast`: no model,
/// no verify pass, the cached text and the parameters inline). The runtime adds none: a
/// one-row result keeps its row outside any `Vec`. Lower it when the hot path allocates less.
const PINNED_OVERHEAD: usize = 1;

fn lookup(conn: &mut Connection, id: i64) -> Option<User> {
    conn.execute(select!(User WHERE User::id == id))
        .and_then(Rows::first)
        .ok()
        .flatten()
}

fn main() {
    let name = "a_pk_lookup_on_sqlite_allocates_its_row_and_a_pinned_overhead";
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        println!("lookup_alloc: 0 tests run (filtered out)");
        return;
    }
    let engine = create_engine("sqlite://").unwrap();
    META.create_all(&engine).unwrap();
    let mut conn = engine.connect().unwrap();
    let rows: Vec<User> = (1..=100)
        .map(|i| User {
            id: 0,
            name: format!("user {i}"),
            hair_color: Some("black".into()),
        })
        .collect();
    conn.execute(User::insert_many(&rows)).unwrap();
    // Warm up: the call site's SQL cache, the driver's statement cache, lazy statics.
    for id in 1..=100 {
        assert!(lookup(&mut conn, id).is_some());
    }
    let region = Region::new(GLOBAL);
    let mut found = 0usize;
    for i in 0..LOOKUPS {
        let id = (i % 100) as i64 + 1;
        found += usize::from(std::hint::black_box(lookup(&mut conn, id)).is_some());
    }
    let stats = region.change();
    assert_eq!(found, LOOKUPS);
    // The part of it that building and compiling the statement takes (none, once learned).
    let dialect = engine.dialect();
    let compile = Region::new(GLOBAL);
    for i in 0..LOOKUPS {
        let id = (i % 100) as i64 + 1;
        let compiled = select!(User WHERE User::id == id).compile_for_execution(dialect);
        std::hint::black_box(compiled.is_ok());
    }
    let compiling = compile.change().allocations as f64 / LOOKUPS as f64;
    // A call site that is never compiled keeps building its model (it has nothing to learn
    // from): today's path, for comparison.
    let build = Region::new(GLOBAL);
    for i in 0..LOOKUPS {
        let id = (i % 100) as i64 + 1;
        std::hint::black_box(select!(User WHERE User::id == id));
    }
    let building = build.change().allocations as f64 / LOOKUPS as f64;
    println!(
        "{name}: building a statement whose call site never compiles: {building:.2} allocations"
    );
    let per_lookup = stats.allocations as f64 / LOOKUPS as f64;
    let overhead = per_lookup - 2.0;
    println!(
        "{name}: {per_lookup:.2} allocations per lookup ({} reallocations in all): the row's 2 \
         and {overhead:.2} overhead, of which {compiling:.2} build and compile the statement \
         (pinned at most {PINNED_OVERHEAD})",
        stats.reallocations
    );
    assert!(
        compiling < 0.05,
        "a static call site allocates {compiling:.2} times per compile once learned"
    );
    assert!(
        overhead <= PINNED_OVERHEAD as f64,
        "a lookup allocates {per_lookup:.2} times, over its row's 2 + the pinned {PINNED_OVERHEAD}"
    );
    println!("test {name} ... ok");
}
