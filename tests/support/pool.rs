//! What the pool suites share: a time bound on every scenario, engines whose connections are
//! tagged, and a separate admin connection that counts and kills a test's own connections —
//! so that tests running in parallel never touch each other's.
//!
//! A PostgreSQL engine's connections carry the test's `application_name`; on every backend the
//! server-side id of each new connection (`pg_backend_pid()`, `CONNECTION_ID()`) is recorded
//! by an `on_connect` hook, next to the pool's own id for it.
#![allow(dead_code)]

use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use quarry::driver::RowSink;
use quarry::prelude::*;
use quarry::{EngineBuilder, Error, RawRow};

use super::{Backend, mysql_url, postgres_url};

/// Run `f` on a thread of its own and wait at most `limit` for it: the test fails (rather
/// than hangs) when `f` does not finish in time, and fails with `f`'s own message if it panics.
pub fn bounded<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("spawn a bounded scenario");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = worker.join();
            value
        }
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => panic!("{what}: still running after {limit:?}; it hangs"),
    }
}

/// `SELECT 1` on `conn`.
pub fn select_one(conn: &mut Connection) -> quarry::Result<i64> {
    conn.execute(text("SELECT 1").columns::<i64>())?.scalar()
}

/// `f`'s value and how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

/// Check out `n` connections at once, each used once.
pub fn hold(engine: &Engine, n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| {
            let mut conn = engine
                .connect()
                .unwrap_or_else(|e| panic!("checkout {i} of {n}: {e}"));
            assert_eq!(select_one(&mut conn).unwrap(), 1);
            conn
        })
        .collect()
}

/// A checkout error that says the server cannot be reached: the connect error itself, or a pool
/// timeout carrying it.
pub fn carries_connect_error(e: &Error) -> bool {
    e.is_disconnect()
        || matches!(
            e,
            Error::PoolTimeout {
                last_connect_error: Some(_),
                ..
            }
        )
}

/// What one checkout of a worker did.
pub struct Op {
    pub started: Instant,
    /// How long the checkout took.
    pub took: Duration,
    /// When the statement (or the failed checkout) was done.
    pub ended: Instant,
    /// The error of the checkout (`true`) or of the statement (`false`).
    pub result: Result<(), (bool, Error)>,
}

/// Threads that check out, run `SELECT 1` and hold the connection a moment, again and again,
/// recording what each checkout did.
pub struct Workers {
    stop: Arc<AtomicBool>,
    /// Checkouts each thread has finished.
    done: Arc<Vec<AtomicUsize>>,
    threads: Vec<thread::JoinHandle<Vec<Op>>>,
}

impl Workers {
    /// Start `n` threads on `engine`, each holding its connections for `hold`.
    pub fn start(engine: &Engine, n: usize, hold: Duration) -> Workers {
        let stop = Arc::new(AtomicBool::new(false));
        let done: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        let threads = (0..n)
            .map(|i| {
                let engine = engine.clone();
                let stop = Arc::clone(&stop);
                let done = Arc::clone(&done);
                thread::spawn(move || {
                    let mut ops = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        ops.push(one_op(&engine, hold));
                        done[i].fetch_add(1, Ordering::SeqCst);
                    }
                    ops
                })
            })
            .collect();
        Workers {
            stop,
            done,
            threads,
        }
    }

    /// Wait (up to 20 s) until every thread has finished `n` more checkouts than now — so at
    /// least `n - 1` begun from now on; whether they did.
    pub fn progress(&self, n: usize) -> bool {
        let from: Vec<usize> = self.done.iter().map(|d| d.load(Ordering::SeqCst)).collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self
                .done
                .iter()
                .zip(&from)
                .all(|(d, &f)| d.load(Ordering::SeqCst) >= f + n)
            {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Stop the threads; what each one did.
    pub fn finish(self) -> Vec<Vec<Op>> {
        self.stop.store(true, Ordering::SeqCst);
        self.threads
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| resume_unwind(p)))
            .collect()
    }
}

fn one_op(engine: &Engine, hold: Duration) -> Op {
    let started = Instant::now();
    let conn = engine.connect();
    let took = started.elapsed();
    let (result, ended) = match conn {
        Err(e) => (Err((true, e)), Instant::now()),
        Ok(mut conn) => {
            let r = select_one(&mut conn).map(drop).map_err(|e| (false, e));
            let ended = Instant::now();
            thread::sleep(hold);
            (r, ended)
        }
    };
    if result.is_err() {
        thread::sleep(Duration::from_millis(20));
    }
    Op {
        started,
        took,
        ended,
        result,
    }
}

/// Check what [`Workers`] did through an outage that began at `down`: every checkout returned
/// within `limit`; every failure came after `down` and says the server could not be reached
/// (a checkout's carries the connect error, a statement's is a disconnect); somebody noticed;
/// and from `healthy` on, every worker kept working without a single error.
pub fn check_outage(what: &str, ops: &[Vec<Op>], limit: Duration, down: Instant, healthy: Instant) {
    let mut failures = 0;
    for (w, ops) in ops.iter().enumerate() {
        for op in ops {
            assert!(
                op.took < limit,
                "{what}: worker {w}: a checkout took {:?}",
                op.took
            );
            let Err((checkout, e)) = &op.result else {
                continue;
            };
            failures += 1;
            if *checkout {
                assert!(
                    carries_connect_error(e),
                    "{what}: worker {w}: checkout: {e}"
                );
            } else {
                assert!(e.is_disconnect(), "{what}: worker {w}: statement: {e}");
            }
            assert!(
                op.ended >= down,
                "{what}: worker {w}: failed before the outage: {e}"
            );
            assert!(
                op.started < healthy,
                "{what}: worker {w}: failed after recovery: {e}"
            );
        }
        assert!(
            ops.iter().any(|op| op.started >= healthy),
            "{what}: worker {w} did nothing after recovery"
        );
    }
    assert!(failures > 0, "{what}: nobody noticed the outage");
}

/// Which server a backend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

impl Kind {
    pub fn of(b: &Backend) -> Kind {
        if b.is_postgres() {
            Kind::Postgres
        } else if b.is_mysql() {
            Kind::Mysql
        } else {
            Kind::Sqlite
        }
    }

    /// The SQL that tells a connection's server-side id.
    pub fn id_sql(self) -> &'static str {
        match self {
            Kind::Postgres => "SELECT pg_backend_pid()",
            Kind::Mysql => "SELECT CONNECTION_ID()",
            Kind::Sqlite => "SELECT 0",
        }
    }
}

/// The first column of the first row, as an integer.
struct First(Option<i64>);

impl RowSink for First {
    fn columns(&mut self, _: &[&str]) {}
    fn row(&mut self, row: &dyn RawRow) -> quarry::Result<()> {
        if self.0.is_none() {
            self.0 = row.get_i64(0)?;
        }
        Ok(())
    }
}

/// A unique tag for this process: `q<pid>_<n>`.
fn new_tag() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "q{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An engine whose connections can be told apart on the server, with an admin connection of
/// its own (never tagged, never through a proxy) to count and kill them.
pub struct Tagged {
    pub engine: Engine,
    pub kind: Kind,
    pub tag: String,
    /// `(pool id, server id)` of every connection opened, in order.
    ids: Arc<Mutex<Vec<(u64, i64)>>>,
    /// The pool id of every connection handed out, in order.
    checkouts: Arc<Mutex<Vec<u64>>>,
    admin: Option<Engine>,
}

impl Tagged {
    /// An engine on `url` — the backend's URL, or one through a proxy — configured by
    /// `configure`.
    pub fn new(
        kind: Kind,
        url: &str,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> Tagged {
        let tag = new_tag();
        let ids = Arc::new(Mutex::new(Vec::new()));
        let mut builder = Engine::builder(url);
        if kind == Kind::Postgres {
            builder = builder.connect_arg("application_name", tag.clone());
        }
        if kind != Kind::Sqlite {
            let ids = Arc::clone(&ids);
            builder = builder.on_connect(move |conn, info| {
                let mut first = First(None);
                conn.run(kind.id_sql(), &[], &mut first)?;
                let id = first.0.expect("the server tells a connection's id");
                ids.lock().unwrap().push((info.id(), id));
                Ok(())
            });
        }
        let checkouts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&checkouts);
        builder = builder.on_checkout(move |_, info| {
            seen.lock().unwrap().push(info.id());
            Ok(())
        });
        let engine = configure(builder).build().expect("build the engine");
        let admin = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => Some(admin_engine(&postgres_url())),
            Kind::Mysql => Some(admin_engine(&mysql_url())),
        };
        Tagged {
            engine,
            kind,
            tag,
            ids,
            checkouts,
            admin,
        }
    }

    /// The pool ids of the connections handed out so far, in order.
    pub fn checkouts(&self) -> Vec<u64> {
        self.checkouts.lock().unwrap().clone()
    }

    /// The server-side ids of every connection opened so far, oldest first.
    pub fn server_ids(&self) -> Vec<i64> {
        self.ids.lock().unwrap().iter().map(|&(_, s)| s).collect()
    }

    /// The pool ids of every connection opened so far, oldest first.
    pub fn pool_ids(&self) -> Vec<u64> {
        self.ids.lock().unwrap().iter().map(|&(p, _)| p).collect()
    }

    /// The server-side id of the connection the pool numbers `pool_id`.
    pub fn server_id(&self, pool_id: u64) -> i64 {
        let ids = self.ids.lock().unwrap();
        ids.iter()
            .find(|&&(p, _)| p == pool_id)
            .map(|&(_, s)| s)
            .unwrap_or_else(|| panic!("no connection numbered {pool_id} was opened"))
    }

    /// Connections opened so far.
    pub fn opened(&self) -> usize {
        self.ids.lock().unwrap().len()
    }

    fn admin_scalar(&self, sql: &str) -> i64 {
        let admin = self.admin.as_ref().expect("a server backend");
        let mut conn = admin.connect().expect("admin connection");
        conn.execute(text(sql.to_owned()).columns::<i64>())
            .and_then(|rows| rows.scalar())
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// How many of this engine's connections the server has now: by `application_name` on
    /// PostgreSQL, by the ids recorded on connect on MySQL.
    pub fn on_server(&self) -> usize {
        match self.kind {
            Kind::Postgres => count(self.admin_scalar(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{}'",
                self.tag
            ))),
            _ => self.alive(&self.server_ids()),
        }
    }

    /// How many of these server-side ids are connected now.
    pub fn alive(&self, ids: &[i64]) -> usize {
        if ids.is_empty() {
            return 0;
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        count(self.admin_scalar(&match self.kind {
            Kind::Postgres => {
                format!("SELECT count(*) FROM pg_stat_activity WHERE pid IN ({list})")
            }
            _ => {
                format!("SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID IN ({list})")
            }
        }))
    }

    /// Kill these connections server-side (`pg_terminate_backend`, `KILL CONNECTION`) and wait
    /// until the server has let them go.
    pub fn kill(&self, ids: &[i64]) {
        let admin = self.admin.as_ref().expect("a server backend");
        let mut conn = admin.connect().expect("admin connection");
        for id in ids {
            let sql = match self.kind {
                Kind::Postgres => format!("SELECT pg_terminate_backend({id})"),
                _ => format!("KILL CONNECTION {id}"),
            };
            // A connection already gone is "unknown thread id" on MySQL: fine.
            let _ = conn.execute(text(sql));
        }
        drop(conn);
        assert!(
            self.gone(ids),
            "{:?}: killed connections still on the server",
            self.kind
        );
    }

    /// Kill every connection of this engine the server has now.
    pub fn kill_all(&self) {
        let ids = self.server_ids();
        self.kill(&ids);
    }

    /// Wait (up to 5 s) until the server has `n` connections of this engine; the count then.
    pub fn settle(&self, n: usize) -> usize {
        let mut last = self.on_server();
        eventually(|| {
            last = self.on_server();
            last == n
        });
        last
    }

    /// Assert that the pool is at rest — nothing checked out, no overflow — and that the
    /// server has exactly the pool's idle connections (after a moment to let closed ones go);
    /// returns how many are idle.
    pub fn at_rest(&self, what: &str) -> usize {
        let s = self.engine.pool_status();
        assert!(s.checked_out == 0 && s.overflow <= 0, "{what}: {s}");
        if self.kind != Kind::Sqlite {
            assert_eq!(
                self.settle(s.checked_in),
                s.checked_in,
                "{what}: on the server"
            );
        }
        s.checked_in
    }

    /// Wait (up to 5 s) until none of these server-side ids is connected.
    pub fn gone(&self, ids: &[i64]) -> bool {
        eventually(|| self.alive(ids) == 0)
    }
}

/// Poll `done` (every 20 ms, up to 5 s) until it holds; whether it did.
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn count(n: i64) -> usize {
    usize::try_from(n).expect("a count")
}

fn admin_engine(url: &str) -> Engine {
    Engine::builder(url)
        .pool_size(1)
        .max_overflow(1)
        .pool_timeout(Duration::from_secs(10))
        .build()
        .expect("admin engine")
}

/// The address a server URL points at (`host:port`; the dialect's port when none is given).
pub fn server_addr(url: &str) -> SocketAddr {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default_port = if scheme.starts_with("postgres") {
        5432
    } else {
        3306
    };
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("cannot resolve {with_port}"))
}

/// `url` pointed at `addr` instead (to go through a proxy), with `args` added to its query.
pub fn via(url: &str, addr: SocketAddr, args: &[(&str, &str)]) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let user = authority.rsplit_once('@').map(|(u, _)| u);
    let mut out = match user {
        Some(user) => format!("{scheme}://{user}@{addr}{tail}"),
        None => format!("{scheme}://{addr}{tail}"),
    };
    for (key, value) in args {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{key}={value}"));
    }
    out
}
