//! Engines, connections, transactions and results on every backend: SQLite (memory and file),
//! PostgreSQL and MariaDB — SQLAlchemy's "Working with Engines and Connections", for real.

mod support;

use std::time::Duration;

use quarry::prelude::*;
use quarry::{DatabaseErrorKind, ExecutionOptions, IsolationLevel, Row};
use support::{Backend, backends, backends_with};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50, unique)]
        pub name: String,
        pub hair_color: Option<String>,
    }
}

use model::{META, User};

fn setup(b: &Backend) -> Connection {
    META.create_all(&b.engine).expect("create_all");
    b.engine.connect().expect("connect")
}

fn count(conn: &mut Connection) -> i64 {
    conn.execute(select!(count(User::id) FROM User))
        .unwrap()
        .scalar()
        .unwrap()
}

/// Insert a user named `name` with no hair color.
fn add(conn: &mut Connection, name: &str) {
    conn.execute(insert!(User {
        name: name,
        hair_color: None
    }))
    .unwrap();
}

/// Users seen through a second connection (where the backend allows two).
fn seen_elsewhere(b: &Backend) -> Option<i64> {
    if b.name == "sqlite-memory" {
        // One shared connection: there is no "elsewhere".
        return None;
    }
    let mut other = b.engine.connect().unwrap();
    Some(count(&mut other))
}

#[test]
fn statements_outside_a_transaction_commit_at_once() {
    for b in backends("autocommit") {
        let mut conn = setup(&b);
        add(&mut conn, "ed");
        assert!(!conn.in_transaction(), "{}", b.name);
        if let Some(n) = seen_elsewhere(&b) {
            assert_eq!(
                n, 1,
                "{}: the insert is visible to another connection",
                b.name
            );
        }
        // autocommit = true is accepted (SQLAlchemy 1.x code) and changes nothing here.
        conn.execution_options(ExecutionOptions::default().autocommit(true))
            .unwrap();
        assert!(conn.autocommit());
        conn.execute(update!(User SET hair_color = "red" WHERE User::name == "ed"))
            .unwrap();
        drop(conn);
        let ed: User = b.engine.execute(select!(User)).unwrap().one().unwrap();
        assert_eq!(ed.hair_color.as_deref(), Some("red"), "{}", b.name);
    }
}

#[test]
fn a_transaction_commits_or_rolls_back_when_dropped() {
    for b in backends("tx_basic") {
        let mut conn = setup(&b);
        {
            let mut tx = conn.begin().unwrap();
            assert!(tx.in_transaction());
            add(&mut tx, "kept");
            tx.commit().unwrap();
        }
        {
            let mut tx = conn.begin().unwrap();
            add(&mut tx, "dropped");
            // dropped without commit: rolled back
        }
        {
            let mut tx = conn.begin().unwrap();
            add(&mut tx, "rolled back");
            tx.rollback().unwrap();
        }
        assert!(!conn.in_transaction());
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(names, ["kept"], "{}", b.name);
    }
}

#[test]
fn inner_commit_does_nothing_until_the_outer_commits() {
    for b in backends("tx_nested_commit") {
        let mut conn = setup(&b);
        let mut outer = conn.begin().unwrap();
        {
            let mut inner = outer.begin().unwrap();
            add(&mut inner, "a");
            inner.commit().unwrap();
        }
        assert!(outer.in_transaction(), "{}", b.name);
        if let Some(n) = seen_elsewhere(&b) {
            assert_eq!(n, 0, "{}: not committed before the outer commit", b.name);
        }
        outer.commit().unwrap();
        if let Some(n) = seen_elsewhere(&b) {
            assert_eq!(n, 1, "{}", b.name);
        }
        assert_eq!(count(&mut conn), 1, "{}", b.name);
    }
}

#[test]
fn inner_rollback_makes_outer_commit_fail() {
    for b in backends("tx_nested_rollback") {
        let mut conn = setup(&b);
        let mut outer = conn.begin().unwrap();
        add(&mut outer, "outer");
        {
            let mut inner = outer.begin().unwrap();
            add(&mut inner, "inner");
            inner.rollback().unwrap();
        }
        assert!(!outer.is_active(), "{}", b.name);
        let refused = outer.execute(select!(User)).unwrap_err();
        assert!(
            matches!(refused, Error::InactiveTransaction(_)),
            "{}: {refused}",
            b.name
        );
        let err = outer.commit().unwrap_err();
        assert!(
            matches!(err, Error::InactiveTransaction(_)),
            "{}: {err}",
            b.name
        );
        assert!(err.to_string().contains("inactive"), "{err}");
        // Everything was rolled back, and the connection is usable again.
        assert_eq!(count(&mut conn), 0, "{}", b.name);
        conn.begin().unwrap().commit().unwrap();
    }
}

#[test]
fn savepoint_rollback_undoes_only_its_part() {
    for b in backends("tx_savepoint") {
        let mut conn = setup(&b);
        let mut tx = conn.begin().unwrap();
        add(&mut tx, "before");
        {
            let mut sp = tx.begin_nested().unwrap();
            assert!(sp.in_nested_transaction());
            add(&mut sp, "in savepoint");
            sp.rollback().unwrap();
        }
        {
            let mut sp = tx.begin_nested().unwrap();
            add(&mut sp, "released");
            sp.commit().unwrap();
        }
        assert!(tx.is_active(), "{}", b.name);
        tx.commit().unwrap();
        let mut names: Vec<String> = conn
            .execute(select!(User::name FROM User))
            .unwrap()
            .all()
            .unwrap();
        names.sort();
        assert_eq!(names, ["before", "released"], "{}", b.name);
    }
}

#[test]
fn engine_begin_and_transaction_closure() {
    for b in backends("tx_engine") {
        drop(setup(&b));
        let mut tx = b.engine.begin().unwrap();
        add(&mut tx, "via engine.begin");
        tx.commit().unwrap();

        let failed: Result<(), Error> = b.engine.transaction(|conn| {
            conn.execute(insert!(User {
                name: "never",
                hair_color: None
            }))?;
            Err(Error::NoRows)
        });
        assert!(matches!(failed, Err(Error::NoRows)));
        let n = b
            .engine
            .transaction(|conn| {
                conn.execute(insert!(User {
                    name: "closure",
                    hair_color: None
                }))?;
                conn.execute(select!(count(User::id) FROM User))?.scalar()
            })
            .unwrap();
        assert_eq!(n, 2, "{}", b.name);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        contract_form(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        assert_eq!(count(&mut conn), 3, "{}", b.name);
    }
}

/// CONTRACT.md's `engine.transaction(|conn| { ...; Ok(()) })?;`, as written there: no error
/// type named, inferred from the caller's `quarry::Result`.
fn contract_form(engine: &Engine) -> quarry::Result<()> {
    engine.transaction(|conn| {
        conn.execute(insert!(User {
            name: "contract",
            hair_color: None
        }))?;
        Ok(())
    })?;
    Ok(())
}

#[test]
fn two_phase_commit_prepares_then_commits() {
    for b in backends("tx_twophase") {
        let mut conn = setup(&b);
        if b.is_sqlite() {
            let err = conn.begin_twophase(None).unwrap_err();
            assert!(
                matches!(err, Error::Unsupported { .. }),
                "{}: {err}",
                b.name
            );
            continue;
        }
        let mut tx = conn.begin_twophase(None).unwrap();
        assert!(tx.xid().is_some());
        add(&mut tx, "two-phase");
        tx.prepare().unwrap();
        tx.commit().unwrap();

        let mut tx = conn.begin_twophase(Some("quarry-test-rollback")).unwrap();
        add(&mut tx, "prepared then rolled back");
        tx.prepare().unwrap();
        tx.rollback().unwrap();

        // Unprepared commit is a one-phase commit; a bad xid is refused before any SQL.
        let mut tx = conn.begin_twophase(None).unwrap();
        add(&mut tx, "one phase");
        tx.commit().unwrap();
        assert!(matches!(
            conn.begin_twophase(Some("x'; DROP TABLE users; --")),
            Err(Error::Config(_))
        ));

        let mut names: Vec<String> = conn
            .execute(select!(User::name FROM User))
            .unwrap()
            .all()
            .unwrap();
        names.sort();
        assert_eq!(names, ["one phase", "two-phase"], "{}", b.name);
    }
}

#[test]
fn connectionless_rows_hold_their_connection_until_exhausted() {
    for b in backends("close_with_result") {
        drop(setup(&b));
        let engine = &b.engine;
        // A statement without rows gives its connection back at once.
        let inserted = engine
            .execute(insert!(User {
                name: "a",
                hair_color: None
            }))
            .unwrap();
        assert!(!inserted.owns_connection());
        assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
        engine
            .execute(insert!(User {
                name: "b",
                hair_color: None
            }))
            .unwrap();

        let mut rows = engine.execute(select!(User ORDER BY User::id)).unwrap();
        assert!(rows.owns_connection());
        assert_eq!(engine.pool_status().checked_out, 1, "{}", b.name);
        assert_eq!(rows.next().unwrap().unwrap().name, "a");
        assert_eq!(engine.pool_status().checked_out, 1, "{}", b.name);
        assert_eq!(rows.next().unwrap().unwrap().name, "b");
        assert!(rows.next().is_none());
        assert_eq!(
            engine.pool_status().checked_out,
            0,
            "{}: exhausted rows return the connection",
            b.name
        );

        let rows = engine.execute(select!(User)).unwrap();
        rows.close();
        assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
        let rows = engine.execute(select!(User)).unwrap();
        drop(rows);
        assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
        let all = engine.execute(select!(User)).unwrap().all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
    }
}

#[test]
fn rows_report_keys_rowcount_and_inserted_keys() {
    for b in backends("rows_meta") {
        let mut conn = setup(&b);
        let mut ids = Vec::new();
        for name in ["a", "b", "c"] {
            let r = conn
                .execute(insert!(User {
                    name: name,
                    hair_color: None
                }))
                .unwrap();
            assert_eq!(r.rowcount(), 1, "{}", b.name);
            ids.push(
                r.inserted_primary_key()
                    .expect("inserted key on every backend"),
            );
        }
        assert!(ids.windows(2).all(|w| w[1] > w[0]), "{}: {ids:?}", b.name);
        let by_key: Vec<String> = conn
            .execute(select!(User::name FROM User WHERE User::id == {ids[1]}))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(by_key, ["b"], "{}", b.name);

        let mut rows = conn
            .execute(select!(User::id, User::name FROM User ORDER BY User::id))
            .unwrap();
        assert_eq!(rows.keys(), ["id", "name"], "{}", b.name);
        assert_eq!(rows.fetchmany(2).unwrap().len(), 2);
        assert_eq!(rows.fetchmany(2).unwrap().len(), 1);
        assert!(rows.fetchmany(2).unwrap().is_empty());

        let updated = conn
            .execute(update!(User SET hair_color = "x" WHERE User::id > {ids[0]}))
            .unwrap();
        assert_eq!(updated.rowcount(), 2, "{}", b.name);
        let deleted = conn
            .execute(delete!(User WHERE User::id == {ids[2]}))
            .unwrap();
        assert_eq!(deleted.rowcount(), 1, "{}", b.name);
    }
}

#[test]
fn text_statements_bind_by_name_and_give_dynamic_rows() {
    for b in backends("text") {
        let mut conn = setup(&b);
        conn.execute(
            text("INSERT INTO users (name, hair_color) VALUES (:name, :hair)")
                .bind("name", "ed")
                .bind("hair", None::<String>),
        )
        .unwrap();
        let rows = conn
            .execute(text("SELECT id, name, hair_color FROM users WHERE name = :n").bind("n", "ed"))
            .unwrap();
        assert_eq!(rows.keys(), ["id", "name", "hair_color"], "{}", b.name);
        let row: Row = rows.one().unwrap();
        assert_eq!(row.get::<String>("name").unwrap(), "ed");
        assert_eq!(row.get::<String>(1).unwrap(), "ed");
        assert_eq!(row.get::<Option<String>>("hair_color").unwrap(), None);
        assert!(row.get::<i64>("id").unwrap() > 0);
        let missing = row.get::<String>("nmae").unwrap_err().to_string();
        assert!(missing.contains("nmae"), "{missing}");

        let typed: (i64, String) = conn
            .execute(text("SELECT id, name FROM users").columns::<(i64, String)>())
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(typed.1, "ed");
        let err = conn
            .execute(text("SELECT * FROM users WHERE id = :id"))
            .unwrap_err();
        assert!(err.to_string().contains(":id"), "{err}");
    }
}

#[test]
fn database_errors_carry_code_sql_and_hidden_parameters() {
    for b in backends("errors") {
        let mut conn = setup(&b);
        add(&mut conn, "dup");
        let err = conn
            .execute(insert!(User {
                name: "dup",
                hair_color: None
            }))
            .unwrap_err();
        let db = support::assert_unique_violation(&err, b.name);
        let expected_state = match b.name {
            "postgresql" => Some("23505"),
            "mysql" => Some("23000"),
            _ => None,
        };
        assert_eq!(db.sqlstate(), expected_state, "{}", b.name);
        assert!(
            db.sql().unwrap().starts_with("INSERT INTO users"),
            "{}",
            b.name
        );
        assert_eq!(db.params().len(), 2, "{}", b.name);
        assert!(!err.is_disconnect());
        assert!(
            !err.to_string().contains("\"dup\""),
            "{}: values never shown: {err}",
            b.name
        );
        // The connection is still usable after an error outside a transaction.
        assert_eq!(count(&mut conn), 1, "{}", b.name);

        let syntax = conn.execute(text("SELEC 1")).unwrap_err();
        assert_eq!(
            syntax.as_database().map(|d| d.kind()),
            Some(DatabaseErrorKind::Syntax),
            "{}: {syntax}",
            b.name
        );
    }
    for b in backends_with("errors_hidden", |e| e.hide_parameters(true)) {
        let mut conn = setup(&b);
        add(&mut conn, "secret");
        let err = conn
            .execute(insert!(User {
                name: "secret",
                hair_color: None
            }))
            .unwrap_err();
        assert!(err.as_database().unwrap().params().is_empty(), "{}", b.name);
    }
}

#[test]
fn a_killed_backend_is_a_disconnect_and_the_connection_is_replaced() {
    for b in backends("disconnect") {
        if b.is_sqlite()
            || support::needs_own_server_connection(
                &b,
                "pg_backend_pid() names a pooled server connection",
            )
        {
            continue;
        }
        let mut victim = b.engine.connect().unwrap();
        let pid_sql = if b.is_postgres() {
            "SELECT pg_backend_pid()"
        } else {
            "SELECT CONNECTION_ID()"
        };
        let pid: i64 = victim
            .execute(text(pid_sql).columns::<i64>())
            .unwrap()
            .scalar()
            .unwrap();
        {
            let mut killer = b.engine.connect().unwrap();
            let kill = if b.is_postgres() {
                text("SELECT pg_terminate_backend(:pid)").bind("pid", pid)
            } else {
                text(format!("KILL CONNECTION {pid}"))
            };
            killer.execute(kill).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        let err = victim.execute(text("SELECT 1")).unwrap_err();
        assert!(err.is_disconnect(), "{}: {err}", b.name);
        assert!(victim.invalidated(), "{}", b.name);
        // The next statement runs on a fresh connection.
        let new_pid: i64 = victim
            .execute(text(pid_sql).columns::<i64>())
            .unwrap()
            .scalar()
            .unwrap();
        assert_ne!(new_pid, pid, "{}", b.name);
    }
}

#[test]
fn invalidate_discards_the_driver_connection() {
    for b in backends("invalidate") {
        if b.name == "sqlite-memory" {
            continue; // a fresh connection would be a fresh, empty memory database
        }
        let mut conn = setup(&b);
        conn.invalidate();
        assert!(conn.invalidated());
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        // Used again, it checks out a fresh connection.
        assert_eq!(count(&mut conn), 0, "{}", b.name);
        assert!(!conn.invalidated());
        let mut tx = conn.begin().unwrap();
        tx.invalidate();
        let err = tx.execute(select!(User)).unwrap_err();
        assert!(
            matches!(err, Error::InactiveTransaction(_)),
            "{}: {err}",
            b.name
        );
        tx.rollback().unwrap();
        assert_eq!(count(&mut conn), 0, "{}", b.name);
    }
}

#[test]
fn dispose_closes_idle_connections_and_retires_checked_out_ones() {
    for b in backends("dispose") {
        if b.name == "sqlite-memory" {
            continue; // disposing a memory database discards it
        }
        drop(setup(&b));
        let held = b.engine.connect().unwrap();
        drop(b.engine.connect().unwrap());
        let before = b.engine.pool_status();
        assert_eq!(before.checked_in, 1, "{}: {before}", b.name);
        b.engine.dispose();
        let after = b.engine.pool_status();
        assert_eq!(after.checked_in, 0, "{}: {after}", b.name);
        assert_eq!(after.checked_out, 1, "{}: {after}", b.name);
        drop(held);
        let returned = b.engine.pool_status();
        assert_eq!(
            (returned.checked_in, returned.checked_out),
            (0, 0),
            "{}: a connection from before dispose() is closed on return: {returned}",
            b.name
        );
        let mut conn = b.engine.connect().unwrap();
        assert_eq!(count(&mut conn), 0, "{}", b.name);
    }
}

#[test]
fn raw_connections_are_native_and_pooled() {
    for b in backends("raw") {
        drop(setup(&b));
        let mut raw = b.engine.raw_connection().unwrap();
        assert_eq!(b.engine.pool_status().checked_out, 1);
        match b.name {
            "postgresql" => {
                #[cfg(feature = "postgres")]
                {
                    let client = raw
                        .downcast_mut::<quarry::driver::native::postgres::Client>()
                        .expect("a postgres::Client");
                    let row = client.query_one("SELECT 41 + 1", &[]).unwrap();
                    assert_eq!(row.get::<_, i32>(0), 42);
                }
            }
            "mysql" => {
                #[cfg(feature = "mysql")]
                {
                    use quarry::driver::native::mysql::prelude::Queryable;
                    let conn = raw
                        .downcast_mut::<quarry::driver::native::mysql::Conn>()
                        .expect("a mysql::Conn");
                    let v: Option<i64> = conn.query_first("SELECT 41 + 1").unwrap();
                    assert_eq!(v, Some(42));
                }
            }
            _ => {
                let sqlite = raw
                    .downcast_mut::<quarry::driver::native::rusqlite::Connection>()
                    .expect("a rusqlite::Connection");
                let v: i64 = sqlite.query_row("SELECT 41 + 1", [], |r| r.get(0)).unwrap();
                assert_eq!(v, 42);
            }
        }
        drop(raw);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        // The same native connection is reachable from a Connection.
        let mut conn = b.engine.connect().unwrap();
        let native = conn.driver_connection().unwrap();
        let expected_native = match b.name {
            #[cfg(feature = "postgres")]
            "postgresql" => native.is::<quarry::driver::native::postgres::Client>(),
            #[cfg(feature = "mysql")]
            "mysql" => native.is::<quarry::driver::native::mysql::Conn>(),
            _ => native.is::<quarry::driver::native::rusqlite::Connection>(),
        };
        assert!(expected_native, "{}", b.name);
        #[cfg(feature = "mysql")]
        if b.is_mysql() {
            // The driver keeps prepared statements by their text; a native reset drops them
            // on the server, and statements prepared natively afterwards may take their ids.
            use quarry::driver::native::mysql::prelude::Queryable;
            add(&mut conn, "kept");
            let n = count(&mut conn);
            let native = conn
                .driver_connection()
                .unwrap()
                .downcast_mut::<quarry::driver::native::mysql::Conn>()
                .unwrap();
            native.reset().unwrap();
            for i in 0..3 {
                let stmt = native.prep("SELECT 'native', ?").unwrap();
                let _: Option<(String, i64)> = native.exec_first(&stmt, (i,)).unwrap();
            }
            add(&mut conn, "after the reset");
            assert_eq!(count(&mut conn), n + 1);
        }
    }
}

#[test]
fn execution_options_set_isolation_and_timeout_until_returned() {
    for b in backends("options") {
        if support::needs_own_server_connection(
            &b,
            "SET of isolation and timeouts is session state",
        ) {
            continue;
        }
        let mut conn = setup(&b);
        if b.is_sqlite() {
            let err = conn
                .execution_options(
                    ExecutionOptions::default().isolation_level(IsolationLevel::ReadCommitted),
                )
                .unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{err}");
            conn.execution_options(
                ExecutionOptions::default().isolation_level(IsolationLevel::Serializable),
            )
            .unwrap();
        } else {
            conn.execution_options(
                ExecutionOptions::default().isolation_level(IsolationLevel::Serializable),
            )
            .unwrap();
            let level = current_isolation(&b, &mut conn);
            assert_eq!(level, "SERIALIZABLE", "{}", b.name);
        }
        // A statement running past the timeout is cancelled with an error.
        conn.execution_options(ExecutionOptions::default().timeout(Duration::from_millis(200)))
            .unwrap();
        let slow = match b.name {
            "postgresql" => "SELECT pg_sleep(3)",
            "mysql" => "SELECT SLEEP(3)",
            _ => {
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                 SELECT count(*) FROM c"
            }
        };
        let started = std::time::Instant::now();
        let outcome = conn.execute(text(slow));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{}: took {took:?}", b.name);
        // MariaDB's SLEEP returns 1 when interrupted instead of failing.
        if !b.is_mysql() {
            assert!(outcome.is_err(), "{}", b.name);
        }
        drop(conn);
        if !b.is_sqlite() {
            // Back in the pool, the settings were reset.
            let mut again = b.engine.connect().unwrap();
            let level = current_isolation(&b, &mut again);
            assert_ne!(level, "SERIALIZABLE", "{}", b.name);
            let started = std::time::Instant::now();
            let sleep = if b.is_postgres() {
                "SELECT pg_sleep(0.5)"
            } else {
                "SELECT SLEEP(0.5)"
            };
            again.execute(text(sleep)).unwrap();
            assert!(started.elapsed() >= Duration::from_millis(450));
        }
    }
}

fn current_isolation(b: &Backend, conn: &mut Connection) -> String {
    let sql = if b.is_postgres() {
        "SHOW default_transaction_isolation"
    } else {
        "SELECT @@SESSION.tx_isolation"
    };
    let level: String = conn
        .execute(text(sql).columns::<String>())
        .unwrap()
        .scalar()
        .unwrap();
    level.to_uppercase().replace('-', " ")
}

#[test]
fn engine_isolation_level_applies_to_every_connection() {
    for b in backends_with("engine_isolation", |e| {
        e.isolation_level(IsolationLevel::Serializable)
    }) {
        if b.is_sqlite() {
            continue;
        }
        let mut conn = b.engine.connect().unwrap();
        assert_eq!(
            current_isolation(&b, &mut conn),
            "SERIALIZABLE",
            "{}",
            b.name
        );
    }
}

#[test]
fn query_arguments_and_connect_args_reach_the_driver() {
    for b in backends("url_args") {
        if !b.is_postgres() {
            continue;
        }
        let engine = Engine::builder(&b.url)
            .connect_arg("application_name", "quarry-url-test")
            .build()
            .unwrap();
        let name: String = engine
            .execute(text("SHOW application_name").columns::<String>())
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(name, "quarry-url-test");
    }
    let err = create_engine(&format!("{}?applicaton_name=x", support::postgres_url()))
        .unwrap_err()
        .to_string();
    if cfg!(feature = "postgres") {
        assert!(err.contains("applicaton_name"), "{err}");
        assert!(err.contains("application_name"), "{err}");
    }
    let err = create_engine("postgresql://u:hunter2@localhost:5432/db?sslmode=require")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn sqlite_query_arguments_open_read_only_and_unknown_ones_are_refused() {
    for b in backends("sqlite_args") {
        if b.name != "sqlite-file" {
            continue;
        }
        drop(setup(&b));
        let ro = create_engine(&format!("{}?mode=ro&timeout=2.5", b.url)).unwrap();
        let mut conn = ro.connect().unwrap();
        assert_eq!(count(&mut conn), 0);
        let err = conn
            .execute(insert!(User {
                name: "nope",
                hair_color: None
            }))
            .unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
    }
    let err = create_engine("sqlite:///x.db?mode=rwx")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mode=rwx") && err.contains("ro, rw or rwc"),
        "{err}"
    );
    let err = create_engine("sqlite:///x.db?journal=wal")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"journal\"") && err.contains("mode, timeout"),
        "{err}"
    );
}

#[test]
fn a_creator_opens_the_connections() {
    let engine = Engine::builder("sqlite://")
        .creator(|| {
            let conn = quarry::driver::native::rusqlite::Connection::open_in_memory()?;
            conn.execute_batch(
                "CREATE TABLE from_creator (x INTEGER); INSERT INTO from_creator VALUES (7)",
            )?;
            Ok(conn)
        })
        .build()
        .unwrap();
    let x: i64 = engine
        .execute(text("SELECT x FROM from_creator").columns::<i64>())
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(x, 7);
    let failing = Engine::builder("sqlite://")
        .creator(
            || -> Result<quarry::driver::native::rusqlite::Connection, _> {
                Err("no database today".into())
            },
        )
        .build()
        .unwrap();
    let err = failing.connect().unwrap_err();
    assert!(err.to_string().contains("no database today"), "{err}");
    assert!(err.is_disconnect());
}
