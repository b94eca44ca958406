//! `cargo xtask bench`: Quarry against the raw drivers, Diesel and SeaQuery, on the workloads
//! of Diesel's own benchmark suite, on SQLite (memory), PostgreSQL and MySQL/MariaDB.
//!
//! Every case (workload × size × backend) runs its contenders interleaved in short rounds
//! (`harness.rs`); the table gives medians per iteration and the median of same-round ratios
//! to raw; `raw_aa` is raw again under another name, the noise floor. The process is pinned
//! to one CPU, and so are the PostgreSQL server backends of its connections (found by
//! `application_name = quarry_bench`). See `benches/README.md`.
//!
//! Options: `--quick`, `--rounds N`, `--round-ms N`, `--backends sqlite,postgres,mysql`,
//! `--workloads trivial_query,…`, `--contenders raw,quarry,…` (raw always runs), `--cpu N`
//! (`--no-pin` to leave placement to the scheduler), `--json PATH` (default
//! `bench/summary.json` in `CARGO_TARGET_DIR`, else in the workspace's `target/`).

mod async_rt;
mod diesel_async;
mod harness;
mod quarry_async;
mod quarry_side;
mod raw;
mod raw_async;
mod sea_orm_side;
mod sqlx_side;
mod stats;
mod workload;

#[path = "diesel.rs"]
mod diesel_side;
#[path = "sea_query.rs"]
mod sea_query_side;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use harness::{Entry, Measured, Plan};
use workload::{APPLICATION_NAME, Backend, Case, Contender, Workload};

/// Every contender, in table order; `raw` first (the harness's baseline).
const CONTENDERS: &[&str] = &[
    "raw",
    "raw_aa",
    "quarry",
    // Quarry on its lean PostgreSQL driver (`postgresql+wire://`), PostgreSQL only.
    "quarry_wire",
    "diesel",
    "diesel_tuned",
    "sea_query",
    "sea_query_cached",
    // The async contenders, each on a tokio `current_thread` runtime of its own (`async_rt.rs`).
    "raw_async",
    "quarry_async",
    "sqlx",
    "diesel_async",
    "sea_orm",
];

struct Options {
    plan: Plan,
    backends: Vec<Backend>,
    workloads: Vec<Workload>,
    contenders: Vec<&'static str>,
    cpu: Option<usize>,
    json: PathBuf,
    postgres_url: String,
    mysql_url: String,
}

fn options() -> Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        plan: Plan {
            rounds: 21,
            round: Duration::from_millis(10),
        },
        backends: Backend::ALL.to_vec(),
        workloads: Workload::ALL.to_vec(),
        contenders: CONTENDERS.to_vec(),
        cpu: Some(last_cpu()),
        json: std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(workspace_target, PathBuf::from)
            .join("bench")
            .join("summary.json"),
        postgres_url: std::env::var("QUARRY_POSTGRES_URL")
            .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into()),
        mysql_url: std::env::var("QUARRY_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
    };
    let mut it = args.iter().map(String::as_str);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg {
            // `cargo bench` passes `--bench` to harness-less targets.
            "--bench" => {}
            "--quick" => {
                o.plan = Plan {
                    rounds: 7,
                    round: Duration::from_millis(4),
                }
            }
            "--rounds" => o.plan.rounds = value()?.parse().context("--rounds")?,
            "--round-ms" => {
                o.plan.round = Duration::from_millis(value()?.parse().context("--round-ms")?)
            }
            "--backends" => {
                o.backends = list(
                    value()?,
                    Backend::parse,
                    "backend",
                    "sqlite, postgres, mysql",
                )?
            }
            "--workloads" => {
                o.workloads = list(
                    value()?,
                    Workload::parse,
                    "workload",
                    &Workload::ALL.map(Workload::name).join(", "),
                )?
            }
            "--contenders" => {
                let mut picked = list(
                    value()?,
                    |s| CONTENDERS.iter().copied().find(|c| *c == s),
                    "contender",
                    &CONTENDERS.join(", "),
                )?;
                if !picked.contains(&"raw") {
                    picked.insert(0, "raw");
                }
                o.contenders = CONTENDERS
                    .iter()
                    .copied()
                    .filter(|c| picked.contains(c))
                    .collect();
            }
            "--cpu" => o.cpu = Some(value()?.parse().context("--cpu")?),
            "--no-pin" => o.cpu = None,
            "--json" => o.json = PathBuf::from(value()?),
            "--help" | "-h" => {
                println!(
                    "usage: cargo xtask bench [--quick] [--rounds N] [--round-ms N] \
                     [--backends sqlite,postgres,mysql] [--workloads {}] [--contenders {}] \
                     [--cpu N | --no-pin] [--json PATH]",
                    Workload::ALL.map(Workload::name).join(","),
                    CONTENDERS.join(",")
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if o.plan.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    Ok(o)
}

fn list<T>(
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
    known: &str,
) -> Result<Vec<T>> {
    value
        .split(',')
        .map(|s| parse(s.trim()).with_context(|| format!("unknown {what} {s:?}; known: {known}")))
        .collect()
}

fn workspace_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

fn last_cpu() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get() - 1)
}

/// The contenders available on `backend`, connected.
fn contenders(backend: Backend, o: &Options) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for &name in &o.contenders {
        let made: Option<Result<Box<dyn Contender>>> = match (backend, name) {
            (Backend::Sqlite, "raw" | "raw_aa") => Some(raw::sqlite()),
            (Backend::Postgres, "raw" | "raw_aa") => Some(raw::postgres(&o.postgres_url)),
            (Backend::Mysql, "raw" | "raw_aa") => Some(raw::mysql(&o.mysql_url)),
            (Backend::Sqlite, "quarry") => Some(quarry_side::new("sqlite://")),
            (Backend::Postgres, "quarry") => Some(quarry_side::new(&o.postgres_url)),
            (Backend::Postgres, "quarry_wire") => {
                Some(quarry_side::new(&quarry_side::wire_url(&o.postgres_url)))
            }
            (Backend::Mysql, "quarry") => Some(quarry_side::new(&o.mysql_url)),
            (Backend::Sqlite, "diesel") => Some(diesel_side::sqlite(false)),
            (Backend::Sqlite, "diesel_tuned") => Some(diesel_side::sqlite(true)),
            (Backend::Postgres, "diesel") => Some(diesel_side::postgres(&o.postgres_url, false)),
            (Backend::Postgres, "diesel_tuned") => {
                Some(diesel_side::postgres(&o.postgres_url, true))
            }
            (Backend::Sqlite, "sea_query") => Some(sea_query_side::sqlite(false)),
            (Backend::Sqlite, "sea_query_cached") => Some(sea_query_side::sqlite(true)),
            (Backend::Postgres, "sea_query") => {
                Some(sea_query_side::postgres(&o.postgres_url, false))
            }
            (Backend::Postgres, "sea_query_cached") => {
                Some(sea_query_side::postgres(&o.postgres_url, true))
            }
            // SQLite has no async driver of its own: rusqlite on a thread, one hop a statement.
            (Backend::Sqlite, "raw_async") => Some(raw_async::sqlite()),
            (Backend::Postgres, "raw_async") => Some(raw_async::postgres(&o.postgres_url)),
            (Backend::Mysql, "raw_async") => Some(raw_async::mysql(&o.mysql_url)),
            (Backend::Sqlite, "quarry_async") => Some(quarry_async::new("sqlite://")),
            (Backend::Postgres, "quarry_async") => Some(quarry_async::new(&o.postgres_url)),
            (Backend::Mysql, "quarry_async") => Some(quarry_async::new(&o.mysql_url)),
            (Backend::Sqlite, "sqlx") => Some(sqlx_side::sqlite()),
            (Backend::Postgres, "sqlx") => Some(sqlx_side::postgres(&o.postgres_url)),
            (Backend::Mysql, "sqlx") => Some(sqlx_side::mysql(&o.mysql_url)),
            (Backend::Sqlite, "diesel_async") => Some(diesel_async::sqlite()),
            (Backend::Postgres, "diesel_async") => Some(diesel_async::postgres(&o.postgres_url)),
            (Backend::Mysql, "diesel_async") => Some(diesel_async::mysql(&o.mysql_url)),
            (Backend::Sqlite, "sea_orm") => Some(sea_orm_side::new("sqlite::memory:")),
            (Backend::Postgres, "sea_orm") => Some(sea_orm_side::new(&o.postgres_url)),
            (Backend::Mysql, "sea_orm") => Some(sea_orm_side::new(&o.mysql_url)),
            // Diesel's (sync) MySQL backend links libmysqlclient (not on a fresh machine
            // here), and SeaQuery has no binder for the blocking `mysql` crate.
            _ => None,
        };
        if let Some(made) = made {
            let contender = made.with_context(|| format!("{name} on {backend}"))?;
            entries.push(Entry { name, contender });
        }
    }
    Ok(entries)
}

/// Pin this process (every thread, and those it starts later) to `cpu`.
fn pin_self(cpu: usize) -> Result<()> {
    let pid = std::process::id().to_string();
    taskset(&["-a", "-p", "-c", &cpu.to_string(), &pid])
}

/// Pin the PostgreSQL server backends of this benchmark's connections to `cpu`.
fn pin_postgres_backends(url: &str, cpu: usize) -> Result<usize> {
    let mut admin = postgres::Client::connect(url, postgres::NoTls)
        .context("postgres: connect to look up backends")?;
    let rows = admin.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
        &[&APPLICATION_NAME],
    )?;
    for row in &rows {
        let pid: i32 = row.get(0);
        taskset(&["-p", "-c", &cpu.to_string(), &pid.to_string()])?;
    }
    Ok(rows.len())
}

fn taskset(args: &[&str]) -> Result<()> {
    let out = Command::new("taskset")
        .args(args)
        .output()
        .context("running taskset (util-linux)")?;
    if !out.status.success() {
        bail!(
            "taskset {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A row of the summary: one contender in one case.
struct Row {
    case: Case,
    m: Measured,
}

fn main() -> Result<()> {
    let o = options()?;
    let started = Instant::now();
    if let Some(cpu) = o.cpu {
        match pin_self(cpu) {
            Ok(()) => eprintln!("pinned to CPU {cpu}"),
            Err(e) => eprintln!("not pinned: {e:#}"),
        }
    }
    eprintln!(
        "{} rounds of ~{} ms per contender and case; load average {}",
        o.plan.rounds,
        o.plan.round.as_millis(),
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "{:<21} {:<8} {:>6}  {:<16} {:>12} {:>7} {:>7} {:>12} {:>7} {:>7}",
        "workload",
        "backend",
        "n",
        "contender",
        "median",
        "x raw",
        "x async",
        "cpu",
        "x raw",
        "spread"
    );

    let mut rows = Vec::new();
    for &backend in &o.backends {
        let mut entries = match contenders(backend, &o) {
            Ok(entries) => entries,
            Err(e) => {
                eprintln!("skipping {backend}: {e:#}");
                continue;
            }
        };
        if backend == Backend::Postgres
            && let Some(cpu) = o.cpu
        {
            match pin_postgres_backends(&o.postgres_url, cpu) {
                Ok(n) => eprintln!("pinned {n} PostgreSQL backends to CPU {cpu}"),
                Err(e) => eprintln!("PostgreSQL backends not pinned: {e:#}"),
            }
        }
        setup(backend, &mut entries, backend.schema())?;
        for &workload in &o.workloads {
            for &n in workload.sizes() {
                let case = Case {
                    workload,
                    backend,
                    n,
                };
                setup(backend, &mut entries, backend.empty_tables())?;
                for sql in case.seed() {
                    setup(backend, &mut entries, &sql)?;
                }
                for e in entries.iter_mut() {
                    e.contender
                        .prepare(&case)
                        .with_context(|| format!("{} preparing {case}", e.name))?;
                }
                let mut reset = |entries: &mut [Entry], i: usize| -> Result<()> {
                    if workload != Workload::Insert {
                        return Ok(());
                    }
                    let at = if backend.per_connection_database() {
                        i
                    } else {
                        0
                    };
                    entries[at].contender.batch(backend.clear_users())
                };
                let measured = harness::measure(&case, &mut entries, o.plan, &mut reset)?;
                for m in measured {
                    print_row(&case, &m);
                    rows.push(Row { case, m });
                }
            }
        }
    }

    summary(&rows);
    write_json(&o.json, &rows)?;
    eprintln!(
        "wrote {} rows to {} in {:.0} s",
        rows.len(),
        o.json.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Run setup SQL: on every contender's database (SQLite memory), else once, through raw.
fn setup(backend: Backend, entries: &mut [Entry], sql: &str) -> Result<()> {
    let count = if backend.per_connection_database() {
        entries.len()
    } else {
        1.min(entries.len())
    };
    for e in &mut entries[..count] {
        e.contender
            .batch(sql)
            .with_context(|| format!("{} on {backend}: {sql:.80}", e.name))?;
    }
    Ok(())
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn print_row(case: &Case, m: &Measured) {
    let to_async = m
        .ratio_to_raw_async
        .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
    println!(
        "{:<21} {:<8} {:>6}  {:<16} {:>12} {:>6.2}x {:>7} {:>12} {:>6.2}x {:>6.0}%",
        case.workload.name(),
        case.backend.name(),
        case.n,
        m.contender,
        time(m.median_ns),
        m.ratio_to_raw,
        to_async,
        time(m.cpu_ns),
        m.cpu_ratio_to_raw,
        m.spread * 100.0
    );
}

/// The targets, per case: Quarry's ratio to raw against its bound, and Quarry against
/// the best of Diesel's and SeaQuery's forms; the A/A ratio beside them.
fn summary(rows: &[Row]) {
    let mut out = String::from("\nquarry against its targets (same-round median ratios)\n");
    let mut cases: Vec<Case> = rows.iter().map(|r| r.case).collect();
    cases.dedup();
    for case in cases {
        let of = |name: &str| {
            rows.iter()
                .find(|r| r.case == case && r.m.contender == name)
                .map(|r| r.m.ratio_to_raw)
        };
        let Some(quarry) = of("quarry") else { continue };
        let bound = match (case.workload, case.n) {
            (Workload::PkLookup, _) | (Workload::TrivialQuery, 10_000) => 1.05,
            _ => 1.10,
        };
        let peer = rows
            .iter()
            .filter(|r| r.case == case && SYNC_PEERS.contains(&r.m.contender))
            .min_by(|a, b| a.m.ratio_to_raw.total_cmp(&b.m.ratio_to_raw));
        let _ = write!(
            out,
            "{:<21} {:<8} {:>6}  quarry {:.2}x (target <= {bound:.2}x) {}",
            case.workload.name(),
            case.backend.name(),
            case.n,
            quarry,
            if quarry <= bound { "ok  " } else { "MISS" },
        );
        if let Some(p) = peer {
            let _ = write!(
                out,
                "  best peer {} {:.2}x {}",
                p.m.contender,
                p.m.ratio_to_raw,
                if quarry < p.m.ratio_to_raw {
                    "ok  "
                } else {
                    "MISS"
                }
            );
        }
        if let Some(wire) = of("quarry_wire") {
            let _ = write!(out, "  wire {wire:.2}x");
        }
        if let Some(aa) = of("raw_aa") {
            let _ = write!(out, "  a/a {aa:.2}x");
        }
        out.push('\n');
    }
    out.push_str(&async_summary(rows));
    print!("{out}");
}

/// The peers Quarry's blocking engine is held against, and its async engine's.
const SYNC_PEERS: &[&str] = &["diesel", "diesel_tuned", "sea_query", "sea_query_cached"];
const ASYNC_PEERS: &[&str] = &["sqlx", "diesel_async", "sea_orm"];

/// Issue 22's targets, per case: `quarry_async` at or ahead of sqlx and diesel-async; on
/// PostgreSQL within 1.10x of raw `tokio-postgres`; on SQLite within 1.5x of raw (sync)
/// rusqlite on `pk_lookup` and `trivial_query` n = 1.
fn async_summary(rows: &[Row]) -> String {
    let mut out = String::from("\nquarry_async against its targets (same-round median ratios)\n");
    let mut cases: Vec<Case> = rows.iter().map(|r| r.case).collect();
    cases.dedup();
    for case in cases {
        let Some(q) = rows
            .iter()
            .find(|r| r.case == case && r.m.contender == "quarry_async")
        else {
            continue;
        };
        let _ = write!(
            out,
            "{:<21} {:<8} {:>6}  quarry_async {:.2}x raw",
            case.workload.name(),
            case.backend.name(),
            case.n,
            q.m.ratio_to_raw,
        );
        let ok = |met: bool| if met { "ok  " } else { "MISS" };
        match (case.backend, case.workload, case.n) {
            (Backend::Postgres, _, _) => {
                if let Some(r) = q.m.ratio_to_raw_async {
                    let _ = write!(
                        out,
                        " {r:.2}x raw_async (target <= 1.10x) {}",
                        ok(r <= 1.10)
                    );
                }
            }
            (Backend::Sqlite, Workload::PkLookup, _)
            | (Backend::Sqlite, Workload::TrivialQuery, 1) => {
                let r = q.m.ratio_to_raw;
                let _ = write!(out, " (target <= 1.50x) {}", ok(r <= 1.50));
            }
            _ => {
                if let Some(r) = q.m.ratio_to_raw_async {
                    let _ = write!(out, " {r:.2}x raw_async");
                }
            }
        }
        for peer in ASYNC_PEERS {
            if let Some(p) = rows
                .iter()
                .find(|r| r.case == case && r.m.contender == *peer)
            {
                let _ = write!(
                    out,
                    "  {peer} {:.2}x {}",
                    p.m.ratio_to_raw,
                    ok(q.m.ratio_to_raw <= p.m.ratio_to_raw)
                );
            }
        }
        out.push('\n');
    }
    out
}

fn write_json(path: &PathBuf, rows: &[Row]) -> Result<()> {
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "workload": r.case.workload.name(),
                "backend": r.case.backend.name(),
                "n": r.case.n,
                "contender": r.m.contender,
                "median_ns": r.m.median_ns.round(),
                "ratio_to_raw": (r.m.ratio_to_raw * 1000.0).round() / 1000.0,
                "cpu_ns": r.m.cpu_ns.round(),
                "cpu_ratio_to_raw": (r.m.cpu_ratio_to_raw * 1000.0).round() / 1000.0,
                "ratio_to_raw_async": r.m.ratio_to_raw_async.map(|x| (x * 1000.0).round() / 1000.0),
                "spread": (r.m.spread * 1000.0).round() / 1000.0,
                "iterations_per_round": r.m.iterations,
            })
        })
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&json)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}
