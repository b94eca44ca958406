//! The pool against the real servers when things go wrong — PostgreSQL and MariaDB, and SQLite
//! where a scenario makes sense: connections killed server-side while idle or mid-transaction,
//! the server down, a black-holed network, connects that hang or fail, 64 threads on a pool of
//! 5, a pool of 1 handed over 100 000 times, leaks, panics, abandoned transactions, recycle and
//! dispose.
//!
//! Every scenario asserts that nothing is lost — the pool's counters and the server's own count
//! of the test's connections come back to where they were — and that nothing hangs: checkouts
//! return within `pool_timeout`, and each scenario runs under a time bound that fails the test
//! rather than hanging it.
//!
//! Tests run in parallel: each one tags its connections and kills only its own
//! (`support/pool.rs`), in a database or schema of its own (`support/mod.rs`). Network failures
//! are played by a loopback proxy (`support/proxy.rs`). A real server restart is
//! `tests/pool_restart.rs`, a binary of its own so that no other test sees it.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use quarry::driver::native;
use quarry::prelude::*;
use quarry::{EngineBuilder, Error, PoolStatus};
use support::pool::{
    Kind, Tagged, Workers, bounded, carries_connect_error, check_outage, eventually, hold,
    select_one, server_addr, timed, via,
};
use support::proxy::Proxy;
use support::warnings::{
    assert_not_reported, assert_reported_leak, assert_reported_return, leak_warnings, pool_warnings,
};
use support::{Backend, backends};

/// `pool_timeout` of the scenarios that time checkouts out.
const TIMEOUT: Duration = Duration::from_secs(1);
/// `pool_timeout` of the scenarios where the network fails, and the MySQL socket timeouts there
/// (whole seconds): a query or connect slower than that on a busy machine would pass for a
/// dead network.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(2);
/// `pool_timeout` of the scenarios that do not time checkouts: a connect slowed down by a busy
/// machine never fails them.
const ROOMY: Duration = Duration::from_secs(10);
/// What a checkout may take beyond its `pool_timeout` on a busy two-core machine (waking up,
/// being scheduled).
const SLACK: Duration = Duration::from_millis(700);
/// The bound of one scenario on one backend.
const LIMIT: Duration = Duration::from_secs(40);

/// PostgreSQL and MariaDB.
fn servers(tag: &str) -> Vec<Backend> {
    backends(tag)
        .into_iter()
        .filter(|b| !b.is_sqlite())
        .collect()
}

/// The servers and a SQLite file (a memory database has one connection per thread, which
/// these scenarios do not exercise).
fn servers_and_sqlite(tag: &str) -> Vec<Backend> {
    backends(tag)
        .into_iter()
        .filter(|b| b.name != "sqlite-memory")
        .collect()
}

/// Run `scenario` on each backend in turn, each under the time bound.
fn on_each(backends: Vec<Backend>, scenario: fn(&Backend)) {
    for b in backends {
        let name = b.name;
        bounded(LIMIT, name, move || scenario(&b));
    }
}

/// Run `scenario` on every backend at once, each under the time bound.
fn on_each_at_once(backends: Vec<Backend>, scenario: fn(&Backend)) {
    let running: Vec<_> = backends
        .into_iter()
        .map(|b| thread::spawn(move || bounded(LIMIT, b.name, move || scenario(&b))))
        .collect();
    for r in running {
        if let Err(panic) = r.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Scenarios sensitive to scheduling (FIFO order) do not share the machine with the load
/// tests.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn tagged(b: &Backend, configure: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Tagged {
    Tagged::new(Kind::of(b), &b.url, configure)
}

/// An engine on `b`'s database through `proxy`; on MySQL with `mysql_args`.
fn through(
    b: &Backend,
    proxy: &Proxy,
    mysql_args: &[(&str, &str)],
    configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
) -> Tagged {
    let args = if b.is_mysql() { mysql_args } else { &[] };
    Tagged::new(Kind::of(b), &via(&b.url, proxy.addr(), args), configure)
}

fn count(conn: &mut Connection, table: &str) -> i64 {
    conn.execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
        .and_then(|r| r.scalar())
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
}

fn status(checked_in: usize, checked_out: usize, overflow: isize, size: usize) -> PoolStatus {
    PoolStatus {
        size,
        checked_in,
        checked_out,
        overflow,
    }
}

fn create_table(engine: &Engine, table: &str) {
    let mut conn = engine.connect().expect("connect");
    conn.execute(text(format!("CREATE TABLE {table} (x INTEGER)")))
        .unwrap_or_else(|e| panic!("create {table}: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Connections killed server-side

#[test]
fn pre_ping_replaces_idle_connections_killed_server_side() {
    on_each(servers("pre_ping_kill"), |b| killed_while_idle(b, true));
}

#[test]
fn without_pre_ping_a_killed_connection_costs_one_error_then_every_older_one_is_replaced() {
    on_each(servers("no_pre_ping_kill"), |b| killed_while_idle(b, false));
}

/// Kill a pool's three idle connections server-side: with pre-ping every next checkout
/// works; without, the first use fails with a disconnect and pool-wide invalidation closes the
/// other two at once. Either way only new connections are handed out from then on, and the
/// pool and the server come back to three idle connections.
fn killed_while_idle(b: &Backend, pre_ping: bool) {
    let dead = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&dead);
    let t = tagged(b, |e| {
        e.pool_size(3)
            .max_overflow(0)
            .pool_timeout(ROOMY)
            .pool_pre_ping(pre_ping)
            .on_invalidate(move |_, err| {
                if err.is_some_and(Error::is_disconnect) {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            })
    });
    drop(hold(&t.engine, 3));
    assert_eq!(t.on_server(), 3, "{}", b.name);
    t.kill_all();
    let mut since = t.checkouts().len();

    if !pre_ping {
        let mut conn = t.engine.connect().unwrap();
        let err = select_one(&mut conn).expect_err("a killed connection fails its next use");
        assert!(err.is_disconnect(), "{}: {err}", b.name);
        assert!(conn.invalidated(), "{}", b.name);
        drop(conn);
        // Pool-wide invalidation: the other two killed connections were closed at once.
        assert_eq!(t.engine.pool_status(), status(0, 0, -3, 3), "{}", b.name);
        since += 1;
    }
    for i in 0..6 {
        let mut conn = t
            .engine
            .connect()
            .unwrap_or_else(|e| panic!("{}: checkout {i}: {e}", b.name));
        select_one(&mut conn).unwrap_or_else(|e| panic!("{}: use {i}: {e}", b.name));
    }
    drop(hold(&t.engine, 3));

    assert!(
        dead.load(Ordering::SeqCst) >= 1,
        "{}: no disconnect seen",
        b.name
    );
    let handed_out = &t.checkouts()[since..];
    assert!(
        handed_out.iter().all(|&id| id > 3),
        "{}: a killed connection was handed out: {handed_out:?}",
        b.name
    );
    assert_eq!(t.at_rest(b.name), 3);
}

#[test]
fn a_backend_killed_mid_transaction_fails_promptly_and_frees_its_slot() {
    on_each(servers("mid_tx_kill"), |b| {
        let t = tagged(b, |e| e.pool_size(1).max_overflow(0).pool_timeout(ROOMY));
        create_table(&t.engine, "mid_tx");
        for at_commit in [false, true] {
            let case = if at_commit {
                "at commit"
            } else {
                "at a statement"
            };
            let mut conn = t.engine.connect().unwrap();
            let pool_id = *t.checkouts().last().unwrap();
            let victim = t.server_id(pool_id);
            let mut tx = conn.begin().unwrap();
            tx.execute(text("INSERT INTO mid_tx (x) VALUES (1)"))
                .unwrap();
            t.kill(&[victim]);

            let (err, took) = timed(|| {
                if at_commit {
                    tx.commit().expect_err("commit on a killed connection")
                } else {
                    let err = tx
                        .execute(text("INSERT INTO mid_tx (x) VALUES (2)"))
                        .expect_err("a statement on a killed connection");
                    drop(tx);
                    err
                }
            });
            assert!(err.is_disconnect(), "{} {case}: {err}", b.name);
            assert!(took < SLACK, "{} {case}: the error took {took:?}", b.name);
            drop(conn);

            // Discarded, not kept: the slot is free and nothing is idle.
            assert_eq!(
                t.engine.pool_status(),
                status(0, 0, -1, 1),
                "{} {case}",
                b.name
            );
            let mut next = t
                .engine
                .connect()
                .unwrap_or_else(|e| panic!("{} {case}: {e}", b.name));
            assert!(
                *t.checkouts().last().unwrap() > pool_id,
                "{} {case}",
                b.name
            );
            assert_eq!(count(&mut next, "mid_tx"), 0, "{} {case}", b.name);
        }
        assert_eq!(t.at_rest(b.name), 1);
    });
}

// ---------------------------------------------------------------------------------------------
// The network and the server failing

#[test]
fn a_server_down_fails_every_checkout_within_pool_timeout_and_recovers_without_a_new_engine() {
    on_each(servers("server_down"), |b| {
        let proxy = Proxy::start(server_addr(&b.url));
        let configure =
            |e: EngineBuilder| e.pool_size(2).max_overflow(0).pool_timeout(NETWORK_TIMEOUT);
        let t = through(b, &proxy, &[], configure);
        drop(hold(&t.engine, 2));

        let running = Workers::start(&t.engine, 3, Duration::from_millis(10));
        assert!(running.progress(3), "{}: workers stalled", b.name);
        let down = Instant::now();
        proxy.cut();

        // An engine created while the server is down fails on time, carrying the connect error.
        let late = through(b, &proxy, &[], configure);
        let (err, took) = timed(|| late.engine.connect());
        let err = err.expect_err("no server");
        assert!(carries_connect_error(&err), "{}: {err}", b.name);
        assert!(took < NETWORK_TIMEOUT + SLACK, "{}: took {took:?}", b.name);

        thread::sleep(Duration::from_millis(1000));
        proxy.forward();
        let healthy = Instant::now() + Duration::from_millis(300);
        thread::sleep(Duration::from_millis(300));
        assert!(
            running.progress(5),
            "{}: workers stalled after recovery",
            b.name
        );
        let ops = running.finish();
        check_outage(b.name, &ops, NETWORK_TIMEOUT + SLACK, down, healthy);

        // Both engines work again, the late one too, without being rebuilt.
        for engine in [&t.engine, &late.engine] {
            let mut conn = engine.connect().unwrap();
            assert_eq!(select_one(&mut conn).unwrap(), 1);
        }
        t.at_rest(b.name);
    });
}

#[test]
fn a_black_holed_network_fails_checkouts_within_pool_timeout_and_blocks_no_other_thread() {
    on_each(servers("black_hole"), |b| {
        let proxy = Proxy::start(server_addr(&b.url));
        // Socket timeouts bound a MySQL pre-ping on a dead network; PostgreSQL's is bounded by
        // the checkout's remaining pool_timeout.
        let timeouts = [("read_timeout", "2"), ("write_timeout", "2")];
        let t = through(b, &proxy, &timeouts, |e| {
            e.pool_size(2)
                .max_overflow(1)
                .pool_timeout(NETWORK_TIMEOUT)
                .pool_pre_ping(true)
        });
        drop(hold(&t.engine, 2));
        let mut holder = t.engine.connect().unwrap();
        select_one(&mut holder).unwrap();

        proxy.black_hole();
        let blocked = Instant::now();
        // One checkout pings the idle connection, one opens the overflow one, one waits.
        let stuck: Vec<_> = (0..3)
            .map(|_| {
                let engine = t.engine.clone();
                thread::spawn(move || timed(|| engine.connect().map(drop)))
            })
            .collect();

        // Meanwhile the pool answers at once: no lock is held while they wait on the network.
        let mut slowest_status = Duration::ZERO;
        let mut returned_in = None;
        let mut holder = Some(holder);
        while stuck.iter().any(|h| !h.is_finished()) && blocked.elapsed() < Duration::from_secs(5) {
            let (_, took) = timed(|| t.engine.pool_status());
            slowest_status = slowest_status.max(took);
            if blocked.elapsed() > Duration::from_millis(300)
                && let Some(conn) = holder.take()
            {
                returned_in = Some(timed(|| drop(conn)).1);
            }
            thread::sleep(Duration::from_millis(5));
        }
        // Heal the network before waiting for a checkout that would hang until then.
        let all_returned = stuck.iter().all(|h| h.is_finished());
        proxy.forward();
        let healed = Instant::now();
        assert!(
            all_returned,
            "{}: checkouts still blocked after 5 s",
            b.name
        );
        for h in stuck {
            let (result, took) = h.join().unwrap();
            let err = result.expect_err("no network");
            assert!(
                took < NETWORK_TIMEOUT + SLACK,
                "{}: a checkout took {took:?}: {err}",
                b.name
            );
        }
        assert!(
            slowest_status < Duration::from_millis(200),
            "{}: status() took {slowest_status:?}",
            b.name
        );
        let returned_in = returned_in.expect("the holder returned its connection");
        assert!(
            returned_in < Duration::from_millis(200),
            "{}: returning a connection took {returned_in:?}",
            b.name
        );

        loop {
            let ok = t.engine.connect().and_then(|mut c| select_one(&mut c));
            if ok.is_ok() {
                break;
            }
            assert!(
                healed.elapsed() < Duration::from_secs(5),
                "{}: no recovery: {}",
                b.name,
                ok.unwrap_err()
            );
            thread::sleep(Duration::from_millis(50));
        }
        // Every slot of size + overflow is usable again: none was lost to the black hole.
        drop(hold(&t.engine, 3));
        t.at_rest(b.name);
    });
}

#[test]
fn a_hanging_connect_blocks_no_other_checkout_and_keeps_no_overflow_slot() {
    on_each(servers("hanging_connect"), |b| {
        let proxy = Proxy::start(server_addr(&b.url));
        let t = through(b, &proxy, &[], |e| {
            e.pool_size(1).max_overflow(1).pool_timeout(TIMEOUT)
        });
        // The connect hangs until the network heals, then until the connection is refused.
        for heal_by_refusing in [false, true] {
            let mut holder = t.engine.connect().unwrap();
            select_one(&mut holder).unwrap();
            proxy.hang_connects();
            let hanging = {
                let engine = t.engine.clone();
                thread::spawn(move || timed(|| engine.connect().map(drop)))
            };
            thread::sleep(Duration::from_millis(200));
            // The established connection works, and goes to another thread without waiting
            // for the connect.
            select_one(&mut holder).unwrap();
            drop(holder);
            let (other, took) = timed(|| {
                let mut conn = t.engine.connect()?;
                select_one(&mut conn)
            });
            other.unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert!(took < TIMEOUT / 2, "{}: took {took:?}", b.name);
            assert!(
                !hanging.is_finished(),
                "{}: the connect did not hang",
                b.name
            );

            let (result, took) = hanging.join().unwrap();
            let err = result.expect_err("the connect hangs");
            assert!(
                matches!(err, Error::PoolTimeout { .. }),
                "{}: {err}",
                b.name
            );
            assert!(took < TIMEOUT + SLACK, "{}: took {took:?}", b.name);

            if heal_by_refusing {
                proxy.refuse_connects();
            }
            proxy.forward();
            every_slot_back(b, &t, 2);
        }
    });
}

/// The slot a late connect held is free again once it ended (the connection joined the pool
/// or was closed): all `capacity` slots of a pool of size 1 work at once.
fn every_slot_back(b: &Backend, t: &Tagged, capacity: usize) {
    assert!(
        eventually(|| t.engine.pool_status().overflow <= 0),
        "{}: the late connect kept its slot",
        b.name
    );
    drop(hold(&t.engine, capacity));
    assert_eq!(t.at_rest(b.name), 1);
}

#[test]
fn a_failing_connect_blocks_no_other_checkout_and_keeps_no_overflow_slot() {
    on_each(servers("failing_connect"), |b| {
        let proxy = Proxy::start(server_addr(&b.url));
        let t = through(b, &proxy, &[], |e| {
            e.pool_size(1).max_overflow(2).pool_timeout(TIMEOUT)
        });
        let mut holder = t.engine.connect().unwrap();
        proxy.refuse_connects();
        for i in 0..5 {
            let (err, took) = timed(|| t.engine.connect().map(drop));
            let err = err.expect_err("refused");
            assert!(err.is_disconnect(), "{}: {err}", b.name);
            assert!(took < SLACK, "{}: a refused connect took {took:?}", b.name);
            assert_eq!(
                t.engine.pool_status(),
                status(0, 1, 0, 1),
                "{}: after refusal {i}",
                b.name
            );
            // The established connection goes on working.
            select_one(&mut holder).unwrap();
        }
        // A checkout that then times out on a hanging connect names the refusal.
        proxy.hang_connects();
        let err = t.engine.connect().map(drop).expect_err("hangs");
        match &err {
            Error::PoolTimeout {
                last_connect_error: Some(last),
                ..
            } => assert!(last.contains("cannot connect"), "{}: {last}", b.name),
            other => panic!("{}: {other}", b.name),
        }
        drop(holder);
        proxy.forward();
        every_slot_back(b, &t, 3);
    });
}

// ---------------------------------------------------------------------------------------------
// Load

const LOAD_SIZE: usize = 5;
const LOAD_OVERFLOW: usize = 5;
const LOAD_THREADS: usize = 64;
const LOAD_TIMEOUT: Duration = Duration::from_millis(250);

#[test]
fn sixty_four_threads_on_a_pool_of_five_stay_within_its_capacity_and_lose_nothing() {
    let _alone = exclusive();
    on_each_at_once(servers("load"), |b| {
        let cap = LOAD_SIZE + LOAD_OVERFLOW;
        let t = tagged(b, |e| {
            e.pool_size(LOAD_SIZE)
                .max_overflow(LOAD_OVERFLOW as isize)
                .pool_timeout(LOAD_TIMEOUT)
        });
        let name = b.name;
        let started = Instant::now();
        // Seven seconds of short holds, then three of long ones, where waiters time out.
        let overload = started + Duration::from_secs(7);
        let end = started + Duration::from_secs(10);
        let threads: Vec<_> = (0..LOAD_THREADS)
            .map(|i| {
                let engine = t.engine.clone();
                thread::spawn(move || {
                    let (mut served, mut timed_out) = (0usize, 0usize);
                    let mut n = i as u64;
                    while Instant::now() < end {
                        let (conn, took) = timed(|| engine.connect());
                        match conn {
                            Ok(mut conn) => {
                                assert!(
                                    took < LOAD_TIMEOUT + SLACK,
                                    "{name}: served after {took:?}"
                                );
                                select_one(&mut conn).unwrap();
                                n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                                thread::sleep(if Instant::now() < overload {
                                    Duration::from_micros((n >> 33) % 2000)
                                } else {
                                    Duration::from_millis(100)
                                });
                                served += 1;
                            }
                            Err(Error::PoolTimeout { .. }) => {
                                assert!(
                                    took >= LOAD_TIMEOUT && took < LOAD_TIMEOUT + SLACK,
                                    "{name}: timed out after {took:?}"
                                );
                                timed_out += 1;
                            }
                            Err(e) => panic!("{name}: checkout failed: {e}"),
                        }
                    }
                    (served, timed_out)
                })
            })
            .collect();

        // Watch the counts, the pool's and the server's.
        let (mut most_open, mut most_on_server, mut samples) = (0, 0, 0usize);
        while Instant::now() < end {
            let s = t.engine.pool_status();
            most_open = most_open.max(s.checked_in + s.checked_out);
            assert!(s.overflow <= LOAD_OVERFLOW as isize, "{}: {s}", b.name);
            if samples.is_multiple_of(20) {
                let on_server = t.on_server();
                // A connection the pool closed may linger server-side a moment: at most one per
                // connection ever closed, and the pool closes none while waiters queue.
                let closed = t.opened().saturating_sub(cap);
                assert!(
                    on_server <= cap + closed,
                    "{}: the server has {on_server} connections of a pool of {cap}",
                    b.name
                );
                most_on_server = most_on_server.max(on_server);
            }
            samples += 1;
            thread::sleep(Duration::from_millis(5));
        }
        let (mut served, mut timed_out) = (0, 0);
        for h in threads {
            let (s, t) = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            served += s;
            timed_out += t;
        }
        assert!(most_open <= cap, "{}: {most_open} open", b.name);
        assert!(served > 1000, "{}: only {served} checkouts served", b.name);
        assert!(timed_out > 0, "{}: the overload timed nobody out", b.name);

        // Nothing lost: the pool keeps its five, the server has exactly those, and every slot
        // can be used at once.
        assert_eq!(t.at_rest(b.name), LOAD_SIZE);
        drop(hold(&t.engine, cap));
        eprintln!(
            "{}: {served} served, {timed_out} timed out, at most {most_open} open \
             ({most_on_server} on the server), {} opened in all",
            b.name,
            t.opened()
        );
    });
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let _alone = exclusive();
    on_each(servers("fifo"), |b| {
        let t = tagged(b, |e| {
            e.pool_size(1)
                .max_overflow(0)
                .pool_timeout(Duration::from_secs(10))
        });
        let holder = t.engine.connect().unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..6)
            .map(|i| {
                let engine = t.engine.clone();
                let order = Arc::clone(&order);
                let waiter = thread::spawn(move || {
                    let mut conn = engine.connect().unwrap();
                    order.lock().unwrap().push(i);
                    select_one(&mut conn).unwrap();
                    thread::sleep(Duration::from_millis(10));
                });
                // Time to queue before the next one comes.
                thread::sleep(Duration::from_millis(100));
                waiter
            })
            .collect();
        drop(holder);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 5], "{}", b.name);
        assert_eq!(t.opened(), 1, "{}", b.name);
    });
}

#[test]
fn a_pool_of_one_hands_over_100_000_times_without_a_lost_wakeup() {
    let _alone = exclusive();
    on_each_at_once(servers("hand_offs"), |b| {
        const HAND_OFFS: usize = 100_000;
        // A lost wake-up leaves a waiter asleep until its timeout: a PoolTimeout.
        let t = tagged(b, |e| {
            e.pool_size(1)
                .max_overflow(0)
                .pool_timeout(Duration::from_secs(5))
        });
        let next = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let engine = t.engine.clone();
                let next = Arc::clone(&next);
                thread::spawn(move || {
                    let mut mine = 0;
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= HAND_OFFS {
                            return mine;
                        }
                        let mut conn = engine
                            .connect()
                            .unwrap_or_else(|e| panic!("hand-off {n}: {e}"));
                        if n.is_multiple_of(1000) {
                            select_one(&mut conn).unwrap();
                        }
                        mine += 1;
                    }
                })
            })
            .collect();
        let done: usize = threads
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .sum();
        assert_eq!(done, HAND_OFFS, "{}", b.name);
        assert_eq!(t.opened(), 1, "{}: the connection was replaced", b.name);
        assert_eq!(t.at_rest(b.name), 1);
    });
}

// ---------------------------------------------------------------------------------------------
// Leaks, panics, abandoned transactions, recycle, dispose

#[test]
fn leak_detection_names_the_checkout_site() {
    pool_warnings();
    on_each(servers_and_sqlite("leak"), |b| {
        let t = tagged(b, |e| {
            e.leak_detection_threshold(Duration::from_millis(150))
        });
        let (conn, line) = (t.engine.connect().unwrap(), line!());
        let site = format!("pool_reliability.rs:{line}:");
        let leaks = leak_warnings(&site);
        assert_reported_leak(&leaks, b.name);
        drop(conn);
        assert_reported_return(&site, b.name);

        // A connection returned in time is not reported.
        let (quick, line) = (t.engine.connect().unwrap(), line!());
        drop(quick);
        thread::sleep(Duration::from_millis(300));
        let quick_site = format!("pool_reliability.rs:{line}:");
        assert_not_reported(&quick_site, b.name);
    });
}

/// Rows in `table` as a fresh engine on the same database sees them (never a pooled
/// connection of the engine under test).
fn committed(b: &Backend, table: &str) -> i64 {
    let engine = Engine::builder(&b.url).pool_size(1).build().unwrap();
    let mut conn = engine.connect().unwrap();
    count(&mut conn, table)
}

#[test]
fn a_panic_while_holding_a_connection_returns_it_rolled_back() {
    on_each(servers_and_sqlite("panic"), |b| {
        let t = tagged(b, |e| e.pool_size(1).max_overflow(0).pool_timeout(ROOMY));
        create_table(&t.engine, "panicked");
        let engine = t.engine.clone();
        let panicked = thread::spawn(move || {
            let mut conn = engine.connect().unwrap();
            let mut tx = conn.begin().unwrap();
            tx.execute(text("INSERT INTO panicked (x) VALUES (1)"))
                .unwrap();
            panic!("a panic inside a transaction (expected by the test)");
        })
        .join();
        assert!(panicked.is_err());
        let engine = t.engine.clone();
        let panicked = thread::spawn(move || {
            engine.transaction(|conn| -> quarry::Result<()> {
                conn.execute(text("INSERT INTO panicked (x) VALUES (2)"))?;
                panic!("a panic inside engine.transaction (expected by the test)");
            })
        })
        .join();
        assert!(panicked.is_err());

        let s = t.engine.pool_status();
        assert!(s.checked_out == 0 && s.overflow <= 0, "{}: {s}", b.name);
        // The connection (kept or replaced) is usable and in no transaction: what it writes
        // now commits, and nothing of before the panics does.
        let mut conn = t.engine.connect().unwrap();
        conn.execute(text("INSERT INTO panicked (x) VALUES (3)"))
            .unwrap();
        drop(conn);
        assert_eq!(committed(b, "panicked"), 1, "{}", b.name);
        assert_eq!(committed(b, "panicked WHERE x = 3"), 1, "{}", b.name);
    });
}

#[test]
fn a_connection_returned_inside_an_open_transaction_never_leaks_its_rows() {
    on_each(servers_and_sqlite("open_tx"), |b| {
        let t = tagged(b, |e| e.pool_size(1).max_overflow(0).pool_timeout(ROOMY));
        create_table(&t.engine, "abandoned");
        let kind = t.kind;
        // Three ways to leave a transaction open on a connection that goes back to the pool.
        type Abandon = fn(&Engine, Kind);
        let ways: [(&str, Abandon); 3] = [
            ("a leaked guard", |engine, _| {
                let mut conn = engine.connect().unwrap();
                let mut tx = conn.begin().unwrap();
                tx.execute(text("INSERT INTO abandoned (x) VALUES (1)"))
                    .unwrap();
                std::mem::forget(tx);
            }),
            ("BEGIN in SQL", |engine, kind| {
                let mut conn = engine.connect().unwrap();
                let begin = if kind == Kind::Mysql {
                    "START TRANSACTION"
                } else {
                    "BEGIN"
                };
                conn.execute(text(begin)).unwrap();
                conn.execute(text("INSERT INTO abandoned (x) VALUES (1)"))
                    .unwrap();
            }),
            ("a native transaction", |engine, kind| {
                let mut raw = engine.raw_connection().unwrap();
                let sql = "BEGIN; INSERT INTO abandoned (x) VALUES (1)";
                match kind {
                    #[cfg(feature = "postgres")]
                    Kind::Postgres => raw
                        .downcast_mut::<native::postgres::Client>()
                        .unwrap()
                        .batch_execute(sql)
                        .unwrap(),
                    #[cfg(feature = "mysql")]
                    Kind::Mysql => {
                        use native::mysql::prelude::Queryable;
                        let my = raw.downcast_mut::<native::mysql::Conn>().unwrap();
                        my.query_drop("START TRANSACTION").unwrap();
                        my.query_drop("INSERT INTO abandoned (x) VALUES (1)")
                            .unwrap();
                    }
                    Kind::Sqlite => raw
                        .downcast_mut::<native::rusqlite::Connection>()
                        .unwrap()
                        .execute_batch(sql)
                        .unwrap(),
                    #[allow(unreachable_patterns)]
                    _ => unreachable!("no {kind:?} driver in this build"),
                }
            }),
        ];
        for (way, abandon) in ways {
            abandon(&t.engine, kind);
            // The next user (of the same connection: the pool has one) sees none of it, and
            // what it writes commits on its own.
            let mut conn = t.engine.connect().unwrap();
            assert_eq!(count(&mut conn, "abandoned"), 0, "{}: {way}", b.name);
            conn.execute(text("INSERT INTO abandoned (x) VALUES (2)"))
                .unwrap();
            drop(conn);
            assert_eq!(committed(b, "abandoned"), 1, "{}: {way}", b.name);
            t.engine
                .connect()
                .unwrap()
                .execute(text("DELETE FROM abandoned"))
                .unwrap();
        }
        let s = t.engine.pool_status();
        assert!(s.checked_out == 0 && s.overflow <= 0, "{}: {s}", b.name);
    });
}

#[test]
fn recycle_never_closes_a_connection_under_its_user() {
    on_each(servers("recycle"), |b| {
        let recycle = Duration::from_millis(200);
        let t = tagged(b, |e| {
            e.pool_size(2)
                .max_overflow(0)
                .pool_timeout(ROOMY)
                .pool_recycle(recycle)
        });
        let id_sql = t.kind.id_sql();
        let server_id = |conn: &mut Connection| -> i64 {
            conn.execute(text(id_sql).columns::<i64>())
                .and_then(|r| r.scalar())
                .unwrap()
        };
        let mut user = t.engine.connect().unwrap();
        let mine = server_id(&mut user);
        // Another thread keeps checking out, so the pool recycles its connection again and
        // again, while this one holds its own well past the recycle age.
        let churn = Workers::start(&t.engine, 1, Duration::from_millis(30));
        let held = Instant::now();
        while held.elapsed() < recycle * 4 {
            assert_eq!(server_id(&mut user), mine, "{}", b.name);
            thread::sleep(Duration::from_millis(25));
        }
        for ops in churn.finish() {
            for op in ops {
                if let Err((_, e)) = op.result {
                    panic!("{}: {e}", b.name);
                }
            }
        }
        assert_eq!(t.alive(&[mine]), 1, "{}: closed under its user", b.name);
        drop(user);
        // Too old now: replaced at its next checkout, and closed on the server.
        let mut conns = hold(&t.engine, 2);
        for conn in &mut conns {
            assert_ne!(server_id(conn), mine, "{}", b.name);
        }
        assert!(t.opened() > 3, "{}: nothing was recycled", b.name);
        assert!(
            t.gone(&[mine]),
            "{}: the old connection is still open",
            b.name
        );
        drop(conns);
        assert_eq!(t.at_rest(b.name), 2);
    });
}

#[test]
fn dispose_closes_idle_connections_at_once() {
    on_each(servers_and_sqlite("dispose"), |b| {
        let t = tagged(b, |e| e.pool_size(3).max_overflow(0).pool_timeout(ROOMY));
        let mut conns = hold(&t.engine, 3);
        let mut kept = conns.pop().unwrap();
        drop(conns);
        assert_eq!(t.engine.pool_status(), status(2, 1, 0, 3), "{}", b.name);
        let is_server = t.kind != Kind::Sqlite;
        if is_server {
            assert_eq!(t.on_server(), 3, "{}", b.name);
        }

        t.engine.dispose();
        assert_eq!(t.engine.pool_status(), status(0, 1, -2, 3), "{}", b.name);
        if is_server {
            assert_eq!(t.settle(1), 1, "{}: idle ones still open", b.name);
        }
        // The checked-out one keeps working, and is closed when it comes back.
        select_one(&mut kept).unwrap();
        drop(kept);
        assert_eq!(t.engine.pool_status(), status(0, 0, -3, 3), "{}", b.name);
        if is_server {
            assert_eq!(t.settle(0), 0, "{}", b.name);
        }
        let opened = t.opened();
        drop(hold(&t.engine, 1));
        if is_server {
            assert_eq!(t.opened(), opened + 1, "{}", b.name);
        }
    });
}
