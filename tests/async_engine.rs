//! The async engine (`quarry::asyncio`, feature `tokio`) on every backend: the sync suites'
//! behaviours — statements, results, transactions and their nesting, connectionless
//! execution, streams, the pool's limits and messages — through the same statements.

mod support;

use std::time::Duration;

use quarry::asyncio::{
    AsyncBoundMetaData, AsyncConnection, AsyncEngine, AsyncMetaDataDdl, ExecuteAsync,
    create_async_engine,
};
use quarry::prelude::*;
use quarry::{DatabaseErrorKind, Row};
use support::asyncio::{create_tables, engine_for, run};
use support::{Backend, backends};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "async_users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50, unique)]
        pub name: String,
        pub hair_color: Option<String>,
    }
}

use model::{META, User};

async fn setup(b: &Backend) -> AsyncEngine {
    let engine = engine_for(b, |e| e).await;
    create_tables(&engine, &META).await;
    engine
}

async fn count(conn: &mut AsyncConnection) -> i64 {
    conn.execute(select!(count(User::id) FROM User))
        .await
        .expect("count")
        .scalar()
        .expect("scalar")
}

async fn add(conn: &mut AsyncConnection, name: &str) {
    conn.execute(insert!(User {
        name: name,
        hair_color: None
    }))
    .await
    .expect("insert");
}

#[test]
fn the_sync_engines_statements_run_unchanged() {
    for b in backends("async_statements") {
        run(async {
            let engine = setup(&b).await;
            let mut conn = engine.connect().await.unwrap();
            let inserted = conn
                .execute(insert!(User {
                    name: "ed",
                    hair_color: Some("red".to_owned())
                }))
                .await
                .unwrap();
            assert_eq!(inserted.rowcount(), 1, "{}", b.name);
            assert_eq!(inserted.last_insert_id(), Some(1), "{}", b.name);
            add(&mut conn, "mary").await;
            let users: Vec<User> = conn
                .execute(select!(User ORDER BY User::id))
                .await
                .unwrap()
                .all();
            assert_eq!(
                users,
                [
                    User {
                        id: 1,
                        name: "ed".into(),
                        hair_color: Some("red".into())
                    },
                    User {
                        id: 2,
                        name: "mary".into(),
                        hair_color: None
                    },
                ],
                "{}",
                b.name
            );
            let updated = conn
                .execute(update!(User SET hair_color = Some("grey".to_owned()) WHERE User::name == "mary"))
                .await
                .unwrap();
            assert_eq!(updated.rowcount(), 1, "{}", b.name);
            let names: Vec<String> = conn
                .execute(select!(User::name FROM User WHERE User::hair_color.is_not_null() ORDER BY User::name))
                .await
                .unwrap()
                .all();
            assert_eq!(names, ["ed", "mary"], "{}", b.name);
            let row: Row = conn
                .execute(
                    text("SELECT name, hair_color FROM async_users WHERE id = :id")
                        .bind("id", 2_i64),
                )
                .await
                .unwrap()
                .one()
                .unwrap();
            assert_eq!(row.get::<String>("name").unwrap(), "mary");
            conn.execute(delete!(User WHERE User::id == 1_i64))
                .await
                .unwrap();
            assert_eq!(count(&mut conn).await, 1, "{}", b.name);
            // Errors keep their kind.
            let dup = conn
                .execute(insert!(User {
                    name: "mary",
                    hair_color: None
                }))
                .await
                .unwrap_err();
            assert!(
                matches!(&dup, quarry::Error::Database(db) if db.kind() == DatabaseErrorKind::UniqueViolation),
                "{}: {dup}",
                b.name
            );
            drop(conn);
            engine.dispose().await;
        });
        // The same database through the sync engine (outside the runtime) sees the same rows.
        if b.name != "sqlite-memory" {
            let mut sync = b.engine.connect().unwrap();
            let seen: Vec<User> = sync.execute(select!(User)).unwrap().all().unwrap();
            assert_eq!(seen.len(), 1, "{}", b.name);
            assert_eq!(seen[0].name, "mary");
        }
    }
}

#[test]
fn connectionless_execution_returns_the_connection() {
    for b in backends("async_connectionless") {
        run(async {
            let engine = setup(&b).await;
            engine
                .execute(insert!(User {
                    name: "ed",
                    hair_color: None
                }))
                .await
                .unwrap();
            let n: i64 = engine
                .execute(select!(count(User::id) FROM User))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 1, "{}", b.name);
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
        });
    }
}

#[test]
fn transactions_commit_roll_back_and_nest() {
    for b in backends("async_transactions") {
        run(async {
            let engine = setup(&b).await;
            let mut conn = engine.connect().await.unwrap();

            let mut tx = conn.begin().await.unwrap();
            add(&mut tx, "ed").await;
            tx.commit().await.unwrap();

            let mut tx = conn.begin().await.unwrap();
            add(&mut tx, "wendy").await;
            tx.rollback().await.unwrap();
            assert_eq!(count(&mut conn).await, 1, "{}", b.name);

            // A savepoint rolls back only what ran since it.
            let mut outer = conn.begin().await.unwrap();
            add(&mut outer, "jack").await;
            {
                let mut sp = outer.begin_nested().await.unwrap();
                assert!(sp.in_nested_transaction());
                add(&mut sp, "jill").await;
                sp.rollback().await.unwrap();
            }
            outer.commit().await.unwrap();
            assert_eq!(count(&mut conn).await, 2, "{}", b.name);

            // An inner begin() rolled back rolls back the whole, and the outer commit fails.
            let mut outer = conn.begin().await.unwrap();
            add(&mut outer, "fred").await;
            {
                let inner = outer.begin().await.unwrap();
                inner.rollback().await.unwrap();
            }
            assert!(!outer.is_active());
            let e = outer.commit().await.unwrap_err();
            assert!(matches!(e, quarry::Error::InactiveTransaction(_)), "{e}");
            assert_eq!(count(&mut conn).await, 2, "{}", b.name);

            // A guard dropped without commit rolls back before the next statement.
            {
                let mut tx = conn.begin().await.unwrap();
                add(&mut tx, "dropped").await;
            }
            assert_eq!(count(&mut conn).await, 2, "{}", b.name);
            assert!(!conn.in_transaction());
        });
    }
}

#[test]
fn engine_transaction_commits_on_ok_and_rolls_back_on_err() {
    for b in backends("async_engine_tx") {
        run(async {
            let engine = setup(&b).await;
            engine
                .transaction(async |conn| {
                    add(conn, "ed").await;
                    Ok(())
                })
                .await
                .unwrap();
            let failed: quarry::Result<()> = engine
                .transaction(async |conn| {
                    add(conn, "mary").await;
                    Err(quarry::Error::config("the application changed its mind"))
                })
                .await;
            assert!(failed.unwrap_err().to_string().contains("changed its mind"));
            let mut conn = engine.connect().await.unwrap();
            assert_eq!(count(&mut conn).await, 1, "{}", b.name);
        });
    }
}

#[test]
fn streams_pull_rows_and_can_stop_early() {
    for b in backends("async_stream") {
        run(async {
            let engine = setup(&b).await;
            let mut conn = engine.connect().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            for i in 0..300 {
                add(&mut tx, &format!("user{i:03}")).await;
            }
            tx.commit().await.unwrap();
            let mut stream = conn.stream(select!(User ORDER BY User::id)).await.unwrap();
            let mut seen = 0;
            while let Some(user) = stream.next().await {
                let user = user.unwrap();
                seen += 1;
                assert_eq!(user.id, seen, "{}", b.name);
            }
            assert_eq!(seen, 300, "{}", b.name);
            drop(stream);
            // Stopped after 10 rows: the connection goes on as new.
            let mut stream = conn.stream(select!(User ORDER BY User::id)).await.unwrap();
            for _ in 0..10 {
                stream.next().await.unwrap().unwrap();
            }
            drop(stream);
            assert_eq!(count(&mut conn).await, 300, "{}", b.name);
            assert!(!conn.in_transaction());
        });
    }
}

#[test]
fn the_pool_timeout_says_the_pool_is_full() {
    for b in backends("async_pool_timeout") {
        run(async {
            let engine = engine_for(&b, |e| {
                e.pool_size(1)
                    .max_overflow(0)
                    .pool_timeout(Duration::from_millis(200))
            })
            .await;
            let held = engine.connect().await.unwrap();
            let e = engine.connect().await.unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with(
                    "pool limit of size 1 overflow 0 reached, connection timed out, timeout 200ms"
                ),
                "{}: {msg}",
                b.name
            );
            let status = engine.pool_status();
            assert_eq!((status.checked_out, status.waiting), (1, 0), "{}", b.name);
            // A waiter gets the connection as soon as it comes back.
            let waiter = tokio::spawn({
                let engine = engine.clone();
                async move { engine.connect().await.map(drop) }
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(held);
            waiter.await.unwrap().unwrap();
        });
    }
}

#[test]
fn a_failing_connect_is_named_in_the_timeout() {
    run(async {
        // Nothing listens on port 1.
        let url = "postgresql://postgres@127.0.0.1:1/test";
        let Ok(engine) = AsyncEngine::builder(url)
            .pool_timeout(Duration::from_millis(300))
            .build()
            .await
        else {
            eprintln!("built without the postgres feature: skipped");
            return;
        };
        let e = engine.connect().await.unwrap_err();
        assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
        assert!(e.is_disconnect(), "{e}");
        assert_eq!(engine.pool_status().checked_out, 0);
        // A checkout that waits while connecting fails is told why in the timeout message.
        let engine = AsyncEngine::builder(url)
            .pool_size(1)
            .max_overflow(0)
            .pool_timeout(Duration::from_millis(300))
            .build()
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let engine = engine.clone();
            tasks.push(tokio::spawn(
                async move { engine.connect().await.map(drop) },
            ));
        }
        for t in tasks {
            let e = t.await.unwrap().unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("127.0.0.1:1"), "{msg}");
        }
        assert_eq!(engine.pool_status().checked_out, 0);
    });
}

#[test]
fn create_async_engine_refuses_unknown_dialects() {
    run(async {
        let e = create_async_engine("oracle://scott@db/orcl")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("oracle"), "{e}");
    });
}

#[test]
fn waiters_are_served_first_come_first_served() {
    for b in backends("async_fifo") {
        run(async {
            let engine = engine_for(&b, |e| e.pool_size(1).max_overflow(0)).await;
            let held = engine.connect().await.unwrap();
            let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..4 {
                let (engine, order) = (engine.clone(), order.clone());
                tasks.push(tokio::spawn(async move {
                    let conn = engine.connect().await.unwrap();
                    order.lock().unwrap().push(i);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    drop(conn);
                }));
                // Queue them in a known order.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            drop(held);
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3], "{}", b.name);
        });
    }
}

mod session_model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "async_parents", metadata = META)]
    pub struct Parent {
        #[column(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "async_children", metadata = META)]
    pub struct Child {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Parent::id)]
        pub parent_id: i64,
        pub name: String,
    }
}

#[test]
fn the_async_session_flushes_gets_commits_and_rolls_back() {
    use quarry::asyncio::AsyncSession;
    use session_model::{Child, Parent};
    for b in backends("async_session") {
        run(async {
            let engine = engine_for(&b, |e| e).await;
            {
                let mut conn = engine.connect().await.unwrap();
                for table in session_model::META.tables() {
                    let sql = quarry::schema_sql::create_table(table, engine.dialect()).unwrap();
                    conn.execute(text(sql)).await.unwrap();
                }
            }
            let mut session = AsyncSession::new(&engine);
            let ed = session.add(Parent {
                id: 0,
                name: "ed".into(),
            });
            session.flush().await.unwrap();
            let ed_id = ed.id().expect("flushed key");
            // The identity map answers for a flushed object (by its Added handle).
            session.add(Child {
                id: 0,
                parent_id: ed_id,
                name: "kid".into(),
            });
            let found: Parent = session.get(&ed).await.unwrap().unwrap();
            assert_eq!(found.name, "ed", "{}", b.name);
            assert!(session.in_transaction());
            session.commit().await.unwrap();
            assert!(!session.in_transaction());
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);

            // Rolled back: the row is gone and the handle has no key.
            let mary = session.add(Parent {
                id: 0,
                name: "mary".into(),
            });
            session.flush().await.unwrap();
            assert!(mary.is_flushed());
            session.rollback().await.unwrap();
            assert!(!mary.is_flushed(), "{}", b.name);

            // Deletes children first.
            let kid: Child = session
                .execute(select!(Child))
                .await
                .unwrap()
                .one()
                .unwrap();
            let parent: Parent = session.get(ed_id).await.unwrap().unwrap();
            session.delete(&parent);
            session.delete(&kid);
            session.commit().await.unwrap();
            let n: i64 = engine
                .execute(select!(count(Parent::id) FROM Parent))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 0, "{}", b.name);
        });
    }
}

#[test]
fn two_phase_commit_prepares_then_commits() {
    for b in backends("async_twophase") {
        run(async {
            let engine = setup(&b).await;
            let mut conn = engine.connect().await.unwrap();
            if b.is_sqlite() {
                let err = conn.begin_twophase(None).await.unwrap_err();
                assert!(
                    matches!(err, quarry::Error::Unsupported { .. }),
                    "{}: {err}",
                    b.name
                );
                return;
            }
            let mut tx = conn.begin_twophase(None).await.unwrap();
            assert!(tx.xid().is_some());
            add(&mut tx, "two-phase").await;
            tx.prepare().await.unwrap();
            tx.commit().await.unwrap();

            let xid = format!("quarry-async-rollback-{}", std::process::id());
            let mut tx = conn.begin_twophase(Some(&xid)).await.unwrap();
            add(&mut tx, "prepared then rolled back").await;
            tx.prepare().await.unwrap();
            tx.rollback().await.unwrap();

            let mut tx = conn.begin_twophase(None).await.unwrap();
            add(&mut tx, "one phase").await;
            tx.commit().await.unwrap();
            assert!(matches!(
                conn.begin_twophase(Some("x'; DROP TABLE users; --")).await,
                Err(quarry::Error::Config(_))
            ));
            let mut names: Vec<String> = conn
                .execute(select!(User::name FROM User))
                .await
                .unwrap()
                .all();
            names.sort();
            assert_eq!(names, ["one phase", "two-phase"], "{}", b.name);
        });
    }
}

/// Issue 22 item 5: the whole async workload on a `current_thread` runtime, with a watchdog
/// task ticking every millisecond: a poll that blocks (a blocking driver call, a lock held
/// across I/O) stops the ticks, and the longest gap between them says for how long.
#[test]
fn nothing_blocks_a_current_thread_runtime() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;
    const LIMIT: Duration = Duration::from_millis(50);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for b in backends("async_no_blocking") {
        let worst = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let watchdog = tokio::spawn({
                let stop = stop.clone();
                async move {
                    let mut worst = Duration::ZERO;
                    let mut last = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        let now = Instant::now();
                        worst = worst.max(now - last);
                        last = now;
                    }
                    worst
                }
            });
            let engine = setup(&b).await;
            let mut conn = engine.connect().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            for i in 0..200 {
                add(&mut tx, &format!("user{i}")).await;
            }
            tx.commit().await.unwrap();
            let slow = if b.is_postgres() {
                "SELECT pg_sleep(0.1)"
            } else if b.is_mysql() {
                "SELECT SLEEP(0.1)"
            } else {
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) \
                 SELECT count(*) FROM c"
            };
            conn.execute(text(slow)).await.unwrap();
            // The rest of the API: hooks, leak detection, DDL, a session, bound metadata, the
            // native connection.
            let extra = engine_for(&b, |e| {
                e.leak_detection_threshold(Duration::from_secs(60))
                    .on_connect(|c| Box::pin(async move { c.batch("SELECT 1").await }))
            })
            .await;
            META.create_all_async(&extra).await.unwrap();
            let mut session = quarry::asyncio::AsyncSession::new(&extra);
            session.add(User {
                id: 0,
                name: "via session".into(),
                hair_color: None,
            });
            session.commit().await.unwrap();
            META.bind_async(&extra);
            let found = select!(User WHERE User::name == "via session")
                .execute_async()
                .await
                .unwrap()
                .all();
            META.unbind_async();
            assert_eq!(found.len(), 1, "{}", b.name);
            drop(extra.raw_connection().await.unwrap());
            extra.dispose().await;
            let mut stream = conn.stream(select!(User)).await.unwrap();
            while let Some(user) = stream.next().await {
                user.unwrap();
            }
            drop(stream);
            drop(conn);
            engine.dispose().await;
            stop.store(true, Ordering::Relaxed);
            watchdog.await.unwrap()
        });
        eprintln!("{}: longest stall of the runtime {worst:?}", b.name);
        assert!(
            worst < LIMIT,
            "{}: the runtime stalled for {worst:?}",
            b.name
        );
    }
}

/// The server-side id of the connection `conn` uses.
async fn server_id(b: &Backend, conn: &mut AsyncConnection) -> i64 {
    let sql = if b.is_postgres() {
        "SELECT CAST(pg_backend_pid() AS BIGINT)"
    } else {
        "SELECT CAST(CONNECTION_ID() AS SIGNED)"
    };
    conn.execute(text(sql)).await.unwrap().scalar().unwrap()
}

async fn kill(b: &Backend, admin: &AsyncEngine, id: i64) {
    let sql = if b.is_postgres() {
        format!("SELECT pg_terminate_backend({id})")
    } else {
        format!("KILL {id}")
    };
    admin.execute(text(sql)).await.unwrap();
    // Let the server finish closing it.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[test]
fn connections_killed_on_the_server_are_replaced() {
    for b in backends("async_disconnect") {
        if b.is_sqlite() {
            continue;
        }
        run(async {
            let admin = engine_for(&b, |e| e).await;

            // With pre-ping, the checkout notices and hands out a new connection.
            let engine = engine_for(&b, |e| e.pool_size(1).pool_pre_ping(true)).await;
            let first = server_id(&b, &mut engine.connect().await.unwrap()).await;
            kill(&b, &admin, first).await;
            let second = server_id(&b, &mut engine.connect().await.unwrap()).await;
            assert_ne!(first, second, "{}", b.name);

            // Without: the statement fails as a disconnect, and the next one gets a new
            // connection (the pool invalidated the old one and every older one).
            let engine = engine_for(&b, |e| e.pool_size(1)).await;
            let mut conn = engine.connect().await.unwrap();
            let first = server_id(&b, &mut conn).await;
            kill(&b, &admin, first).await;
            let e = conn.execute(text("SELECT 1")).await.unwrap_err();
            assert!(e.is_disconnect(), "{}: {e}", b.name);
            let second = server_id(&b, &mut conn).await;
            assert_ne!(first, second, "{}", b.name);
            drop(conn);
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
            // Inside a transaction, the loss makes the transaction inactive until rolled back.
            let mut conn = engine.connect().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            let id = server_id(&b, &mut tx).await;
            kill(&b, &admin, id).await;
            assert!(
                tx.execute(text("SELECT 1"))
                    .await
                    .unwrap_err()
                    .is_disconnect()
            );
            let e = tx.execute(text("SELECT 1")).await.unwrap_err();
            assert!(
                matches!(e, quarry::Error::InactiveTransaction(_)),
                "{}: {e}",
                b.name
            );
            tx.rollback().await.unwrap();
            conn.execute(text("SELECT 1")).await.unwrap();
        });
    }
}

#[test]
fn lifo_recycle_and_dispose_pick_the_connections_as_the_sync_pool_does() {
    for b in backends("async_pool_order") {
        if b.is_sqlite() {
            continue;
        }
        run(async {
            for lifo in [false, true] {
                let engine = engine_for(&b, |e| e.pool_size(2).pool_use_lifo(lifo)).await;
                let mut first = engine.connect().await.unwrap();
                let mut second = engine.connect().await.unwrap();
                let (a, bb) = (
                    server_id(&b, &mut first).await,
                    server_id(&b, &mut second).await,
                );
                drop(first);
                drop(second);
                let again = server_id(&b, &mut engine.connect().await.unwrap()).await;
                assert_eq!(again, if lifo { bb } else { a }, "{} lifo={lifo}", b.name);
            }
            // Recycled at every checkout.
            let engine = engine_for(&b, |e| e.pool_size(1).pool_recycle(Duration::ZERO)).await;
            let one = server_id(&b, &mut engine.connect().await.unwrap()).await;
            let two = server_id(&b, &mut engine.connect().await.unwrap()).await;
            assert_ne!(one, two, "{}", b.name);
            // dispose() closes the idle ones; the next checkout opens a new connection.
            let engine = engine_for(&b, |e| e.pool_size(1)).await;
            let one = server_id(&b, &mut engine.connect().await.unwrap()).await;
            assert_eq!(engine.pool_status().checked_in, 1);
            engine.dispose().await;
            assert_eq!(engine.pool_status().checked_in, 0);
            let two = server_id(&b, &mut engine.connect().await.unwrap()).await;
            assert_ne!(one, two, "{}", b.name);
        });
    }
}

#[test]
fn a_value_over_max_allowed_packet_is_refused_before_it_is_sent() {
    for b in backends("async_max_packet") {
        if !b.is_mysql() {
            continue;
        }
        run(async {
            let engine = engine_for(&b, |e| e).await;
            let mut conn = engine.connect().await.expect("connect");
            let limit: i64 = conn
                .execute(text("SELECT @@max_allowed_packet"))
                .await
                .expect("ask")
                .scalar()
                .expect("scalar");
            let limit = usize::try_from(limit).expect("size");
            let body = vec![b'x'; limit + 1];
            let err = conn
                .execute(text("SELECT length(:body)").bind("body", body))
                .await
                .expect_err("over max_allowed_packet");
            let msg = err.to_string();
            assert!(matches!(err, quarry::Error::TooLarge { .. }), "{msg}");
            assert!(!err.is_disconnect(), "{msg}");
            assert!(msg.contains("max_allowed_packet"), "{msg}");
            // The connection was never touched: it runs the next statement.
            let n: i64 = conn
                .execute(text("SELECT length(:body)").bind("body", vec![b'y'; 2048]))
                .await
                .expect("under the limit")
                .scalar()
                .expect("scalar");
            assert_eq!(n, 2048);
        });
    }
}
