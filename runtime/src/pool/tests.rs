//! The pool's behaviours, after SQLAlchemy's `test/engine/test_pool.py`, on a fake driver that
//! records what the pool does to its connections.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::dialect::{Dialect, Sqlite};
use crate::driver::{Outcome, RowSink};
use crate::error::{DatabaseError, DatabaseErrorKind};
use crate::value::Value;

/// What happened to the fake connections, shared by the driver and its connections.
#[derive(Debug, Default)]
struct Log {
    connects: AtomicUsize,
    closes: AtomicUsize,
    rollbacks: AtomicUsize,
    commits: AtomicUsize,
    pings: AtomicUsize,
    /// Connect fails while set.
    refuse: AtomicBool,
    /// Connect sleeps this many ms first.
    connect_delay_ms: AtomicU64,
    /// Every ping fails while set.
    dead: AtomicBool,
    calls: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct FakeDriver(Arc<Log>);

struct FakeConn {
    log: Arc<Log>,
    /// The n-th connection opened, from 1.
    n: usize,
    in_tx: bool,
}

fn disconnect() -> Error {
    let mut e = DatabaseError::new(
        DatabaseErrorKind::Connection,
        "server closed the connection",
    );
    e.disconnect = true;
    crate::error::DatabaseError::into_error(e)
}

impl Driver for FakeDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let delay = self.0.connect_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            thread::sleep(Duration::from_millis(delay));
        }
        if self.0.refuse.load(Ordering::SeqCst) {
            return Err(crate::error::DatabaseError::into_error(DatabaseError::new(
                DatabaseErrorKind::Connection,
                "connection refused",
            )));
        }
        let n = self.0.connects.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Box::new(FakeConn {
            log: Arc::clone(&self.0),
            n,
            in_tx: false,
        }))
    }
}

impl FakeConn {
    fn note(&self, what: &str) {
        lock(&self.log.calls).push(format!("{what}{}", self.n));
    }
}

impl Drop for FakeConn {
    fn drop(&mut self) {
        self.log.closes.fetch_add(1, Ordering::SeqCst);
        self.note("CL");
    }
}

impl DriverConnection for FakeConn {
    fn run(&mut self, _: &str, _: &[Value], _: &mut dyn RowSink) -> Result<Outcome> {
        Ok(Outcome::default())
    }
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.note(sql);
        Ok(())
    }
    fn ping(&mut self) -> Result<()> {
        self.log.pings.fetch_add(1, Ordering::SeqCst);
        if self.log.dead.load(Ordering::SeqCst) {
            return Err(disconnect());
        }
        Ok(())
    }
    fn begin(&mut self) -> Result<()> {
        self.in_tx = true;
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        self.in_tx = false;
        self.log.commits.fetch_add(1, Ordering::SeqCst);
        self.note("C");
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        self.in_tx = false;
        self.log.rollbacks.fetch_add(1, Ordering::SeqCst);
        self.note("R");
        Ok(())
    }
    fn in_transaction(&self) -> bool {
        self.in_tx
    }
    fn forget_transaction(&mut self) {
        self.in_tx = false;
    }
    fn set_statement_timeout(&mut self, _: Option<Duration>) -> Result<()> {
        Ok(())
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn fake() -> (Arc<Log>, Arc<dyn Driver>) {
    let log = Arc::new(Log::default());
    (Arc::clone(&log), Arc::new(FakeDriver(Arc::clone(&log))))
}

/// The fake connection's number, through the native-connection downcast.
fn n(c: &mut PooledConnection) -> usize {
    match c.get().as_any_mut().downcast_mut::<FakeConn>() {
        Some(f) => f.n,
        None => panic!("not a fake connection"),
    }
}

fn queue(size: usize, overflow: isize) -> PoolBuilder {
    Pool::builder().pool_size(size).max_overflow(overflow)
}

#[test]
fn queue_bookkeeping_with_unbounded_overflow() {
    let (_, driver) = fake();
    let pool = queue(3, -1).build(driver).unwrap();
    let held: Vec<_> = (0..5).map(|_| pool.get().unwrap()).collect();
    let s = pool.status();
    assert_eq!((s.checked_in, s.checked_out, s.overflow), (0, 5, 2));
    drop(held);
    let s = pool.status();
    assert_eq!((s.checked_in, s.checked_out, s.overflow), (3, 0, 0));
}

/// SQLAlchemy's `QueuePoolTest::test_queuepool_close` (behaviour A1): the whole status
/// sequence, `(size, checked_in, overflow, checked_out)`, as SQLAlchemy's `status()` gives it.
#[test]
fn queue_status_sequence_matches_sqlalchemy() {
    let (_, driver) = fake();
    let pool = queue(3, -1).build(driver).unwrap();
    let status = |pool: &Pool| {
        let s = pool.status();
        (s.size, s.checked_in, s.checked_out)
    };
    let mut held: Vec<_> = Vec::new();
    for out in 1..=6 {
        held.push(pool.get().unwrap());
        assert_eq!(status(&pool), (3, 0, out));
    }
    // Close c4, c3, c2: they fill the pool.
    for i in [3, 2, 1] {
        drop(held.remove(i));
    }
    assert_eq!(status(&pool), (3, 3, 3));
    // Close c1, c5, c6: overflow connections, closed.
    drop(held);
    assert_eq!(status(&pool), (3, 3, 0));
    let mut two: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect();
    assert_eq!(status(&pool), (3, 1, 2));
    two.pop();
    assert_eq!(status(&pool), (3, 2, 1));
}

/// The same sequence's `overflow()`: SQLAlchemy counts the connections opened minus
/// `pool_size`, negative while fewer are open (`-2, -1, 0, 1, 2, 3`, then `3`, `0`, `0`, `0`).
#[test]
fn queue_overflow_is_negative_below_pool_size_as_in_sqlalchemy() {
    let (_, driver) = fake();
    let pool = queue(3, -1).build(driver).unwrap();
    let mut held: Vec<_> = Vec::new();
    for expected in [-2_isize, -1, 0, 1, 2, 3] {
        held.push(pool.get().unwrap());
        assert_eq!(pool.status().overflow, expected);
    }
    drop(held);
    let _two: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect();
    assert_eq!(pool.status().overflow, 0);
}

#[test]
fn overflow_connections_are_closed_on_return_and_pooled_ones_kept() {
    let (log, driver) = fake();
    let pool = queue(2, 2).build(driver).unwrap();
    for _ in 0..5 {
        let held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
        drop(held);
    }
    assert_eq!(log.connects.load(Ordering::SeqCst), 12);
    assert_eq!(log.closes.load(Ordering::SeqCst), 10);
    assert_eq!(pool.status().checked_in, 2);
}

#[test]
fn exhausted_pool_times_out_with_sqlalchemys_message() {
    let (_, driver) = fake();
    let pool = queue(3, 0)
        .pool_timeout(Duration::from_millis(100))
        .build(driver)
        .unwrap();
    let _held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    let started = Instant::now();
    let err = pool.get().unwrap_err();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert_eq!(
        err.to_string(),
        "pool limit of size 3 overflow 0 reached, connection timed out, timeout 100ms"
    );
}

#[test]
fn a_failed_connect_frees_its_overflow_slot() {
    let (log, driver) = fake();
    let pool = queue(2, 3).build(driver).unwrap();
    let _held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    log.refuse.store(true, Ordering::SeqCst);
    for _ in 0..10 {
        let e = pool.get().unwrap_err();
        assert!(e.to_string().contains("connection refused"), "{e}");
    }
    assert_eq!(pool.status().overflow, 1);
    log.refuse.store(false, Ordering::SeqCst);
    let _more: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect();
    assert_eq!(pool.status().overflow, 3);
}

#[test]
fn a_timeout_carries_the_last_connect_error() {
    let (log, driver) = fake();
    let pool = queue(2, 0)
        .pool_timeout(Duration::from_millis(100))
        .build(Arc::new(BlockingFake(driver)))
        .unwrap();
    let _held = pool.get().unwrap();
    log.refuse.store(true, Ordering::SeqCst);
    let refused = pool.get().unwrap_err().to_string();
    assert!(refused.contains("connection refused"), "{refused}");
    // The next connect hangs past the deadline: the timeout says why connects failed before.
    log.refuse.store(false, Ordering::SeqCst);
    log.connect_delay_ms.store(300, Ordering::SeqCst);
    let e = pool.get().unwrap_err().to_string();
    assert_eq!(
        e,
        "pool limit of size 2 overflow 0 reached, connection timed out, timeout 100ms; \
         last connect error: connection refused"
    );
    // Once a connect succeeds the old error is forgotten.
    thread::sleep(Duration::from_millis(400));
    let _second = pool.get().unwrap();
    let e = pool.get().unwrap_err().to_string();
    assert!(!e.contains("last connect error"), "{e}");
}

#[test]
fn a_hanging_connect_does_not_block_other_checkouts() {
    let (log, driver) = fake();
    let pool = queue(2, 3).build(driver).unwrap();
    let held = pool.get().unwrap();
    drop(held); // one idle connection
    log.connect_delay_ms.store(1_000, Ordering::SeqCst);
    let slow = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(drop))
    };
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let idle = pool.get().unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    drop(idle);
    slow.join().unwrap().unwrap();
}

#[test]
fn a_hanging_connect_fails_the_checkout_at_its_deadline_and_joins_the_pool_later() {
    let (log, driver) = fake();
    let pool = queue(1, 0)
        .pool_timeout(Duration::from_millis(100))
        .build(Arc::new(BlockingFake(driver)))
        .unwrap();
    log.connect_delay_ms.store(400, Ordering::SeqCst);
    let started = Instant::now();
    let e = pool.get().unwrap_err();
    assert!(matches!(e, Error::PoolTimeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_millis(350));
    // The slot belongs to the connect still under way; once it lands the connection is idle.
    log.connect_delay_ms.store(0, Ordering::SeqCst);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(pool.status().checked_in, 1);
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 1);
}

/// The fake driver, claiming its connects may block (so the pool bounds them by a thread).
#[derive(Debug)]
struct BlockingFake(Arc<dyn Driver>);

impl Driver for BlockingFake {
    fn dialect(&self) -> &'static dyn Dialect {
        self.0.dialect()
    }
    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        self.0.connect()
    }
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let (_, driver) = fake();
    let pool = queue(1, 0)
        .pool_timeout(Duration::from_secs(10))
        .build(driver)
        .unwrap();
    let held = pool.get().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for i in 0..5 {
        let (p, order) = (pool.clone(), Arc::clone(&order));
        waiters.push(thread::spawn(move || {
            let c = p.get().unwrap();
            lock(&order).push(i);
            thread::sleep(Duration::from_millis(5));
            drop(c);
        }));
        // Each waiter queues before the next starts.
        let deadline = Instant::now() + Duration::from_secs(5);
        while waiting(&pool) < i + 1 {
            assert!(Instant::now() < deadline, "waiter {i} never queued");
            thread::sleep(Duration::from_millis(1));
        }
    }
    drop(held);
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(*lock(&order), [0, 1, 2, 3, 4]);
}

fn waiting(pool: &Pool) -> usize {
    pool.shared.store.waiting()
}

#[test]
fn no_lost_wakeup_in_many_hand_offs() {
    let (_, driver) = fake();
    let pool = queue(1, 0)
        .pool_timeout(Duration::from_secs(20))
        .build(driver)
        .unwrap();
    let total = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (pool, total) = (pool.clone(), Arc::clone(&total));
            thread::spawn(move || {
                for _ in 0..5_000 {
                    drop(pool.get().unwrap());
                    total.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(total.load(Ordering::Relaxed), 20_000);
    assert_eq!(pool.status().checked_out, 0);
}

#[test]
fn connections_never_exceed_size_plus_overflow() {
    let (log, driver) = fake();
    let pool = queue(3, 5)
        .pool_timeout(Duration::from_secs(10))
        .build(driver)
        .unwrap();
    let peak = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(40));
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let (pool, peak, start) = (pool.clone(), Arc::clone(&peak), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for _ in 0..10 {
                    let c = pool.get().unwrap();
                    let s = pool.status();
                    peak.fetch_max(s.checked_in + s.checked_out, Ordering::SeqCst);
                    thread::sleep(Duration::from_micros(200));
                    drop(c);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 8);
    let open = log.connects.load(Ordering::SeqCst) - log.closes.load(Ordering::SeqCst);
    assert!(open <= 3, "{open} connections left open");
}

#[test]
fn fifo_and_lifo_order_of_idle_connections() {
    let (_, driver) = fake();
    let pool = queue(3, 0).build(driver).unwrap();
    let mut cs: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    let ids: Vec<_> = cs.iter_mut().map(n).collect();
    assert_eq!(ids, [1, 2, 3]);
    drop(cs); // returned in order 1, 2, 3
    let mut a = pool.get().unwrap();
    assert_eq!(n(&mut a), 1);
    drop(a);
    let (mut b, mut c) = (pool.get().unwrap(), pool.get().unwrap());
    assert_eq!((n(&mut b), n(&mut c)), (2, 3));

    let (_, driver) = fake();
    let pool = queue(3, 0).pool_use_lifo(true).build(driver).unwrap();
    drop((0..3).map(|_| pool.get().unwrap()).collect::<Vec<_>>());
    let mut a = pool.get().unwrap();
    assert_eq!(n(&mut a), 3);
    drop(a);
    let (mut b, mut c) = (pool.get().unwrap(), pool.get().unwrap());
    assert_eq!((n(&mut b), n(&mut c)), (3, 2));
}

#[test]
fn reset_on_return_rolls_back_commits_or_leaves_alone() {
    for (reset, rollbacks, commits) in [
        (ResetOnReturn::Rollback, 1, 0),
        (ResetOnReturn::Commit, 0, 1),
        (ResetOnReturn::None, 0, 0),
    ] {
        let (log, driver) = fake();
        let pool = queue(1, 0).reset_on_return(reset).build(driver).unwrap();
        let mut c = pool.get().unwrap();
        c.get().begin().unwrap();
        drop(c);
        assert_eq!(log.rollbacks.load(Ordering::SeqCst), rollbacks, "{reset:?}");
        assert_eq!(log.commits.load(Ordering::SeqCst), commits, "{reset:?}");
    }
}

#[test]
fn recycle_replaces_old_connections_at_checkout_only() {
    let (log, driver) = fake();
    let pool = queue(1, 0)
        .pool_recycle(Duration::from_millis(50))
        .build(driver)
        .unwrap();
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 1);
    thread::sleep(Duration::from_millis(80));
    // In use: never closed under its user.
    assert_eq!(log.closes.load(Ordering::SeqCst), 0);
    c.get().batch("SELECT 1").unwrap();
    drop(c);
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 2);
    assert_eq!(log.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn invalidate_closes_at_once_and_the_next_checkout_reconnects() {
    let (log, driver) = fake();
    let pool = queue(1, 0).build(driver).unwrap();
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 1);
    c.invalidate(None);
    assert_eq!(log.closes.load(Ordering::SeqCst), 1);
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 2);
}

#[test]
fn a_disconnect_invalidates_every_connection_open_at_the_time() {
    let (log, driver) = fake();
    let pool = queue(3, 0).build(driver).unwrap();
    let mut cs: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    let failing = cs.remove(1);
    drop(cs); // 1 and 3 idle
    let fresh = pool.get().unwrap(); // 1 again (FIFO), still considered healthy
    drop(fresh);
    failing.invalidate(Some(&disconnect()));
    // Idle ones closed at once; the pool is back to nothing checked out.
    assert_eq!(log.closes.load(Ordering::SeqCst), 3);
    let s = pool.status();
    assert_eq!((s.checked_in, s.checked_out), (0, 0));
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 4);
}

#[test]
fn a_checked_out_connection_older_than_a_disconnect_is_closed_on_return() {
    let (log, driver) = fake();
    let pool = queue(2, 0).build(driver).unwrap();
    let (old, failing) = (pool.get().unwrap(), pool.get().unwrap());
    failing.invalidate(Some(&disconnect()));
    drop(old);
    assert_eq!(log.closes.load(Ordering::SeqCst), 2);
    assert_eq!(pool.status().checked_in, 0);
}

#[test]
fn pre_ping_replaces_dead_connections_transparently() {
    let (log, driver) = fake();
    let invalidated = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&invalidated);
    let pool = queue(3, 0)
        .pool_pre_ping(true)
        .on_invalidate(move |_, e| {
            assert!(e.is_some_and(Error::is_disconnect));
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build(driver)
        .unwrap();
    drop((0..3).map(|_| pool.get().unwrap()).collect::<Vec<_>>());
    log.dead.store(true, Ordering::SeqCst);
    let mut c = pool.get().unwrap();
    log.dead.store(false, Ordering::SeqCst);
    // The first dead one was pinged; the others were retired with it, unpinged.
    assert_eq!(n(&mut c), 4);
    assert_eq!(invalidated.load(Ordering::SeqCst), 1);
    assert_eq!(log.pings.load(Ordering::SeqCst), 1);
    drop(c);
    let s = pool.status();
    assert_eq!((s.checked_in, s.checked_out), (1, 0));
}

#[test]
fn dispose_closes_idle_connections_and_retires_checked_out_ones() {
    let (log, driver) = fake();
    let pool = queue(2, 0).build(driver).unwrap();
    let (a, b) = (pool.get().unwrap(), pool.get().unwrap());
    drop(a);
    pool.dispose();
    assert_eq!(log.closes.load(Ordering::SeqCst), 1);
    drop(b);
    assert_eq!(log.closes.load(Ordering::SeqCst), 2);
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 3);
}

#[test]
fn events_fire_for_connect_checkout_checkin_reset_and_invalidate() {
    let (_, driver) = fake();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = |name: &'static str| {
        let seen = Arc::clone(&seen);
        move |_: &mut dyn DriverConnection, info: &ConnectionInfo| {
            lock(&seen).push(format!("{name}{}", info.id()));
        }
    };
    let (connect, checkout) = (record("connect"), record("checkout"));
    let pool = queue(2, 0)
        .on_connect(move |c, i| {
            connect(c, i);
            Ok(())
        })
        .on_checkout(move |c, i| {
            checkout(c, i);
            Ok(())
        })
        .on_checkin(record("checkin"))
        .on_reset(record("reset"))
        .on_invalidate({
            let seen = Arc::clone(&seen);
            move |info, e| lock(&seen).push(format!("invalidate{}:{}", info.id(), e.is_some()))
        })
        .build(driver)
        .unwrap();
    let (a, b) = (pool.get().unwrap(), pool.get().unwrap());
    assert_eq!(
        *lock(&seen),
        ["connect1", "checkout1", "connect2", "checkout2"]
    );
    lock(&seen).clear();
    drop(a);
    b.invalidate(None);
    assert_eq!(*lock(&seen), ["reset1", "checkin1", "invalidate2:false"]);
}

#[test]
fn a_failing_connect_hook_fails_the_checkout_and_closes_the_connection() {
    let (log, driver) = fake();
    let fail = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&fail);
    let pool = queue(1, 0)
        .on_connect(move |_, _| {
            if flag.load(Ordering::SeqCst) {
                Err(Error::config("not today"))
            } else {
                Ok(())
            }
        })
        .build(driver)
        .unwrap();
    assert!(pool.get().unwrap_err().to_string().contains("not today"));
    assert_eq!(log.closes.load(Ordering::SeqCst), 1);
    assert_eq!(pool.status().checked_out, 0);
    fail.store(false, Ordering::SeqCst);
    pool.get().unwrap();
}

#[test]
fn a_disconnect_from_a_checkout_hook_retries_with_another_connection() {
    let (_, driver) = fake();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let pool = queue(1, 0)
        .on_checkout(move |_, _| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(disconnect())
            } else {
                Ok(())
            }
        })
        .build(driver)
        .unwrap();
    let mut c = pool.get().unwrap();
    assert_eq!(n(&mut c), 2);
}

#[test]
fn null_pool_opens_and_closes_per_checkout() {
    let (log, driver) = fake();
    let pool = Pool::builder()
        .poolclass(PoolClass::Null)
        .build(driver)
        .unwrap();
    let mut a = pool.get().unwrap();
    let mut b = pool.get().unwrap();
    assert_eq!((n(&mut a), n(&mut b)), (1, 2));
    assert_eq!(pool.status().checked_out, 2);
    drop((a, b));
    assert_eq!(log.closes.load(Ordering::SeqCst), 2);
    assert_eq!(lock(&log.calls).as_slice(), ["R1", "CL1", "R2", "CL2"]);
}

#[test]
fn static_pool_shares_one_connection_and_resets_when_the_last_user_returns() {
    let (log, driver) = fake();
    let pool = Pool::builder()
        .poolclass(PoolClass::Static)
        .build(driver)
        .unwrap();
    let mut a = pool.get().unwrap();
    let mut b = thread::scope(|s| s.spawn(|| pool.get().unwrap()).join().unwrap());
    a.get().batch("A").unwrap();
    b.get().batch("B").unwrap();
    assert_eq!(pool.status().checked_out, 2);
    drop(b);
    assert_eq!(log.rollbacks.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(lock(&log.calls).as_slice(), ["A1", "B1", "R1"]);
    assert_eq!(log.connects.load(Ordering::SeqCst), 1);
    pool.dispose();
    assert_eq!(log.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn singleton_thread_pool_gives_each_thread_its_own_connection() {
    let (log, driver) = fake();
    let pool = Pool::builder()
        .poolclass(PoolClass::SingletonThread)
        .pool_size(3)
        .build(driver)
        .unwrap();
    let mut c1 = pool.get().unwrap();
    let mut c2 = pool.get().unwrap();
    c1.get().batch("one").unwrap();
    c2.get().batch("two").unwrap();
    drop(c2);
    assert_eq!(
        log.rollbacks.load(Ordering::SeqCst),
        0,
        "nested return resets nothing"
    );
    drop(c1);
    assert_eq!(log.rollbacks.load(Ordering::SeqCst), 1);
    assert_eq!(log.connects.load(Ordering::SeqCst), 1);
    // Ten threads: each its own connection; no more than pool_size kept afterwards.
    thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                for _ in 0..10 {
                    drop(pool.get().unwrap());
                }
            })
            .join()
            .unwrap();
        }
    });
    assert_eq!(log.connects.load(Ordering::SeqCst), 11);
    let kept = pool.status().checked_in;
    assert!((1..=3).contains(&kept), "{kept}");
}

#[test]
fn shared_connection_is_available_natively_when_not_shared() {
    let (_, driver) = fake();
    let pool = Pool::builder()
        .poolclass(PoolClass::SingletonThread)
        .build(driver)
        .unwrap();
    let mut a = pool.get().unwrap();
    assert_eq!(n(&mut a), 1);
    let mut b = pool.get().unwrap();
    // `a` holds it for native use until it returns: `b` is told so.
    let e = b.get().batch("x").unwrap_err();
    assert!(e.to_string().contains("native use"), "{e}");
    drop(a);
    b.get().batch("x").unwrap();
}

#[test]
fn leak_detection_names_the_checkout_site() {
    let (_, driver) = fake();
    let pool = queue(1, 0)
        .leak_detection_threshold(Duration::from_millis(20))
        .build(driver)
        .unwrap();
    let c = pool.get().unwrap();
    let line = line!() - 1;
    let leaks = pool.shared.leaks.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let reported = loop {
        let reported = leaks.reported();
        if !reported.is_empty() || Instant::now() > deadline {
            break reported;
        }
        thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(reported.len(), 1);
    assert!(
        reported[0].ends_with(&format!("tests.rs:{line}:18")),
        "{reported:?}"
    );
    drop(c);
}

#[test]
fn building_refuses_settings_that_cannot_work() {
    let (_, driver) = fake();
    let e = queue(5, -2).build(Arc::clone(&driver)).unwrap_err();
    assert!(e.to_string().contains("max_overflow"), "{e}");
    let e = queue(0, 0).build(driver).unwrap_err();
    assert!(e.to_string().contains("never"), "{e}");
}
