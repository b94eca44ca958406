//! `cargo xtask …`: the project's automation, in Rust.
//!
//! - `ci`: what `.ci/run` does — start the database servers, run the test command, run every
//!   example (`EXAMPLES`) on SQLite, PostgreSQL and MariaDB, check formatting and clippy.
//! - `examples`: just the examples part of `ci`.
//! - `test`: the test command of README.md (`cargo test --workspace`), after reporting which
//!   database servers are up and enabling PostgreSQL's prepared transactions (a fresh server
//!   has them off; the two-phase tests need them). With `CI=true` a server that is down is a
//!   failure. `test --cluster` (what `ci` runs) first starts the topologies of `db cluster
//!   start` and sets `QUARRY_CLUSTER=1`, so the suites that use them fail instead of skipping.
//! - `db [status|start]`: the local PostgreSQL and MariaDB servers; `db cluster
//!   [status|start|stop]`: the topologies past one server (`cluster.rs`).
//! - `bless`: re-record trybuild `.stderr` files and insta snapshots; review the diff after.
//! - `snapshots`: list snapshot files that are pending review (`.snap.new`).
//! - `bench [name] [--quick] [args…]`: run a benchmark of `BENCHES` in release mode (without a
//!   name: `compare`, Quarry against the raw drivers, Diesel and SeaQuery); it prints its table
//!   and writes its rows to `<target dir>/bench/summary.json` (`compare`) or `<name>.json`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod cluster;
mod compile_bench;

/// The benchmarks of `cargo xtask bench`: each a `[[bench]]` target (`harness = false`) that
/// takes `--quick` and `--json PATH`: its name, its package, what it measures. The first is
/// the default.
const BENCHES: &[(&str, &str, &str)] = &[
    (
        "compare",
        "quarry-bench",
        "Quarry (sync and async) against raw rusqlite/postgres/mysql and tokio-postgres/mysql_async, Diesel, SeaQuery, sqlx, diesel-async and SeaORM on Diesel's workloads",
    ),
    (
        "async_pool",
        "quarry-bench",
        "Quarry's async pool against bb8 and deadpool: 64 tasks, 8 PostgreSQL connections, ops/s and p99 wait",
    ),
    (
        "pool",
        "quarry",
        "Quarry's pool against r2d2: ops/s and p99 checkout latency at 1, 4, 16, 64 threads",
    ),
    (
        "stream_memory",
        "quarry",
        "peak RSS iterating 1,000,000 rows: Quarry streamed and buffered against the raw drivers",
    ),
];

/// A database server the live tests use.
struct Server {
    name: &'static str,
    addr: &'static str,
    env: &'static str,
}

const SERVERS: &[Server] = &[
    Server {
        name: "PostgreSQL",
        addr: "127.0.0.1:5432",
        env: "QUARRY_POSTGRES_URL",
    },
    Server {
        name: "MariaDB",
        addr: "127.0.0.1:3306",
        env: "QUARRY_MYSQL_URL",
    },
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    std::env::set_current_dir(workspace_root()).context("cannot enter the workspace root")?;
    match args.as_slice() {
        ["ci"] => ci(),
        ["examples"] => examples(),
        ["test", rest @ ..] => test(rest),
        ["db"] | ["db", "status"] => {
            status();
            Ok(())
        }
        ["db", "start"] => start_servers(),
        ["db", "cluster", rest @ ..] => cluster::main(rest),
        ["bless"] => bless(),
        ["snapshots"] => snapshots(),
        ["bench", rest @ ..] => bench(rest),
        ["fuzz", rest @ ..] => fuzz(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 ci                 start servers, run the tests and examples, fmt --check, clippy (= .ci/run)\n  \
                 examples           run every example on SQLite, PostgreSQL and MariaDB\n  \
                 test [args…]       the README's test command; args go to cargo test\n  \
                 db [status|start]  the local PostgreSQL and MariaDB servers\n  \
                 db cluster [status|start|stop]  standby 5433, pgbouncer 6432, Galera 3307-3309\n  \
                 bless              re-record UI .stderr files and insta snapshots\n  \
                 snapshots          list snapshots pending review\n  \
                 bench [name]       a benchmark, in release mode (default compare; `--quick`): {}\n  \
                 fuzz <target> [--seconds N]  libFuzzer on a target of fuzz/ ({}), default 60 s",
                bench_names(),
                FUZZ_TARGETS.join(", ")
            );
            bail!("unknown command {:?}", args.join(" "))
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new(env!("CARGO")).args(args))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn ci() -> Result<()> {
    start_servers()?;
    test(&["--cluster"])?;
    examples()?;
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])
}

/// Where an example runs in CI.
#[derive(Clone, Copy, PartialEq)]
enum Runs {
    /// On SQLite only (it builds its own URL).
    Sqlite,
    /// On PostgreSQL only (it reads `QUARRY_POSTGRES_URL`).
    Postgres,
    /// On SQLite, then on each server with `QUARRY_EXAMPLE_URL` set to the server's URL.
    Everywhere,
    /// On SQLite, from the all-features build (it needs the `tokio` feature: the async engine).
    SqliteTokio,
    /// As `SqliteTokio`, then on each server with `QUARRY_EXAMPLE_URL` set to its URL.
    EverywhereTokio,
}

/// Every example of `examples/`, and where CI runs it.
const EXAMPLES: &[(&str, Runs)] = &[
    ("quickstart", Runs::Sqlite),
    ("custom_dialect", Runs::Sqlite),
    ("listen_notify", Runs::Postgres),
    ("explicit_execution", Runs::Everywhere),
    ("connectionless", Runs::Everywhere),
    ("nested_transactions", Runs::Everywhere),
    ("raw_connection", Runs::Everywhere),
    ("engine_disposal", Runs::Everywhere),
    ("implicit_execution", Runs::Everywhere),
    ("thread_local", Runs::Everywhere),
    ("session", Runs::Everywhere),
    ("read_replicas", Runs::Everywhere),
    ("migrations", Runs::Everywhere),
    ("top_posts", Runs::Everywhere),
    ("async_quickstart", Runs::SqliteTokio),
    ("axum_service", Runs::EverywhereTokio),
];

/// Run every example of `EXAMPLES`. Built twice, not once per run: with the default features
/// (what a fresh clone gets; these binaries run the SQLite pass), then with all features
/// (these run on PostgreSQL and MariaDB, with URLs from `QUARRY_POSTGRES_URL` /
/// `QUARRY_MYSQL_URL`). Outside CI a server that is down is skipped; with `CI=true` it fails.
fn examples() -> Result<()> {
    let started = Instant::now();
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("debug")
        .join("examples");
    let binary = |name: &str| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut ran = Vec::new();

    cargo(&["build", "--examples"])?;
    for (name, runs) in EXAMPLES {
        if matches!(runs, Runs::Sqlite | Runs::Everywhere) {
            run_example(&binary(name), name, "sqlite", None, &mut ran)?;
        }
    }

    cargo(&["build", "--examples", "--all-features"])?;
    for (name, runs) in EXAMPLES {
        if matches!(runs, Runs::SqliteTokio | Runs::EverywhereTokio) {
            run_example(&binary(name), name, "sqlite", None, &mut ran)?;
        }
    }
    let servers = [
        (
            "postgresql",
            &SERVERS[0],
            "postgresql://postgres@127.0.0.1:5432/test",
        ),
        ("mariadb", &SERVERS[1], "mysql://root@127.0.0.1:3306/test"),
    ];
    for (label, server, default) in servers {
        let url = match std::env::var(server.env) {
            Ok(url) => url,
            Err(_) if is_up(server.addr) => default.to_owned(),
            Err(_) if in_ci() => bail!(
                "CI=true and {} is down: cannot run the examples on it",
                server.name
            ),
            Err(_) => {
                eprintln!(
                    "skipping the examples on {}: it is down (cargo xtask db start)",
                    server.name
                );
                continue;
            }
        };
        for (name, runs) in EXAMPLES {
            match runs {
                Runs::Everywhere | Runs::EverywhereTokio => {
                    run_example(&binary(name), name, label, Some(&url), &mut ran)?;
                }
                Runs::Postgres if label == "postgresql" => {
                    run_example(&binary(name), name, label, None, &mut ran)?;
                }
                _ => {}
            }
        }
    }
    eprintln!(
        "examples: {} runs in {:.1?} (builds included)",
        ran.len(),
        started.elapsed()
    );
    for (what, took) in ran {
        eprintln!("  {what:<36} {took:>8.2?}");
    }
    Ok(())
}

/// Run one example binary; `url` becomes its `QUARRY_EXAMPLE_URL` (none: its default).
fn run_example(
    binary: &Path,
    name: &str,
    label: &str,
    url: Option<&str>,
    ran: &mut Vec<(String, Duration)>,
) -> Result<()> {
    let mut cmd = Command::new(binary);
    match url {
        Some(url) => cmd.env("QUARRY_EXAMPLE_URL", url),
        None => cmd.env_remove("QUARRY_EXAMPLE_URL"),
    };
    let started = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("example {name} failed on {label} with {}", out.status);
    }
    ran.push((format!("{name} on {label}"), started.elapsed()));
    Ok(())
}

fn test(extra: &[&str]) -> Result<()> {
    // `--cluster`: start the topologies past one server first (a hot standby, pgbouncer,
    // Galera) and make the suites that use them fail, not skip, when one is missing.
    let (cluster, extra): (Vec<&str>, Vec<&str>) = extra.iter().partition(|a| **a == "--cluster");
    if !cluster.is_empty() {
        let began = Instant::now();
        cluster::start().context("starting the cluster topologies (--cluster)")?;
        eprintln!(
            "cluster topologies up in {:.1} s",
            began.elapsed().as_secs_f64()
        );
    }
    let down = status();
    if in_ci() && !down.is_empty() {
        bail!("CI=true and these servers are down: {}", down.join(", "));
    }
    // A fresh machine runs PostgreSQL with prepared transactions off; the two-phase tests need
    // them, so the test command prepares the server (once: later runs find the setting).
    if is_up("127.0.0.1:5432")
        && let Err(e) = enable_prepared_transactions()
    {
        if in_ci() {
            return Err(e.context("enabling PostgreSQL prepared transactions"));
        }
        eprintln!("could not enable PostgreSQL prepared transactions: {e:#}");
    }
    let mut args = vec!["test", "--workspace", "--all-features"];
    args.extend_from_slice(&extra);
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(&args);
    if !cluster.is_empty() {
        cmd.env("QUARRY_CLUSTER", "1");
    }
    run(&mut cmd)?;
    if !cluster.is_empty() {
        pooler_pass()?;
    }
    // Compiler messages depend on the features in the build: UI tests use the defaults.
    cargo(&["test", "-p", "quarry", "--test", "ui"])
}

/// The live suites that run on every backend, again with the PostgreSQL backend reached
/// through pgbouncer in transaction mode with `prepared_statements(false)` (issue 24): each
/// test's PostgreSQL database is one of its own behind the pooler. Tests needing session
/// state or one server connection per client say so and skip PostgreSQL there; the pool
/// suites (server-side kills and counts) and pure suites are left out.
const POOLER_SUITES: &[&str] = &[
    "runtime",
    "live",
    "live_queries",
    "session",
    "text",
    "types",
    "types_enums",
    "traps",
    "bind",
    "defined_tables",
    "thread_local",
    "retry",
    "hostile",
    "migrate",
    "reflect",
    "sharding",
];

fn pooler_pass() -> Result<()> {
    let url = std::env::var("QUARRY_PGBOUNCER_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:6432/test".into());
    let began = Instant::now();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["test", "-p", "quarry", "--all-features"]);
    for suite in POOLER_SUITES {
        cmd.args(["--test", suite]);
    }
    cmd.env("QUARRY_CLUSTER", "1")
        .env("QUARRY_VIA_PGBOUNCER", &url);
    run(&mut cmd).context("the live suites through pgbouncer (QUARRY_VIA_PGBOUNCER)")?;
    eprintln!(
        "live suites through pgbouncer: {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

fn is_up(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// Print each server's state; return the names of those that are down.
fn status() -> Vec<&'static str> {
    let mut down = Vec::new();
    for s in SERVERS {
        let up = is_up(s.addr);
        let url = std::env::var(s.env)
            .map(|_| format!(" ({} is set)", s.env))
            .unwrap_or_default();
        eprintln!(
            "{:<10} {} {}{url}",
            s.name,
            s.addr,
            if up { "up" } else { "DOWN" }
        );
        if !up {
            down.push(s.name);
        }
    }
    down
}

/// Start whichever server is down with the commands DEVELOPERS.md gives, then wait for its port.
fn start_servers() -> Result<()> {
    for s in SERVERS {
        if is_up(s.addr) {
            continue;
        }
        eprintln!("starting {}", s.name);
        let started = match s.name {
            "PostgreSQL" => start_postgres(),
            _ => run(Command::new("start-stop-daemon").args([
                "--start",
                "--oknodo",
                "--background",
                "--exec",
                "/usr/sbin/mariadbd",
            ])),
        };
        if let Err(e) = started {
            eprintln!("could not start {}: {e:#}", s.name);
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while !is_up(s.addr) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    if is_up("127.0.0.1:5432")
        && let Err(e) = enable_prepared_transactions()
    {
        eprintln!("could not enable PostgreSQL prepared transactions: {e:#}");
    }
    let down = status();
    if in_ci() && !down.is_empty() {
        bail!(
            "CI=true and these servers could not be started: {}",
            down.join(", ")
        );
    }
    Ok(())
}

/// Two-phase commit tests need `max_prepared_transactions > 0` (PostgreSQL ships with 0). The
/// setting takes a restart; this runs once per machine, later runs find it set. The wire
/// driver's login tests need their `pg_hba.conf` lines ([`enable_password_logins`]).
fn enable_prepared_transactions() -> Result<()> {
    enable_password_logins()?;
    if psql("SHOW max_prepared_transactions")? != "0" {
        return Ok(());
    }
    eprintln!("PostgreSQL: setting max_prepared_transactions = 20 and restarting");
    psql("ALTER SYSTEM SET max_prepared_transactions = 20")?;
    pg_ctlcluster("restart")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !is_up("127.0.0.1:5432") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

/// `psql -tAc sql` on the local server as `postgres`: its output, trimmed.
fn psql(sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-tAc",
            sql,
        ])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The `pg_hba.conf` lines of `tests/pg_wire.rs`' login tests: three roles (created and
/// dropped by the tests) that log in with a password, ahead of the server's `trust` lines.
const PASSWORD_LOGINS: &str = "\
# quarry tests/pg_wire.rs: these roles log in with a password (the wire driver's auth)
host all quarry_wire_scram 127.0.0.1/32 scram-sha-256
host all quarry_wire_md5 127.0.0.1/32 md5
host all quarry_wire_password 127.0.0.1/32 password
";

/// Put [`PASSWORD_LOGINS`] at the top of the server's `pg_hba.conf` and reload it, once per
/// machine (a later run finds them).
fn enable_password_logins() -> Result<()> {
    let file = psql("SHOW hba_file")?;
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?;
    if text.contains("quarry_wire_scram") {
        return Ok(());
    }
    eprintln!("PostgreSQL: adding the password-login test roles' lines to {file}");
    std::fs::write(&file, format!("{PASSWORD_LOGINS}{text}"))
        .with_context(|| format!("writing {file}"))?;
    psql("SELECT pg_reload_conf()")?;
    Ok(())
}

fn start_postgres() -> Result<()> {
    pg_ctlcluster("start")
}

fn pg_ctlcluster(action: &str) -> Result<()> {
    let version = pg_version()?;
    run(Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &version, "main", action]))
}

/// The installed PostgreSQL major version (the newest under `/etc/postgresql`).
fn pg_version() -> Result<String> {
    std::fs::read_dir("/etc/postgresql")
        .context("no /etc/postgresql: is PostgreSQL installed?")?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.chars().all(|c| c.is_ascii_digit()))
        .max()
        .context("no cluster under /etc/postgresql")
}

fn bench_names() -> String {
    BENCHES
        .iter()
        .map(|(name, _, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run one benchmark in release mode (`cargo bench`), its JSON next to Cargo's build output:
/// `compare` (the default, without a name) writes `bench/summary.json`, the others
/// `bench/<name>.json`.
fn bench(args: &[&str]) -> Result<()> {
    let (name, rest) = match args.split_first() {
        Some((name, rest)) if !name.starts_with('-') => (*name, rest),
        _ => ("compare", args),
    };
    // `--readme`: also put the table into benches/README.md (between its markers).
    let readme = rest.contains(&"--readme");
    let rest: Vec<&str> = rest.iter().copied().filter(|a| *a != "--readme").collect();
    let command = format!("cargo xtask bench {name} {}", rest.join(" "));
    // Absolute: `cargo bench` runs the binary in its package's directory.
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let target = root
        .join(std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from));
    let table = if name == "compile" {
        compile_bench::run(&target, &rest)?
    } else {
        let Some((_, package, _)) = BENCHES.iter().find(|(known, _, _)| *known == name) else {
            eprintln!(
                "usage: cargo xtask bench [name] [--quick] [--readme] [args…]\n\n\
                 `--quick` runs for a few seconds (compare: under a minute once built) instead of\n\
                 about a minute; `--readme` also writes the table into benches/README.md; other\n\
                 args go to the benchmark (`cargo xtask bench <name> --help` lists them).\n\n\
                 benchmarks:"
            );
            for (name, _, what) in BENCHES {
                eprintln!("  {name:<8} {what}");
            }
            eprintln!(
                "  compile  compile time of generated crates (50 tables, 200 statements): Quarry against Diesel"
            );
            bail!("no benchmark named {name:?}");
        };
        let file = if name == "compare" {
            "summary.json".to_owned()
        } else {
            format!("{name}.json")
        };
        let json = target.join("bench").join(file);
        let json = json.to_string_lossy();
        let mut cargs = vec!["bench", "-p", package];
        if name == "stream_memory" {
            // It measures every backend's driver.
            cargs.extend(["--features", "postgres,mysql"]);
        }
        cargs.extend(["--bench", name, "--", "--json", &json]);
        cargs.extend_from_slice(&rest);
        run_tee(Command::new(env!("CARGO")).args(&cargs))?
    };
    if readme {
        splice_readme(name, command.trim_end(), &table)?;
    }
    Ok(())
}

/// Run `cmd`, its stdout echoed as it comes and returned.
fn run_tee(cmd: &mut Command) -> Result<String> {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("$ {cmd:?}");
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            std::io::stdout().flush()?;
            out.push_str(&line);
            out.push('\n');
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(out)
}

/// Replace what is between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` in
/// benches/README.md with `table` and the line that says how, when and on what it was made.
fn splice_readme(name: &str, command: &str, table: &str) -> Result<()> {
    let path = Path::new("benches/README.md");
    let text = std::fs::read_to_string(path).context("reading benches/README.md")?;
    let (begin, end) = (
        format!("<!-- bench:{name}:begin -->"),
        format!("<!-- bench:{name}:end -->"),
    );
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        bail!("benches/README.md has no {begin} … {end} markers");
    };
    let output = |program: &str, args: &[&str]| -> String {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = if output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        ""
    } else {
        " with uncommitted changes"
    };
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let block = format!(
        "{begin}\n`{command}` at {date}, commit {commit}{dirty}, {cores} cores, load average \
         {load} when it ended (written by `--readme`):\n\n```text\n{}\n```\n",
        table.trim_end()
    );
    let spliced = format!("{}{block}{}", &text[..b], &text[e..]);
    std::fs::write(path, spliced).context("writing benches/README.md")?;
    eprintln!("wrote the table into benches/README.md");
    Ok(())
}

fn bless() -> Result<()> {
    // Default features, as `test` runs the UI suite: the optional crates change rustc's lists
    // of "other types that implement" a trait and how it shortens paths.
    run(Command::new(env!("CARGO"))
        .args([
            "test",
            "--test",
            "ui",
            "--test",
            "ddl",
            "--test",
            "statements",
        ])
        .env("TRYBUILD", "overwrite")
        .env("INSTA_UPDATE", "always"))?;
    eprintln!("re-recorded; review with `git diff tests/`");
    Ok(())
}

fn snapshots() -> Result<()> {
    let mut pending = Vec::new();
    collect_pending(Path::new("tests"), &mut pending)?;
    if pending.is_empty() {
        eprintln!("no snapshots pending review");
    }
    for p in pending {
        println!("{}", p.display());
    }
    Ok(())
}

fn collect_pending(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_pending(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "new") {
            out.push(path);
        }
    }
    Ok(())
}

/// The targets of `fuzz/fuzz_targets/`.
const FUZZ_TARGETS: &[&str] = &["url", "text"];

/// The coverage instrumentation cargo-fuzz asks rustc for, without a sanitizer: all of it
/// stable, so libFuzzer runs on the pinned stable toolchain.
const FUZZ_RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing";

/// `cargo xtask fuzz <target> [--seconds N]`: build `fuzz/` with coverage instrumentation (in
/// `target/fuzz`, apart from the workspace's builds) and run libFuzzer on the target for N
/// seconds (60 by default) over its corpus in `fuzz/corpus/<target>`, which it grows. A crash
/// leaves its input in `fuzz/artifacts/<target>/` and fails the command.
fn fuzz(args: &[&str]) -> Result<()> {
    let (target, seconds) = match args {
        [target] => (*target, 60),
        [target, "--seconds", n] => (
            *target,
            n.parse::<u64>()
                .with_context(|| format!("--seconds takes a whole number, not {n:?}"))?,
        ),
        _ => bail!(
            "usage: cargo xtask fuzz <target> [--seconds N]; targets: {}",
            FUZZ_TARGETS.join(", ")
        ),
    };
    if !FUZZ_TARGETS.contains(&target) {
        bail!(
            "no fuzz target {target:?}; targets: {}",
            FUZZ_TARGETS.join(", ")
        );
    }
    let flags = FUZZ_RUSTFLAGS
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // An explicit --target keeps the flags off build scripts and proc macros, which have no
    // libFuzzer to link against.
    let host = host_triple()?;
    run(Command::new(env!("CARGO"))
        .args([
            "build",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--target-dir",
            "target/fuzz",
            "--target",
            &host,
            "--bin",
            target,
        ])
        .env("RUSTFLAGS", flags))?;
    let corpus = PathBuf::from("fuzz/corpus").join(target);
    let artifacts = PathBuf::from("fuzz/artifacts").join(target);
    std::fs::create_dir_all(&corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    run(Command::new(
        PathBuf::from("target/fuzz")
            .join(&host)
            .join("debug")
            .join(target),
    )
    .arg(format!("-max_total_time={seconds}"))
    .arg(format!("-artifact_prefix={}/", artifacts.display()))
    .arg(&corpus))
}

/// The host's target triple, as rustc reports it.
fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("cannot run rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("rustc -vV names no host")
}
