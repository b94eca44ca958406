//! The backends every live suite runs on: SQLite in memory, SQLite in a file, PostgreSQL and
//! MariaDB/MySQL.
//!
//! Each call to [`backends`] gives every backend a fresh, empty database of its own — a schema
//! on PostgreSQL (through `search_path`), a database on MySQL, a new file or memory database on
//! SQLite — removed again when the [`Backend`] is dropped. So tests run in parallel without
//! stepping on each other, with the table names of the contract.
//!
//! Server URLs come from `QUARRY_POSTGRES_URL` and `QUARRY_MYSQL_URL` (defaults: the local
//! servers of DEVELOPERS.md). A server that is down, or a build without its driver feature, is
//! skipped with a printed reason — except with `CI=true`, where it fails the test.
//!
//! For the pool suites: [`pool`] (time bounds, engines whose connections are tagged, counted
//! and killed server-side) and [`proxy`] (a loopback TCP proxy that can black-hole or cut the
//! network).
#![allow(dead_code)]

#[cfg(feature = "tokio")]
pub mod asyncio;
pub mod pool;
pub mod proxy;
pub mod warnings;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use quarry::prelude::*;

pub const POSTGRES_DEFAULT: &str = "postgresql://postgres@127.0.0.1:5432/test";
pub const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

/// One backend of a test: its name (`sqlite-memory`, `sqlite-file`, `postgresql`, `mysql`),
/// an engine on a fresh database, and what removes that database afterwards.
pub struct Backend {
    pub name: &'static str,
    pub engine: Engine,
    /// The URL the engine was built from, for tests that build more engines on the same database.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    None,
    File(PathBuf),
    Sql { admin: Engine, sql: String },
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.engine.dispose();
        match &self.cleanup {
            Cleanup::None => {}
            Cleanup::File(path) => {
                let _ = std::fs::remove_file(path);
            }
            Cleanup::Sql { admin, sql } => {
                if let Ok(mut conn) = admin.connect() {
                    let _ = conn.execute(text(sql.clone()));
                }
                admin.dispose();
            }
        }
    }
}

impl Backend {
    /// True for the two SQLite backends.
    pub fn is_sqlite(&self) -> bool {
        self.name.starts_with("sqlite")
    }
    pub fn is_postgres(&self) -> bool {
        self.name == "postgresql"
    }
    pub fn is_mysql(&self) -> bool {
        self.name == "mysql"
    }
}

/// `err` is a unique violation as the backend reports it: its kind, and the server's code
/// (SQLite's extended code, PostgreSQL's SQLSTATE, MySQL's error number); the error itself.
pub fn assert_unique_violation<'e>(
    err: &'e quarry::Error,
    backend: &str,
) -> &'e quarry::DatabaseError {
    let db = err.as_database().expect("a database error");
    assert_eq!(
        db.kind(),
        quarry::DatabaseErrorKind::UniqueViolation,
        "{backend}: {err}"
    );
    let code = match backend {
        "postgresql" => "23505",
        "mysql" => "1062",
        _ => "2067",
    };
    assert_eq!(db.code(), Some(code), "{backend}");
    db
}

/// True when the PostgreSQL backend runs through pgbouncer in transaction mode
/// (`QUARRY_VIA_PGBOUNCER`, set by `cargo xtask test --cluster` for its pooler pass).
pub fn via_pgbouncer() -> bool {
    std::env::var_os("QUARRY_VIA_PGBOUNCER").is_some()
}

/// True (after printing why) when `b` is PostgreSQL through pgbouncer and the test needs what
/// its transaction mode cannot give: `what`, session state or one server connection per
/// client connection. `tests/scale_out.rs` checks that such uses are refused there.
pub fn needs_own_server_connection(b: &Backend, what: &str) -> bool {
    let skip = b.is_postgres() && via_pgbouncer();
    if skip {
        eprintln!("skipping postgresql through pgbouncer's transaction mode: {what}");
    }
    skip
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip a backend with a reason, or fail under CI.
fn unavailable(backend: &str, reason: String) {
    if in_ci() {
        panic!("CI=true and the {backend} backend is unavailable: {reason}");
    }
    eprintln!("skipping the {backend} backend: {reason}");
}

/// Skip a test that needs a topology of `cargo xtask db cluster start` (a hot standby,
/// pgbouncer, Galera) when it is not running — except with `QUARRY_CLUSTER=1` (set by
/// `cargo xtask test --cluster`, which starts them), where it fails the test.
pub fn cluster_unavailable(what: &str, reason: String) {
    if std::env::var("QUARRY_CLUSTER").is_ok_and(|v| v == "1" || v == "true") {
        panic!("QUARRY_CLUSTER=1 and the {what} is unavailable: {reason}");
    }
    eprintln!("skipping (the {what} runs only with `cargo xtask db cluster start`): {reason}");
}

fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("q_{tag}_{}_{n}", std::process::id())
}

/// Every available backend, each on a fresh database named after `tag`.
pub fn backends(tag: &str) -> Vec<Backend> {
    backends_with(tag, |b| b)
}

/// As [`backends`], letting the test configure each engine (pool size, echo, …).
pub fn backends_with(
    tag: &str,
    configure: impl Fn(quarry::EngineBuilder) -> quarry::EngineBuilder,
) -> Vec<Backend> {
    let mut out = vec![
        Backend {
            name: "sqlite-memory",
            engine: configure(Engine::builder("sqlite://"))
                .build()
                .expect("memory engine"),
            url: "sqlite://".into(),
            cleanup: Cleanup::None,
        },
        sqlite_file(tag, &configure),
    ];
    match postgres(tag, &configure) {
        Ok(b) => out.push(b),
        // Session state refused through pgbouncer's transaction mode, by design
        // (`tests/scale_out.rs` checks the refusal).
        Err(reason) if via_pgbouncer() && reason.contains("pgbouncer") => {
            eprintln!("skipping postgresql through pgbouncer: {reason}");
        }
        Err(reason) => unavailable("postgresql", reason),
    }
    match mysql(tag, &configure) {
        Ok(b) => out.push(b),
        Err(reason) => unavailable("mysql", reason),
    }
    out
}

fn sqlite_file(
    tag: &str,
    configure: &impl Fn(quarry::EngineBuilder) -> quarry::EngineBuilder,
) -> Backend {
    let path = std::env::temp_dir().join(format!("{}.db", unique(tag)));
    let _ = std::fs::remove_file(&path);
    // `sqlite:////abs/path`: three slashes, then the absolute path's own.
    let url = format!("sqlite:///{}", path.display());
    Backend {
        name: "sqlite-file",
        engine: configure(Engine::builder(&url))
            .build()
            .expect("file engine"),
        url,
        cleanup: Cleanup::File(path),
    }
}

/// The engine that creates a test's database and removes it afterwards. With pre-ping, so that
/// it outlives a server restart (`tests/pool_restart.rs`).
fn admin(base: &str) -> Result<Engine, String> {
    Engine::builder(base)
        .pool_size(1)
        .pool_pre_ping(true)
        .build()
        .map_err(|e| e.to_string())
}

pub fn postgres_url() -> String {
    std::env::var("QUARRY_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_DEFAULT.into())
}

pub fn mysql_url() -> String {
    std::env::var("QUARRY_MYSQL_URL").unwrap_or_else(|_| MYSQL_DEFAULT.into())
}

fn postgres(
    tag: &str,
    configure: &impl Fn(quarry::EngineBuilder) -> quarry::EngineBuilder,
) -> Result<Backend, String> {
    if !cfg!(feature = "postgres") {
        return Err("built without the `postgres` feature (use --all-features)".into());
    }
    let base = postgres_url();
    let admin = admin(&base)?;
    if let Ok(pgbouncer) = std::env::var("QUARRY_VIA_PGBOUNCER") {
        return postgres_via_pgbouncer(tag, configure, admin, &pgbouncer);
    }
    let schema = unique(tag);
    admin
        .connect()
        .and_then(|mut c| {
            c.execute(text(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))?;
            c.execute(text(format!("CREATE SCHEMA {schema}")))
        })
        .map_err(|e| format!("{base}: {e}"))?;
    let engine =
        configure(Engine::builder(&base).connect_arg("options", format!("-csearch_path={schema}")))
            .build()
            .map_err(|e| e.to_string())?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(Backend {
        name: "postgresql",
        engine,
        url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
        cleanup: Cleanup::Sql {
            admin,
            sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        },
    })
}

/// With `QUARRY_VIA_PGBOUNCER=<url of pgbouncer in transaction mode>` (e.g.
/// `postgresql://postgres@127.0.0.1:6432/test`): the PostgreSQL backend is a database of its own
/// on the primary, reached through pgbouncer with `prepared_statements(false)` — a way to run a
/// whole live suite through a transaction pooler (pgbouncer ignores `options`, so no schema).
fn postgres_via_pgbouncer(
    tag: &str,
    configure: &impl Fn(quarry::EngineBuilder) -> quarry::EngineBuilder,
    admin: Engine,
    pgbouncer: &str,
) -> Result<Backend, String> {
    let db = unique(tag);
    admin
        .connect()
        .and_then(|mut c| c.execute(text(format!("CREATE DATABASE {db}"))))
        .map_err(|e| format!("creating {db}: {e}"))?;
    let url = with_database(pgbouncer, &db);
    let engine = configure(Engine::builder(&url).prepared_statements(false))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Backend {
        name: "postgresql",
        engine,
        url: format!("{url}?prepared_statements=false"),
        cleanup: Cleanup::Sql {
            admin,
            sql: format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        },
    })
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = main.split_once("://").unwrap_or(("mysql", main));
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn mysql(
    tag: &str,
    configure: &impl Fn(quarry::EngineBuilder) -> quarry::EngineBuilder,
) -> Result<Backend, String> {
    if !cfg!(feature = "mysql") {
        return Err("built without the `mysql` feature (use --all-features)".into());
    }
    let base = mysql_url();
    let admin = admin(&base)?;
    let db = unique(tag);
    admin
        .connect()
        .and_then(|mut c| {
            c.execute(text(format!("DROP DATABASE IF EXISTS {db}")))?;
            c.execute(text(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4")))
        })
        .map_err(|e| format!("{base}: {e}"))?;
    let url = with_database(&base, &db);
    let engine = configure(Engine::builder(&url))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Backend {
        name: "mysql",
        engine,
        url,
        cleanup: Cleanup::Sql {
            admin,
            sql: format!("DROP DATABASE IF EXISTS {db}"),
        },
    })
}
