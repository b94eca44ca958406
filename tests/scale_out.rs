//! Past one server (issue 24, items 2 and 3): multi-host URLs as libpq reads them, on
//! PostgreSQL and MySQL/MariaDB, and `.prepared_statements(false)` through pgbouncer in
//! transaction mode.
//!
//! The tests that need a topology of `cargo xtask db cluster start` — the hot standby on
//! 127.0.0.1:5433, pgbouncer on 127.0.0.1:6432, the Galera nodes on 3307–3309 — skip with a
//! printed reason when it is not running, even with `CI=true` (only `QUARRY_CLUSTER=1`, which
//! `cargo xtask test --cluster` sets after starting them, makes them fail instead). The
//! others need only the single servers and follow `tests/support` (a failure under `CI=true`).

use std::sync::atomic::{AtomicUsize, Ordering};

use quarry::prelude::*;
use quarry::{Error, Url};

mod support;

fn standby_url() -> String {
    std::env::var("QUARRY_PG_REPLICA_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5433/test".into())
}

fn pgbouncer_url() -> String {
    std::env::var("QUARRY_PGBOUNCER_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:6432/test".into())
}

fn galera_urls() -> Vec<String> {
    std::env::var("QUARRY_GALERA_URLS")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| {
            (3307..=3309)
                .map(|p| format!("mysql://root@127.0.0.1:{p}/test"))
                .collect()
        })
}

/// `host:port` of a URL.
fn host_port(url: &str) -> String {
    let u: Url = url.parse().expect("a URL");
    format!(
        "{}:{}",
        u.host().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(0)
    )
}

/// `base` (a one-host URL) with its host list replaced by `hosts` and `query` appended.
fn multi(base: &str, hosts: &[String], query: &str) -> String {
    let u: Url = base.parse().expect("a URL");
    let user = u.username().map(|n| format!("{n}@")).unwrap_or_default();
    let db = u.database().unwrap_or("test");
    format!(
        "{}://{user}{}/{db}{query}",
        u.dialect_name(),
        hosts.join(",")
    )
}

/// The first column of the first row of `sql`, as text.
fn probe(engine: &Engine, sql: &str) -> Result<String, Error> {
    let mut conn = engine.connect()?;
    let row = conn.execute(text(sql.to_owned()))?.one()?;
    row.get::<String>(0)
}

/// Whether the single PostgreSQL server of the live suites is up (else skipped or, with
/// `CI=true`, failed by `support`).
fn postgres_up() -> bool {
    support::backends("scale_out_probe")
        .iter()
        .any(|b| b.is_postgres())
}

fn mysql_up() -> bool {
    support::backends("scale_out_probe")
        .iter()
        .any(|b| b.is_mysql())
}

/// Whether the hot standby answers as a standby; skips (printing why) when not.
fn standby_up() -> bool {
    let url = standby_url();
    let engine = match Engine::builder(&url)
        .connect_arg("connect_timeout", "2")
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            support::cluster_unavailable("PostgreSQL hot standby", e.to_string());
            return false;
        }
    };
    match probe(&engine, "SELECT pg_is_in_recovery()::text") {
        Ok(v) if v == "true" => true,
        other => {
            support::cluster_unavailable(
                "PostgreSQL hot standby",
                format!("{url}: {other:?}; start it with `cargo xtask db cluster start`"),
            );
            false
        }
    }
}

// ---- multi-host URLs: PostgreSQL ------------------------------------------------------------

#[test]
fn a_host_that_refuses_is_skipped_for_the_next() {
    if !cfg!(feature = "postgres") || !postgres_up() {
        return;
    }
    let primary = support::postgres_url();
    // Nothing listens on port 1 of the loopback.
    let url = multi(
        &primary,
        &["127.0.0.1:1".into(), host_port(&primary)],
        "?connect_timeout=2",
    );
    let engine = create_engine(&url).unwrap();
    let port = probe(&engine, "SELECT inet_server_port()::text").unwrap();
    assert_eq!(
        port,
        Url::parse(&primary)
            .unwrap()
            .port()
            .unwrap_or(5432)
            .to_string()
    );
    // Every host down: the error names them all, and it is a disconnect.
    let engine = create_engine(&multi(
        &primary,
        &["127.0.0.1:1".into(), "127.0.0.1:2".into()],
        "?connect_timeout=2",
    ))
    .unwrap();
    let err = engine.connect().map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("127.0.0.1:1,127.0.0.1:2"), "{err}");
}

#[test]
fn target_session_attrs_pick_the_primary_or_the_standby() {
    if !cfg!(feature = "postgres") || !postgres_up() || !standby_up() {
        return;
    }
    let primary = support::postgres_url();
    let both = [host_port(&standby_url()), host_port(&primary)];
    let reversed = [both[1].clone(), both[0].clone()];
    let in_recovery = |hosts: &[String], attrs: &str| {
        let url = multi(
            &primary,
            hosts,
            &format!("?target_session_attrs={attrs}&connect_timeout=2"),
        );
        let engine = create_engine(&url).unwrap();
        probe(&engine, "SELECT pg_is_in_recovery()::text").unwrap_or_else(|e| panic!("{url}: {e}"))
    };
    // The standby is listed first; read-write passes it over.
    assert_eq!(in_recovery(&both, "read-write"), "false");
    assert_eq!(in_recovery(&both, "any"), "true");
    // The primary first; read-only and prefer-standby go on to the standby.
    assert_eq!(in_recovery(&reversed, "read-only"), "true");
    assert_eq!(in_recovery(&reversed, "prefer-standby"), "true");
    // No standby listed: prefer-standby settles for the primary, read-only fails.
    assert_eq!(in_recovery(&both[1..], "prefer-standby"), "false");
    let url = multi(&primary, &both[1..], "?target_session_attrs=read-only");
    let err = create_engine(&url)
        .unwrap()
        .connect()
        .map(|_| ())
        .unwrap_err();
    assert!(err.is_disconnect(), "{err}");
}

#[test]
fn bad_target_session_attrs_name_the_allowed_values() {
    for url in [
        "postgresql://h1,h2/db?target_session_attrs=primary",
        "mysql://h1,h2/db?target_session_attrs=primary",
    ] {
        let err = create_engine(url).map(|_| ()).unwrap_err().to_string();
        assert!(
            err.contains("target_session_attrs=primary is not one of any, read-write, read-only, prefer-standby"),
            "{err}"
        );
    }
}

// ---- multi-host URLs: MySQL / MariaDB -------------------------------------------------------

#[test]
fn mysql_hosts_are_tried_in_order() {
    if !cfg!(feature = "mysql") || !mysql_up() {
        return;
    }
    let server = support::mysql_url();
    let url = multi(
        &server,
        &["127.0.0.1:1".into(), host_port(&server)],
        "?connect_timeout=2",
    );
    let engine = create_engine(&url).unwrap();
    let port = probe(&engine, "SELECT CAST(@@port AS CHAR)").unwrap();
    assert_eq!(
        port,
        Url::parse(&server)
            .unwrap()
            .port()
            .unwrap_or(3306)
            .to_string()
    );
    // A writable server is not read-only: read-only finds none, prefer-standby takes it.
    let only = [host_port(&server)];
    let err = create_engine(&multi(&server, &only, "?target_session_attrs=read-only"))
        .unwrap()
        .connect()
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("not read-only"), "{err}");
    let engine = create_engine(&multi(
        &server,
        &only,
        "?target_session_attrs=prefer-standby",
    ))
    .unwrap();
    probe(&engine, "SELECT 'ok'").unwrap();
}

#[test]
fn galera_nodes_as_a_multi_host_url_fail_over_to_the_next_node() {
    if !cfg!(feature = "mysql") {
        return;
    }
    let nodes = galera_urls();
    let first = Engine::builder(&nodes[0])
        .connect_arg("connect_timeout", "2")
        .build()
        .unwrap();
    if let Err(e) = probe(&first, "SELECT 'up'") {
        support::cluster_unavailable("MariaDB Galera cluster", e.to_string());
        return;
    }
    // A dead node first, then two live ones: the first live one serves.
    let mut hosts = vec!["127.0.0.1:1".to_owned()];
    hosts.extend(nodes[1..].iter().map(|u| host_port(u)));
    let url = multi(
        &nodes[0],
        &hosts,
        "?connect_timeout=2&target_session_attrs=read-write",
    );
    let engine = create_engine(&url).unwrap();
    let port = probe(&engine, "SELECT CAST(@@port AS CHAR)").unwrap();
    assert_eq!(
        port,
        Url::parse(&nodes[1]).unwrap().port().unwrap().to_string()
    );
}

// ---- pgbouncer in transaction mode ----------------------------------------------------------

mod pooled {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// A table of this test's own (pgbouncer ignores `options`, so no schema of its own:
    /// the name is unique to the run, and the table is dropped at the end).
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "q_pgbouncer_items", metadata = META)]
    pub struct Item {
        #[column(primary_key)]
        pub id: i64,
        pub name: String,
        pub note: Option<String>,
    }
}

/// An engine on pgbouncer with prepared statements off, or `None` (skipped) when pgbouncer is
/// not running.
fn pgbouncer() -> Option<Engine> {
    if !cfg!(feature = "postgres") {
        return None;
    }
    let url = pgbouncer_url();
    let engine = Engine::builder(&url)
        .prepared_statements(false)
        .connect_arg("connect_timeout", "2")
        .pool_size(4)
        .build()
        .expect("pgbouncer engine");
    match probe(&engine, "SELECT 'up'") {
        Ok(_) => Some(engine),
        // Anything but an unreachable pgbouncer is this test's failure, not a skip.
        Err(e) if !e.is_disconnect() => panic!("{url}: {e}"),
        Err(e) => {
            support::cluster_unavailable(
                "pgbouncer (transaction mode)",
                format!("{url}: {e}; start it with `cargo xtask db cluster start`"),
            );
            None
        }
    }
}

static TABLES: AtomicUsize = AtomicUsize::new(0);

#[test]
fn statements_run_through_pgbouncer_in_transaction_mode_without_prepared_statements() {
    use pooled::Item;
    let Some(engine) = pgbouncer() else {
        return;
    };
    // One run at a time owns the table: a unique suffix would need run-time tables.
    let _ = TABLES.fetch_add(1, Ordering::Relaxed);
    engine
        .connect()
        .unwrap()
        .execute(text("DROP TABLE IF EXISTS q_pgbouncer_items"))
        .unwrap();
    pooled::META.create_all(&engine).unwrap();
    let run = || -> Result<(), Error> {
        let mut conn = engine.connect()?;
        for i in 0..20 {
            conn.execute(insert!(Item {
                name: format!("n{i}"),
                note: if i % 2 == 0 {
                    None
                } else {
                    Some("odd".to_owned())
                }
            }))?;
        }
        // Statements of every shape, each on whichever server connection pgbouncer picks.
        let odd: Vec<Item> = conn
            .execute(select!(Item WHERE Item::note == "odd" ORDER BY Item::id))?
            .all()?;
        assert_eq!(odd.len(), 10);
        let n: i64 = conn
            .execute(select!(count(Item::id) FROM Item WHERE Item::note.is_null()))?
            .scalar()?;
        assert_eq!(n, 10);
        // Text left for the server to type: into a date, compared with an integer.
        let born = conn
            .execute(
                text("SELECT (:d)::date + 1 AS next, name FROM q_pgbouncer_items WHERE id = :id")
                    .bind("d", "1999-12-31")
                    .bind("id", "1"),
            )?
            .one()?;
        assert_eq!(born.get::<quarry::Value>(0)?, quarry::Value::Date(10_957));
        assert_eq!(born.get::<String>(1)?, "n0");
        // A transaction keeps one server connection: its savepoint and rollback hold.
        {
            let mut tx = conn.begin()?;
            tx.execute(update!(Item SET name = "changed" WHERE Item::id == 2))?;
            {
                let sp = tx.begin_nested()?;
                drop(sp);
            }
            tx.rollback()?;
        }
        let name: String = conn
            .execute(select!(Item::name FROM Item WHERE Item::id == 2))?
            .scalar()?;
        assert_eq!(name, "n1");
        Ok(())
    };
    let result = run();
    // Several threads at once, more than pgbouncer's server connections per client.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || -> Result<i64, Error> {
                let mut sum = 0;
                for _ in 0..25 {
                    sum += engine
                        .execute(select!(count(Item::id) FROM Item WHERE Item::id > t))?
                        .scalar()?;
                }
                Ok(sum)
            })
        })
        .collect();
    let sums: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let _ = engine
        .connect()
        .and_then(|mut c| c.execute(text("DROP TABLE IF EXISTS q_pgbouncer_items")));
    result.unwrap();
    for (t, sum) in sums.into_iter().enumerate() {
        assert_eq!(sum.unwrap(), 25 * (20 - t as i64));
    }
}

#[test]
fn session_state_through_pgbouncer_is_refused_naming_its_transaction_mode() {
    let Some(engine) = pgbouncer() else {
        return;
    };
    let mut conn = engine.connect().unwrap();
    for sql in [
        "LISTEN quarry_events",
        "SET statement_timeout = 1000",
        "PREPARE p AS SELECT 1",
    ] {
        let err = conn.execute(text(sql)).map(|_| ()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Unsupported { .. }), "{sql}: {msg}");
        assert!(msg.contains("pgbouncer's transaction mode"), "{sql}: {msg}");
    }
    // SET LOCAL lives as long as its transaction: allowed.
    let mut tx = conn.begin().unwrap();
    tx.execute(text("SET LOCAL statement_timeout = 1000"))
        .unwrap();
    tx.commit().unwrap();
    let err = conn
        .execution_options(
            quarry::ExecutionOptions::default().timeout(std::time::Duration::from_secs(1)),
        )
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string().contains("pgbouncer's transaction mode"),
        "{err}"
    );
    let err = Engine::builder(pgbouncer_url())
        .prepared_statements(false)
        .isolation_level(quarry::IsolationLevel::Serializable)
        .build()
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string().contains("pgbouncer's transaction mode"),
        "{err}"
    );
}

#[test]
fn prepared_statements_false_is_refused_where_it_means_nothing() {
    for url in ["sqlite://", "mysql://u@h/db"] {
        let err = Engine::builder(url)
            .prepared_statements(false)
            .build()
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("prepared_statements=false"), "{url}: {err}");
        assert!(err.contains("pgbouncer"), "{url}: {err}");
        Engine::builder(url)
            .prepared_statements(true)
            .build()
            .unwrap();
    }
}

#[test]
fn a_streamed_result_through_pgbouncer_arrives_whole_and_in_order() {
    let Some(engine) = pgbouncer() else {
        return;
    };
    let mut conn = engine.connect().unwrap();
    conn.execution_options(quarry::ExecutionOptions::default().yield_per(100))
        .unwrap();
    let rows = conn
        .stream(
            text("SELECT n::int8 FROM generate_series(1, 20000) AS n ORDER BY n").columns::<i64>(),
        )
        .unwrap();
    assert!(rows.is_streamed());
    let mut expected = 1;
    for n in rows {
        assert_eq!(n.unwrap(), expected);
        expected += 1;
    }
    assert_eq!(expected, 20_001);
    let none: Vec<i64> = conn
        .stream(text("SELECT 1::int8 WHERE false").columns::<i64>())
        .unwrap()
        .all()
        .unwrap();
    assert!(none.is_empty());
    drop(conn);
    assert_eq!(engine.pool().status().checked_out, 0);
}
