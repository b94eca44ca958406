//! The pool's hot path allocates nothing: checking out an idle connection and checking it back
//! in, over and over, on the trivial driver of the pool benchmark. A counting global allocator
//! sees every allocation of the process, on any thread, while the loop runs.
//!
//! `harness = false` (Cargo.toml): libtest's own thread (timing, the "running for over 60
//! seconds" notice on a loaded machine) allocates while a test runs, and the counter sees the
//! whole process; here nothing else runs.

#[path = "../benches/pool/trivial.rs"]
mod trivial;

use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;

use quarry::pool::Pool;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CYCLES: usize = 10_000;

fn pool(lifo: bool) -> Pool {
    let pool = Pool::builder()
        .pool_size(5)
        .max_overflow(0)
        .pool_use_lifo(lifo)
        .build(Arc::new(trivial::TrivialDriver))
        .unwrap();
    // Warm up: open every connection, and let lazily initialised statics (tracing's
    // callsite registry, the thread handle) settle.
    let held: Vec<_> = (0..5).map(|_| pool.get().unwrap()).collect();
    drop(held);
    for _ in 0..100 {
        drop(pool.get().unwrap());
    }
    pool
}

/// Allocations (and reallocations) made by `f`, on any thread.
fn allocations(f: impl FnOnce()) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    (stats.allocations, stats.reallocations)
}

fn main() {
    // `cargo test -- <filter>` passes its arguments here: a filter that does not match the
    // test's name skips it, as libtest would.
    let name = "checkout_and_checkin_of_idle_connections_allocate_nothing";
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        println!("pool_alloc: 0 tests run (filtered out)");
        return;
    }
    checkout_and_checkin_of_idle_connections_allocate_nothing();
    println!("test {name} ... ok");
}

/// The scenarios run one after another: the allocator counts for the whole process.
fn checkout_and_checkin_of_idle_connections_allocate_nothing() {
    for lifo in [false, true] {
        let pool = pool(lifo);
        let counted = allocations(|| {
            for _ in 0..CYCLES {
                let mut conn = pool.get().unwrap();
                black_box(conn.get().in_transaction());
                drop(conn);
            }
        });
        assert_eq!(
            counted,
            (0, 0),
            "pool_use_lifo({lifo}): (allocations, reallocations) over {CYCLES} checkouts"
        );
    }

    let pool = pool(false);
    let mut held = Vec::with_capacity(5);
    let counted = allocations(|| {
        for _ in 0..CYCLES / 5 {
            held.extend((0..5).map(|_| pool.get().unwrap()));
            held.clear();
        }
    });
    assert_eq!(
        counted,
        (0, 0),
        "holding all five: (allocations, reallocations) over {CYCLES} checkouts"
    );
}
