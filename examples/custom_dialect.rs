//! A third-party driver found by `create_engine` through the dialect registry: `logsqlite`,
//! SQLite with every statement logged, registered in-process as SQLAlchemy's
//! `registry.register("logsqlite", …)` would.
//!
//! ```text
//! cargo run --example custom_dialect                   # logsqlite:// (memory)
//! cargo run --example custom_dialect -- /tmp/app.db    # logsqlite:////tmp/app.db
//! ```
//!
//! A driver brings its dialect, so wrapping the built-in SQLite driver is enough: the engine
//! compiles for SQLite, pools as SQLite does (one memory database per thread), and every call
//! goes through the wrapper.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quarry::dialect::{self, Dialect};
use quarry::driver::{self, Driver, DriverConnection, Outcome, RowSink};
use quarry::prelude::*;
use quarry::{Url, Value};

/// Counts the statements every `logsqlite` connection ran.
static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// A driver wrapping another one, logging what its connections run.
#[derive(Debug)]
struct LoggingDriver {
    inner: Arc<dyn Driver>,
}

impl Driver for LoggingDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect()
    }
    fn connect(&self) -> quarry::Result<Box<dyn DriverConnection>> {
        println!("  [logsqlite] connect");
        Ok(Box::new(LoggingConnection {
            inner: self.inner.connect()?,
        }))
    }
    fn connect_may_block(&self) -> bool {
        self.inner.connect_may_block()
    }
    // Memory SQLite stays one database per connection: the engine picks its pool for that.
    fn each_connection_is_a_new_database(&self) -> bool {
        self.inner.each_connection_is_a_new_database()
    }
}

struct LoggingConnection {
    inner: Box<dyn DriverConnection>,
}

impl DriverConnection for LoggingConnection {
    fn run(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> quarry::Result<Outcome> {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
        // Parameter values may be secrets: log how many, as Quarry's own logging does.
        println!("  [logsqlite] {sql}  -- {} params", params.len());
        self.inner.run(sql, params, sink)
    }
    fn batch(&mut self, sql: &str) -> quarry::Result<()> {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
        println!("  [logsqlite] {sql}");
        self.inner.batch(sql)
    }
    fn ping(&mut self) -> quarry::Result<()> {
        self.inner.ping()
    }
    fn ping_within(&mut self, timeout: Duration) -> quarry::Result<()> {
        self.inner.ping_within(timeout)
    }
    fn begin(&mut self) -> quarry::Result<()> {
        println!("  [logsqlite] BEGIN");
        self.inner.begin()
    }
    fn commit(&mut self) -> quarry::Result<()> {
        println!("  [logsqlite] COMMIT");
        self.inner.commit()
    }
    fn rollback(&mut self) -> quarry::Result<()> {
        if self.inner.in_transaction() {
            println!("  [logsqlite] ROLLBACK");
        }
        self.inner.rollback()
    }
    fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }
    fn forget_transaction(&mut self) {
        self.inner.forget_transaction();
    }
    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> quarry::Result<()> {
        self.inner.set_statement_timeout(timeout)
    }
    // The native connection is the wrapped one's: `raw_connection()` still downcasts to
    // `rusqlite::Connection`.
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self.inner.as_any_mut()
    }
    fn as_any(&self) -> &dyn Any {
        self.inner.as_any()
    }
}

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The factory gets the parsed `logsqlite://…` URL and builds the SQLite driver for the
    // same database (and query arguments), then wraps it.
    dialect::register(
        "logsqlite",
        |url: &Url| -> quarry::Result<Arc<dyn Driver>> {
            let mut sqlite = String::from("sqlite://");
            if let Some(path) = url.database() {
                sqlite.push('/');
                sqlite.push_str(path);
            }
            for (i, (key, value)) in url.query().iter().enumerate() {
                sqlite.push_str(&format!("{}{key}={value}", if i == 0 { '?' } else { '&' }));
            }
            let inner = driver::for_url(&Url::parse(&sqlite)?)?;
            Ok(Arc::new(LoggingDriver { inner }))
        },
    )?;
    println!("registered dialects: {:?}", dialect::registered());

    let url = match std::env::args().nth(1) {
        Some(path) => format!("logsqlite:///{path}"),
        None => "logsqlite://".to_owned(),
    };
    let engine = create_engine(&url)?;
    println!(
        "engine: {url} (dialect {}, pool {:?})\n",
        engine.dialect().name(),
        engine.pool().poolclass()
    );

    println!("create_all:");
    META.create_all(&engine)?;

    println!("\ninserts in a transaction:");
    engine.transaction(|conn| -> quarry::Result<()> {
        for name in ["ed", "wendy", "mary"] {
            conn.execute(insert!(User { name }))?;
        }
        Ok(())
    })?;

    println!("\na query:");
    let mut conn = engine.connect()?;
    let users: Vec<User> = conn.execute(select!(User ORDER BY User::name))?.all()?;
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    println!("  -> {names:?}");

    println!("\ndrop_all:");
    META.drop_all(&engine)?;
    drop(conn);

    println!(
        "\n{} statements went through the logsqlite driver",
        STATEMENTS.load(Ordering::Relaxed)
    );
    let err = create_engine("logsqlit://")
        .err()
        .ok_or("expected an error")?;
    println!("a typo in the name: {err}");
    Ok(())
}
