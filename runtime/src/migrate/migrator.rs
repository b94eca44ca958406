//! Versioned migration files and their runner: a version table, ordered apply, revert, status,
//! SHA-256 checksums, a lock so that two processes apply each migration once.
//!
//! Layout: `migrations/NNN_name/up.sql` and `down.sql` (optional); `NNN` is the version.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::connection::Connection;
use crate::ddl::TableDdl;
use crate::engine::Engine;
use crate::error::{DatabaseErrorKind, Error, Result};
use crate::reflect::REFLECTED;
use crate::schema::{ColumnDef, TableDef};
use crate::sql::{DefinedTable, Expression};
use crate::value::SqlType;
use quarry_core::migrate::split_statements;
use quarry_core::{Row, text};

/// The table that records applied migrations: `version`, `name`, `checksum` (SHA-256 of
/// `up.sql`, hex), `success` (false while a migration that could not run in a transaction is
/// part-way, or after it failed) and `applied_at` (Unix seconds).
pub const VERSION_TABLE: &str = "quarry_migrations";

/// One migration: a version, a name, the SQL that applies it and (optionally) the SQL that
/// reverts it.
#[derive(Debug, Clone)]
pub struct Migration {
    version: i64,
    name: String,
    up: Cow<'static, str>,
    down: Option<Cow<'static, str>>,
    checksum: String,
    source: String,
}

impl Migration {
    /// A migration from its parts; `source` says where it came from in messages (a path).
    pub fn new(
        version: i64,
        name: impl Into<String>,
        up: impl Into<Cow<'static, str>>,
        down: Option<Cow<'static, str>>,
        source: impl Into<String>,
    ) -> Self {
        let up = up.into();
        Migration {
            version,
            name: name.into(),
            checksum: checksum(&up),
            up,
            down,
            source: source.into(),
        }
    }
    /// The version (the directory's leading number).
    pub fn version(&self) -> i64 {
        self.version
    }
    /// The name (the directory name after the number).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The SQL that applies it.
    pub fn up(&self) -> &str {
        &self.up
    }
    /// The SQL that reverts it, if any.
    pub fn down(&self) -> Option<&str> {
        self.down.as_deref()
    }
    /// SHA-256 of `up.sql`, hex.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }
    /// Where it came from (`migrations/002_add_language/up.sql`).
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}_{}", self.version, self.name)
    }
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a migration stands on a database ([`Migrator::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// The version.
    pub version: i64,
    /// The name (from the file, or the version table for an applied migration whose file is
    /// gone).
    pub name: String,
    /// Recorded in the version table as applied.
    pub applied: bool,
    /// Recorded as failed part-way (MySQL/MariaDB, where DDL cannot be rolled back).
    pub failed: bool,
    /// Applied, but `up.sql` changed since (its checksum differs).
    pub changed: bool,
    /// Applied, but no file of this version is known.
    pub missing: bool,
    /// When it was applied (Unix seconds).
    pub applied_at: Option<i64>,
}

/// A migration [`Migrator::run`] applied (or [`Migrator::revert`] reverted), and how long
/// it took.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The version.
    pub version: i64,
    /// The name.
    pub name: String,
    /// How long its SQL took.
    pub took: Duration,
}

/// Runs versioned migrations: `Migrator::from_dir("migrations")?` or
/// `quarry::embed_migrations!("migrations")`, then [`Migrator::run`],
/// [`Migrator::revert`], [`Migrator::status`].
///
/// Each migration runs in a transaction of its own, version row included, where DDL is
/// transactional (PostgreSQL, SQLite): a failure leaves nothing behind. On MySQL/MariaDB each
/// DDL statement commits by itself: the runner records the migration as failed before it
/// starts and as applied when its last statement succeeded, so a failure part-way is known —
/// `run` refuses until a human repaired the database and called [`Migrator::resolve`].
///
/// Two processes running at once apply each migration once: PostgreSQL takes an advisory
/// lock, MySQL `GET_LOCK`, SQLite its write lock (a concurrent runner waits, then sees the
/// migration applied).
///
/// ```
/// use quarry::prelude::*;
/// use quarry::migrate::{Migration, Migrator};
///
/// let engine = create_engine("sqlite://")?;
/// let migrator = Migrator::new(vec![
///     Migration::new(1, "books", "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL);",
///         Some("DROP TABLE books;".into()), "inline"),
/// ])?;
/// assert_eq!(migrator.run(&engine)?.len(), 1);
/// assert!(migrator.status(&engine)?[0].applied);
/// migrator.revert(&engine, 1)?;
/// assert!(!migrator.status(&engine)?[0].applied);
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: Vec<Migration>,
}

impl Migrator {
    /// Migrations given by code, sorted by version.
    ///
    /// # Errors
    /// [`Error::Migration`] when two have the same version.
    pub fn new(mut migrations: Vec<Migration>) -> Result<Self> {
        migrations.sort_by_key(|m| m.version);
        for pair in migrations.windows(2) {
            if pair[0].version == pair[1].version {
                return Err(Error::Migration(format!(
                    "two migrations have version {}: {} and {}; renumber one",
                    pair[0].version, pair[0].source, pair[1].source
                )));
            }
        }
        Ok(Migrator { migrations })
    }

    /// The migrations of a directory: one subdirectory `NNN_name` per migration, holding
    /// `up.sql` and optionally `down.sql`. Other entries are ignored.
    ///
    /// # Errors
    /// [`Error::Migration`] naming the directory when it cannot be read, a migration without
    /// `up.sql`, or two migrations of one version.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let io = |what: &Path, e: std::io::Error| {
            Error::Migration(format!("cannot read {}: {e}", what.display()))
        };
        let mut migrations = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            let Some((version, name)) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_dir_name)
            else {
                continue;
            };
            if !path.is_dir() {
                continue;
            }
            let up_path = path.join("up.sql");
            let up = std::fs::read_to_string(&up_path).map_err(|e| {
                Error::Migration(format!(
                    "migration {} has no readable up.sql ({}): {e}",
                    path.display(),
                    up_path.display()
                ))
            })?;
            let down_path = path.join("down.sql");
            let down = match std::fs::read_to_string(&down_path) {
                Ok(s) => Some(Cow::Owned(s)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&down_path, e)),
            };
            migrations.push(Migration::new(
                version,
                name,
                up,
                down,
                up_path.display().to_string(),
            ));
        }
        Migrator::new(migrations)
    }

    /// The migrations `quarry::embed_migrations!` compiled in: `(directory name, up.sql,
    /// down.sql)`. Entries whose name has no leading version are skipped (the macro lets
    /// none through).
    #[doc(hidden)]
    pub fn from_embedded(files: &[(&'static str, &'static str, Option<&'static str>)]) -> Self {
        let migrations = files
            .iter()
            .filter_map(|(dir, up, down)| {
                let (version, name) = parse_dir_name(dir)?;
                Some(Migration::new(
                    version,
                    name,
                    *up,
                    down.map(Cow::Borrowed),
                    format!("{dir}/up.sql (embedded)"),
                ))
            })
            .collect();
        Migrator { migrations }
    }

    /// The migrations, by version.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Apply every pending migration, in version order.
    ///
    /// # Errors
    /// [`Error::Migration`] when an applied migration's `up.sql` changed (naming the file and
    /// what to do), when a migration failed part-way earlier (MySQL), or naming the migration
    /// and statement that failed now.
    pub fn run(&self, engine: &Engine) -> Result<Vec<Applied>> {
        self.run_with(engine, |_| {})
    }

    /// [`Migrator::run`], calling `progress` after each migration applied.
    ///
    /// # Errors
    /// As [`Migrator::run`].
    pub fn run_with(
        &self,
        engine: &Engine,
        mut progress: impl FnMut(&Applied),
    ) -> Result<Vec<Applied>> {
        locked(engine, |conn| {
            let recorded = read_recorded(conn)?;
            self.check(&recorded)?;
            let mut done = Vec::new();
            for m in &self.migrations {
                if recorded.iter().any(|r| r.version == m.version) {
                    continue;
                }
                let applied = super::without_sqlite_foreign_keys(conn, |conn| apply_one(conn, m))?;
                if let Some(applied) = applied {
                    progress(&applied);
                    done.push(applied);
                }
            }
            Ok(done)
        })
    }

    /// Revert the last `n` applied migrations, newest first, with their `down.sql`.
    ///
    /// # Errors
    /// [`Error::Migration`] naming a migration without `down.sql` or whose file is unknown,
    /// or the statement that failed.
    pub fn revert(&self, engine: &Engine, n: usize) -> Result<Vec<Applied>> {
        locked(engine, |conn| {
            let mut recorded = read_recorded(conn)?;
            self.check(&recorded)?;
            recorded.sort_by_key(|r| std::cmp::Reverse(r.version));
            let mut done = Vec::new();
            for r in recorded.iter().take(n) {
                let Some(m) = self.migrations.iter().find(|m| m.version == r.version) else {
                    return Err(Error::Migration(format!(
                        "cannot revert migration {:03}_{}: no file of version {} is known",
                        r.version, r.name, r.version
                    )));
                };
                let Some(down) = m.down() else {
                    return Err(Error::Migration(format!(
                        "cannot revert migration {m}: it has no down.sql (next to {})",
                        m.source
                    )));
                };
                done.push(super::without_sqlite_foreign_keys(conn, |conn| {
                    revert_one(conn, m, down)
                })?);
            }
            Ok(done)
        })
    }

    /// Every migration known here or recorded in the database, by version.
    ///
    /// # Errors
    /// A database error reading the version table.
    pub fn status(&self, engine: &Engine) -> Result<Vec<MigrationState>> {
        let mut conn = engine.connect()?;
        let recorded = if version_table().exists(engine)? {
            read_recorded(&mut conn)?
        } else {
            Vec::new()
        };
        let mut out: Vec<MigrationState> = self
            .migrations
            .iter()
            .map(|m| {
                let r = recorded.iter().find(|r| r.version == m.version);
                MigrationState {
                    version: m.version,
                    name: m.name.clone(),
                    applied: r.is_some_and(|r| r.success),
                    failed: r.is_some_and(|r| !r.success),
                    changed: r.is_some_and(|r| r.checksum != m.checksum),
                    missing: false,
                    applied_at: r.and_then(|r| r.applied_at),
                }
            })
            .collect();
        for r in &recorded {
            if !self.migrations.iter().any(|m| m.version == r.version) {
                out.push(MigrationState {
                    version: r.version,
                    name: r.name.clone(),
                    applied: r.success,
                    failed: !r.success,
                    changed: false,
                    missing: true,
                    applied_at: r.applied_at,
                });
            }
        }
        out.sort_by_key(|s| s.version);
        Ok(out)
    }

    /// Forget that migration `version` failed part-way (MySQL/MariaDB), after a human undid
    /// (or finished) what it had done, so that `run` tries it again. True when a failed
    /// record was removed.
    ///
    /// # Errors
    /// A database error.
    pub fn resolve(&self, engine: &Engine, version: i64) -> Result<bool> {
        let table = version_table();
        let stmt = table
            .delete()
            .filter(table.column::<i64>("version")?.eq(version))
            .filter(table.column::<bool>("success")?.eq(false));
        Ok(engine.execute(stmt)?.rowcount() > 0)
    }

    /// Applied migrations whose file changed, and failed ones, refuse every run.
    fn check(&self, recorded: &[Recorded]) -> Result<()> {
        for r in recorded {
            if !r.success {
                return Err(Error::Migration(format!(
                    "migration {:03}_{} failed part-way earlier, and this database cannot roll \
                     DDL back: repair the database by hand (see its up.sql and down.sql), \
                     then run `quarry migrate resolve {}` (Migrator::resolve) and run again",
                    r.version, r.name, r.version
                )));
            }
            if let Some(m) = self.migrations.iter().find(|m| m.version == r.version)
                && m.checksum != r.checksum
            {
                return Err(Error::Migration(format!(
                    "migration {m} was applied with checksum {}, but {} now has checksum {}: \
                     an applied migration must not change. Restore the file as it was \
                     applied (e.g. from version control) and put the change in a new \
                     migration (`quarry migrate new NAME`)",
                    short(&r.checksum),
                    m.source,
                    short(&m.checksum)
                )));
            }
        }
        Ok(())
    }
}

fn short(sum: &str) -> &str {
    sum.get(..12).unwrap_or(sum)
}

/// `002_add_language` → `(2, "add_language")`.
pub(crate) fn parse_dir_name(name: &str) -> Option<(i64, String)> {
    let (number, rest) = name.split_once('_')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
        return None;
    }
    Some((number.parse().ok()?, rest.to_owned()))
}

/// The version table as a table defined at run time.
fn version_table() -> DefinedTable {
    DefinedTable::from(Arc::new(TableDef::build(
        VERSION_TABLE,
        vec![
            ColumnDef::named("version", SqlType::BigInt, false).primary_key(),
            ColumnDef::named("name", SqlType::Text, false).max_length(255),
            ColumnDef::named("checksum", SqlType::Text, false).max_length(64),
            ColumnDef::named("success", SqlType::Boolean, false),
            ColumnDef::named("applied_at", SqlType::BigInt, true),
        ],
        &REFLECTED,
    )))
}

/// A row of the version table.
struct Recorded {
    version: i64,
    name: String,
    checksum: String,
    success: bool,
    applied_at: Option<i64>,
}

fn read_recorded(conn: &mut Connection) -> Result<Vec<Recorded>> {
    let table = version_table();
    let rows: Vec<Row> = conn
        .execute(
            table
                .select()
                .order_by(table.column::<i64>("version")?.asc()),
        )?
        .all()?;
    rows.iter()
        .map(|r| {
            Ok(Recorded {
                version: r.get("version")?,
                name: r.get("name")?,
                checksum: r.get("checksum")?,
                success: r.get("success")?,
                applied_at: r.get("applied_at")?,
            })
        })
        .collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// True where DDL is transactional, so that a migration is all or nothing.
fn transactional(conn: &Connection) -> bool {
    conn.engine().dialect().name() != "mysql"
}

/// Run `f` holding the migration lock on one connection (created the version table first).
fn locked<T>(engine: &Engine, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    let mut conn = engine.connect()?;
    let dialect = engine.dialect().name();
    let key = VERSION_TABLE.to_owned();
    match dialect {
        "postgresql" => {
            conn.execute(text(
                "SELECT 1 FROM (SELECT pg_advisory_lock(hashtext(current_schema() || '.' || :key))) AS l",
            ).bind("key", key.clone()))?;
        }
        "mysql" => {
            let got: Option<i64> = conn
                .execute(
                    text("SELECT GET_LOCK(CONCAT(DATABASE(), '.', :key), 600)")
                        .bind("key", key.clone())
                        .columns::<Option<i64>>(),
                )?
                .scalar()?;
            if got != Some(1) {
                return Err(Error::Migration(
                    "another process held the migration lock for 600 s; is a migration \
                     still running?"
                        .into(),
                ));
            }
        }
        _ => {}
    }
    let result = ensure_version_table(engine).and_then(|()| f(&mut conn));
    let unlocked = match dialect {
        "postgresql" => conn
            .execute(
                text("SELECT 1 FROM (SELECT pg_advisory_unlock(hashtext(current_schema() || '.' || :key))) AS l")
                    .bind("key", key),
            )
            .map(drop),
        "mysql" => conn
            .execute(text("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.', :key))").bind("key", key))
            .map(drop),
        _ => Ok(()),
    };
    let value = result?;
    unlocked?;
    Ok(value)
}

fn ensure_version_table(engine: &Engine) -> Result<()> {
    let table = version_table();
    // SQLite has no lock before this point: a runner creating the table at the same moment
    // holds the write lock, and the other is told the database is busy; it waits and looks
    // again, as `apply_one` does.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match table.create(engine) {
            Ok(()) => return Ok(()),
            // Another runner created it first.
            Err(e) => match table.exists(engine) {
                Ok(true) => return Ok(()),
                Err(busy) if is_busy(&busy) && Instant::now() < deadline => {}
                Ok(false) if is_busy(&e) && Instant::now() < deadline => {}
                Ok(false) => return Err(e),
                Err(other) => return Err(other),
            },
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True for SQLite's "database is locked": another runner holds the write lock.
fn is_busy(e: &Error) -> bool {
    e.as_database()
        .is_some_and(|d| d.message().contains("locked") || d.message().contains("busy"))
}

fn apply_one(conn: &mut Connection, m: &Migration) -> Result<Option<Applied>> {
    let statements = split_statements(&m.up);
    let table = version_table();
    let record = |success: bool| {
        table
            .insert()
            .value_named("version", m.version)
            .value_named("name", m.name.clone())
            .value_named("checksum", m.checksum.clone())
            .value_named("success", success)
            .value_named("applied_at", now())
    };
    let started = Instant::now();
    let applied = || Applied {
        version: m.version,
        name: m.name.clone(),
        took: started.elapsed(),
    };
    if !transactional(conn) {
        conn.execute(record(false))?;
        run_statements(conn, m, &statements, "up.sql")?;
        let stmt = table
            .update()
            .set_named("success", true)
            .filter(table.column::<i64>("version")?.eq(m.version));
        conn.execute(stmt)?;
        return Ok(Some(applied()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = (|| {
            let mut tx = conn.begin()?;
            // The version row first: on SQLite this takes the write lock, so a concurrent
            // runner waits here, then finds the version taken.
            tx.execute(record(true))?;
            run_statements(&mut tx, m, &statements, "up.sql")?;
            tx.commit()
        })();
        match attempt {
            Ok(()) => return Ok(Some(applied())),
            Err(e)
                if e.as_database()
                    .is_some_and(|d| d.kind() == DatabaseErrorKind::UniqueViolation) =>
            {
                // Another runner applied it meanwhile.
                return Ok(None);
            }
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

fn revert_one(conn: &mut Connection, m: &Migration, down: &str) -> Result<Applied> {
    let statements = split_statements(down);
    let table = version_table();
    let started = Instant::now();
    let forget = table
        .delete()
        .filter(table.column::<i64>("version")?.eq(m.version));
    if transactional(conn) {
        let mut tx = conn.begin()?;
        run_statements(&mut tx, m, &statements, "down.sql")?;
        tx.execute(forget)?;
        tx.commit()?;
    } else {
        let mark = table
            .update()
            .set_named("success", false)
            .filter(table.column::<i64>("version")?.eq(m.version));
        conn.execute(mark)?;
        run_statements(conn, m, &statements, "down.sql")?;
        conn.execute(forget)?;
    }
    Ok(Applied {
        version: m.version,
        name: m.name.clone(),
        took: started.elapsed(),
    })
}

fn run_statements(
    conn: &mut Connection,
    m: &Migration,
    statements: &[String],
    file: &str,
) -> Result<()> {
    for (i, sql) in statements.iter().enumerate() {
        conn.execute(text(sql.clone())).map_err(|e| {
            if is_busy(&e) {
                return e;
            }
            let partial = if transactional(conn) {
                "nothing of it was kept (rolled back)".to_owned()
            } else if i == 0 {
                "no statement of it ran; it is recorded as failed".to_owned()
            } else {
                format!(
                    "statements 1 to {i} stayed applied (MySQL commits each DDL statement); it \
                     is recorded as failed: repair by hand, then `quarry migrate resolve {}`",
                    m.version
                )
            };
            Error::Migration(format!(
                "migration {m} failed at statement {} of {} of its {file}: {sql}\n  {e}\n  {partial}",
                i + 1,
                statements.len()
            ))
        })?;
    }
    Ok(())
}

/// Create `dir/NNN_name/` with `up.sql` and `down.sql`, `NNN` one more than the highest
/// version there (three digits at least). Returns the new directory.
///
/// # Errors
/// [`Error::Migration`] naming the path that could not be read or written, or a name that
/// is not a word (`[A-Za-z0-9_]`).
pub fn new_migration(dir: impl AsRef<Path>, name: &str, up: &str, down: &str) -> Result<PathBuf> {
    let dir = dir.as_ref();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Migration(format!(
            "migration name {name:?} must be letters, digits and _ (e.g. add_language)"
        )));
    }
    let io = |what: &Path, e: std::io::Error| {
        Error::Migration(format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let next = Migrator::from_dir(dir)?
        .migrations
        .last()
        .map_or(1, |m| m.version + 1);
    let path = dir.join(format!("{next:03}_{name}"));
    std::fs::create_dir(&path).map_err(|e| io(&path, e))?;
    for (file, sql) in [("up.sql", up), ("down.sql", down)] {
        let file = path.join(file);
        std::fs::write(&file, sql).map_err(|e| io(&file, e))?;
    }
    Ok(path)
}
