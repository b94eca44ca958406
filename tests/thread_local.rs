//! The thread-local strategy on every backend (SQLAlchemy 1.3's `TLEngine`, behaviours of
//! `test_deprecations.py::TLTransactionTest`): connectionless executions on a thread share one
//! connection while their rows are open, `engine.begin()` binds a transaction to the thread
//! that connectionless and implicit executions join, `engine.connect()` stays outside it,
//! `engine.contextual_connect()` is inside it and reference counted, other threads are never
//! affected.
//!
//! `sqlite-memory` has one connection per thread whatever the strategy (its pool is
//! SingletonThread: every connection of a thread is the same database), so the checks that
//! need a second connection on the same thread skip it.

mod support;

use quarry::prelude::*;
use support::{Backend, backends_with};

fn thread_local(tag: &str) -> Vec<Backend> {
    backends_with(tag, |b| b.strategy(Strategy::ThreadLocal))
}

fn create_table(b: &Backend, table: &str) {
    b.engine
        .execute(text(format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY)"
        )))
        .unwrap();
}

/// Rows in `table`, counted on a connection of its own (outside any thread transaction).
fn committed(engine: &Engine, table: &str) -> i64 {
    let mut conn = engine.connect().unwrap();
    conn.execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
        .unwrap()
        .scalar()
        .unwrap()
}

fn insert(engine: &Engine, table: &str, id: i64) {
    engine
        .execute(text(format!("INSERT INTO {table} (id) VALUES (:id)")).bind("id", id))
        .unwrap();
}

fn ids(engine: &Engine, table: &str) -> Vec<i64> {
    engine
        .execute(text(format!("SELECT id FROM {table} ORDER BY id")).columns::<i64>())
        .unwrap()
        .all()
        .unwrap()
}

fn own_connections(b: &Backend) -> bool {
    b.name != "sqlite-memory"
}

#[test]
fn the_strategy_is_plain_unless_asked() {
    let engine = create_engine("sqlite://").unwrap();
    assert_eq!(engine.strategy(), Strategy::Plain);
    let tl = Engine::builder("sqlite://")
        .strategy(Strategy::ThreadLocal)
        .build()
        .unwrap();
    assert_eq!(tl.strategy(), Strategy::ThreadLocal);
}

#[test]
fn connectionless_results_on_a_thread_share_one_connection_until_the_last_closes() {
    for b in thread_local("tl_results") {
        create_table(&b, "t");
        insert(&b.engine, "t", 1);
        insert(&b.engine, "t", 2);
        let first = b
            .engine
            .execute(text("SELECT id FROM t").columns::<i64>())
            .unwrap();
        let second = b
            .engine
            .execute(text("SELECT id FROM t").columns::<i64>())
            .unwrap();
        assert!(first.owns_connection() && second.owns_connection());
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
        }
        first.close();
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
        }
        assert_eq!(second.all().unwrap(), [1, 2]);
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        }
    }
}

#[test]
fn a_plain_engine_gives_each_connectionless_result_its_own_connection() {
    for b in backends_with("tl_plain", |b| b) {
        if !own_connections(&b) {
            continue;
        }
        let first = b.engine.execute(text("SELECT 1").columns::<i64>()).unwrap();
        let second = b.engine.execute(text("SELECT 1").columns::<i64>()).unwrap();
        assert_eq!(b.engine.pool_status().checked_out, 2, "{}", b.name);
        let c = b.engine.contextual_connect().unwrap();
        assert!(!c.is_contextual());
        assert_eq!(b.engine.pool_status().checked_out, 3, "{}", b.name);
        drop((first, second, c));
    }
}

#[test]
fn begin_binds_a_transaction_that_connectionless_executions_join() {
    for b in thread_local("tl_begin") {
        create_table(&b, "t");
        let tx = b.engine.begin().unwrap();
        for id in 1..=3 {
            insert(&b.engine, "t", id);
        }
        // Inside the thread's transaction the rows are there …
        assert_eq!(ids(&b.engine, "t"), [1, 2, 3], "{}", b.name);
        if own_connections(&b) {
            // … and outside it, on a connection of its own, not yet.
            assert_eq!(committed(&b.engine, "t"), 0, "{}", b.name);
        }
        tx.rollback().unwrap();
        assert!(ids(&b.engine, "t").is_empty(), "{}", b.name);

        let tx = b.engine.begin().unwrap();
        insert(&b.engine, "t", 4);
        tx.commit().unwrap();
        assert_eq!(committed(&b.engine, "t"), 1, "{}", b.name);
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        }

        // Dropped without commit: rolled back.
        {
            let _tx = b.engine.begin().unwrap();
            insert(&b.engine, "t", 5);
        }
        assert_eq!(ids(&b.engine, "t"), [4], "{}", b.name);
    }
}

#[test]
fn engine_begin_nests_and_only_the_outermost_commit_commits() {
    for b in thread_local("tl_nesting") {
        create_table(&b, "t");
        // test_nesting_commit
        let outer = b.engine.begin().unwrap();
        for id in 1..=3 {
            insert(&b.engine, "t", id);
        }
        let inner = b.engine.begin().unwrap();
        insert(&b.engine, "t", 4);
        insert(&b.engine, "t", 5);
        inner.commit().unwrap();
        if own_connections(&b) {
            assert_eq!(
                committed(&b.engine, "t"),
                0,
                "{}: the inner commit commits nothing",
                b.name
            );
        }
        outer.commit().unwrap();
        assert_eq!(committed(&b.engine, "t"), 5, "{}", b.name);

        // test_nesting_rollback: the outer rollback undoes the committed inner work.
        let outer = b.engine.begin().unwrap();
        insert(&b.engine, "t", 6);
        let inner = b.engine.begin().unwrap();
        insert(&b.engine, "t", 7);
        inner.commit().unwrap();
        outer.rollback().unwrap();
        assert_eq!(committed(&b.engine, "t"), 5, "{}", b.name);

        // An inner rollback rolls back the whole; the outer commit then fails.
        let outer = b.engine.begin().unwrap();
        insert(&b.engine, "t", 8);
        let inner = b.engine.begin().unwrap();
        inner.rollback().unwrap();
        assert!(!outer.is_active());
        let e = b.engine.execute(text("SELECT 1")).unwrap_err();
        assert!(
            matches!(e, Error::InactiveTransaction(_)),
            "{}: {e:?}",
            b.name
        );
        assert!(matches!(outer.commit(), Err(Error::InactiveTransaction(_))));
        assert_eq!(committed(&b.engine, "t"), 5, "{}", b.name);
    }
}

#[test]
fn engine_begin_nested_is_a_savepoint_of_the_thread_transaction() {
    for b in thread_local("tl_savepoint") {
        create_table(&b, "t");
        // test_nested_subtransaction_rollback
        let tx = b.engine.begin().unwrap();
        insert(&b.engine, "t", 1);
        let sp = b.engine.begin_nested().unwrap();
        insert(&b.engine, "t", 2);
        sp.rollback().unwrap();
        insert(&b.engine, "t", 3);
        tx.commit().unwrap();
        assert_eq!(ids(&b.engine, "t"), [1, 3], "{}", b.name);
    }
}

#[test]
fn connect_is_outside_the_thread_transaction_and_contextual_connect_inside() {
    for b in thread_local("tl_connect") {
        create_table(&b, "t");
        let tx = b.engine.begin().unwrap();
        insert(&b.engine, "t", 1);
        let mut ctx = b.engine.contextual_connect().unwrap();
        assert!(ctx.is_contextual() && ctx.in_transaction());
        let n: i64 = ctx
            .execute(text("SELECT count(*) FROM t").columns::<i64>())
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 1, "{}", b.name);
        // Work on the contextual connection is part of the thread's transaction.
        ctx.execute(text("INSERT INTO t (id) VALUES (2)")).unwrap();
        if own_connections(&b) {
            let mut log = b.engine.connect().unwrap();
            assert!(!log.in_transaction());
            let n: i64 = log
                .execute(text("SELECT count(*) FROM t").columns::<i64>())
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 0, "{}: connect() is outside the transaction", b.name);
            assert_eq!(b.engine.pool_status().checked_out, 2, "{}", b.name);
        }
        drop(ctx);
        tx.rollback().unwrap();
        assert!(ids(&b.engine, "t").is_empty(), "{}", b.name);
    }
}

#[test]
fn contextual_connections_are_reference_counted() {
    for b in thread_local("tl_refcount") {
        // test_connections: two contextual connections are one connection.
        let mut c1 = b.engine.contextual_connect().unwrap();
        let c2 = b.engine.contextual_connect().unwrap();
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
        }
        c2.close();
        c1.execute(text("SELECT 1")).unwrap();
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
        }
        drop(c1);
        if own_connections(&b) {
            assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        }
        // A temporary table lives on one connection: the handles see each other's.
        let mut c1 = b.engine.contextual_connect().unwrap();
        c1.execute(text("CREATE TEMPORARY TABLE tl_probe (x INTEGER)"))
            .unwrap();
        b.engine
            .execute(text("INSERT INTO tl_probe VALUES (1)"))
            .unwrap();
        let n: i64 = b
            .engine
            .contextual_connect()
            .unwrap()
            .execute(text("SELECT count(*) FROM tl_probe").columns::<i64>())
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 1, "{}", b.name);
        c1.execute(text("DROP TABLE tl_probe")).unwrap();
    }
}

#[test]
fn other_threads_are_never_affected() {
    for b in thread_local("tl_threads") {
        if !own_connections(&b) {
            continue;
        }
        create_table(&b, "t");
        let tx = b.engine.begin().unwrap();
        insert(&b.engine, "t", 1);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Not in the main thread's transaction: its insert is invisible here …
                assert!(ids(&b.engine, "t").is_empty(), "{}", b.name);
                // … and this thread's own transaction is its own (SQLite has one writer at a
                // time, which the main thread's transaction is).
                if !b.is_sqlite() {
                    let own = b.engine.begin().unwrap();
                    insert(&b.engine, "t", 2);
                    own.commit().unwrap();
                }
            })
            .join()
            .unwrap();
        });
        let theirs: &[i64] = if b.is_sqlite() { &[] } else { &[2] };
        assert_eq!(ids(&b.engine, "t"), [&[1], theirs].concat(), "{}", b.name);
        tx.rollback().unwrap();
        assert_eq!(ids(&b.engine, "t"), theirs, "{}", b.name);
    }
}

#[test]
fn engine_transaction_closure_and_implicit_execution_join_the_thread_transaction() {
    mod implicit {
        use quarry::prelude::*;
        pub static META: MetaData = MetaData::new();

        #[derive(Table, Debug, PartialEq)]
        #[table(name = "items", metadata = META)]
        pub struct Item {
            #[column(primary_key)]
            pub id: i64,
            pub name: String,
        }
    }
    use implicit::{Item, META};
    for b in thread_local("tl_implicit") {
        META.bind(&b.engine);
        META.create_all(None).unwrap();
        let tx = b.engine.begin().unwrap();
        insert!(Item { name: "a" }).execute().unwrap();
        b.engine.execute(insert!(Item { name: "b" })).unwrap();
        let r: quarry::Result<()> = b.engine.transaction(|conn| {
            conn.execute(insert!(Item { name: "c" }))?;
            // A connectionless execution inside the closure is on the same connection.
            let n: i64 = b
                .engine
                .execute(select!(count(Item::id) FROM Item))?
                .scalar()?;
            assert_eq!(n, 3);
            Ok(())
        });
        r.unwrap();
        let n: i64 = select!(count(Item::id) FROM Item)
            .execute()
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 3, "{}", b.name);
        tx.rollback().unwrap();
        assert!(
            select!(Item).execute().unwrap().all().unwrap().is_empty(),
            "{}",
            b.name
        );
        META.drop_all(None).unwrap();
        META.unbind();
    }
}

#[test]
fn a_contextual_connection_refuses_driver_connection_and_says_what_to_use() {
    let engine = Engine::builder("sqlite://")
        .strategy(Strategy::ThreadLocal)
        .build()
        .unwrap();
    let mut ctx = engine.contextual_connect().unwrap();
    let e = ctx.driver_connection().unwrap_err().to_string();
    assert!(e.contains("engine.raw_connection()"), "{e}");
    // A connection of its own still has one.
    let mut own = engine.connect().unwrap();
    assert!(own.driver_connection().is_ok());
}
