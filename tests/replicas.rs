//! Read/write routing over replicas (`EngineBuilder::replicas`), on every backend.
//!
//! The routing tests give each backend two databases of its own — the "primary" and the
//! "replica" — each holding a row that says which one it is, so every statement shows where
//! it ran. The hot-standby test (`reads_land_on_the_postgres_standby`) uses the real streaming
//! replica that `cargo xtask db cluster start` runs on 127.0.0.1:5433.

mod support;

use std::time::Duration;

use quarry::Route;
use quarry::prelude::*;
use support::Backend;

/// Pairs of backends (primary, replica) of the same kind, each with a table `place` whose one
/// row says `primary` or `replica`. Memory SQLite is left out: its replica would be a new empty
/// database per connection.
fn pairs(tag: &str) -> Vec<(Backend, Backend)> {
    let primaries = support::backends(&format!("{tag}_p"));
    let mut replicas = support::backends(&format!("{tag}_r"));
    let mut out = Vec::new();
    for primary in primaries {
        let Some(i) = replicas.iter().position(|r| r.name == primary.name) else {
            continue;
        };
        let replica = replicas.remove(i);
        if primary.name == "sqlite-memory" {
            continue;
        }
        for (backend, name) in [(&primary, "primary"), (&replica, "replica")] {
            let mut conn = backend.engine.connect().expect("connect");
            conn.execute(text("CREATE TABLE place (name VARCHAR(20))"))
                .expect("create place");
            conn.execute(text(format!("INSERT INTO place VALUES ('{name}')")))
                .expect("insert place");
        }
        out.push((primary, replica));
    }
    out
}

fn routed(primary: &Backend, replica: &Backend) -> Engine {
    Engine::builder(&primary.url)
        .replicas([replica.url.as_str()])
        .build()
        .expect("routed engine")
}

fn place_of(engine: &Engine) -> String {
    engine
        .execute(text("SELECT name FROM place").columns::<String>())
        .and_then(|rows| rows.scalar())
        .expect("read place")
}

fn place_on(conn: &mut Connection) -> String {
    conn.execute(text("SELECT name FROM place").columns::<String>())
        .and_then(|rows| rows.scalar())
        .expect("read place")
}

fn count(engine: &Engine, table: &str) -> i64 {
    engine
        .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
        .and_then(|rows| rows.scalar())
        .expect("count")
}

#[test]
fn reads_go_to_the_replica_and_writes_to_the_primary() {
    for (primary, replica) in pairs("route_rw") {
        let engine = routed(&primary, &replica);
        let name = primary.name;
        assert_eq!(place_of(&engine), "replica", "{name}: a plain read");
        assert_eq!(
            place_of(&engine.with_route(Route::Primary)),
            "primary",
            "{name}: Route::Primary forces the primary"
        );
        // A write goes to the primary: its row count grows, the replica's does not.
        engine
            .execute(text("INSERT INTO place VALUES ('written')"))
            .expect("insert");
        assert_eq!(count(&primary.engine, "place"), 2, "{name}");
        assert_eq!(count(&replica.engine, "place"), 1, "{name}");
        // DDL too.
        engine
            .execute(text("CREATE TABLE made_here (x INTEGER)"))
            .expect("create");
        assert_eq!(count(&primary.engine, "made_here"), 0, "{name}");
        assert!(
            replica
                .engine
                .execute(text("SELECT count(*) FROM made_here"))
                .is_err(),
            "{name}: DDL must not reach the replica"
        );
        // A row lock is a write's companion: the primary.
        if !primary.is_sqlite() {
            let rows = engine
                .execute(text("SELECT name FROM place FOR UPDATE").columns::<String>())
                .expect("for update")
                .all()
                .expect("rows");
            assert_eq!(rows.len(), 2, "{name}: FOR UPDATE reads the primary");
        }
        assert_eq!(engine.members().len(), 2, "{name}");
        assert!(engine.members().iter().all(|m| m.up), "{name}");
    }
}

#[test]
fn units_of_work_read_their_own_writes_on_the_primary() {
    for (primary, replica) in pairs("route_tx") {
        let engine = routed(&primary, &replica);
        let name = primary.name;
        let seen = engine
            .transaction(|conn| {
                conn.execute(text("INSERT INTO place VALUES ('in tx')"))?;
                conn.execute(text("SELECT count(*) FROM place").columns::<i64>())?
                    .scalar()
            })
            .expect("transaction");
        assert_eq!(seen, 2, "{name}: the transaction reads its own write");
        let mut conn = engine.connect().expect("connect");
        assert_eq!(
            place_on(&mut conn),
            "primary",
            "{name}: explicit connections are the primary's"
        );
        drop(conn);
        let tx = engine.begin().expect("begin");
        drop(tx);
        let mut conn = engine
            .with_route(Route::Replica)
            .connect()
            .expect("connect");
        assert_eq!(place_on(&mut conn), "replica", "{name}: Route::Replica");
        drop(conn);
        // A Session is a unit of work: the primary.
        let mut session = Session::new(&engine);
        let rows = session
            .execute(text("SELECT name FROM place").columns::<String>())
            .expect("session read")
            .all()
            .expect("rows");
        assert!(rows.contains(&"primary".to_string()), "{name}: {rows:?}");
        // The thread-local strategy shares one connection per thread: the primary.
        let local = Engine::builder(&primary.url)
            .replicas([replica.url.as_str()])
            .strategy(Strategy::ThreadLocal)
            .build()
            .expect("thread-local engine");
        assert_eq!(place_of(&local), "primary", "{name}: thread-local strategy");
    }
}

/// A replica URL that cannot connect, per backend.
fn dead_url(backend: &Backend) -> String {
    if backend.is_sqlite() {
        // A directory that does not exist: the file cannot be opened.
        "sqlite:////nonexistent-quarry-dir/replica.db".into()
    } else if backend.is_postgres() {
        "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2".into()
    } else {
        "mysql://root@127.0.0.1:1/test?connect_timeout=2".into()
    }
}

#[test]
fn a_dead_replica_is_taken_out_and_reads_fall_back_without_error() {
    for (primary, replica) in pairs("route_dead") {
        let name = primary.name;
        let engine = Engine::builder(&primary.url)
            .replicas([dead_url(&primary)])
            .replica_retry_after(Duration::from_millis(300))
            .build()
            .expect("engine");
        // Nothing up: the primary serves, the caller sees no error.
        assert_eq!(place_of(&engine), "primary", "{name}");
        let members = engine.members();
        assert!(
            !members[1].up,
            "{name}: the dead replica is out: {members:?}"
        );
        assert!(members[1].last_error.is_some(), "{name}");
        assert!(members[0].primary && !members[1].primary, "{name}");
        // Two replicas, one dead: reads keep landing on the live one.
        let engine = Engine::builder(&primary.url)
            .replicas([dead_url(&primary), replica.url.clone()])
            .build()
            .expect("engine");
        for _ in 0..4 {
            assert_eq!(place_of(&engine), "replica", "{name}");
        }
        // After `replica_retry_after` a failed replica is tried again.
        let engine = Engine::builder(&primary.url)
            .replicas([dead_url(&primary)])
            .replica_retry_after(Duration::from_millis(50))
            .build()
            .expect("engine");
        place_of(&engine);
        assert!(!engine.members()[1].up);
        std::thread::sleep(Duration::from_millis(80));
        assert!(engine.members()[1].up, "{name}: back in the rotation");
        drop(replica);
    }
}

#[test]
fn replicas_of_another_database_kind_are_refused() {
    let err = Engine::builder("sqlite://")
        .replicas(["postgresql://app:sekrit@127.0.0.1/db"])
        .build()
        .expect_err("a PostgreSQL replica of SQLite");
    let message = err.to_string();
    assert!(message.contains("replica"), "{message}");
    assert!(message.contains("postgresql"), "{message}");
    assert!(!message.contains("sekrit"), "{message}");
    let err = Engine::builder("sqlite://")
        .replicas(["sqlite://?mode=bogus"])
        .build()
        .expect_err("a bad replica URL");
    assert!(err.to_string().contains("mode"), "{err}");
}

/// The URL of the hot standby `cargo xtask db cluster start` runs.
fn standby_url() -> String {
    std::env::var("QUARRY_PG_REPLICA_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5433/test".into())
}

#[test]
fn reads_land_on_the_postgres_standby() {
    if !cfg!(feature = "postgres") {
        eprintln!("skipping: built without the `postgres` feature");
        return;
    }
    let standby = standby_url();
    let probe = Engine::builder(&standby)
        .connect_arg("connect_timeout", "2")
        .build()
        .expect("standby engine");
    let in_recovery = probe
        .execute(text("SELECT pg_is_in_recovery()").columns::<bool>())
        .and_then(|r| r.scalar());
    match in_recovery {
        Ok(true) => {}
        other => {
            support::cluster_unavailable(
                "PostgreSQL hot standby",
                format!(
                    "{standby} is not a standby in recovery ({other:?}); start it with `cargo xtask db cluster start`"
                ),
            );
            return;
        }
    }
    let Some(primary) = support::backends("route_standby")
        .into_iter()
        .find(Backend::is_postgres)
    else {
        return;
    };
    // The same schema on the standby: the primary's DDL replicates.
    let schema_arg = primary.url.split_once('?').map_or("", |(_, q)| q);
    let sep = if standby.contains('?') { '&' } else { '?' };
    let standby_in_schema = format!("{standby}{sep}{schema_arg}");
    let engine = Engine::builder(&primary.url)
        .replicas([standby_in_schema])
        .build()
        .expect("routed engine");
    let recovery = |e: &Engine| -> bool {
        e.execute(text("SELECT pg_is_in_recovery()").columns::<bool>())
            .and_then(|r| r.scalar())
            .expect("pg_is_in_recovery")
    };
    for _ in 0..3 {
        assert!(recovery(&engine), "a plain read lands on the standby");
    }
    assert!(!recovery(&engine.with_route(Route::Primary)));
    let in_tx = engine
        .transaction(|conn| {
            conn.execute(text("SELECT pg_is_in_recovery()").columns::<bool>())?
                .scalar()
        })
        .expect("transaction");
    assert!(!in_tx, "a transaction runs on the primary");
    // Writes go to the primary and stream to the standby.
    engine
        .execute(text("CREATE TABLE streamed (x INTEGER)"))
        .expect("create on the primary");
    engine
        .execute(text("INSERT INTO streamed VALUES (1), (2)"))
        .expect("insert on the primary");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match engine
            .execute(text("SELECT count(*) FROM streamed").columns::<i64>())
            .and_then(|r| r.scalar())
        {
            Ok(2) => break,
            other if std::time::Instant::now() > deadline => {
                panic!("the standby never saw the rows: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    // A write sent to the standby on purpose fails with the server's read-only error.
    let err = engine
        .with_route(Route::Replica)
        .execute(text("INSERT INTO streamed VALUES (3)"))
        .expect_err("the standby is read-only");
    assert!(err.to_string().contains("read-only"), "{err}");
}
