//! The traps a new user hit, each as a behaviour on every backend it concerns: what results'
//! `scalar()` family reads, errors worth retrying (real deadlocks, serialization failures and
//! lock timeouts), transactions whose closures return the application's own error, `None`
//! compared with `==`, correlated scalar subqueries that find no row, keyword-named variables
//! in `LIMIT`/`OFFSET`, upserts that do nothing, and the Session's flush order.

mod support;

use std::thread;
use std::time::Duration;

use quarry::prelude::*;
use quarry::{DatabaseErrorKind, Row};
use support::{Backend, backends};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "accounts", metadata = META)]
    pub struct Account {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub owner: String,
        pub balance: i64,
        pub nickname: Option<String>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "txns", metadata = META)]
    pub struct Txn {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Account::id)]
        pub account_id: i64,
        pub amount: i64,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "nodes", metadata = META)]
    pub struct Node {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Node::id)]
        pub parent_id: Option<i64>,
        #[column(max_length = 20)]
        pub name: String,
    }
}

use model::{Account, META, Node, Txn};

fn setup(b: &Backend) -> Connection {
    META.create_all(&b.engine).expect("create_all");
    let mut conn = b.engine.connect().expect("connect");
    for (owner, balance, nickname) in [("ann", 10, Some("a")), ("bob", 20, None)] {
        conn.execute(insert!(Account {
            owner: owner,
            balance: balance,
            nickname: nickname
        }))
        .expect("insert");
    }
    conn
}

// ---------------------------------------------------------------------------------------------
// scalar(), scalar_one(), scalar_one_or_none()

#[test]
fn scalar_is_the_first_column_of_the_first_row() {
    for b in backends("scalar_first") {
        let mut conn = setup(&b);
        // A text() result: the first column, decoded into the type asked for.
        let n: i64 = conn
            .execute(text("SELECT balance, owner FROM accounts ORDER BY id"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 10, "{}", b.name);
        let owner: String = conn
            .execute(text("SELECT owner, balance FROM accounts ORDER BY id"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(owner, "ann", "{}", b.name);
        // A tuple: its first item.
        let id: i64 = conn
            .execute(
                select!(Account::balance, Account::owner FROM Account ORDER BY Account::id DESC),
            )
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(id, 20, "{}", b.name);
        // One column: its value, no annotation needed.
        let total = conn
            .execute(select!(count(Account::id) FROM Account))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(total, 2, "{}", b.name);
        // A NULL first column into an Option.
        let nick: Option<String> = conn
            .execute(text("SELECT nickname FROM accounts WHERE owner = 'bob'"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(nick, None, "{}", b.name);
        // No row at all: an error for a type that cannot say "nothing"…
        let none = conn
            .execute(text("SELECT balance FROM accounts WHERE owner = 'zed'"))
            .unwrap()
            .scalar::<i64>();
        assert!(matches!(none, Err(Error::NoRows)), "{}: {none:?}", b.name);
        // … and None for an Option, as SQLAlchemy's scalar() returns None.
        let none: Option<i64> = conn
            .execute(text("SELECT balance FROM accounts WHERE owner = 'zed'"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(none, None, "{}", b.name);
        let none: Option<String> = conn
            .execute(select!(Account::nickname FROM Account WHERE Account::owner == "zed"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(none, None, "{}", b.name);
    }
}

#[test]
fn scalar_one_requires_exactly_one_row() {
    for b in backends("scalar_one") {
        let mut conn = setup(&b);
        let one: i64 = conn
            .execute(text("SELECT balance FROM accounts WHERE owner = 'bob'"))
            .unwrap()
            .scalar_one()
            .unwrap();
        assert_eq!(one, 20, "{}", b.name);
        let zero = conn
            .execute(text("SELECT balance FROM accounts WHERE owner = 'zed'"))
            .unwrap()
            .scalar_one::<i64>();
        assert!(matches!(zero, Err(Error::NoRows)), "{}: {zero:?}", b.name);
        let many = conn
            .execute(select!(Account::balance FROM Account))
            .unwrap()
            .scalar_one();
        assert!(
            matches!(many, Err(Error::MultipleRows)),
            "{}: {many:?}",
            b.name
        );
    }
}

#[test]
fn scalar_one_or_none_is_none_without_a_row_and_an_error_with_many() {
    for b in backends("scalar_one_or_none") {
        let mut conn = setup(&b);
        let none: Option<i64> = conn
            .execute(text("SELECT balance FROM accounts WHERE owner = 'zed'"))
            .unwrap()
            .scalar_one_or_none()
            .unwrap();
        assert_eq!(none, None, "{}", b.name);
        let some = conn
            .execute(select!(Account::owner FROM Account WHERE Account::balance == 20))
            .unwrap()
            .scalar_one_or_none()
            .unwrap();
        assert_eq!(some.as_deref(), Some("bob"), "{}", b.name);
        let many = conn
            .execute(text("SELECT owner FROM accounts"))
            .unwrap()
            .scalar_one_or_none::<String>();
        assert!(
            matches!(many, Err(Error::MultipleRows)),
            "{}: {many:?}",
            b.name
        );
        // A dynamic row stays reachable as a whole through one()/first().
        let row: Row = conn
            .execute(text("SELECT owner FROM accounts WHERE balance = 10"))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(row.get::<String>("owner").unwrap(), "ann", "{}", b.name);
    }
}

// ---------------------------------------------------------------------------------------------
// transaction closures returning the application's error

#[derive(Debug)]
enum AppError {
    Db(quarry::Error),
    Insufficient { owner: String },
}

impl From<quarry::Error> for AppError {
    fn from(e: quarry::Error) -> Self {
        AppError::Db(e)
    }
}

fn withdraw(conn: &mut Connection, owner: &str, amount: i64) -> Result<i64, AppError> {
    let balance: i64 = conn
        .execute(select!(Account::balance FROM Account WHERE Account::owner == owner))?
        .scalar_one()?;
    if balance < amount {
        return Err(AppError::Insufficient {
            owner: owner.to_owned(),
        });
    }
    conn.execute(update!(Account SET balance = balance - amount WHERE Account::owner == owner))?;
    Ok(balance - amount)
}

fn balance_of(conn: &mut Connection, owner: &str) -> i64 {
    conn.execute(select!(Account::balance FROM Account WHERE Account::owner == owner))
        .unwrap()
        .scalar_one()
        .unwrap()
}

#[test]
fn engine_transaction_passes_the_applications_error_through_and_rolls_back() {
    for b in backends("tx_app_error") {
        let mut conn = setup(&b);
        let left = b
            .engine
            .transaction(|tx| withdraw(tx, "ann", 4))
            .expect("enough money");
        assert_eq!(left, 6, "{}", b.name);
        let refused = b.engine.transaction(|tx| -> Result<(), AppError> {
            withdraw(tx, "bob", 5)?;
            withdraw(tx, "bob", 50)?;
            Ok(())
        });
        assert!(
            matches!(&refused, Err(AppError::Insufficient { owner }) if owner == "bob"),
            "{}: {refused:?}",
            b.name
        );
        // The first withdrawal was rolled back with the second.
        assert_eq!(balance_of(&mut conn, "bob"), 20, "{}", b.name);
        // A database error arrives as the application's variant.
        let failed = b.engine.transaction(|tx| -> Result<(), AppError> {
            tx.execute(text("SELECT * FROM no_such_table"))?;
            Ok(())
        });
        assert!(
            matches!(&failed, Err(AppError::Db(e)) if e.as_database().is_some()),
            "{}: {failed:?}",
            b.name
        );
        assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
    }
}

#[test]
fn connection_transaction_commits_on_ok_and_rolls_back_on_err() {
    for b in backends("conn_tx") {
        let mut conn = setup(&b);
        let left = conn.transaction(|tx| withdraw(tx, "ann", 3)).unwrap();
        assert_eq!(left, 7, "{}", b.name);
        assert!(!conn.in_transaction(), "{}", b.name);
        assert_eq!(balance_of(&mut conn, "ann"), 7, "{}", b.name);
        let refused = conn.transaction(|tx| -> Result<(), AppError> {
            withdraw(tx, "ann", 7)?;
            withdraw(tx, "ann", 1)?;
            Ok(())
        });
        assert!(matches!(refused, Err(AppError::Insufficient { .. })));
        assert!(!conn.in_transaction(), "{}", b.name);
        assert_eq!(balance_of(&mut conn, "ann"), 7, "{}", b.name);
    }
}

// ---------------------------------------------------------------------------------------------
// retryable errors, produced for real

/// Two connections each lock one row, then each asks for the other's: the database picks a
/// victim, whose error is a retryable `Deadlock`.
#[test]
fn a_real_deadlock_is_retryable() {
    for b in backends("deadlock") {
        if b.is_sqlite() {
            // SQLite locks the whole database: two writers never hold a lock each.
            continue;
        }
        drop(setup(&b));
        let err = deadlock(&b);
        let db = err.as_database().expect("a database error");
        assert_eq!(db.kind(), DatabaseErrorKind::Deadlock, "{}: {err}", b.name);
        assert!(err.is_retryable(), "{}: {err}", b.name);
        assert!(!err.is_disconnect(), "{}", b.name);
    }
}

/// The deadlock victim's error (exactly one side fails; the other then proceeds).
fn deadlock(b: &Backend) -> Error {
    let mut first = b.engine.connect().unwrap();
    let mut second = b.engine.connect().unwrap();
    let mut tx1 = first.begin().unwrap();
    let mut tx2 = second.begin().unwrap();
    tx1.execute(update!(Account SET balance = 1 WHERE Account::id == 1))
        .unwrap();
    tx2.execute(update!(Account SET balance = 2 WHERE Account::id == 2))
        .unwrap();
    let (theirs, mine) = thread::scope(|s| {
        let other = s.spawn(move || {
            // By primary key, so that MariaDB locks one row, not every row it scans. Waits for
            // row 1, which tx1 holds.
            let r = tx2
                .execute(update!(Account SET balance = 3 WHERE Account::id == 1))
                .map(drop);
            let _ = tx2.rollback();
            r
        });
        thread::sleep(Duration::from_millis(300));
        // Waits for row 2, which tx2 holds: a cycle.
        let mine = tx1
            .execute(update!(Account SET balance = 4 WHERE Account::id == 2))
            .map(drop);
        let _ = tx1.rollback();
        (other.join().expect("no panic"), mine)
    });
    match (theirs, mine) {
        (Err(e), Ok(())) | (Ok(()), Err(e)) => e,
        (Err(a), Err(b)) => panic!("both sides failed: {a} / {b}"),
        (Ok(()), Ok(())) => panic!("no deadlock was detected"),
    }
}

/// PostgreSQL: a `REPEATABLE READ` transaction updating a row another transaction changed
/// since its snapshot fails with `40001`.
#[test]
fn a_real_serialization_failure_is_retryable() {
    for b in backends("serialization") {
        if !b.is_postgres() {
            continue;
        }
        let mut other = setup(&b);
        let mut conn = b.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        tx.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            .unwrap();
        assert_eq!(balance_of(&mut tx, "ann"), 10);
        other
            .execute(update!(Account SET balance = 11 WHERE Account::owner == "ann"))
            .unwrap();
        let err = tx
            .execute(update!(Account SET balance = 12 WHERE Account::owner == "ann"))
            .unwrap_err();
        let db = err.as_database().expect("a database error");
        assert_eq!(db.kind(), DatabaseErrorKind::SerializationFailure, "{err}");
        assert_eq!(db.sqlstate(), Some("40001"));
        assert!(err.is_retryable(), "{err}");
    }
}

/// A lock that is not granted in time: PostgreSQL `lock_timeout` (55P03), MariaDB
/// `innodb_lock_wait_timeout` (1205), SQLite `SQLITE_BUSY` after its busy timeout.
#[test]
fn a_real_lock_timeout_is_retryable() {
    for b in backends("lock_timeout") {
        if support::needs_own_server_connection(&b, "SET lock_timeout is session state") {
            continue;
        }
        if b.name == "sqlite-memory" {
            // One shared connection: nothing to wait for.
            continue;
        }
        let mut holder = setup(&b);
        let mut waiter = b.engine.connect().unwrap();
        let mut held = holder.begin().unwrap();
        held.execute(update!(Account SET balance = 1 WHERE Account::owner == "ann"))
            .unwrap();
        let setting = if b.is_postgres() {
            "SET lock_timeout = '200ms'"
        } else if b.is_mysql() {
            "SET SESSION innodb_lock_wait_timeout = 1"
        } else {
            "PRAGMA busy_timeout = 100"
        };
        waiter.execute(text(setting)).unwrap();
        let err = waiter
            .execute(update!(Account SET balance = 2 WHERE Account::owner == "ann"))
            .unwrap_err();
        let db = err.as_database().expect("a database error");
        assert_eq!(
            db.kind(),
            DatabaseErrorKind::LockTimeout,
            "{}: {err}",
            b.name
        );
        assert!(err.is_retryable(), "{}: {err}", b.name);
        held.rollback().unwrap();
    }
}

#[test]
fn errors_of_other_kinds_are_not_retryable() {
    for b in backends("not_retryable") {
        let mut conn = setup(&b);
        let err = conn
            .execute(text("SELECT * FROM no_such_table"))
            .unwrap_err();
        assert!(!err.is_retryable(), "{}: {err}", b.name);
        assert!(!Error::NoRows.is_retryable());
    }
}

// ---------------------------------------------------------------------------------------------
// `col == v` with `v: Option<T>` = None at run time

fn owners_with_nickname(conn: &mut Connection, nick: Option<&str>, equal: bool) -> Vec<String> {
    let nick: Option<String> = nick.map(str::to_owned);
    // One call site each, so that the SQL cache sees both shapes in turn.
    if equal {
        conn.execute(
            select!(Account::owner FROM Account WHERE Account::nickname == nick
            ORDER BY Account::id),
        )
    } else {
        conn.execute(
            select!(Account::owner FROM Account WHERE Account::nickname != nick
            ORDER BY Account::id),
        )
    }
    .unwrap()
    .all()
    .unwrap()
}

#[test]
fn comparing_with_a_none_variable_is_is_null_as_with_a_literal_none() {
    for b in backends("none_variable") {
        let mut conn = setup(&b);
        // Alternate the shapes through the same call sites: the cache must follow.
        for _ in 0..2 {
            assert_eq!(
                owners_with_nickname(&mut conn, None, true),
                ["bob"],
                "{}",
                b.name
            );
            assert_eq!(
                owners_with_nickname(&mut conn, Some("a"), true),
                ["ann"],
                "{}",
                b.name
            );
            assert_eq!(
                owners_with_nickname(&mut conn, None, false),
                ["ann"],
                "{}",
                b.name
            );
            assert!(
                owners_with_nickname(&mut conn, Some("a"), false).is_empty(),
                "{}",
                b.name
            );
        }
        // The builder form, and a literal None, agree.
        let none: Option<String> = None;
        let built: Vec<Account> = conn
            .execute(Account::select().filter(Account::nickname.eq(none)))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(built.len(), 1, "{}", b.name);
        let literal: Vec<String> = conn
            .execute(select!(Account::owner FROM Account WHERE Account::nickname == None))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(literal, ["bob"], "{}", b.name);
    }
}

#[test]
fn a_none_variable_compiles_to_is_null_and_a_value_to_a_parameter() {
    use quarry::dialect::Postgres;
    let shape = |nick: Option<String>| {
        let stmt = select!(Account::owner FROM Account WHERE Account::nickname == nick);
        let c = stmt.compile(&Postgres).unwrap();
        (c.sql().to_owned(), c.params().len())
    };
    for _ in 0..2 {
        assert_eq!(
            shape(None),
            (
                "SELECT accounts.owner FROM accounts WHERE accounts.nickname IS NULL".to_owned(),
                0
            )
        );
        assert_eq!(
            shape(Some("a".into())),
            (
                "SELECT accounts.owner FROM accounts WHERE accounts.nickname = $1".to_owned(),
                1
            )
        );
    }
    // The call site keeps both shapes: alternating renders each once.
    let mut cache = None;
    for nick in [None, Some("a".to_owned()), None, Some("b".to_owned()), None] {
        let stmt = select!(Account::owner FROM Account WHERE Account::nickname == nick);
        stmt.compile(&Postgres).unwrap();
        cache = stmt.sql_cache();
    }
    assert_eq!(cache.expect("a cache").renders(), 2);
    let not: Option<String> = None;
    let c = select!(Account::owner FROM Account WHERE Account::nickname != not)
        .compile(&Postgres)
        .unwrap();
    assert_eq!(
        c.sql(),
        "SELECT accounts.owner FROM accounts WHERE accounts.nickname IS NOT NULL"
    );
}

// ---------------------------------------------------------------------------------------------
// correlated scalar subqueries in a select list

#[test]
fn a_correlated_scalar_subquery_with_no_row_is_none() {
    for b in backends("scalar_subquery_none") {
        let mut conn = setup(&b);
        conn.execute(insert!(Txn {
            account_id: 1,
            amount: 5
        }))
        .unwrap();
        let largest: Vec<(String, Option<i64>)> = conn
            .execute(select!(Account::owner,
                select!(max(Txn::amount) FROM Txn WHERE Txn::account_id == Account::id)
                FROM Account ORDER BY Account::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            largest,
            [("ann".to_owned(), Some(5)), ("bob".to_owned(), None)],
            "{}",
            b.name
        );
        // nullable(…) around it changes nothing, and keeps the correlation.
        let wrapped: Vec<(String, Option<i64>)> = conn
            .execute(select!(Account::owner,
                nullable(select!(max(Txn::amount) FROM Txn WHERE Txn::account_id == Account::id))
                FROM Account ORDER BY Account::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(wrapped, largest, "{}", b.name);
    }
}

#[test]
fn a_scalar_subquery_item_stays_correlated() {
    use quarry::dialect::Sqlite;
    let plain = select!(Account::owner,
        select!(max(Txn::amount) FROM Txn WHERE Txn::account_id == Account::id) FROM Account);
    let wrapped = select!(Account::owner,
        nullable(select!(max(Txn::amount) FROM Txn WHERE Txn::account_id == Account::id))
        FROM Account);
    let expected = "SELECT accounts.owner, (SELECT max(txns.amount) AS max_1 FROM txns \
                    WHERE txns.account_id = accounts.id) AS anon_1 FROM accounts";
    assert_eq!(plain.compile(&Sqlite).unwrap().sql(), expected);
    assert_eq!(wrapped.compile(&Sqlite).unwrap().sql(), expected);
}

// ---------------------------------------------------------------------------------------------
// variables named like keywords

#[test]
#[deny(unused_braces, unused_parens)]
fn variables_named_like_keywords_work_in_limit_and_offset() {
    for b in backends("keyword_variables") {
        let mut conn = setup(&b);
        let limit = 1;
        let offset = 1;
        let page: Vec<String> = conn
            .execute(select!(Account::owner FROM Account ORDER BY Account::id
                LIMIT limit OFFSET offset))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(page, ["bob"], "{}", b.name);
        // Elsewhere, braces mark the variable, without an unused-braces warning.
        let limit = 5;
        let above: Vec<String> = {
            let offset: i64 = 15;
            conn.execute(
                select!(Account::owner FROM Account WHERE Account::balance > {offset}
                ORDER BY Account::id LIMIT {limit}),
            )
        }
        .unwrap()
        .all()
        .unwrap();
        assert_eq!(above, ["bob"], "{}", b.name);
        // After an operator, too, the name is the variable's.
        let offset: i64 = 15;
        let bare: Vec<String> = conn
            .execute(
                select!(Account::owner FROM Account WHERE Account::balance > offset
                && offset < Account::balance),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(bare, ["bob"], "{}", b.name);
    }
}

// ---------------------------------------------------------------------------------------------
// DO NOTHING's rowcount

#[test]
fn do_nothing_rowcount_is_zero_on_a_conflict_except_on_mysql() {
    for b in backends("do_nothing_rowcount") {
        let mut conn = setup(&b);
        let existing = Account {
            id: 1,
            owner: "ann".into(),
            balance: 0,
            nickname: None,
        };
        let n = conn
            .execute(
                Account::insert(&existing)
                    .on_conflict(Account::id)
                    .do_nothing(),
            )
            .unwrap()
            .rowcount();
        // MySQL counts the matched row (CLIENT_FOUND_ROWS): documented on `do_nothing`.
        let expected = if b.is_mysql() { 1 } else { 0 };
        assert_eq!(n, expected, "{}", b.name);
        let fresh = Account {
            id: 7,
            owner: "cy".into(),
            ..existing
        };
        let n = conn
            .execute(
                Account::insert(&fresh)
                    .on_conflict(Account::id)
                    .do_nothing(),
            )
            .unwrap()
            .rowcount();
        assert_eq!(n, 1, "{}", b.name);
        assert_eq!(balance_of(&mut conn, "ann"), 10, "{}", b.name);
    }
}

// ---------------------------------------------------------------------------------------------
// the Session's flush order

#[test]
fn deleting_and_adding_the_same_key_in_one_flush_updates_the_row() {
    for b in backends("row_switch") {
        let mut conn = setup(&b);
        let mut session = Session::new(&b.engine);
        let ann: Account = session.get::<Account>(1).unwrap().expect("ann");
        session.delete(&ann);
        session.add(Account {
            id: 1,
            owner: "ann again".into(),
            balance: 99,
            nickname: None,
        });
        session
            .flush()
            .expect("a row switch is an UPDATE, not a DELETE and an INSERT");
        let again: Account = session.get::<Account>(1).unwrap().expect("the new row");
        assert_eq!(again.owner, "ann again", "{}", b.name);
        session.commit().unwrap();
        let rows: Vec<Account> = conn
            .execute(select!(Account ORDER BY Account::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(rows.len(), 2, "{}", b.name);
        assert_eq!(
            rows[0],
            Account {
                id: 1,
                owner: "ann again".into(),
                balance: 99,
                nickname: None
            },
            "{}",
            b.name
        );
    }
}

#[test]
fn deleting_a_parent_and_its_child_of_one_table_deletes_the_child_first() {
    for b in backends("self_reference_delete") {
        let mut conn = setup(&b);
        for (id, parent_id, name) in [(1, None, "root"), (2, Some(1), "leaf"), (3, None, "other")] {
            conn.execute(Node::insert(&Node {
                id,
                parent_id,
                name: name.into(),
            }))
            .unwrap();
        }
        let mut session = Session::new(&b.engine);
        let root: Node = session.get::<Node>(1).unwrap().expect("root");
        let leaf: Node = session.get::<Node>(2).unwrap().expect("leaf");
        // The parent is queued first.
        session.delete(&root);
        session.delete(&leaf);
        session
            .commit()
            .expect("children are deleted before their parents");
        let left: Vec<String> = conn
            .execute(select!(Node::name FROM Node))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(left, ["other"], "{}", b.name);
    }
}
