//! The blocking engine used inside a tokio runtime (issue 22, item 6), on every backend.
//!
//! The `postgres` crate blocks on a runtime of its own, which tokio refuses with a panic on a
//! thread running another runtime. Quarry's PostgreSQL driver runs such a call where it can
//! block (`block_in_place` on a multi-thread runtime, a thread of its own on a current-thread
//! one), so every entry point works from every place async code may call it: an `async fn`
//! (a task, or the future given to `block_on`), `spawn_blocking`, `block_in_place` — on both
//! runtime flavors. SQLite's and MySQL's blocking drivers never needed a runtime; the same
//! walk shows they work there too. (Blocking calls still block the calling thread: async code
//! should use `quarry::asyncio`.)

mod support;

use quarry::prelude::*;
use support::backends;

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "sir_items", metadata = META)]
    pub struct Item {
        #[column(primary_key)]
        pub id: i64,
        pub n: i64,
    }
}

use model::{Item, META};

/// Every entry point of the blocking engine once, on a new engine for `url`: connect (and
/// pre-ping at the next checkout), DDL, execute, a streamed result, transactions committed,
/// rolled back and nested, a connection returned mid-transaction (the pool's reset), copy_in,
/// the connectionless forms, `dispose` and the engine's drop. `rows` rows end in the table.
fn walk(url: &str, place: &str) -> quarry::Result<()> {
    let engine = Engine::builder(url)
        .pool_size(2)
        .pool_pre_ping(true)
        .build()?;
    META.drop_all(&engine)?;
    META.create_all(&engine)?;
    let mut conn = engine.connect()?;
    for n in 1..=3_i64 {
        conn.execute(insert!(Item { n: n }))?;
    }
    let streamed: Vec<i64> = conn
        .stream(select!(Item::n FROM Item ORDER BY Item::n))?
        .collect::<quarry::Result<_>>()?;
    assert_eq!(streamed, [1, 2, 3], "{place}");

    let mut tx = conn.begin()?;
    tx.execute(insert!(Item { n: 4_i64 }))?;
    {
        let mut inner = tx.begin_nested()?;
        inner.execute(insert!(Item { n: 99_i64 }))?;
        inner.rollback()?;
    }
    tx.commit()?;
    {
        let mut tx = conn.begin()?;
        tx.execute(insert!(Item { n: 98_i64 }))?;
        tx.rollback()?;
    }
    // Returned with a transaction open: the pool's reset rolls it back.
    let mut open = engine.connect()?;
    open.execute(text("BEGIN"))?;
    open.execute(insert!(Item { n: 97_i64 }))?;
    drop(open);
    if engine.dialect().name() == "postgresql" {
        conn.copy_in(&[Item { id: 10, n: 5 }])?;
    } else {
        conn.execute(insert!(Item { n: 5_i64 }))?;
    }
    drop(conn);

    let total: i64 =
        engine.transaction(|conn| conn.execute(select!(count(Item::id) FROM Item))?.scalar())?;
    assert_eq!(total, 5, "{place}");
    let sum: Option<i64> = engine.execute(select!(sum(Item::n) FROM Item))?.scalar()?;
    assert_eq!(sum, Some(15), "{place}");
    engine.dispose();
    // Checked out again after dispose: new connections, pre-pinged when reused.
    let mut conn = engine.connect()?;
    let again: i64 = conn.execute(select!(count(Item::id) FROM Item))?.scalar()?;
    assert_eq!(again, 5, "{place}");
    drop(conn);
    let mut conn = engine.connect()?;
    conn.execute(select!(count(Item::id) FROM Item))?;
    drop(conn);
    engine.dispose();
    drop(engine);
    Ok(())
}

fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().expect("runtime")
}

/// [`walk`] from every place async code may call the blocking engine.
fn walk_everywhere(multi_thread: bool) {
    let flavor = if multi_thread {
        "multi-thread"
    } else {
        "current-thread"
    };
    for b in backends("sync_in_runtime") {
        if b.name == "sqlite-memory" {
            // Each memory connection is a database of its own: nothing to find again.
            continue;
        }
        let rt = runtime(multi_thread);
        let url = b.url.clone();
        let place = format!("{} in block_on's future ({flavor})", b.name);
        rt.block_on(async { walk(&url, &place) })
            .unwrap_or_else(|e| panic!("{place}: {e}"));

        let place = format!("{} in a task ({flavor})", b.name);
        let (u, p) = (url.clone(), place.clone());
        rt.block_on(rt.spawn(async move { walk(&u, &p) }))
            .expect("task")
            .unwrap_or_else(|e| panic!("{place}: {e}"));

        let place = format!("{} in spawn_blocking ({flavor})", b.name);
        let (u, p) = (url.clone(), place.clone());
        rt.block_on(rt.spawn_blocking(move || walk(&u, &p)))
            .expect("blocking task")
            .unwrap_or_else(|e| panic!("{place}: {e}"));

        if multi_thread {
            let place = format!("{} in block_in_place ({flavor})", b.name);
            let (u, p) = (url.clone(), place.clone());
            rt.block_on(rt.spawn(async move { tokio::task::block_in_place(|| walk(&u, &p)) }))
                .expect("task")
                .unwrap_or_else(|e| panic!("{place}: {e}"));
        }
        drop(rt);
    }
}

#[test]
fn the_blocking_engine_works_inside_a_multi_thread_runtime() {
    walk_everywhere(true);
}

#[test]
fn the_blocking_engine_works_inside_a_current_thread_runtime() {
    walk_everywhere(false);
}

/// A connection opened outside a runtime and used, then dropped, inside one (a pool built at
/// start-up, used from handlers).
#[test]
fn connections_opened_outside_are_used_and_closed_inside_a_runtime() {
    for b in backends("sync_in_runtime_pool") {
        if b.name == "sqlite-memory" {
            // A memory database per thread: the runtime's threads would see none of it.
            continue;
        }
        META.create_all(&b.engine).expect("create_all");
        let mut conn = b.engine.connect().expect("connect");
        conn.execute(insert!(Item { n: 7_i64 })).expect("insert");
        for multi_thread in [true, false] {
            let rt = runtime(multi_thread);
            let engine = b.engine.clone();
            let n: Option<i64> = rt
                .block_on(rt.spawn(async move {
                    let n = engine.execute(select!(sum(Item::n) FROM Item))?.scalar()?;
                    engine.dispose();
                    Ok::<_, quarry::Error>(n)
                }))
                .expect("task")
                .unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert_eq!(n, Some(7), "{}", b.name);
        }
        // The connection checked out before dispose is closed on return, inside a runtime.
        let rt = runtime(false);
        rt.block_on(async move { drop(conn) });
    }
}
