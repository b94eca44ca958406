//! Async twins of the blocking suites' behaviours (`tests/runtime.rs`, `tests/pool.rs`,
//! `tests/pool_reliability.rs`, `tests/bind.rs`, `tests/session.rs`), on every backend, where
//! `tests/async_engine.rs` and `tests/async_pool.rs` do not have them yet: database errors,
//! the pool's reset of transactions opened as text, capacity under 64 tasks, a black-holed
//! network (checkouts within `pool_timeout`, then recovery), rows matched by an UPDATE,
//! re-binding and routing of bound metadata, the session's flush order and failed flush.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quarry::DatabaseErrorKind;
use quarry::asyncio::{AsyncBoundMetaData, AsyncEngine, AsyncSession, ExecuteAsync, ResetOnReturn};
use quarry::prelude::*;
use support::asyncio::{assert_pool_at_rest, create_tables, engine_for, run};
use support::backends;
use support::pool::{server_addr, via};
use support::proxy::Proxy;

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "atw_users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50, unique)]
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "atw_posts", metadata = META)]
    pub struct Post {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = User::id)]
        pub user_id: i64,
        #[column(max_length = 50)]
        pub title: String,
    }
}

use model::{META, Post, User};

async fn users(engine: &AsyncEngine) -> i64 {
    engine
        .execute(select!(count(User::id) FROM User))
        .await
        .expect("count")
        .scalar()
        .expect("scalar")
}

#[test]
fn database_errors_carry_code_sql_and_hidden_parameters() {
    for b in backends("atw_errors") {
        run(async {
            for hide in [false, true] {
                let engine = engine_for(&b, |e| e.hide_parameters(hide)).await;
                // Once per database (a memory engine is a database of its own).
                if !hide || b.name == "sqlite-memory" {
                    create_tables(&engine, &META).await;
                }
                let mut conn = engine.connect().await.unwrap();
                let name = if hide { "secret" } else { "dup" };
                conn.execute(insert!(User { name: name })).await.unwrap();
                let err = conn
                    .execute(insert!(User { name: name }))
                    .await
                    .unwrap_err();
                let db = support::assert_unique_violation(&err, b.name);
                assert!(db.sql().unwrap().starts_with("INSERT INTO atw_users"));
                assert_eq!(db.params().len(), if hide { 0 } else { 1 }, "{}", b.name);
                assert!(!err.is_disconnect());
                assert!(!err.to_string().contains(&format!("\"{name}\"")), "{err}");
                // Still usable after an error outside a transaction.
                let syntax = conn.execute(text("SELEC 1")).await.unwrap_err();
                assert_eq!(
                    syntax.as_database().map(|d| d.kind()),
                    Some(DatabaseErrorKind::Syntax),
                    "{}: {syntax}",
                    b.name
                );
                drop(conn);
                engine.dispose().await;
            }
        });
    }
}

#[test]
fn a_transaction_opened_as_text_is_rolled_back_or_committed_on_return() {
    for b in backends("atw_text_begin") {
        run(async {
            for (reset, kept) in [(ResetOnReturn::Rollback, 0), (ResetOnReturn::Commit, 1)] {
                // One connection: the next checkout waits until the reset is done.
                let engine = engine_for(&b, |e| {
                    e.pool_size(1).max_overflow(0).pool_reset_on_return(reset)
                })
                .await;
                create_tables(&engine, &META).await;
                let mut conn = engine.connect().await.unwrap();
                conn.execute(text("BEGIN")).await.unwrap();
                conn.execute(insert!(User { name: "open" })).await.unwrap();
                drop(conn);
                assert_eq!(users(&engine).await, kept, "{}: {reset:?}", b.name);
                // Back clean: a new transaction starts without complaint.
                let mut conn = engine.connect().await.unwrap();
                assert!(!conn.in_transaction());
                let tx = conn.begin().await.unwrap();
                tx.commit().await.unwrap();
                drop(conn);
                engine.execute(text("DROP TABLE atw_posts")).await.unwrap();
                engine.execute(text("DROP TABLE atw_users")).await.unwrap();
                engine.dispose().await;
            }
        });
    }
}

#[test]
fn sixty_four_tasks_on_a_pool_of_five_stay_within_its_capacity_and_lose_nothing() {
    for b in backends("atw_contention") {
        if b.name == "sqlite-memory" {
            // One connection by design; the file backend covers SQLite.
            continue;
        }
        run(async {
            let engine = engine_for(&b, |e| {
                e.pool_size(5)
                    .max_overflow(0)
                    .pool_timeout(Duration::from_secs(30))
            })
            .await;
            let most = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let (engine, most) = (engine.clone(), most.clone());
                    tokio::spawn(async move {
                        for _ in 0..10 {
                            let mut conn = engine.connect().await?;
                            most.fetch_max(engine.pool_status().checked_out, Ordering::SeqCst);
                            let n: i64 = conn.execute(text("SELECT 1")).await?.scalar()?;
                            assert_eq!(n, 1);
                            tokio::task::yield_now().await;
                        }
                        Ok::<_, quarry::Error>(())
                    })
                })
                .collect();
            for task in tasks {
                task.await
                    .expect("task")
                    .unwrap_or_else(|e| panic!("{}: {e}", b.name));
            }
            assert!(most.load(Ordering::SeqCst) <= 5, "{}", b.name);
            let status = assert_pool_at_rest(&engine, b.name);
            assert!(status.checked_in <= 5, "{}: {status:?}", b.name);
            engine.dispose().await;
        });
    }
}

#[test]
fn binding_again_moves_implicit_execution_and_two_binds_route_apart() {
    static OTHER: MetaData = MetaData::new();
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "atw_notes", metadata = OTHER)]
    struct Note {
        #[column(primary_key)]
        id: i64,
        n: i64,
    }
    for b in backends("atw_bind") {
        if b.name != "sqlite-memory" {
            // Two memory databases tell the engines apart by what they hold.
            continue;
        }
        run(async {
            let first = engine_for(&b, |e| e).await;
            let second = engine_for(&b, |e| e).await;
            for engine in [&first, &second] {
                create_tables(engine, &OTHER).await;
            }
            OTHER.bind_async(&first);
            insert!(Note { n: 1_i64 }).execute_async().await.unwrap();
            OTHER.bind_async(&second);
            insert!(Note { n: 2_i64 }).execute_async().await.unwrap();
            insert!(Note { n: 3_i64 }).execute_async().await.unwrap();
            let count = |engine: &AsyncEngine| {
                let engine = engine.clone();
                async move {
                    engine
                        .execute(select!(count(Note::id) FROM Note))
                        .await
                        .unwrap()
                        .scalar::<i64>()
                        .unwrap()
                }
            };
            assert_eq!((count(&first).await, count(&second).await), (1, 2));

            // Two MetaData on two engines: each statement to its own, a mix refused.
            create_tables(&first, &META).await;
            META.bind_async(&first);
            insert!(User { name: "ed" }).execute_async().await.unwrap();
            assert_eq!(users(&first).await, 1);
            let err = select!(User::name, Note::n FROM User JOIN Note ON Note::id == User::id)
                .execute_async()
                .await
                .unwrap_err();
            assert!(err.to_string().contains("different async engines"), "{err}");
            META.unbind_async();
            OTHER.unbind_async();
        });
    }
}

#[test]
fn the_session_flushes_parents_first_deletes_children_first_and_survives_a_failed_flush() {
    for b in backends("atw_session") {
        run(async {
            let engine = engine_for(&b, |e| e).await;
            create_tables(&engine, &META).await;
            let mut session = AsyncSession::new(&engine);
            // The child first; its parent's key is given, so the order is the flush's.
            session.add(Post {
                id: 0,
                user_id: 10,
                title: "first".into(),
            });
            session.add(User {
                id: 10,
                name: "ed".into(),
            });
            session.flush().await.unwrap();
            let ed: User = session.get(10_i64).await.unwrap().unwrap();
            let post: Post = session.get(1_i64).await.unwrap().unwrap();
            session.delete(&ed);
            session.delete(&post);
            session.commit().await.unwrap();
            assert_eq!(users(&engine).await, 0, "{}", b.name);

            // A failed flush rolls back the whole unit of work; the session goes on.
            let wendy = session.add(User {
                id: 0,
                name: "wendy".into(),
            });
            session.flush().await.unwrap();
            session.add(User {
                id: 0,
                name: "wendy".into(),
            });
            let err = session.flush().await.unwrap_err();
            assert_eq!(
                err.as_database().map(|d| d.kind()),
                Some(DatabaseErrorKind::UniqueViolation),
                "{}: {err}",
                b.name
            );
            assert!(!session.in_transaction(), "{}", b.name);
            assert_eq!(wendy.id(), None, "{}", b.name);
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
            session.add(User {
                id: 0,
                name: "mary".into(),
            });
            session.commit().await.unwrap();
            let names: Vec<String> = engine
                .execute(select!(User::name FROM User))
                .await
                .unwrap()
                .all();
            assert_eq!(names, ["mary"], "{}", b.name);
        });
    }
}

#[test]
fn a_black_holed_network_fails_checkouts_within_pool_timeout_and_the_pool_recovers() {
    const TIMEOUT: Duration = Duration::from_secs(1);
    const SLACK: Duration = Duration::from_millis(1500);
    for b in backends("atw_black_hole") {
        if b.is_sqlite() {
            continue;
        }
        let proxy = Proxy::start(server_addr(&b.url));
        let url = via(&b.url, proxy.addr(), &[]);
        run(async {
            let engine = AsyncEngine::builder(&url)
                .pool_size(1)
                .max_overflow(1)
                .pool_timeout(TIMEOUT)
                .pool_pre_ping(true)
                .build()
                .await
                .unwrap();
            engine.execute(text("SELECT 1")).await.unwrap();

            proxy.black_hole();
            // The proxy's pumps notice within a tick: a request sent at once may still pass.
            tokio::time::sleep(Duration::from_millis(200)).await;
            // One checkout pings the idle connection, one connects in the overflow room, one
            // waits: each gives up within pool_timeout.
            let stuck: Vec<_> = (0..3)
                .map(|_| {
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        let started = Instant::now();
                        let r = engine.connect().await.map(drop);
                        (r, started.elapsed())
                    })
                })
                .collect();
            for task in stuck {
                let (r, took) = task.await.expect("task");
                let err = r.expect_err(&format!("{}: no network ({took:?})", b.name));
                assert!(took < TIMEOUT + SLACK, "{}: took {took:?}: {err}", b.name);
            }
            assert_eq!(engine.pool_status().waiting, 0, "{}", b.name);

            proxy.forward();
            // Healed: a checkout works again, on a connection opened anew if need be.
            let mut healed = None;
            for _ in 0..5 {
                match engine.execute(text("SELECT 1")).await {
                    Ok(rows) => {
                        healed = Some(rows.scalar::<i64>().unwrap());
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            assert_eq!(healed, Some(1), "{}: the pool did not recover", b.name);
            engine.dispose().await;
        });
    }
}

#[test]
fn an_update_counts_the_rows_it_matched_as_the_blocking_engine_does() {
    for b in backends("atw_rowcount") {
        run(async {
            let engine = engine_for(&b, |e| e).await;
            create_tables(&engine, &META).await;
            engine.execute(insert!(User { name: "ed" })).await.unwrap();
            // The same value again: matched, though nothing changed (MySQL counts it only
            // with CLIENT_FOUND_ROWS, which the blocking driver sets too).
            let rows = engine
                .execute(update!(User SET name = "ed" WHERE User::name == "ed"))
                .await
                .unwrap();
            assert_eq!(rows.rowcount(), 1, "{}", b.name);
        });
    }
}

#[test]
fn create_all_and_drop_all_run_once_each_and_in_order() {
    use quarry::asyncio::AsyncMetaDataDdl;
    for b in backends("atw_ddl") {
        run(async {
            let engine = engine_for(&b, |e| e).await;
            // Twice: the second finds every table and creates nothing.
            META.create_all_async(&engine).await.unwrap();
            META.create_all_async(&engine).await.unwrap();
            engine.execute(insert!(User { name: "ed" })).await.unwrap();
            engine
                .execute(insert!(Post {
                    user_id: 1_i64,
                    title: "hi"
                }))
                .await
                .unwrap();
            // Children first: the foreign key never stands in the way.
            META.drop_all_async(&engine).await.unwrap();
            META.drop_all_async(&engine).await.unwrap();
            assert!(
                engine.execute(select!(User)).await.is_err(),
                "{}: the table is gone",
                b.name
            );
            META.create_all_async(&engine).await.unwrap();
            assert_eq!(users(&engine).await, 0, "{}", b.name);
        });
    }
}
