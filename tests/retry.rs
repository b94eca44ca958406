//! `Engine::transaction_with_retry` against real conflicts: threads incrementing one counter
//! through read-then-write transactions that deadlock (PostgreSQL, MariaDB) or fail to
//! serialize (PostgreSQL `REPEATABLE READ`) end with the exact total; the retry policy's
//! limits and the final error on every backend.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use quarry::prelude::*;
use quarry::{DatabaseError, DatabaseErrorKind, RetryPolicy};
use support::{Backend, backends};

const THREADS: usize = 4;
const INCREMENTS: usize = 3;

fn counter(b: &Backend) {
    let mut conn = b.engine.connect().unwrap();
    conn.execute(text(
        "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    ))
    .unwrap();
    conn.execute(text("INSERT INTO counters (id, n) VALUES (1, 0)"))
        .unwrap();
}

fn total(b: &Backend) -> i64 {
    b.engine
        .execute(text("SELECT n FROM counters WHERE id = 1"))
        .unwrap()
        .scalar()
        .unwrap()
}

fn patient() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(50)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(100))
}

/// Every thread reads the counter under a shared lock, then writes it: two such transactions
/// each hold the shared lock the other's write waits for — a deadlock the database breaks by
/// aborting one, which is run again.
#[test]
fn deadlocked_increments_are_retried_to_the_exact_total() {
    for b in backends("retry_deadlock") {
        if b.is_sqlite() {
            continue;
        }
        counter(&b);
        let (read, setup) = if b.is_postgres() {
            (
                "SELECT n FROM counters WHERE id = 1 FOR SHARE",
                // Detect deadlocks in 50 ms rather than the default second.
                "SET LOCAL deadlock_timeout = '50ms'",
            )
        } else {
            ("SELECT n FROM counters WHERE id = 1 LOCK IN SHARE MODE", "")
        };
        let runs = AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..INCREMENTS {
                        b.engine
                            .transaction_with_retry(patient(), |conn| {
                                runs.fetch_add(1, Ordering::Relaxed);
                                if !setup.is_empty() {
                                    conn.execute(text(setup))?;
                                }
                                let n: i64 = conn.execute(text(read))?.scalar()?;
                                std::thread::sleep(Duration::from_millis(20));
                                conn.execute(
                                    text("UPDATE counters SET n = :n WHERE id = 1")
                                        .bind("n", n + 1),
                                )?;
                                Ok(())
                            })
                            .expect("every increment lands in the end");
                    }
                });
            }
        });
        assert_eq!(total(&b), (THREADS * INCREMENTS) as i64, "{}", b.name);
        let runs = runs.load(Ordering::Relaxed) as usize;
        assert!(
            runs > THREADS * INCREMENTS,
            "{}: no transaction was retried ({runs} runs)",
            b.name
        );
    }
}

/// PostgreSQL `REPEATABLE READ`: a transaction writing a row another committed since its
/// snapshot fails with `40001` and is run again on a fresh snapshot — no lost update.
#[test]
fn serialization_failures_are_retried_without_lost_updates() {
    for b in backends("retry_serialization") {
        if !b.is_postgres() {
            continue;
        }
        counter(&b);
        let runs = AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..INCREMENTS {
                        b.engine
                            .transaction_with_retry(patient(), |conn| {
                                runs.fetch_add(1, Ordering::Relaxed);
                                conn.execute(text(
                                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                                ))?;
                                let n: i64 = conn
                                    .execute(text("SELECT n FROM counters WHERE id = 1"))?
                                    .scalar()?;
                                std::thread::sleep(Duration::from_millis(10));
                                conn.execute(
                                    text("UPDATE counters SET n = :n WHERE id = 1")
                                        .bind("n", n + 1),
                                )?;
                                Ok(())
                            })
                            .expect("every increment lands in the end");
                    }
                });
            }
        });
        assert_eq!(total(&b), (THREADS * INCREMENTS) as i64);
        assert!(runs.load(Ordering::Relaxed) as usize > THREADS * INCREMENTS);
    }
}

#[test]
fn a_retryable_error_on_the_last_attempt_says_how_many_attempts_were_made() {
    for b in backends("retry_exhausted") {
        counter(&b);
        let runs = AtomicU32::new(0);
        let err = b
            .engine
            .transaction_with_retry(
                RetryPolicy::default()
                    .max_attempts(3)
                    .initial_backoff(Duration::from_millis(1)),
                |conn| -> quarry::Result<()> {
                    runs.fetch_add(1, Ordering::Relaxed);
                    conn.execute(text("UPDATE counters SET n = n + 1 WHERE id = 1"))?;
                    Err(
                        DatabaseError::new(DatabaseErrorKind::Deadlock, "deadlock detected")
                            .into_error(),
                    )
                },
            )
            .unwrap_err();
        assert_eq!(runs.load(Ordering::Relaxed), 3, "{}", b.name);
        assert!(
            matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
            "{}: {err:?}",
            b.name
        );
        assert_eq!(
            err.to_string(),
            "gave up after 3 attempts: deadlock detected",
            "{}",
            b.name
        );
        assert_eq!(
            err.as_database().map(DatabaseError::kind),
            Some(DatabaseErrorKind::Deadlock)
        );
        // Every attempt was rolled back.
        assert_eq!(total(&b), 0, "{}", b.name);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
    }
}

#[test]
fn other_errors_are_not_retried() {
    for b in backends("retry_other") {
        counter(&b);
        let runs = AtomicU32::new(0);
        let err = b
            .engine
            .transaction_with_retry(RetryPolicy::default(), |conn| {
                runs.fetch_add(1, Ordering::Relaxed);
                conn.execute(text("INSERT INTO counters (id, n) VALUES (1, 5)"))?;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(runs.load(Ordering::Relaxed), 1, "{}", b.name);
        assert_eq!(
            err.as_database().map(DatabaseError::kind),
            Some(DatabaseErrorKind::UniqueViolation),
            "{}",
            b.name
        );
    }
}

/// The MariaDB Galera cluster of `cargo xtask db cluster start` (ports 3307-3309, or
/// `QUARRY_GALERA_URLS`): skipped when it is not running, unless `QUARRY_CLUSTER=1`.
fn galera_nodes() -> Option<Vec<String>> {
    let urls: Vec<String> = std::env::var("QUARRY_GALERA_URLS")
        .unwrap_or_else(|_| {
            "mysql://root@127.0.0.1:3307/test,mysql://root@127.0.0.1:3308/test".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect();
    let reachable = urls.len() >= 2
        && urls.iter().all(|u| {
            Engine::builder(u.as_str())
                .pool_size(1)
                .build()
                .and_then(|e| e.connect().map(drop))
                .is_ok()
        });
    if reachable {
        return Some(urls);
    }
    if std::env::var("QUARRY_CLUSTER").is_ok_and(|v| v == "1") {
        panic!("QUARRY_CLUSTER=1 and the Galera cluster is not reachable at {urls:?}");
    }
    eprintln!("skipping the Galera test: the cluster is not reachable at {urls:?}");
    None
}

/// `url` with its database replaced by `db`.
fn on_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{db}")
}

/// Two Galera nodes updating one row: the transaction certified second is aborted at
/// `COMMIT` with a retryable error, and `transaction_with_retry` across the nodes ends with
/// the exact total.
#[test]
fn galera_commit_conflicts_are_retryable_and_retried() {
    let Some(urls) = galera_nodes() else { return };
    let db = format!("q_types_galera_{}", std::process::id());
    let admin = Engine::builder(urls[0].as_str()).build().unwrap();
    let mut conn = admin.connect().unwrap();
    conn.execute(text(format!("CREATE DATABASE {db}"))).unwrap();
    let nodes: Vec<Engine> = urls
        .iter()
        .map(|u| Engine::builder(on_database(u, &db)).build().unwrap())
        .collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        nodes[0]
            .execute(text(
                "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
            ))
            .unwrap();
        nodes[0]
            .execute(text("INSERT INTO counters (id, n) VALUES (1, 0)"))
            .unwrap();
        // Let the row reach the second node.
        std::thread::sleep(Duration::from_millis(300));

        // A conflict produced for real: node 0's open transaction loses to node 1's commit.
        let mut first = nodes[0].connect().unwrap();
        let mut tx = first.begin().unwrap();
        tx.execute(text("UPDATE counters SET n = n + 10 WHERE id = 1"))
            .unwrap();
        nodes[1]
            .execute(text("UPDATE counters SET n = n + 100 WHERE id = 1"))
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let err = match tx.commit() {
            Err(e) => e,
            Ok(()) => panic!("the second commit of one row on two nodes was certified"),
        };
        drop(first);
        assert!(err.is_retryable(), "{err}");
        let kind = err.as_database().map(DatabaseError::kind);
        assert!(
            matches!(
                kind,
                Some(DatabaseErrorKind::Deadlock | DatabaseErrorKind::ClusterConflict)
            ),
            "{err}"
        );

        // Threads on both nodes: every increment lands once.
        let runs = AtomicU32::new(0);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let engine = &nodes[t % nodes.len()];
                let runs = &runs;
                s.spawn(move || {
                    for _ in 0..INCREMENTS {
                        engine
                            .transaction_with_retry(patient(), |conn| {
                                runs.fetch_add(1, Ordering::Relaxed);
                                conn.execute(text("UPDATE counters SET n = n + 1 WHERE id = 1"))?;
                                std::thread::sleep(Duration::from_millis(10));
                                Ok(())
                            })
                            .expect("every increment lands in the end");
                    }
                });
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        let n: i64 = nodes[1]
            .execute(text("SELECT n FROM counters WHERE id = 1"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 100 + (THREADS * INCREMENTS) as i64);
    }));
    for node in &nodes {
        node.dispose();
    }
    let _ = conn.execute(text(format!("DROP DATABASE IF EXISTS {db}")));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
