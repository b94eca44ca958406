//! `cargo xtask bench stream_memory`: peak memory of iterating a 1,000,000-row result, Quarry
//! against the raw driver doing the same, on SQLite (memory), PostgreSQL and MariaDB.
//!
//! Every cell runs in a process of its own (this binary started again with `--child`), which
//! reads its peak resident set (`VmHWM` in `/proc/self/status`) after the loop: the rows are
//! `(i64, String)` of a generated series (`n`, `'row ' || n`), decoded one by one and summed,
//! so nothing is kept. The contenders:
//!
//! - `raw`: the driver's own streaming iteration — rusqlite's `query` stepping, `postgres`'s
//!   `query_raw`, `mysql`'s unbuffered `query_iter`;
//! - `quarry-stream`: `Connection::stream` with the default `yield_per` (1000);
//! - `quarry-buffered`: `Connection::execute`, which reads the whole result first — for
//!   comparison, what streaming saves.
//!
//! Options: `--rows N` (default 1,000,000; `--quick` 200,000), `--backends sqlite,postgresql,mysql`,
//! `--json PATH`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use quarry::driver::native::{mysql, postgres, rusqlite};
use quarry::prelude::*;

const POSTGRES_DEFAULT: &str = "postgresql://postgres@127.0.0.1:5432/test";
const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

fn url(backend: &str) -> String {
    match backend {
        "postgresql" => std::env::var("QUARRY_POSTGRES_URL").unwrap_or(POSTGRES_DEFAULT.into()),
        "mysql" => std::env::var("QUARRY_MYSQL_URL").unwrap_or(MYSQL_DEFAULT.into()),
        _ => "sqlite://".into(),
    }
}

/// The generated series, in each backend's SQL.
fn series_sql(backend: &str, rows: u64) -> String {
    match backend {
        "postgresql" => format!(
            "SELECT n::int8 AS n, 'row ' || n AS label FROM generate_series(1, {rows}) AS n"
        ),
        "mysql" => format!(
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {rows}) \
             SELECT n, CONCAT('row ', n) AS label FROM c"
        ),
        _ => format!(
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {rows}) \
             SELECT n, 'row ' || n AS label FROM c"
        ),
    }
}

/// Peak resident set of this process, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

type Outcome = Result<(u64, u64), String>;

/// One cell: iterate the series, returning (rows, checksum).
fn child(backend: &str, contender: &str, rows: u64) -> Outcome {
    let sql = series_sql(backend, rows);
    let mut count = 0u64;
    let mut sum = 0u64;
    let mut take = |n: i64, label: &str| {
        count += 1;
        sum = sum.wrapping_add(n as u64).wrapping_add(label.len() as u64);
    };
    match contender {
        "raw" => match backend {
            "sqlite" => {
                let conn = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
                let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
                let mut it = stmt.query([]).map_err(|e| e.to_string())?;
                while let Some(row) = it.next().map_err(|e| e.to_string())? {
                    let n: i64 = row.get(0).map_err(|e| e.to_string())?;
                    let label: String = row.get(1).map_err(|e| e.to_string())?;
                    take(n, &label);
                }
            }
            "postgresql" => {
                use postgres::fallible_iterator::FallibleIterator;
                let mut client = postgres::Client::connect(&url(backend), postgres::NoTls)
                    .map_err(|e| e.to_string())?;
                let mut it = client
                    .query_raw(sql.as_str(), std::iter::empty::<i64>())
                    .map_err(|e| e.to_string())?;
                while let Some(row) = it.next().map_err(|e| e.to_string())? {
                    let n: i64 = row.try_get(0).map_err(|e| e.to_string())?;
                    let label: String = row.try_get(1).map_err(|e| e.to_string())?;
                    take(n, &label);
                }
            }
            _ => {
                use mysql::prelude::Queryable;
                let opts = mysql::Opts::from_url(&url(backend)).map_err(|e| e.to_string())?;
                let mut conn = mysql::Conn::new(opts).map_err(|e| e.to_string())?;
                conn.query_drop("SET SESSION max_recursive_iterations = 4294967295")
                    .map_err(|e| e.to_string())?;
                let mut result = conn.query_iter(&sql).map_err(|e| e.to_string())?;
                if let Some(set) = result.iter() {
                    for row in set {
                        let row = row.map_err(|e| e.to_string())?;
                        let (n, label): (i64, String) =
                            mysql::from_row_opt(row).map_err(|e| e.to_string())?;
                        take(n, &label);
                    }
                }
            }
        },
        _ => {
            let engine = create_engine(&url(backend)).map_err(|e| e.to_string())?;
            let mut conn = engine.connect().map_err(|e| e.to_string())?;
            if backend == "mysql" {
                conn.execute(text("SET SESSION max_recursive_iterations = 4294967295"))
                    .map_err(|e| e.to_string())?;
            }
            let stmt = text(sql).columns::<(i64, String)>();
            let rows = if contender == "quarry-stream" {
                conn.stream(stmt)
            } else {
                conn.execute(stmt)
            }
            .map_err(|e| e.to_string())?;
            for row in rows {
                let (n, label) = row.map_err(|e| e.to_string())?;
                take(n, &label);
            }
        }
    }
    Ok((count, sum))
}

struct Cell {
    backend: String,
    contender: String,
    peak_kib: u64,
    seconds: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let (backend, contender, rows) = (&args[1], &args[2], args[3].parse().unwrap_or(0));
        let start = Instant::now();
        match child(backend, contender, rows) {
            Ok((count, sum)) => {
                println!(
                    "{} {} {count} {sum}",
                    peak_kib(),
                    start.elapsed().as_secs_f64()
                );
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
        return;
    }
    let mut rows: u64 = 1_000_000;
    let mut backends = vec!["sqlite".to_owned(), "postgresql".into(), "mysql".into()];
    let mut json = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("bench/stream_memory.json");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => rows = 200_000,
            "--rows" => rows = it.next().and_then(|v| v.parse().ok()).unwrap_or(rows),
            "--backends" => {
                backends = it
                    .next()
                    .map(|v| v.split(',').map(str::to_owned).collect())
                    .unwrap_or(backends)
            }
            "--json" => json = it.next().map(PathBuf::from).unwrap_or(json),
            "--bench" => {}
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: stream_memory [--quick] [--rows N] \
                     [--backends sqlite,postgresql,mysql] [--json PATH]"
                );
                std::process::exit(2);
            }
        }
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("stream_memory"));
    let mut cells = Vec::new();
    println!("stream_memory: {rows} rows of (i64, String), peak RSS per process\n");
    println!(
        "| backend | contender | peak RSS (MiB) | vs raw (MiB) | time (s) |\n|---|---|---|---|---|"
    );
    for backend in &backends {
        let mut raw_peak = None;
        let mut checksum = None;
        for contender in ["raw", "quarry-stream", "quarry-buffered"] {
            let out = Command::new(&exe)
                .args(["--child", backend, contender, &rows.to_string()])
                .output();
            let out = match out {
                Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
                Ok(o) => {
                    println!(
                        "| {backend} | {contender} | skipped: {} | | |",
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                    continue;
                }
                Err(e) => {
                    println!("| {backend} | {contender} | skipped: {e} | | |");
                    continue;
                }
            };
            let fields: Vec<&str> = out.split_whitespace().collect();
            let peak: u64 = fields.first().and_then(|v| v.parse().ok()).unwrap_or(0);
            let seconds: f64 = fields.get(1).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let sum = fields.get(3).map(|s| (*s).to_owned());
            match (&checksum, &sum) {
                (None, _) => checksum = sum,
                (Some(a), Some(b)) if a != b => {
                    println!("| {backend} | {contender} | WRONG ROWS (checksum {b} vs {a}) | | |");
                    continue;
                }
                _ => {}
            }
            let mib = peak as f64 / 1024.0;
            let delta = match raw_peak {
                None => {
                    raw_peak = Some(peak);
                    "—".to_owned()
                }
                Some(raw) => format!("{:+.1}", (peak as f64 - raw as f64) / 1024.0),
            };
            println!("| {backend} | {contender} | {mib:.1} | {delta} | {seconds:.2} |");
            cells.push(Cell {
                backend: backend.clone(),
                contender: contender.to_owned(),
                peak_kib: peak,
                seconds,
            });
        }
    }
    let mut out = String::from("[\n");
    for (i, c) in cells.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {{\"backend\": \"{}\", \"contender\": \"{}\", \"rows\": {rows}, \"peak_kib\": {}, \"seconds\": {:.3}}}{}",
            c.backend,
            c.contender,
            c.peak_kib,
            c.seconds,
            if i + 1 == cells.len() { "" } else { "," }
        );
    }
    out.push_str("]\n");
    if let Some(dir) = json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&json, out) {
        eprintln!("cannot write {}: {e}", json.display());
    }
}
