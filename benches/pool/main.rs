//! `cargo xtask bench pool`: Quarry's `Queue` pool against r2d2 on the same trivial connection.
//!
//! Each thread loops `t0 = now; conn = pool.get(); t1 = now; touch(conn); drop(conn)`, counting
//! operations and recording `t1 - t0` (the checkout latency) in a histogram allocated before the
//! loop. The contenders run interleaved in short rounds, the first one rotating from round to
//! round, so that a burst of load from elsewhere on the machine hits them alike; each cell
//! reports the median across rounds. `quarry-aa` is a second, identical Quarry pool: its
//! distance from `quarry` is the noise floor of the run.
//!
//! Options: `--quick` (a few seconds), `--rounds N`, `--round-ms N`, `--threads 1,4,16,64`,
//! `--sizes 5,16`, `--contenders quarry,r2d2` (a subset, for profiling), `--json PATH` (default
//! `bench/pool.json` in `CARGO_TARGET_DIR`, else in the workspace's `target/`).

mod histogram;
mod trivial;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use histogram::Histogram;
use trivial::{Trivial, TrivialDriver};

/// The same pool timeout for every contender (r2d2's default `connection_timeout`).
const TIMEOUT: Duration = Duration::from_secs(30);

/// What the benchmark needs of a pool.
trait Checkout: Sync {
    type Conn;
    fn checkout(&self) -> Self::Conn;
    /// Use the connection trivially, so that the checkout cannot be optimized away.
    fn touch(conn: &mut Self::Conn) -> bool;
}

impl Checkout for quarry::pool::Pool {
    type Conn = quarry::pool::PooledConnection;

    fn checkout(&self) -> Self::Conn {
        match self.get() {
            Ok(conn) => conn,
            Err(e) => panic!("quarry checkout failed: {e}"),
        }
    }

    fn touch(conn: &mut Self::Conn) -> bool {
        conn.get().in_transaction()
    }
}

/// r2d2's side of the trivial connection.
#[derive(Debug)]
struct TrivialManager;

impl r2d2::ManageConnection for TrivialManager {
    type Connection = Trivial;
    type Error = quarry::Error;

    fn connect(&self) -> Result<Trivial, quarry::Error> {
        Ok(Trivial)
    }

    fn is_valid(&self, _: &mut Trivial) -> Result<(), quarry::Error> {
        Ok(())
    }

    fn has_broken(&self, _: &mut Trivial) -> bool {
        false
    }
}

impl Checkout for r2d2::Pool<TrivialManager> {
    type Conn = r2d2::PooledConnection<TrivialManager>;

    fn checkout(&self) -> Self::Conn {
        match self.get() {
            Ok(conn) => conn,
            Err(e) => panic!("r2d2 checkout failed: {e}"),
        }
    }

    fn touch(conn: &mut Self::Conn) -> bool {
        quarry::driver::DriverConnection::in_transaction(&**conn)
    }
}

/// The contenders, in the order of the table.
const CONTENDERS: [&str; 4] = ["quarry", "quarry-aa", "r2d2", "r2d2-tuned"];

enum Contender {
    Quarry(quarry::pool::Pool),
    R2d2(r2d2::Pool<TrivialManager>),
}

impl Contender {
    fn build(name: &str, size: usize) -> Contender {
        match name {
            "quarry" | "quarry-aa" => {
                let pool = quarry::pool::Pool::builder()
                    .pool_size(size)
                    .max_overflow(0)
                    .pool_timeout(TIMEOUT)
                    .build(Arc::new(TrivialDriver))
                    .expect("quarry pool");
                // Open every connection now, as r2d2 does at build.
                let conns: Vec<_> = (0..size).map(|_| pool.checkout()).collect();
                drop(conns);
                Contender::Quarry(pool)
            }
            "r2d2" | "r2d2-tuned" => Contender::R2d2(
                r2d2::Pool::builder()
                    .max_size(u32::try_from(size).expect("pool size"))
                    .connection_timeout(TIMEOUT)
                    .test_on_check_out(name == "r2d2")
                    .build(TrivialManager)
                    .expect("r2d2 pool"),
            ),
            _ => unreachable!("unknown contender {name}"),
        }
    }

    fn round(&self, threads: usize, length: Duration) -> Round {
        match self {
            Contender::Quarry(pool) => round(pool, threads, length),
            Contender::R2d2(pool) => round(pool, threads, length),
        }
    }
}

struct Round {
    ops_per_sec: f64,
    p50_ns: u64,
    p99_ns: u64,
}

/// Run `threads` threads on `pool` for `length`.
fn round<P: Checkout>(pool: &P, threads: usize, length: Duration) -> Round {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| worker(pool, &start, &stop)))
            .collect();
        start.wait();
        let t0 = Instant::now();
        thread::sleep(length);
        stop.store(true, Ordering::Relaxed);
        let elapsed = t0.elapsed();
        let mut all = Histogram::new();
        let mut ops = 0;
        for w in workers {
            let (n, hist) = w.join().expect("worker panicked");
            ops += n;
            all.merge(&hist);
        }
        Round {
            ops_per_sec: ops as f64 / elapsed.as_secs_f64(),
            p50_ns: all.quantile(0.50),
            p99_ns: all.quantile(0.99),
        }
    })
}

fn worker<P: Checkout>(pool: &P, start: &Barrier, stop: &AtomicBool) -> (u64, Histogram) {
    let mut hist = Histogram::new();
    let mut ops = 0u64;
    start.wait();
    while !stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        let mut conn = pool.checkout();
        let t1 = Instant::now();
        black_box(P::touch(&mut conn));
        drop(conn);
        hist.record(u64::try_from((t1 - t0).as_nanos()).unwrap_or(u64::MAX));
        ops += 1;
    }
    (ops, hist)
}

/// One cell of the table: a contender at one pool size and thread count.
struct Row {
    contender: &'static str,
    pool_size: usize,
    threads: usize,
    ops_per_sec: f64,
    /// (max - min) / median of the rounds' ops/s.
    spread: f64,
    p50_ns: u64,
    p99_ns: u64,
    ratio_to_r2d2: f64,
}

struct Options {
    rounds: usize,
    round: Duration,
    threads: Vec<usize>,
    sizes: Vec<usize>,
    contenders: Vec<&'static str>,
    json: PathBuf,
}

const USAGE: &str = "usage: pool [--quick] [--rounds N] [--round-ms N] [--threads 1,4,16,64] \
                     [--sizes 5,16] [--contenders quarry,quarry-aa,r2d2,r2d2-tuned] [--json PATH]";

fn options() -> Result<Options, String> {
    let mut o = Options {
        rounds: 5,
        round: Duration::from_millis(300),
        threads: vec![1, 4, 16, 64],
        sizes: vec![5, 16],
        contenders: CONTENDERS.to_vec(),
        json: std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
                PathBuf::from,
            )
            .join("bench/pool.json"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            // `cargo bench` passes this to every bench binary.
            "--bench" => {}
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--quick" => {
                o.rounds = 3;
                o.round = Duration::from_millis(100);
                o.sizes = vec![5];
            }
            "--rounds" => o.rounds = number(&value()?)?,
            "--round-ms" => o.round = Duration::from_millis(number(&value()?)? as u64),
            "--threads" => o.threads = list(&value()?)?,
            "--sizes" => o.sizes = list(&value()?)?,
            "--contenders" => o.contenders = contenders(&value()?)?,
            "--json" => o.json = PathBuf::from(value()?),
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    Ok(o)
}

fn number(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive whole number, not {s:?}")),
    }
}

fn list(s: &str) -> Result<Vec<usize>, String> {
    s.split(',').map(number).collect()
}

fn contenders(s: &str) -> Result<Vec<&'static str>, String> {
    s.split(',')
        .map(|name| {
            CONTENDERS
                .into_iter()
                .find(|c| *c == name)
                .ok_or(format!("unknown contender {name:?}\n{USAGE}"))
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn measure(o: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    for &size in &o.sizes {
        let pools: Vec<Contender> = o
            .contenders
            .iter()
            .map(|name| Contender::build(name, size))
            .collect();
        for &threads in &o.threads {
            eprint!("pool_size {size}, {threads} threads: ");
            let warm_up = o.round / 4;
            for pool in &pools {
                pool.round(threads, warm_up);
            }
            let mut rounds: Vec<Vec<Round>> = pools.iter().map(|_| Vec::new()).collect();
            for r in 0..o.rounds {
                for k in 0..pools.len() {
                    let c = (r + k) % pools.len();
                    rounds[c].push(pools[c].round(threads, o.round));
                }
                eprint!(".");
            }
            eprintln!();
            let first = rows.len();
            for (name, rounds) in o.contenders.iter().zip(rounds) {
                let ops: Vec<f64> = rounds.iter().map(|r| r.ops_per_sec).collect();
                let ops_per_sec = median(ops.clone());
                let (lo, hi) = ops
                    .iter()
                    .fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                rows.push(Row {
                    contender: name,
                    pool_size: size,
                    threads,
                    ops_per_sec,
                    spread: (hi - lo) / ops_per_sec,
                    p50_ns: median(rounds.iter().map(|r| r.p50_ns as f64).collect()) as u64,
                    p99_ns: median(rounds.iter().map(|r| r.p99_ns as f64).collect()) as u64,
                    ratio_to_r2d2: 0.0,
                });
            }
            let cell = &mut rows[first..];
            let best_r2d2 = cell
                .iter()
                .filter(|r| r.contender.starts_with("r2d2"))
                .map(|r| r.ops_per_sec)
                .fold(0.0, f64::max);
            for row in cell {
                row.ratio_to_r2d2 = row.ops_per_sec / best_r2d2;
            }
        }
    }
    rows
}

fn table(o: &Options, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pool checkout + checkin, trivial connection, {} cores; {} rounds of {} ms per cell, \
         contenders interleaved; median across rounds\n",
        thread::available_parallelism().map_or(0, |n| n.get()),
        o.rounds,
        o.round.as_millis()
    );
    let _ = writeln!(
        out,
        "{:>4} {:>7}  {:<10} {:>12} {:>7} {:>9} {:>9} {:>8}",
        "size", "threads", "contender", "ops/s", "spread", "p50 ns", "p99 ns", "vs r2d2"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:>4} {:>7}  {:<10} {:>12.0} {:>6.0}% {:>9} {:>9} {:>7.2}x",
            row.pool_size,
            row.threads,
            row.contender,
            row.ops_per_sec,
            row.spread * 100.0,
            row.p50_ns,
            row.p99_ns,
            row.ratio_to_r2d2
        );
    }
    let _ = writeln!(
        out,
        "\n\"vs r2d2\": ops/s over the better of r2d2 (test_on_check_out, its default) and \
         r2d2-tuned (test_on_check_out off).\nspread: (max - min) / median of the rounds. \
         quarry-aa vs quarry is the noise floor."
    );
    for &size in &o.sizes {
        let cell = |name: &str, threads: usize| {
            rows.iter()
                .find(|r| r.pool_size == size && r.threads == threads && r.contender == name)
        };
        let _ = write!(out, "pool_size {size}: quarry / r2d2 =");
        for &t in &o.threads {
            if let Some(q) = cell("quarry", t) {
                let _ = write!(out, "  {t}t {:.2}x", q.ratio_to_r2d2);
            }
        }
        let _ = write!(out, "\npool_size {size}: A/A quarry-aa / quarry =");
        for &t in &o.threads {
            if let (Some(a), Some(b)) = (cell("quarry", t), cell("quarry-aa", t)) {
                let _ = write!(out, "  {t}t {:.2}x", b.ops_per_sec / a.ops_per_sec);
            }
        }
        out.push('\n');
    }
    out
}

fn json(rows: &[Row]) -> String {
    let mut out = String::from("[\n");
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "  {{\"contender\": \"{}\", \"threads\": {}, \"pool_size\": {}, \
             \"ops_per_sec\": {:.0}, \"p50_ns\": {}, \"p99_ns\": {}, \"ratio_to_r2d2\": {:.3}}}",
            row.contender,
            row.threads,
            row.pool_size,
            row.ops_per_sec,
            row.p50_ns,
            row.p99_ns,
            row.ratio_to_r2d2
        );
        out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rows = measure(&o);
    print!("{}", table(&o, &rows));
    let written = o
        .json
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&o.json, json(&rows)));
    match written {
        Ok(()) => println!("wrote {}", o.json.display()),
        Err(e) => {
            eprintln!("cannot write {}: {e}", o.json.display());
            std::process::exit(1);
        }
    }
}
