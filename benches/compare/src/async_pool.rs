//! `cargo xtask bench async_pool`: Quarry's async pool against bb8 and deadpool, 64 tasks
//! contending for a pool of 8 PostgreSQL connections on a tokio multi-thread runtime with one
//! worker per core.
//!
//! Every pool holds the same connections (`tokio-postgres` clients, `SELECT 1` prepared on
//! each for bb8 and deadpool; Quarry's engine prepares its own) and checks nothing on checkout:
//! Quarry without `pool_pre_ping` (its default), bb8 with `test_on_check_out(false)` and
//! `has_broken` = `Client::is_closed`, deadpool recycling with the same test. Two modes:
//! `checkout` (take a connection, yield to the scheduler once while holding it, give it back:
//! the pools alone, the 64 tasks interleaved — without the yield a checkout that is ready at
//! once never returns `Pending`, so each worker would run one task forever and starve the
//! rest and the timers) and `query` (take one, run `SELECT 1`, give it back: the pool in a
//! service's loop). In each round every contender runs
//! `--round-ms` with fresh tasks, the first contender rotating from round to round; the table
//! gives per contender the medians across rounds of operations per second and of the p50 /
//! p99 of the checkout wait (from the call to the connection in hand, every checkout of the
//! round). `quarry_aa` is Quarry again: the noise floor.
//!
//! Options: `--quick`, `--rounds N`, `--round-ms N`, `--tasks N`, `--pool-size N`,
//! `--modes checkout,query`, `--json PATH`; PostgreSQL at `QUARRY_POSTGRES_URL`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use quarry::asyncio::AsyncEngine;
use quarry::prelude::*;

#[path = "stats.rs"]
mod stats;
use stats::median;

const CONTENDERS: &[&str] = &["quarry", "quarry_aa", "bb8", "deadpool"];
const TIMEOUT: Duration = Duration::from_secs(30);

struct Options {
    rounds: usize,
    round: Duration,
    tasks: usize,
    pool_size: usize,
    modes: Vec<Mode>,
    json: PathBuf,
    url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Checkout,
    Query,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Checkout => "checkout",
            Mode::Query => "query",
        }
    }
}

fn options() -> Result<Options> {
    let mut o = Options {
        rounds: 5,
        round: Duration::from_millis(1000),
        tasks: 64,
        pool_size: 8,
        modes: vec![Mode::Checkout, Mode::Query],
        json: std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
                PathBuf::from,
            )
            .join("bench")
            .join("async_pool.json"),
        url: std::env::var("QUARRY_POSTGRES_URL")
            .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter().map(String::as_str);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg {
            "--bench" => {}
            "--quick" => {
                o.rounds = 3;
                o.round = Duration::from_millis(300);
            }
            "--rounds" => o.rounds = value()?.parse().context("--rounds")?,
            "--round-ms" => {
                o.round = Duration::from_millis(value()?.parse().context("--round-ms")?)
            }
            "--tasks" => o.tasks = value()?.parse().context("--tasks")?,
            "--pool-size" => o.pool_size = value()?.parse().context("--pool-size")?,
            "--modes" => {
                o.modes = value()?
                    .split(',')
                    .map(|m| match m.trim() {
                        "checkout" => Ok(Mode::Checkout),
                        "query" => Ok(Mode::Query),
                        other => bail!("unknown mode {other:?}; known: checkout, query"),
                    })
                    .collect::<Result<_>>()?
            }
            "--json" => o.json = PathBuf::from(value()?),
            "--help" | "-h" => {
                println!(
                    "usage: cargo xtask bench async_pool [--quick] [--rounds N] [--round-ms N] \
                     [--tasks N] [--pool-size N] [--modes checkout,query] [--json PATH]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if o.rounds == 0 || o.tasks == 0 || o.pool_size == 0 {
        bail!("--rounds, --tasks and --pool-size must be at least 1");
    }
    Ok(o)
}

// --- the pools ----------------------------------------------------------------------------

/// A `tokio-postgres` connection with `SELECT 1` prepared: what bb8 and deadpool pool.
type PgConn = (tokio_postgres::Client, tokio_postgres::Statement);

struct PgManager {
    config: tokio_postgres::Config,
}

impl PgManager {
    async fn open(&self) -> Result<PgConn, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let stmt = client.prepare("SELECT 1").await?;
        Ok((client, stmt))
    }
}

impl bb8::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<PgConn, tokio_postgres::Error> {
        self.open().await
    }

    async fn is_valid(&self, _conn: &mut PgConn) -> Result<(), tokio_postgres::Error> {
        Ok(())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.0.is_closed()
    }
}

impl deadpool::managed::Manager for PgManager {
    type Type = PgConn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<PgConn, tokio_postgres::Error> {
        self.open().await
    }

    async fn recycle(
        &self,
        conn: &mut PgConn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<tokio_postgres::Error> {
        if conn.0.is_closed() {
            return Err(deadpool::managed::RecycleError::message(
                "connection closed",
            ));
        }
        Ok(())
    }
}

enum Pool {
    Quarry(AsyncEngine),
    Bb8(bb8::Pool<PgManager>),
    Deadpool(deadpool::managed::Pool<PgManager>),
}

impl Pool {
    async fn new(name: &str, o: &Options) -> Result<Pool> {
        let config: tokio_postgres::Config = o.url.parse().context("parse the PostgreSQL URL")?;
        let manager = PgManager { config };
        let pool = match name {
            "quarry" | "quarry_aa" => Pool::Quarry(
                AsyncEngine::builder(o.url.as_str())
                    .pool_size(o.pool_size)
                    .max_overflow(0)
                    .pool_timeout(TIMEOUT)
                    .build()
                    .await
                    .context("quarry: engine")?,
            ),
            "bb8" => Pool::Bb8(
                bb8::Pool::builder()
                    .max_size(u32::try_from(o.pool_size)?)
                    .min_idle(Some(u32::try_from(o.pool_size)?))
                    .test_on_check_out(false)
                    .connection_timeout(TIMEOUT)
                    .build(manager)
                    .await
                    .context("bb8: build")?,
            ),
            "deadpool" => Pool::Deadpool(
                deadpool::managed::Pool::builder(manager)
                    .max_size(o.pool_size)
                    .runtime(deadpool::Runtime::Tokio1)
                    .wait_timeout(Some(TIMEOUT))
                    .build()
                    .context("deadpool: build")?,
            ),
            other => bail!("unknown contender {other}"),
        };
        pool.open_all(o.pool_size).await?;
        Ok(pool)
    }

    /// Open every connection up front: hold `n` checkouts at once, then give them back.
    async fn open_all(&self, n: usize) -> Result<()> {
        match self {
            Pool::Quarry(engine) => {
                let mut held = Vec::with_capacity(n);
                for _ in 0..n {
                    held.push(engine.connect().await?);
                }
            }
            Pool::Bb8(pool) => {
                let mut held = Vec::with_capacity(n);
                for _ in 0..n {
                    held.push(pool.get().await.map_err(|e| anyhow::anyhow!("bb8: {e}"))?);
                }
            }
            Pool::Deadpool(pool) => {
                let mut held = Vec::with_capacity(n);
                for _ in 0..n {
                    held.push(
                        pool.get()
                            .await
                            .map_err(|e| anyhow::anyhow!("deadpool: {e}"))?,
                    );
                }
            }
        }
        Ok(())
    }

    /// One operation; returns the checkout wait.
    async fn op(&self, mode: Mode) -> Result<Duration> {
        let t0 = Instant::now();
        match self {
            Pool::Quarry(engine) => {
                let mut conn = engine.connect().await?;
                let waited = t0.elapsed();
                match mode {
                    Mode::Checkout => tokio::task::yield_now().await,
                    Mode::Query => {
                        let one: i32 = conn.execute(text("SELECT 1")).await?.scalar_one()?;
                        std::hint::black_box(one);
                    }
                }
                Ok(waited)
            }
            Pool::Bb8(pool) => {
                let conn = pool.get().await.map_err(|e| anyhow::anyhow!("bb8: {e}"))?;
                pg_op(&conn, mode, t0).await
            }
            Pool::Deadpool(pool) => {
                let conn = pool
                    .get()
                    .await
                    .map_err(|e| anyhow::anyhow!("deadpool: {e}"))?;
                pg_op(&conn, mode, t0).await
            }
        }
    }
}

/// bb8's and deadpool's operation on the connection in hand; returns the wait since `t0`.
async fn pg_op(conn: &PgConn, mode: Mode, t0: Instant) -> Result<Duration> {
    let waited = t0.elapsed();
    match mode {
        Mode::Checkout => tokio::task::yield_now().await,
        Mode::Query => {
            let one: i32 = conn.0.query_one(&conn.1, &[]).await?.get(0);
            std::hint::black_box(one);
        }
    }
    Ok(waited)
}

// --- the rounds ---------------------------------------------------------------------------

/// One contender's round: operations per second and the checkout waits (ns, sorted).
struct Round {
    ops_per_s: f64,
    waits: Vec<u64>,
}

async fn round(pool: &Arc<Pool>, mode: Mode, tasks: usize, length: Duration) -> Result<Round> {
    // Each task also stops at the deadline by itself, whatever the timer does.
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(tokio::sync::Barrier::new(tasks + 1));
    let mut handles = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let (pool, stop, start) = (pool.clone(), stop.clone(), start.clone());
        handles.push(tokio::spawn(async move {
            let mut waits: Vec<u64> = Vec::with_capacity(1 << 16);
            start.wait().await;
            let deadline = Instant::now() + length;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let waited = pool.op(mode).await?;
                waits.push(u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX));
            }
            anyhow::Ok(waits)
        }));
    }
    start.wait().await;
    let t0 = Instant::now();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut waits = Vec::new();
    for h in handles {
        waits.extend(h.await.context("a task panicked")??);
    }
    let elapsed = t0.elapsed();
    waits.sort_unstable();
    Ok(Round {
        ops_per_s: waits.len() as f64 / elapsed.as_secs_f64(),
        waits,
    })
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at] as f64
}

struct Summary {
    mode: Mode,
    contender: &'static str,
    ops_per_s: f64,
    spread: f64,
    p50_ns: f64,
    p99_ns: f64,
    max_ns: f64,
}

fn main() -> Result<()> {
    let o = options()?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    eprintln!(
        "{} tasks, pool size {}, tokio multi_thread runtime with {workers} workers; {} rounds of {} ms; load average {}",
        o.tasks,
        o.pool_size,
        o.rounds,
        o.round.as_millis(),
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    );
    let summaries = rt.block_on(async {
        let mut pools = Vec::new();
        for name in CONTENDERS {
            let pool = Pool::new(name, &o)
                .await
                .with_context(|| format!("{name} on {}", o.url))?;
            pools.push((*name, Arc::new(pool)));
        }
        let mut summaries = Vec::new();
        for &mode in &o.modes {
            // A warm-up round, untimed.
            for (_, pool) in &pools {
                round(pool, mode, o.tasks, o.round / 4).await?;
            }
            let mut rounds: Vec<Vec<Round>> = pools.iter().map(|_| Vec::new()).collect();
            for r in 0..o.rounds {
                for k in 0..pools.len() {
                    let i = (r + k) % pools.len();
                    rounds[i].push(round(&pools[i].1, mode, o.tasks, o.round).await?);
                }
            }
            for (i, (name, _)) in pools.iter().enumerate() {
                let ops: Vec<f64> = rounds[i].iter().map(|r| r.ops_per_s).collect();
                let med = median(&ops);
                let max = ops.iter().copied().fold(f64::MIN, f64::max);
                let min = ops.iter().copied().fold(f64::MAX, f64::min);
                let of = |p: f64| {
                    median(
                        &rounds[i]
                            .iter()
                            .map(|r| percentile(&r.waits, p))
                            .collect::<Vec<_>>(),
                    )
                };
                summaries.push(Summary {
                    mode,
                    contender: name,
                    ops_per_s: med,
                    spread: (max - min) / med,
                    p50_ns: of(0.50),
                    p99_ns: of(0.99),
                    max_ns: of(1.0),
                });
            }
        }
        if let Some((_, pool)) = pools.first()
            && let Pool::Quarry(engine) = &**pool
        {
            engine.dispose().await;
        }
        anyhow::Ok(summaries)
    })?;

    println!(
        "{:<9} {:<10} {:>10} {:>7} {:>10} {:>10} {:>10} {:>8}",
        "mode", "contender", "ops/s", "spread", "p50 wait", "p99 wait", "max wait", "vs best"
    );
    for s in &summaries {
        let best_peer = summaries
            .iter()
            .filter(|p| p.mode == s.mode && !p.contender.starts_with("quarry"))
            .map(|p| p.ops_per_s)
            .fold(f64::MIN, f64::max);
        println!(
            "{:<9} {:<10} {:>10.0} {:>6.0}% {:>10} {:>10} {:>10} {:>7.2}x",
            s.mode.name(),
            s.contender,
            s.ops_per_s,
            s.spread * 100.0,
            micros(s.p50_ns),
            micros(s.p99_ns),
            micros(s.max_ns),
            s.ops_per_s / best_peer
        );
    }
    let json: Vec<serde_json::Value> = summaries
        .iter()
        .map(|s| {
            serde_json::json!({
                "mode": s.mode.name(),
                "contender": s.contender,
                "tasks": o.tasks,
                "pool_size": o.pool_size,
                "ops_per_s": s.ops_per_s.round(),
                "spread": (s.spread * 1000.0).round() / 1000.0,
                "p50_wait_ns": s.p50_ns,
                "p99_wait_ns": s.p99_ns,
                "max_wait_ns": s.max_ns,
            })
        })
        .collect();
    if let Some(dir) = o.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&o.json, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", o.json.display()))?;
    eprintln!("wrote {}", o.json.display());
    Ok(())
}

fn micros(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}
