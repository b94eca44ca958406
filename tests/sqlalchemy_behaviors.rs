//! Behaviours of `/work/shared/reference/sqlalchemy_behaviors.md` (SQLAlchemy's own engine and
//! transaction tests) that no other suite pins, on every backend. Each test names its item.

mod support;

use quarry::prelude::*;
use support::backends;

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// SQLAlchemy's `query_users(user_id INT PK, user_name VARCHAR(20))`.
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "query_users", metadata = META)]
    pub struct QueryUser {
        #[column(primary_key)]
        pub user_id: i64,
        #[column(max_length = 20)]
        pub user_name: String,
    }
}

use model::{META, QueryUser};

fn add(conn: &mut Connection, id: i64) -> quarry::Result<()> {
    conn.execute(insert!(QueryUser {
        user_id: id,
        user_name: "u"
    }))?;
    Ok(())
}

fn ids(conn: &mut Connection) -> quarry::Result<Vec<i64>> {
    conn.execute(select!(QueryUser::user_id FROM QueryUser ORDER BY QueryUser::user_id))?
        .all()
}

/// B6 (`TransactionTest::test_close`): SQLAlchemy 1.x's `close()` of an inner `begin()` is a
/// no-op. Here dropping a guard without commit is a rollback at every level (CONTRACT.md:
/// "drop without commit = rollback"; an error leaving a block through `?` drops its guard),
/// a deliberate difference (ARCHITECTURE.md): the outer commit then fails.
#[test]
fn b6_dropping_an_inner_transaction_rolls_back_the_whole() {
    for b in backends("contract_b6") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let mut t1 = conn.begin().unwrap();
        for id in 1..=3 {
            add(&mut t1, id).unwrap();
        }
        {
            let mut t2 = t1.begin().unwrap();
            add(&mut t2, 4).unwrap();
        }
        assert!(t1.in_transaction(), "{}", b.name);
        assert!(
            matches!(t1.commit(), Err(Error::InactiveTransaction(_))),
            "{}",
            b.name
        );
        assert!(ids(&mut conn).unwrap().is_empty(), "{}", b.name);
    }
}

/// B11 (`TransactionTest::test_rollback_to_subtransaction`): a `begin()` inside a savepoint,
/// rolled back, rolls back to the savepoint; the outer transaction goes on.
#[test]
fn b11_rolling_back_a_marker_inside_a_savepoint_rolls_back_to_the_savepoint() {
    for b in backends("contract_b11") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let run = |conn: &mut Connection| -> quarry::Result<()> {
            let mut t1 = conn.begin()?;
            add(&mut t1, 1)?;
            let mut t2 = t1.begin_nested()?;
            add(&mut t2, 2)?;
            let mut t3 = t2.begin()?;
            add(&mut t3, 3)?;
            t3.rollback()?;
            add(&mut t2, 4)?;
            // SQLAlchemy commits the outer transaction with the savepoint untouched; here
            // the savepoint guard must end first (a drop would roll back to it again).
            t2.commit()?;
            t1.commit()
        };
        let outcome = run(&mut conn);
        assert!(outcome.is_ok(), "{}: {outcome:?}", b.name);
        assert_eq!(ids(&mut conn).unwrap(), [1, 4], "{}", b.name);
    }
}

/// B3 (`TransactionTest::test_raise`): a failing statement inside a transaction, then
/// `rollback()`, leaves nothing.
#[test]
fn b3_an_error_then_rollback_leaves_nothing() {
    for b in backends("contract_b3") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        add(&mut tx, 1).unwrap();
        add(&mut tx, 2).unwrap();
        assert!(add(&mut tx, 1).is_err(), "{}: duplicate key", b.name);
        tx.rollback().unwrap();
        assert!(ids(&mut conn).unwrap().is_empty(), "{}", b.name);
    }
}

/// F3 (`ExecuteTest::test_works_after_dispose`): three times, a statement then `dispose()`.
#[test]
fn f3_an_engine_works_after_dispose() {
    for b in backends("contract_f3") {
        for _ in 0..3 {
            let n: i64 = b
                .engine
                .execute(text("SELECT 1"))
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 1, "{}", b.name);
            b.engine.dispose();
        }
    }
}

/// C4 (`test_connectionless_autoclose_no_rows`): a connectionless statement that returns no
/// rows gives its connection back at once.
#[test]
fn c4_a_connectionless_update_releases_its_connection_at_once() {
    for b in backends("contract_c4") {
        if b.name == "sqlite-memory" {
            continue; // its one connection is shared
        }
        META.create_all(&b.engine).unwrap();
        let engine = Engine::builder(b.url.as_str())
            .pool_size(1)
            .max_overflow(0)
            .pool_timeout(std::time::Duration::from_millis(200))
            .build()
            .unwrap();
        let _result = engine
            .execute(update!(QueryUser SET user_name = "x" WHERE QueryUser::user_id == 1))
            .unwrap();
        assert!(engine.connect().is_ok(), "{}", b.name);
        engine.dispose();
    }
}

/// E2 (`MockReconnectTest::test_invalidate_trans`) and E11 (`RealReconnectTest::
/// test_rollback_on_invalid_plain`, `::test_invalidate_twice`): a connection invalidated inside
/// a transaction refuses statements and a commit until the transaction is rolled back; the
/// rollback raises nothing, and the next statement reconnects transparently.
#[test]
fn e2_e11_an_invalidated_transaction_must_be_rolled_back_first() {
    for b in backends("contract_e2") {
        if b.name == "sqlite-memory" {
            continue; // a new connection would be a new, empty database
        }
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        add(&mut tx, 1).unwrap();
        tx.invalidate();
        tx.invalidate(); // twice: no error
        assert!(tx.invalidated(), "{}", b.name);
        assert!(
            add(&mut tx, 2).is_err(),
            "{}: refused until rolled back",
            b.name
        );
        tx.rollback()
            .unwrap_or_else(|e| panic!("{}: rollback of an invalidated transaction: {e}", b.name));
        assert_eq!(ids(&mut conn).unwrap(), Vec::<i64>::new(), "{}", b.name);
        assert!(!conn.invalidated(), "{}: reconnected", b.name);

        // E3: without a transaction, the connection is reusable at once.
        conn.invalidate();
        add(&mut conn, 3).unwrap();
        assert_eq!(ids(&mut conn).unwrap(), [3], "{}", b.name);
        assert!(!conn.invalidated(), "{}", b.name);
        let mut tx = conn.begin().unwrap();
        let sp = tx.begin_nested().unwrap();
        drop(sp);
        tx.invalidate();
        tx.rollback().unwrap(); // E11 with a savepoint inside
    }
}

/// C4 (`test_connectionless_autoclose_no_rows`): fetching from a statement that returns no
/// rows is `ResourceClosedError("This result object does not return rows.")`, not an empty
/// result.
#[test]
fn c4_fetching_rows_of_a_statement_without_rows_is_an_error() {
    for b in backends("contract_c4_fetch") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let rows = conn
            .execute(text("UPDATE query_users SET user_name = 'x'"))
            .unwrap();
        assert!(rows.keys().is_empty(), "{}", b.name);
        let err = rows.first().map(|_| ()).unwrap_err();
        assert!(
            err.to_string().contains("does not return rows"),
            "{}: {err}",
            b.name
        );
    }
}

/// `ResultProxyTest::test_graceful_fetch_on_non_rows`: every way of fetching from the result
/// of an `INSERT`, `UPDATE` or `DELETE` without `RETURNING` (built or `text()`, on a
/// connection or connectionless) is the no-result-set error; its counts stay readable; a
/// `SELECT` matching nothing is an empty result, not that error; the connection and the pool
/// stay usable.
#[test]
fn fetching_from_every_kind_of_statement_without_rows_is_an_error() {
    fn no_rows<T: std::fmt::Debug>(what: &str, name: &str, r: quarry::Result<T>) {
        assert!(
            matches!(r, Err(Error::NoResultSet)),
            "{name}: {what} gave {r:?}"
        );
    }
    for b in backends("contract_graceful_fetch") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let name = b.name;
        let insert = || {
            insert!(QueryUser {
                user_id: 1,
                user_name: "u"
            })
        };
        let rows = conn.execute(insert()).unwrap();
        assert!(!rows.returns_rows(), "{name}");
        assert_eq!(rows.rowcount(), 1, "{name}");
        no_rows("insert!.all()", name, rows.all());
        let update = || update!(QueryUser SET user_name = "v" WHERE QueryUser::user_id == 1);
        no_rows(
            "update!.first()",
            name,
            conn.execute(update()).unwrap().first(),
        );
        no_rows("update!.one()", name, conn.execute(update()).unwrap().one());
        no_rows(
            "update!.one_or_none()",
            name,
            conn.execute(update()).unwrap().one_or_none(),
        );
        let mut rows = conn.execute(update()).unwrap();
        no_rows("update!.fetchmany(2)", name, rows.fetchmany(2));
        assert_eq!(rows.size_hint(), (1, Some(1)), "{name}");
        let items: Vec<_> = rows.collect();
        assert!(
            matches!(items.as_slice(), [Err(Error::NoResultSet)]),
            "{name}: iteration gave {items:?}"
        );
        let n: quarry::Result<i64> = conn
            .execute(text("UPDATE query_users SET user_name = 'w'"))
            .unwrap()
            .scalar();
        no_rows("text(UPDATE).scalar()", name, n);
        let deleted = conn
            .execute(delete!(QueryUser WHERE QueryUser::user_id == 2))
            .unwrap();
        assert_eq!(deleted.rowcount(), 0, "{name}");
        no_rows("delete!.all()", name, deleted.all());
        // Connectionless: the connection is back in the pool already, the error the same.
        let rows = b.engine.execute(update()).unwrap();
        assert!(!rows.owns_connection(), "{name}");
        no_rows("engine.execute(update!).all()", name, rows.all());
        // A SELECT matching nothing still has a result set: empty, no error.
        let none = conn
            .execute(select!(QueryUser WHERE QueryUser::user_id == 99))
            .unwrap();
        assert!(none.returns_rows(), "{name}");
        assert_eq!(none.all().unwrap(), [], "{name}");
        assert_eq!(ids(&mut conn).unwrap(), [1], "{name}");
    }
}

/// PostgreSQL without named prepared statements (`prepared_statements=false`, pgbouncer's
/// transaction mode), where only a row carries the column names: a query that matches nothing
/// is still an empty result (buffered and streamed), a statement without a result set still
/// the no-result-set error, and a static call site's names are not pinned empty by the first.
#[test]
fn without_prepared_statements_an_empty_query_is_still_a_result_set() {
    for b in backends("contract_unnamed_results") {
        if !b.is_postgres() {
            continue;
        }
        META.create_all(&b.engine).unwrap();
        let sep = if b.url.contains('?') { '&' } else { '?' };
        let engine = create_engine(&format!("{}{sep}prepared_statements=false", b.url)).unwrap();
        let mut conn = engine.connect().unwrap();
        // One call site: its first result (no row, so no names) must not pin its names.
        let by_id = |id: i64| select!(QueryUser WHERE QueryUser::user_id == id);
        let rows = conn.execute(by_id(99)).unwrap();
        assert!(rows.returns_rows());
        assert_eq!(rows.all().unwrap(), []);
        assert_eq!(conn.execute(by_id(99)).unwrap().first().unwrap(), None);
        let streamed: Vec<(i64,)> = conn
            .stream(text("SELECT 1::int8 WHERE false").columns::<(i64,)>())
            .unwrap()
            .all()
            .unwrap();
        assert!(streamed.is_empty());
        add(&mut conn, 7).unwrap();
        let rows = conn.execute(by_id(7)).unwrap();
        assert_eq!(rows.keys(), ["user_id", "user_name"]);
        assert_eq!(rows.all().unwrap().len(), 1);
        let update = conn
            .execute(text("UPDATE query_users SET user_name = 'z'"))
            .unwrap();
        assert!(!update.returns_rows());
        assert!(matches!(update.all(), Err(Error::NoResultSet)));
    }
}
