//! The pool's hot path allocates nothing: checking out an idle connection and checking it back
//! in, over and over, on the trivial driver of the pool benchmark. A counting global allocator
//! sees every allocation of the process, on any thread, while the loop runs.

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

// One test, not several: the allocator counts for the whole process, so the scenarios must not
// run in parallel with each other.
#[test]
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
