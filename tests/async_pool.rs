//! The async engine's pool API beyond statements, on every backend — the blocking pool's
//! behaviours (`tests/pool.rs`, `tests/pool_reliability.rs`, `tests/runtime.rs`,
//! `tests/bind.rs`) through `quarry::asyncio`: event hooks, the native connection, leak
//! detection naming the checkout site, bound metadata and implicit execution, `dispose` and
//! `pool_status`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quarry::asyncio::{
    AsyncBoundMetaData, AsyncEngine, AsyncSession, ConnectionInfo, ExecuteAsync,
};
use quarry::prelude::*;
use support::asyncio::{assert_pool_at_rest, create_tables, engine_for, run};
use support::backends;
use support::warnings::{
    assert_not_reported, assert_reported_leak, assert_reported_return, leak_warnings, pool_warnings,
};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "apool_items", metadata = META)]
    pub struct Item {
        #[column(primary_key)]
        pub id: i64,
        pub n: i64,
    }
}

use model::{Item, META};

mod notes {
    use quarry::prelude::*;

    pub static NOTES: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "apool_notes", metadata = NOTES)]
    pub struct Note {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub body: String,
    }
}

use notes::{NOTES, Note};

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn hooks_run_on_connect_checkout_checkin_and_invalidate() {
    for b in backends("apool_hooks") {
        run(async {
            let (connects, checkouts, checkins) = (counter(), counter(), counter());
            let invalidated = Arc::new(std::sync::Mutex::new(Vec::<(u64, bool)>::new()));
            let (c1, c2, c3, inv) = (
                connects.clone(),
                checkouts.clone(),
                checkins.clone(),
                invalidated.clone(),
            );
            let engine = engine_for(&b, move |e| {
                e.pool_size(1)
                    .max_overflow(0)
                    .on_connect(move |conn| {
                        let c1 = c1.clone();
                        Box::pin(async move {
                            assert!(conn.info().id > 0);
                            conn.batch("SELECT 1").await?;
                            c1.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                    })
                    .on_checkout(move |_conn| {
                        let c2 = c2.clone();
                        Box::pin(async move {
                            c2.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                    })
                    .on_checkin(move |_info: &ConnectionInfo| {
                        c3.fetch_add(1, Ordering::SeqCst);
                    })
                    .on_invalidate(move |info, cause| {
                        inv.lock().unwrap().push((info.id, cause.is_some()));
                    })
            })
            .await;
            for _ in 0..3 {
                let n: i64 = engine
                    .execute(text("SELECT 1"))
                    .await
                    .unwrap()
                    .scalar()
                    .unwrap();
                assert_eq!(n, 1);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(connects.load(Ordering::SeqCst), 1, "{}", b.name);
            assert_eq!(checkouts.load(Ordering::SeqCst), 3, "{}", b.name);
            assert_eq!(checkins.load(Ordering::SeqCst), 3, "{}", b.name);

            let mut conn = engine.connect().await.unwrap();
            conn.invalidate();
            let seen = invalidated.lock().unwrap().clone();
            assert!(
                matches!(seen.as_slice(), [(_, false)]),
                "{}: one invalidation, without an error: {seen:?}",
                b.name
            );
            // The next statement checks out a new connection: on_connect again.
            conn.execute(text("SELECT 1")).await.unwrap();
            assert_eq!(connects.load(Ordering::SeqCst), 2, "{}", b.name);
            drop(conn);
            engine.dispose().await;
        });
    }
}

#[test]
fn a_failing_on_connect_fails_the_checkout_and_frees_its_room() {
    for b in backends("apool_hook_error") {
        run(async {
            let engine = engine_for(&b, |e| {
                e.pool_size(1).max_overflow(0).on_connect(|conn| {
                    Box::pin(async move { conn.batch("SELECT no_such_column_here").await })
                })
            })
            .await;
            for _ in 0..2 {
                let err = engine.connect().await.expect_err("the hook fails");
                assert!(
                    err.to_string().contains("no_such_column_here"),
                    "{}: {err}",
                    b.name
                );
            }
            let status = engine.pool_status();
            assert_eq!(
                (status.checked_out, status.checked_in),
                (0, 0),
                "{}: {status:?}",
                b.name
            );
        });
    }
}

#[test]
fn the_raw_connection_is_native_and_rolled_back_on_return() {
    for b in backends("apool_raw") {
        if b.name == "sqlite-memory" {
            // Its one connection is the database; the file backend covers SQLite.
            continue;
        }
        run(async {
            let engine = engine_for(&b, |e| e.pool_size(1).max_overflow(0)).await;
            create_tables(&engine, &META).await;
            let mut raw = engine.raw_connection().await.unwrap();
            let insert = "INSERT INTO apool_items (n) VALUES (7)";
            if b.is_sqlite() {
                let n = raw
                    .sqlite(move |c| {
                        c.execute_batch(&format!("BEGIN; {insert}"))?;
                        c.query_row("SELECT count(*) FROM apool_items", [], |r| {
                            r.get::<_, i64>(0)
                        })
                    })
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(n, 1);
            } else if b.is_postgres() {
                #[cfg(feature = "postgres")]
                {
                    let client = raw.postgres().expect("a tokio_postgres client");
                    client
                        .batch_execute(&format!("BEGIN; {insert}"))
                        .await
                        .unwrap();
                    let row = client
                        .query_one("SELECT count(*) FROM apool_items", &[])
                        .await
                        .unwrap();
                    assert_eq!(row.get::<_, i64>(0), 1);
                }
            } else {
                #[cfg(feature = "mysql")]
                {
                    use quarry::asyncio::native::mysql_async::prelude::Queryable;
                    let conn = raw.mysql().expect("a mysql_async connection");
                    conn.query_drop(format!("BEGIN; {insert}")).await.unwrap();
                    let n: Option<i64> = conn
                        .query_first("SELECT count(*) FROM apool_items")
                        .await
                        .unwrap();
                    assert_eq!(n, Some(1));
                }
            }
            // Back to the pool with the native transaction open: rolled back there.
            drop(raw);
            let mut conn = engine.connect().await.unwrap();
            let n: i64 = conn
                .execute(select!(count(Item::id) FROM Item))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 0, "{}", b.name);
            assert!(!conn.in_transaction());
            drop(conn);
            engine.dispose().await;
        });
    }
}

#[test]
fn leak_detection_names_the_checkout_site() {
    pool_warnings();
    for b in backends("apool_leak") {
        run(async {
            let engine = engine_for(&b, |e| {
                e.leak_detection_threshold(Duration::from_millis(100))
            })
            .await;
            let (conn, line) = (engine.connect().await.unwrap(), line!());
            let site = format!("async_pool.rs:{line}:");
            let waited = site.clone();
            let leaks = tokio::task::spawn_blocking(move || leak_warnings(&waited))
                .await
                .expect("waiting for the warning");
            assert_reported_leak(&leaks, b.name);
            drop(conn);
            assert_reported_return(&site, b.name);
            // Returned in time: not reported.
            let (quick, line) = (engine.connect().await.unwrap(), line!());
            drop(quick);
            tokio::time::sleep(Duration::from_millis(250)).await;
            let quick_site = format!("async_pool.rs:{line}:");
            assert_not_reported(&quick_site, b.name);
            engine.dispose().await;
        });
    }
}

#[test]
fn bound_metadata_runs_statements_implicitly() {
    for b in backends("apool_bind") {
        run(async {
            let engine = engine_for(&b, |e| e).await;
            create_tables(&engine, &META).await;
            let err = select!(Item).execute_async().await.expect_err("unbound");
            assert!(
                err.to_string().contains("bind_async(&engine)"),
                "{}: {err}",
                b.name
            );
            META.bind_async(&engine);
            insert!(Item { n: 5_i64 }).execute_async().await.unwrap();
            let items: Vec<Item> = select!(Item).execute_async().await.unwrap().all();
            assert_eq!(items, [Item { id: 1, n: 5 }], "{}", b.name);
            assert!(META.get_async_bind().is_some_and(|e| e.same(&engine)));
            META.unbind_async();
            assert!(select!(Item).execute_async().await.is_err());
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
            engine.dispose().await;
            assert_eq!(engine.pool_status().checked_in, 0, "{}", b.name);
        });
    }
}

/// An engine on `url` whose checkouts are counted.
async fn counted(url: &str) -> (AsyncEngine, Arc<AtomicUsize>) {
    let checkouts = counter();
    let seen = checkouts.clone();
    let engine = AsyncEngine::builder(url)
        .on_checkout(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(()) })
        })
        .build()
        .await
        .expect("async engine");
    (engine, checkouts)
}

#[test]
fn a_session_over_two_engines_sends_each_table_to_its_own() {
    for b in backends("apool_session_binds") {
        run(async {
            // A SQLite file takes one writer at a time: the notes go to a file of their own.
            let notes_url = match b.name {
                "sqlite-file" => format!("{}.notes", b.url),
                _ => b.url.clone(),
            };
            let (items_engine, items_checkouts) = counted(&b.url).await;
            let (notes_engine, notes_checkouts) = counted(&notes_url).await;
            create_tables(&items_engine, &META).await;
            create_tables(&notes_engine, &NOTES).await;
            let before = (
                items_checkouts.load(Ordering::SeqCst),
                notes_checkouts.load(Ordering::SeqCst),
            );
            let mut session = AsyncSession::builder(&items_engine)
                .bind_metadata(&NOTES, &notes_engine)
                .build();
            assert!(session.get_bind::<Note>().same(&notes_engine));
            assert!(session.get_bind::<Item>().same(&items_engine));
            let item = session.add(Item { id: 0, n: 1 });
            let note = session.add(Note {
                id: 0,
                body: "kept".into(),
            });
            session.flush().await.unwrap();
            assert_eq!((item.id(), note.id()), (Some(1), Some(1)), "{}", b.name);
            // One statement over both engines' tables is refused, naming them.
            let err = session
                .execute(select!(Item::n, Note::body FROM Item JOIN Note ON Note::id == Item::id))
                .await
                .expect_err("spans two engines");
            assert!(
                err.to_string().contains("spans the session's engines"),
                "{}: {err}",
                b.name
            );
            session.commit().await.unwrap();
            assert!(!session.in_transaction());
            // Each engine checked out one connection for the session.
            assert_eq!(
                (
                    items_checkouts.load(Ordering::SeqCst) - before.0,
                    notes_checkouts.load(Ordering::SeqCst) - before.1
                ),
                (1, 1),
                "{}",
                b.name
            );
            let n: i64 = items_engine
                .execute(select!(count(Item::id) FROM Item))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            let notes: Vec<Note> = notes_engine.execute(select!(Note)).await.unwrap().all();
            assert_eq!((n, notes.len()), (1, 1), "{}", b.name);

            // A rollback undoes the work on both.
            session.add(Item { id: 0, n: 2 });
            session.add(Note {
                id: 0,
                body: "gone".into(),
            });
            session.flush().await.unwrap();
            session.rollback().await.unwrap();
            let notes: Vec<Note> = notes_engine.execute(select!(Note)).await.unwrap().all();
            assert_eq!(notes.len(), 1, "{}", b.name);
            assert_eq!(items_engine.pool_status().checked_out, 0, "{}", b.name);
            assert_eq!(notes_engine.pool_status().checked_out, 0, "{}", b.name);
            notes_engine.dispose().await;
            if let Some(path) = notes_url.strip_prefix("sqlite:///") {
                let _ = std::fs::remove_file(path);
            }
        });
    }
}

#[test]
fn a_checkout_dropped_inside_a_slow_hook_leaks_no_capacity() {
    for b in backends("apool_hook_cancel") {
        run(async {
            let engine = engine_for(&b, |e| {
                e.pool_size(1).max_overflow(0).on_checkout(|conn| {
                    Box::pin(async move {
                        conn.batch("SELECT 1").await?;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok(())
                    })
                })
            })
            .await;
            for _ in 0..3 {
                let cut = tokio::time::timeout(Duration::from_millis(50), engine.connect()).await;
                assert!(cut.is_err(), "{}: the hook outlasts the timeout", b.name);
            }
            // The one room came back each time: a patient checkout gets it.
            let mut conn = engine.connect().await.unwrap();
            let n: i64 = conn
                .execute(text("SELECT 1"))
                .await
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 1, "{}", b.name);
            drop(conn);
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_pool_at_rest(&engine, b.name);
            engine.dispose().await;
        });
    }
}

/// A task checking connections out and back in a loop, with an idle connection always there,
/// still lets the other tasks of its runtime run: a checkout spends tokio's cooperative budget
/// (a current-thread runtime, so nothing else could run them).
#[test]
fn a_checkout_loop_yields_to_the_other_tasks() {
    for b in backends("apool_coop") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let engine = engine_for(&b, |e| e.pool_size(1)).await;
                drop(engine.connect().await.unwrap());
                let ran = Arc::new(AtomicUsize::new(0));
                let other = ran.clone();
                let task = tokio::spawn(async move {
                    other.store(1, Ordering::SeqCst);
                });
                let mut checkouts = 0;
                while ran.load(Ordering::SeqCst) == 0 && checkouts < 100_000 {
                    drop(engine.connect().await.unwrap());
                    checkouts += 1;
                }
                assert_eq!(
                    ran.load(Ordering::SeqCst),
                    1,
                    "{}: the other task never ran during {checkouts} checkouts",
                    b.name
                );
                task.await.unwrap();
                engine.dispose().await;
            });
    }
}
