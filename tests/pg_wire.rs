//! The lean PostgreSQL driver (`postgresql+wire://`) against the real server: values both ways,
//! server errors and their classification, a failing statement leaving the connection usable,
//! transactions from ReadyForQuery's status, a large result, and each way of logging in
//! (trust, MD5, SCRAM-SHA-256) with roles the tests create.
//!
//! The login tests need three lines ahead of the `trust` ones in the server's `pg_hba.conf`
//! (then `SELECT pg_reload_conf()`), which `cargo xtask test` adds once per machine; without
//! them they print that they skipped, and fail with `CI=true`:
//!
//! ```text
//! host all quarry_wire_scram    127.0.0.1/32 scram-sha-256
//! host all quarry_wire_md5      127.0.0.1/32 md5
//! host all quarry_wire_password 127.0.0.1/32 password
//! ```
//!
//! The server is `QUARRY_POSTGRES_URL`'s (default the local one); its scheme is replaced by
//! `postgresql+wire`. A server that is down skips the tests with a printed reason, except
//! with `CI=true`.
#![cfg(feature = "postgres")]

use quarry::prelude::*;
use quarry::{DatabaseErrorKind, Error, Value};

const DEFAULT: &str = "postgresql://postgres@127.0.0.1:5432/test";

/// The server URL with the wire driver's scheme.
fn wire_url() -> String {
    let url = std::env::var("QUARRY_POSTGRES_URL").unwrap_or_else(|_| DEFAULT.into());
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    format!("postgresql+wire://{rest}")
}

/// An engine on the lean driver, or `None` (printed) when the server is down.
fn engine() -> Option<Engine> {
    let engine = match create_engine(&wire_url()) {
        Ok(e) => e,
        Err(e) => panic!("the wire URL is refused: {e}"),
    };
    match engine.connect() {
        Ok(_) => Some(engine),
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: PostgreSQL is not reachable: {e}");
            None
        }
        Err(e) => panic!("PostgreSQL is not reachable: {e}"),
    }
}

/// A name unique to this process and call, for tables and roles.
fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "wire_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn db_error(e: &Error) -> &quarry::DatabaseError {
    e.as_database()
        .unwrap_or_else(|| panic!("expected a database error, got {e}"))
}

#[test]
fn the_driver_is_chosen_by_name_and_the_default_stays_the_postgres_crate() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    assert_eq!(engine.dialect().name(), "postgresql");
    let mut raw = engine.raw_connection()?;
    // No native client to hand out on the lean driver.
    assert!(
        raw.downcast_mut::<quarry::driver::native::postgres::Client>()
            .is_none()
    );
    let e = create_engine("postgresql+wire://postgres@127.0.0.1/test?sslmode=require")
        .unwrap_err()
        .to_string();
    assert!(e.contains("sslmode") && e.contains("TLS"), "{e}");
    let e = create_engine("postgresql+wire://postgres@127.0.0.1/test?prepared_statements=false")
        .unwrap_err()
        .to_string();
    assert!(e.contains("prepared_statements"), "{e}");
    let e = create_engine("postgresql+nope://postgres@127.0.0.1/test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("postgresql+wire"), "{e}");
    Ok(())
}

#[test]
fn values_round_trip_through_parameters_and_columns() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let row = conn
        .execute(
            text(
                "SELECT :i::int4 AS i, :big::int8 AS big, :s::int2 AS s, :f::float8 AS f, \
                 :t::text AS t, :b::bool AS b, :blob::bytea AS blob, :n::numeric AS n, \
                 :none::text AS none, :d::date AS d, :ts::timestamp AS ts, :j::jsonb AS j, \
                 :u::uuid AS u, ARRAY[1, 2, NULL]::int4[] AS arr",
            )
            .bind("i", 42)
            .bind("big", 9_000_000_000_i64)
            .bind("s", -7)
            .bind("f", 1.5)
            .bind("t", "héllo")
            .bind("b", true)
            .bind("blob", vec![0u8, 1, 255])
            .bind("n", Value::Decimal("12345.678".into()))
            .bind("none", Option::<String>::None)
            .bind("d", Value::Date(19_000))
            .bind("ts", Value::Timestamp(1_700_000_000_123_456))
            .bind("j", Value::Json(r#"{"a": [1, 2]}"#.into()))
            .bind("u", Value::Uuid([7; 16])),
        )?
        .one()?;
    assert_eq!(row.get::<i32>("i")?, 42);
    assert_eq!(row.get::<i64>("big")?, 9_000_000_000);
    assert_eq!(row.get::<i16>("s")?, -7);
    assert_eq!(row.get::<f64>("f")?, 1.5);
    assert_eq!(row.get::<String>("t")?, "héllo");
    assert!(row.get::<bool>("b")?);
    assert_eq!(row.get::<Vec<u8>>("blob")?, vec![0, 1, 255]);
    assert_eq!(row.get::<Value>("n")?, Value::Decimal("12345.678".into()));
    assert_eq!(row.get::<Option<String>>("none")?, None);
    assert_eq!(row.get::<Value>("d")?, Value::Date(19_000));
    assert_eq!(
        row.get::<Value>("ts")?,
        Value::Timestamp(1_700_000_000_123_456)
    );
    assert_eq!(
        row.get::<Value>("j")?,
        Value::Json(r#"{"a": [1, 2]}"#.into())
    );
    assert_eq!(row.get::<Value>("u")?, Value::Uuid([7; 16]));
    assert_eq!(
        row.get::<Value>("arr")?,
        Value::Array(vec![Value::I64(1), Value::I64(2), Value::Null])
    );
    Ok(())
}

#[test]
fn enums_and_their_arrays_decode_as_text() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let ty = unique("mood");
    conn.execute(text(format!(
        "CREATE TYPE {ty} AS ENUM ('sad', 'ok', 'happy')"
    )))?;
    let r = (|| -> quarry::Result<()> {
        let row = conn
            .execute(
                text(format!(
                    "SELECT :m::{ty} AS m, ARRAY['sad', 'happy']::{ty}[] AS ms"
                ))
                .bind("m", "ok"),
            )?
            .one()?;
        assert_eq!(row.get::<String>("m")?, "ok");
        assert_eq!(
            row.get::<Value>("ms")?,
            Value::Array(vec![Value::Text("sad".into()), Value::Text("happy".into())])
        );
        Ok(())
    })();
    conn.execute(text(format!("DROP TYPE {ty}")))?;
    r
}

#[test]
fn server_errors_are_classified_and_the_connection_stays_usable() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let table = unique("errors");
    conn.execute(text(format!(
        "CREATE TEMP TABLE {table} (id int PRIMARY KEY, name text NOT NULL)"
    )))?;
    conn.execute(text(format!("INSERT INTO {table} VALUES (1, 'a')")))?;

    let e = conn
        .execute(text(format!("INSERT INTO {table} VALUES (1, 'b')")))
        .unwrap_err();
    let db = db_error(&e);
    assert_eq!(db.kind(), DatabaseErrorKind::UniqueViolation, "{e}");
    assert_eq!(db.sqlstate(), Some("23505"));
    assert!(!e.is_disconnect());
    assert!(e.to_string().contains("duplicate key"), "{e}");

    let e = conn
        .execute(text(format!("INSERT INTO {table} VALUES (2, NULL)")))
        .unwrap_err();
    assert_eq!(db_error(&e).kind(), DatabaseErrorKind::NotNullViolation);

    // A parse error (nothing prepared), then the same connection answers.
    let e = conn.execute(text("SELEC 1")).unwrap_err();
    assert_eq!(db_error(&e).kind(), DatabaseErrorKind::Syntax, "{e}");
    assert_eq!(db_error(&e).sqlstate(), Some("42601"));

    // An error at execution of a prepared statement, then the same statement succeeds.
    let divide = format!("SELECT 10 / id AS q FROM {table} WHERE id = :id");
    conn.execute(text(format!("INSERT INTO {table} VALUES (0, 'zero')")))?;
    let e = conn
        .execute(text(divide.clone()).bind("id", 0))
        .unwrap_err();
    assert_eq!(db_error(&e).sqlstate(), Some("22012"), "{e}");
    let q: i32 = conn
        .execute(text(divide.clone()).bind("id", 1).columns::<i32>())?
        .scalar()?;
    assert_eq!(q, 10);

    // A parameter the placeholder's type cannot hold: refused, nothing sent, still usable.
    let e = conn
        .execute(text("SELECT :v::int2 AS v").bind("v", 100_000))
        .unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    // A column that does not decode into the asked type: the rest of the result is read.
    let e = conn
        .execute(text(format!("SELECT name FROM {table} ORDER BY id")).columns::<i64>())
        .and_then(|rows| rows.all())
        .unwrap_err();
    assert!(!e.is_disconnect(), "{e}");
    let n: i64 = conn
        .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())?
        .scalar()?;
    assert_eq!(n, 2);
    Ok(())
}

#[test]
fn transactions_follow_the_servers_status() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let table = unique("tx");
    let mut conn = engine.connect()?;
    conn.execute(text(format!("CREATE TABLE {table} (id int PRIMARY KEY)")))?;
    let r = (|| -> quarry::Result<()> {
        {
            let mut tx = conn.begin()?;
            tx.execute(text(format!("INSERT INTO {table} VALUES (1)")))?;
            tx.rollback()?;
        }
        {
            let mut tx = conn.begin()?;
            tx.execute(text(format!("INSERT INTO {table} VALUES (2)")))?;
            tx.commit()?;
        }
        // A failed statement aborts the transaction; rolling back makes the connection good.
        {
            let mut tx = conn.begin()?;
            assert!(tx.execute(text("SELECT 1 / 0")).is_err());
            let e = tx.execute(text("SELECT 1")).unwrap_err();
            assert_eq!(db_error(&e).sqlstate(), Some("25P02"), "{e}");
            tx.rollback()?;
        }
        // BEGIN sent as text is seen, and the pool's reset rolls it back.
        conn.execute(text("BEGIN"))?;
        assert!(conn.in_transaction() || conn.execute(text("SELECT 1")).is_ok());
        conn.execute(text(format!("INSERT INTO {table} VALUES (3)")))?;
        conn.execute(text("ROLLBACK"))?;
        let ids: Vec<i32> = conn
            .execute(text(format!("SELECT id FROM {table} ORDER BY id")).columns::<i32>())?
            .all()?;
        assert_eq!(ids, [2]);
        Ok(())
    })();
    conn.execute(text(format!("DROP TABLE {table}")))?;
    r
}

#[test]
fn a_large_result_arrives_whole_and_in_order() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let rows: Vec<(i32, String)> = conn
        .execute(
            text(
                "SELECT g AS id, repeat('x', g % 300) || g::text AS name \
                 FROM generate_series(1, :n) AS g ORDER BY g",
            )
            .bind("n", 1_000)
            .columns::<(i32, String)>(),
        )?
        .all()?;
    assert_eq!(rows.len(), 1_000);
    for (i, (id, name)) in rows.iter().enumerate() {
        let g = i as i32 + 1;
        assert_eq!(*id, g);
        assert_eq!(*name, format!("{}{g}", "x".repeat((g % 300) as usize)));
    }
    // A value larger than the read buffer (64 KiB).
    let big: String = conn
        .execute(text("SELECT repeat('y', 300000) AS big").columns::<String>())?
        .scalar()?;
    assert_eq!(big.len(), 300_000);
    // Many statements: the cache (256) evicts and closes, and every statement still runs.
    for i in 0..300 {
        let n: i32 = conn
            .execute(
                text(format!("SELECT {i} + :x AS n"))
                    .bind("x", 1)
                    .columns::<i32>(),
            )?
            .scalar()?;
        assert_eq!(n, i + 1);
    }
    Ok(())
}

#[test]
fn a_statement_whose_result_type_changed_is_prepared_again() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let table = unique("ddl");
    let mut conn = engine.connect()?;
    conn.execute(text(format!("CREATE TABLE {table} (a int)")))?;
    conn.execute(text(format!("INSERT INTO {table} VALUES (1)")))?;
    let select = format!("SELECT * FROM {table}");
    assert_eq!(conn.execute(text(select.clone()))?.all()?.len(), 1);
    conn.execute(text(format!("ALTER TABLE {table} ADD COLUMN b text")))?;
    let rows = conn.execute(text(select.clone()))?.all()?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<Option<String>>("b")?, None);
    // The server's statements dropped behind the driver's back: prepared again.
    conn.execute(text("DEALLOCATE ALL"))?;
    assert_eq!(conn.execute(text(select.clone()))?.all()?.len(), 1);
    conn.execute(text(format!("DROP TABLE {table}")))?;
    Ok(())
}

#[test]
fn batch_runs_several_statements_and_notices_are_skipped() -> quarry::Result<()> {
    if engine().is_none() {
        return Ok(());
    }
    let table = unique("batch");
    let setup = format!(
        "CREATE TEMP TABLE {table} (id int); INSERT INTO {table} VALUES (1), (2); \
         DO $$ BEGIN RAISE NOTICE 'hello'; END $$; COPY {table} TO STDOUT"
    );
    let engine = Engine::builder(wire_url())
        .on_connect(move |conn, _info| conn.batch(&setup))
        .build()?;
    let mut conn = engine.connect()?;
    let n: i64 = conn
        .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())?
        .scalar()?;
    assert_eq!(n, 2);
    // COPY FROM STDIN has no data in a batch: an error, and the connection goes on.
    let bad = Engine::builder(wire_url())
        .on_connect(move |conn, _info| {
            let e = conn
                .batch("CREATE TEMP TABLE c (id int); COPY c FROM STDIN")
                .unwrap_err();
            assert!(e.to_string().contains("COPY FROM STDIN"), "{e}");
            assert!(!e.is_disconnect());
            conn.batch("SELECT 1")
        })
        .build()?;
    bad.connect()?;
    Ok(())
}

#[test]
fn a_statement_timeout_cancels_and_the_connection_goes_on() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    conn.execution_options(
        quarry::ExecutionOptions::default().timeout(std::time::Duration::from_millis(100)),
    )?;
    let e = conn.execute(text("SELECT pg_sleep(5)")).unwrap_err();
    assert_eq!(db_error(&e).sqlstate(), Some("57014"), "{e}");
    assert!(!e.is_disconnect(), "{e}");
    let one: i32 = conn.execute(text("SELECT 1").columns::<i32>())?.scalar()?;
    assert_eq!(one, 1);
    Ok(())
}

#[test]
fn a_terminated_backend_is_a_disconnect_and_the_pool_replaces_it() -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let pid: i32 = conn
        .execute(text("SELECT pg_backend_pid()").columns::<i32>())?
        .scalar()?;
    let other = create_engine(&wire_url())?;
    let killed: bool = other
        .connect()?
        .execute(
            text("SELECT pg_terminate_backend(:pid)")
                .bind("pid", pid)
                .columns::<bool>(),
        )?
        .scalar()?;
    assert!(killed);
    let e = conn.execute(text("SELECT 1")).unwrap_err();
    assert!(e.is_disconnect(), "{e}");
    // The server's last words, read before the end of the stream.
    assert!(e.to_string().contains("terminating connection"), "{e}");
    drop(conn);
    let pid_after: i32 = engine
        .connect()?
        .execute(text("SELECT pg_backend_pid()").columns::<i32>())?
        .scalar()?;
    assert_ne!(pid_after, pid);
    Ok(())
}

/// Log in as `role`, created here with a password, through `pg_hba`'s rule for that role
/// (`method`), which the server's `pg_hba.conf` must have ahead of its `trust` lines (the local
/// test server has them; see the module's documentation); without it the server would not ask
/// for the password, and the test says so and passes.
fn login_with_password(role: &str, method: &str) -> quarry::Result<()> {
    let Some(engine) = engine() else {
        return Ok(());
    };
    let mut conn = engine.connect()?;
    let rule: Option<String> = conn
        .execute(
            text(
                "SELECT auth_method FROM pg_hba_file_rules \
                 WHERE :role = ANY(user_name) AND type = 'host' LIMIT 1",
            )
            .bind("role", role)
            .columns::<String>(),
        )?
        .all()?
        .into_iter()
        .next();
    if rule.as_deref() != Some(method) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and no pg_hba rule asks {role} for a {method} password \
             (`cargo xtask test` adds the lines; see tests/pg_wire.rs)"
        );
        eprintln!("skipped: no pg_hba rule asks {role} for a {method} password");
        return Ok(());
    }
    let encryption = if method == "md5" {
        "md5"
    } else {
        "scram-sha-256"
    };
    conn.execute(text(format!("SET password_encryption = '{encryption}'")))?;
    conn.execute(text(format!("DROP ROLE IF EXISTS {role}")))?;
    conn.execute(text(format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'pa:ss word'"
    )))?;
    let r = (|| -> quarry::Result<()> {
        let base = wire_url();
        let rest = base
            .split_once('@')
            .map_or("127.0.0.1:5432/test", |(_, r)| r);
        let url = format!("postgresql+wire://{role}:pa%3Ass%20word@{rest}");
        let who: String = create_engine(&url)?
            .connect()?
            .execute(text("SELECT current_user::text").columns::<String>())?
            .scalar()?;
        assert_eq!(who, role);
        // The wrong password: a connection error naming the failure.
        let url = format!("postgresql+wire://{role}:wrong@{rest}");
        let e = create_engine(&url)?.connect().unwrap_err();
        assert!(e.is_disconnect(), "{e}");
        assert_eq!(db_error(&e).sqlstate(), Some("28P01"), "{e}");
        let url = format!("postgresql+wire://{role}@{rest}");
        let e = create_engine(&url)?.connect().unwrap_err().to_string();
        assert!(e.contains("has none"), "{e}");
        Ok(())
    })();
    conn.execute(text(format!("DROP ROLE {role}")))?;
    r
}

#[test]
fn a_role_with_a_scram_password_logs_in() -> quarry::Result<()> {
    login_with_password("quarry_wire_scram", "scram-sha-256")
}

#[test]
fn a_role_with_an_md5_password_logs_in() -> quarry::Result<()> {
    login_with_password("quarry_wire_md5", "md5")
}

#[test]
fn a_role_with_a_cleartext_password_logs_in() -> quarry::Result<()> {
    login_with_password("quarry_wire_password", "password")
}
