//! Cancellation safety of the async engine, on every backend: futures dropped at every await
//! point (with `tokio::time::timeout` and `tokio::select!`) — while checking out, mid-query,
//! mid-transaction, mid-commit, mid-stream — never leave a connection with an open transaction
//! or a running statement in the pool, and never leak pool capacity. Counted in the pool and
//! on the server.

mod support;

use std::time::{Duration, Instant};

use quarry::asyncio::{AsyncConnection, AsyncEngine};
use quarry::prelude::*;
use support::asyncio::run;
use support::{Backend, backends};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "async_cancel_items", metadata = META)]
    pub struct Item {
        #[column(primary_key)]
        pub id: i64,
        pub label: String,
    }
}

use model::{Item, META};

const POOL: usize = 2;

/// The backend's URL, with an `application_name` on PostgreSQL so that its sessions can be
/// counted.
fn url_of(b: &Backend, app: &str) -> String {
    if b.is_postgres() {
        let sep = if b.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}application_name={app}", b.url)
    } else {
        b.url.clone()
    }
}

async fn engine(b: &Backend, app: &str) -> AsyncEngine {
    let engine = AsyncEngine::builder(url_of(b, app))
        .pool_size(POOL)
        .max_overflow(0)
        .pool_timeout(Duration::from_secs(10))
        .build()
        .await
        .expect("engine");
    let mut conn = engine.connect().await.expect("connect");
    for table in META.tables() {
        let ddl = quarry::schema_sql::create_table(table, engine.dialect()).expect("ddl");
        conn.execute(text(ddl)).await.expect("create");
    }
    engine
}

/// A statement that takes tens of milliseconds on the backend.
fn slow(b: &Backend) -> &'static str {
    if b.is_postgres() {
        "SELECT pg_sleep(0.03)"
    } else if b.is_mysql() {
        "SELECT SLEEP(0.03)"
    } else {
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) \
         SELECT count(*) FROM c"
    }
}

/// Check out, begin, insert, run something slow, stream a little, commit.
async fn scenario(engine: &AsyncEngine, slow: &'static str, i: i64) -> quarry::Result<()> {
    let mut conn = engine.connect().await?;
    let mut tx = conn.begin().await?;
    tx.execute(insert!(Item {
        label: format!("item {i}")
    }))
    .await?;
    tx.execute(text(slow)).await?;
    {
        let mut sp = tx.begin_nested().await?;
        sp.execute(text(slow)).await?;
        sp.commit().await?;
    }
    let mut stream = tx.stream(select!(Item)).await?;
    while let Some(item) = stream.next().await {
        item?;
    }
    drop(stream);
    tx.commit().await
}

/// Wait (bounded) until every connection is back and reset.
async fn settle(engine: &AsyncEngine, what: &str) {
    let start = Instant::now();
    while engine.pool_status().checked_out > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: connections never came back: {:?}",
            engine.pool_status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every pooled connection is out of any transaction, and the server has no more sessions of
/// ours than the pool's capacity, none of them in a transaction or running a statement.
async fn check_server(b: &Backend, engine: &AsyncEngine, app: &str) {
    let status = engine.pool_status();
    assert!(status.checked_in <= POOL, "{}: {status:?}", b.name);
    let mut held: Vec<AsyncConnection> = Vec::new();
    // `sqlite://` in memory is one connection, whatever the pool size asked.
    for _ in 0..status.size {
        held.push(engine.connect().await.expect("checkout after the storm"));
    }
    for conn in &mut held {
        assert!(!conn.in_transaction());
        if b.is_postgres() {
            // Sessions being closed (cancelled ones) may take a moment to leave the server.
            let start = Instant::now();
            loop {
                let row: Row = conn
                    .execute(
                        text(
                            "SELECT count(*) AS sessions, \
                             count(*) FILTER (WHERE state <> 'idle' AND pid <> pg_backend_pid()) \
                             AS busy FROM pg_stat_activity WHERE application_name = :app",
                        )
                        .bind("app", app.to_owned()),
                    )
                    .await
                    .unwrap()
                    .one()
                    .unwrap();
                let sessions: i64 = row.get("sessions").unwrap();
                let busy: i64 = row.get("busy").unwrap();
                if sessions as usize <= POOL && busy == 0 {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "{}: {sessions} sessions, {busy} in a transaction or running",
                    b.name
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } else if b.is_mysql() {
            let open: i64 = conn
                .execute(text(
                    "SELECT count(*) FROM information_schema.innodb_trx \
                     WHERE trx_mysql_thread_id = CONNECTION_ID()",
                ))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(
                open, 0,
                "{}: a pooled connection is in a transaction",
                b.name
            );
            let sessions: i64 = conn
                .execute(text(
                    "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE()",
                ))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert!(sessions as usize <= POOL, "{}: {sessions} sessions", b.name);
        } else {
            // SQLite refuses BEGIN inside a transaction.
            conn.execute(text("BEGIN"))
                .await
                .expect("no transaction left open");
            conn.execute(text("ROLLBACK")).await.unwrap();
        }
    }
}

#[test]
fn futures_dropped_at_every_await_point_leave_the_pool_clean() {
    for b in backends("async_cancel") {
        let app = format!("quarry_async_cancel_{}", std::process::id());
        run(async {
            let engine = engine(&b, &app).await;
            let slow = slow(&b);
            let mut completed = 0;
            let mut i = 0;
            // From "before the first poll" to "after it all finished", in small steps.
            let steps: Vec<u64> = (0..12)
                .map(|k| k * 200)
                .chain((1..16).map(|k| k * 5_000))
                .collect();
            for micros in steps {
                i += 1;
                let limit = Duration::from_micros(micros);
                if i % 2 == 0 {
                    if tokio::time::timeout(limit, scenario(&engine, slow, i))
                        .await
                        .is_ok()
                    {
                        completed += 1;
                    }
                } else {
                    tokio::select! {
                        r = scenario(&engine, slow, i) => {
                            r.unwrap_or_else(|e| panic!("{}: scenario {i}: {e}", b.name));
                            completed += 1;
                        }
                        () = tokio::time::sleep(limit) => {}
                    }
                }
            }
            settle(&engine, b.name).await;
            check_server(&b, &engine, &app).await;
            let rows: i64 = engine
                .execute(select!(count(Item::id) FROM Item))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            // A commit whose reply was cut short may have committed: at least those that
            // finished, at most all.
            assert!(
                rows >= completed && rows <= i,
                "{}: {rows} rows, {completed} completed",
                b.name
            );
            // And the engine works on.
            scenario(&engine, slow, 1_000).await.unwrap();
            settle(&engine, b.name).await;
            engine.dispose().await;
        });
    }
}

#[test]
fn checkouts_dropped_while_waiting_leak_no_capacity() {
    for b in backends("async_cancel_wait") {
        let app = format!("quarry_async_wait_{}", std::process::id());
        run(async {
            let engine = engine(&b, &app).await;
            let held: Vec<AsyncConnection> = {
                let mut v = Vec::new();
                for _ in 0..engine.pool_status().size {
                    v.push(engine.connect().await.unwrap());
                }
                v
            };
            for _ in 0..20 {
                assert!(
                    tokio::time::timeout(Duration::from_millis(2), engine.connect())
                        .await
                        .is_err()
                );
            }
            drop(held);
            settle(&engine, b.name).await;
            // Every room is usable again: all of them at once.
            let mut again = Vec::new();
            let size = engine.pool_status().size;
            for _ in 0..size {
                again.push(
                    tokio::time::timeout(Duration::from_secs(5), engine.connect())
                        .await
                        .expect("capacity leaked")
                        .unwrap(),
                );
            }
            assert_eq!(engine.pool_status().checked_out, size, "{}", b.name);
        });
    }
}

#[test]
fn a_dropped_transaction_is_rolled_back_by_the_pool() {
    for b in backends("async_cancel_tx") {
        let app = format!("quarry_async_tx_{}", std::process::id());
        run(async {
            let engine = engine(&b, &app).await;
            {
                let mut conn = engine.connect().await.unwrap();
                let mut tx = conn.begin().await.unwrap();
                tx.execute(insert!(Item {
                    label: "never".to_owned()
                }))
                .await
                .unwrap();
                // The guard and the connection dropped without commit: nothing awaited after.
                drop(tx);
                drop(conn);
            }
            settle(&engine, b.name).await;
            check_server(&b, &engine, &app).await;
            let rows: i64 = engine
                .execute(select!(count(Item::id) FROM Item))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(rows, 0, "{}", b.name);
        });
    }
}
