//! The pool seen through the engine, on every backend: pool classes and their defaults, event
//! hooks, recycle and pre-ping on live connections, and what a returned connection leaves
//! behind. The fault-injection suite is `pool_reliability.rs`; the pool's own behaviours on a
//! fake driver are unit tests in `runtime/src/pool/tests.rs`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quarry::prelude::*;
use quarry::{PoolClass, ResetOnReturn};
use support::{Backend, backends, backends_with};

/// An engine on the backend's database with `configure` applied, counting connects.
fn counted(
    b: &Backend,
    configure: impl FnOnce(quarry::EngineBuilder) -> quarry::EngineBuilder,
) -> (Engine, Arc<AtomicUsize>) {
    let connects = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connects);
    let engine = configure(Engine::builder(&b.url))
        .on_connect(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .build()
        .unwrap();
    (engine, connects)
}

fn count_rows(engine: &Engine, table: &str) -> i64 {
    engine
        .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
        .unwrap()
        .scalar()
        .unwrap()
}

#[test]
fn the_default_poolclass_follows_the_url() {
    for b in backends("pool_default_class") {
        let expected = if b.name == "sqlite-memory" {
            PoolClass::SingletonThread
        } else {
            PoolClass::Queue
        };
        assert_eq!(b.engine.pool().poolclass(), expected, "{}", b.name);
    }
}

#[test]
fn a_queue_or_null_pool_for_a_memory_database_is_refused_with_the_way_out() {
    for class in [PoolClass::Queue, PoolClass::Null] {
        let e = Engine::builder("sqlite://")
            .poolclass(class)
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("poolclass {class:?} cannot serve")),
            "{e}"
        );
        assert!(e.contains("PoolClass::Static"), "{e}");
    }
}

#[test]
fn on_connect_prepares_every_new_connection_before_its_first_use() {
    for b in backends("pool_on_connect") {
        let (set, show, expected) = if b.is_sqlite() {
            (
                "PRAGMA foreign_keys=ON",
                "SELECT CAST(foreign_keys AS TEXT) FROM pragma_foreign_keys",
                "1",
            )
        } else if b.is_postgres() {
            (
                "SET statement_timeout = 12345",
                "SELECT current_setting('statement_timeout')",
                "12345ms",
            )
        } else {
            (
                "SET SESSION sql_select_limit = 1234",
                "SELECT CAST(@@session.sql_select_limit AS CHAR)",
                "1234",
            )
        };
        // A memory database needs a shared class; Static keeps its one connection.
        let class = if b.name == "sqlite-memory" {
            PoolClass::Static
        } else {
            PoolClass::Queue
        };
        let (engine, connects) = counted(&b, |e| {
            e.on_connect(move |conn, _| conn.batch(set))
                .poolclass(class)
        });
        for _ in 0..3 {
            let value: String = engine
                .execute(text(show).columns::<String>())
                .map(|rows| rows.scalar())
                .unwrap_or_else(|e| panic!("{}: {e}", b.name))
                .unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert_eq!(value, expected, "{}", b.name);
        }
        assert_eq!(connects.load(Ordering::SeqCst), 1, "{}", b.name);
    }
}

#[test]
fn a_null_pool_opens_a_connection_per_checkout_and_closes_it_on_return() {
    for b in backends("pool_null") {
        if b.name == "sqlite-memory" {
            continue; // refused, see above
        }
        let (engine, connects) = counted(&b, |e| e.poolclass(PoolClass::Null));
        for _ in 0..3 {
            engine.connect().unwrap().execute(text("SELECT 1")).unwrap();
        }
        assert_eq!(connects.load(Ordering::SeqCst), 3, "{}", b.name);
        let status = engine.pool_status();
        assert_eq!(
            (status.checked_in, status.checked_out),
            (0, 0),
            "{}",
            b.name
        );
    }
}

#[test]
fn a_static_pool_shares_one_memory_database_between_threads() {
    let engine = Engine::builder("sqlite://")
        .poolclass(PoolClass::Static)
        .build()
        .unwrap();
    engine
        .execute(text("CREATE TABLE shared (x INTEGER)"))
        .unwrap();
    let other = engine.clone();
    std::thread::spawn(move || {
        other
            .execute(text("INSERT INTO shared VALUES (1)"))
            .unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(count_rows(&engine, "shared"), 1);
}

#[test]
fn the_default_pool_of_a_memory_database_gives_each_thread_its_own() {
    let engine = create_engine("sqlite://").unwrap();
    engine
        .execute(text("CREATE TABLE mine (x INTEGER)"))
        .unwrap();
    // Nested checkouts on one thread share the database.
    let mut outer = engine.connect().unwrap();
    let mut inner = engine.connect().unwrap();
    inner.execute(text("INSERT INTO mine VALUES (1)")).unwrap();
    let n: i64 = outer
        .execute(text("SELECT count(*) FROM mine").columns::<i64>())
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(n, 1);
    drop((outer, inner));
    let other = engine.clone();
    let seen =
        std::thread::spawn(move || other.execute(text("SELECT count(*) FROM mine")).map(drop))
            .join()
            .unwrap();
    let e = seen.unwrap_err().to_string();
    assert!(e.contains("no such table: mine"), "{e}");
}

#[test]
fn recycle_replaces_connections_and_pre_ping_keeps_healthy_ones() {
    for b in backends("pool_recycle") {
        if b.name == "sqlite-memory" {
            continue; // recycling a memory database would empty it
        }
        let (engine, connects) = counted(&b, |e| e.pool_recycle(Duration::from_millis(1)));
        for _ in 0..3 {
            engine.execute(text("SELECT 1")).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(connects.load(Ordering::SeqCst), 3, "{}", b.name);

        let (engine, connects) = counted(&b, |e| e.pool_pre_ping(true));
        for _ in 0..3 {
            engine.execute(text("SELECT 1")).unwrap();
        }
        assert_eq!(connects.load(Ordering::SeqCst), 1, "{}", b.name);
    }
}

#[test]
fn a_transaction_opened_as_text_is_rolled_back_when_the_connection_returns() {
    for b in backends("pool_text_begin") {
        b.engine
            .execute(text("CREATE TABLE leaky (x INTEGER)"))
            .unwrap();
        let mut conn = b.engine.connect().unwrap();
        conn.execute(text("BEGIN")).unwrap();
        conn.execute(text("INSERT INTO leaky VALUES (1)")).unwrap();
        drop(conn);
        assert_eq!(count_rows(&b.engine, "leaky"), 0, "{}", b.name);
        // The connection went back clean: a new transaction starts without complaint.
        let mut conn = b.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        tx.execute(text("INSERT INTO leaky VALUES (2)")).unwrap();
        tx.commit().unwrap();
        drop(conn);
        assert_eq!(count_rows(&b.engine, "leaky"), 1, "{}", b.name);
    }
}

#[test]
fn reset_on_return_commit_keeps_what_an_open_transaction_wrote() {
    for b in backends_with("pool_reset_commit", |e| {
        e.reset_on_return(ResetOnReturn::Commit)
    }) {
        b.engine
            .execute(text("CREATE TABLE kept (x INTEGER)"))
            .unwrap();
        let mut conn = b.engine.connect().unwrap();
        conn.execute(text("BEGIN")).unwrap();
        conn.execute(text("INSERT INTO kept VALUES (1)")).unwrap();
        drop(conn);
        assert_eq!(count_rows(&b.engine, "kept"), 1, "{}", b.name);
    }
}

#[test]
fn on_checkout_and_on_checkin_see_every_checkout() {
    let checkouts = Arc::new(AtomicUsize::new(0));
    let checkins = Arc::new(AtomicUsize::new(0));
    let (a, c) = (Arc::clone(&checkouts), Arc::clone(&checkins));
    let engine = Engine::builder("sqlite://")
        .on_checkout(move |_, _| {
            a.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .on_checkin(move |_, _| {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    for _ in 0..4 {
        engine.execute(text("SELECT 1")).unwrap();
    }
    assert_eq!(checkouts.load(Ordering::SeqCst), 4);
    assert_eq!(checkins.load(Ordering::SeqCst), 4);
}
