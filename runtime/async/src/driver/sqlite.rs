//! SQLite without blocking the runtime: each connection lives on a dedicated thread of its
//! own, which runs the jobs sent to it through a channel, in order, and answers through a
//! oneshot. No `spawn_blocking` per statement: one thread per connection for its whole life.
//!
//! Rows are decoded on that thread, straight from rusqlite's buffers into the caller's type
//! (`FromRow`), and sent back whole (`execute`) or one by one through a bounded channel
//! (`stream`, which steps the statement only as fast as the caller reads).
//!
//! The hop (job to the thread, answer back) is the cost of this design: a sleeping thread on
//! either side costs a futex wake and, for the caller, tokio's driver wake-up (an eventfd write
//! and `epoll_wait`), ~7 µs here per statement (2-core VM), and far more when it wakes an idle
//! CPU. So both sides poll briefly before they sleep ([`spin`]: two polls, then `yield_now`,
//! which on one CPU lets the other side run): the thread for [`WORKER_SPIN`] after a short job
//! (at most [`max_spinning`] threads at once), the caller for up to [`CALLER_SPIN`] inside
//! `call`, one caller at a time, and adaptively over the process (after [`CALLER_MISSES`] late
//! answers in a row only every [`CALLER_PROBE`]th call spins), so long statements and crowded
//! machines stop paying: with 4 to 64 busy connections on a 2-thread runtime, throughput and
//! worst-statement latency stay near those of plain sleeping. The spin is synchronous within
//! one poll, so cancellation is unchanged: a dropped future leaves its job queued or running,
//! as before. `cargo xtask bench --backends sqlite`, same-round ratios to raw rusqlite, before →
//! after: `pk_lookup` 13.9x → 9.5x pinned, 54x → 4.8x unpinned; `trivial_query` n = 1 15.1x →
//! 10.6x pinned, 15.1x → 6.8x unpinned (sqlx 15–18x pinned, 24–78x unpinned, same runs);
//! n = 10 000 and `insert` within noise. The floor pinned is a yield ping-pong between two
//! threads on one CPU, ~3 µs a round trip (6x raw's statement): issue 22's ≤ 1.5x raw is out
//! of reach with a thread per connection.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use quarry_core::url::SecondsRange;
use quarry_core::value::temporal;
use quarry_core::{
    Compiled, DatabaseError, DatabaseErrorKind, DecodeError, Error, FromRow, Outcome, RawRow,
    Result, RowSink, Url, Value,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{OpenFlags, ffi};

use super::{Collect, Collected, lost_connection};
use crate::stream::Source;

/// Rows a stream's worker decodes ahead of the caller.
const STREAM_AHEAD: usize = 64;

const BUSY_TIMEOUT: SecondsRange = SecondsRange {
    min: 0.0,
    min_inclusive: true,
    max: 86_400.0,
    whole: false,
};

#[derive(Debug, Clone)]
enum Target {
    Memory,
    File(PathBuf),
}

/// Opens SQLite connections for one URL.
#[derive(Debug)]
pub(crate) struct SqliteDriver {
    target: Target,
    flags: OpenFlags,
    busy_timeout: Option<Duration>,
}

impl SqliteDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        if url.host().is_some() {
            return Err(url.error(
                "a SQLite URL has no host: use sqlite:// for memory, sqlite:///relative.db or \
                 sqlite:////absolute.db",
            ));
        }
        let target = match url.database() {
            None | Some("" | ":memory:") => Target::Memory,
            Some(path) => Target::File(PathBuf::from(path)),
        };
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut busy_timeout = None;
        for (key, value) in url.query() {
            match key.as_str() {
                "mode" => {
                    let access = match value.as_str() {
                        "ro" => OpenFlags::SQLITE_OPEN_READ_ONLY,
                        "rw" => OpenFlags::SQLITE_OPEN_READ_WRITE,
                        "rwc" => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                        other => {
                            return Err(url.arg_error(
                                key,
                                other,
                                "is not a SQLite open mode; expected ro, rw or rwc",
                            ));
                        }
                    };
                    flags = access | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                }
                "timeout" => busy_timeout = Some(url.seconds_arg(key, value, BUSY_TIMEOUT)?),
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for sqlite; expected one of mode, timeout"
                    )));
                }
            }
        }
        Ok(SqliteDriver {
            target,
            flags,
            busy_timeout,
        })
    }

    pub(crate) fn is_memory(&self) -> bool {
        matches!(self.target, Target::Memory)
    }

    /// Start the connection's thread and open the database there.
    pub(crate) async fn connect(&self) -> Result<SqliteConn> {
        let (target, flags, busy) = (self.target.clone(), self.flags, self.busy_timeout);
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (opened, answer) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("quarry-sqlite".into())
            .spawn(move || {
                let conn = match open(&target, flags, busy) {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                if opened.send(Ok(conn.get_interrupt_handle())).is_err() {
                    return;
                }
                let mut conn = conn;
                // Ends when the connection's sender is dropped: the database closes here.
                let mut long = false;
                while let Some(job) = next_job(&inbox, long) {
                    let start = Instant::now();
                    job(&mut conn);
                    long = start.elapsed() > WORKER_SPIN;
                }
            })
            .map_err(|e| Error::config(format!("cannot start a SQLite connection thread: {e}")))?;
        let interrupt = answer.await.map_err(|_| lost_connection("SQLite"))??;
        Ok(SqliteConn { jobs, interrupt })
    }
}

/// How long a connection's thread keeps polling for its next job before it sleeps.
const WORKER_SPIN: Duration = Duration::from_micros(50);

/// How long a caller polls for its answer before it registers its waker and yields.
const CALLER_SPIN: Duration = Duration::from_micros(20);

/// Once this many spins in a row (process-wide) were not answered within [`CALLER_SPIN`],
/// callers stop spinning and only probe again every [`CALLER_PROBE`]th call.
const CALLER_MISSES: u32 = 4;
const CALLER_PROBE: u32 = 64;

/// Spins in a row whose answer came late, over every connection of the process: late answers
/// mean long statements or a crowded machine, where a yield hands the CPU to others for long.
static CALLER_MISSED: AtomicU32 = AtomicU32::new(0);

/// Whether a caller is spinning now: one at a time, so that busy connections on a runtime's
/// few threads do not each hold a thread in `yield_now` while other tasks wait.
static CALLER_SPINNING: AtomicBool = AtomicBool::new(false);

/// Polls between two `yield_now`s: few, since on one CPU every poll before the yield is wasted.
const SPINS_PER_YIELD: usize = 2;

/// Polls `until` for at most `budget`: a few `spin_loop` hints, then `yield_now` (on a single
/// CPU the other side of the hop only runs when this thread gives way). `None` when time is up.
fn spin<T>(budget: Duration, mut until: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        for _ in 0..SPINS_PER_YIELD {
            if let Some(v) = until() {
                return Some(v);
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= budget {
            return None;
        }
        std::thread::yield_now();
    }
}

/// The connection thread's next job: polled for [`WORKER_SPIN`] (statements usually come in
/// quick succession, and a sleeping thread costs the caller a wake-up), then waited for; after
/// a `long` job (longer than the spin) waited for at once, since a wake-up is noise beside it.
/// `None` once the connection's sender is dropped.
/// At most [`max_spinning`] threads spin at once (the others wait at once): with many busy
/// connections, spinning threads would otherwise crowd out the runtime's own threads.
fn next_job(inbox: &mpsc::Receiver<Job>, long: bool) -> Option<Job> {
    static SPINNING: AtomicUsize = AtomicUsize::new(0);
    let mut polled = None;
    if !long && SPINNING.fetch_add(1, Ordering::Relaxed) < max_spinning() {
        polled = spin(WORKER_SPIN, || match inbox.try_recv() {
            Ok(job) => Some(Some(job)),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(None),
        });
    }
    if !long {
        SPINNING.fetch_sub(1, Ordering::Relaxed);
    }
    polled.unwrap_or_else(|| inbox.recv().ok())
}

/// How many connection threads may spin at once: half the CPUs, at least one.
fn max_spinning() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)))
}

fn open(target: &Target, flags: OpenFlags, busy: Option<Duration>) -> Result<rusqlite::Connection> {
    let conn = match target {
        Target::Memory => rusqlite::Connection::open_in_memory(),
        Target::File(path) => rusqlite::Connection::open_with_flags(path, flags),
    }
    .map_err(|e| {
        let mut err = convert(e, None, &[]);
        err.kind = DatabaseErrorKind::Connection;
        crate::error::DatabaseError::into_error(err)
    })?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.busy_timeout(busy.unwrap_or(Duration::from_secs(5)))
        .map_err(|e| crate::error::DatabaseError::into_error(convert(e, None, &[])))?;
    Ok(conn)
}

type Job = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// A SQLite connection on its own thread.
pub(crate) struct SqliteConn {
    jobs: mpsc::Sender<Job>,
    interrupt: rusqlite::InterruptHandle,
}

impl SqliteConn {
    /// Run `f` on the connection's thread and wait for its answer without blocking.
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = tx.send(f(conn));
            }))
            .map_err(|_| lost_connection("SQLite"))?;
        // A short statement is answered within microseconds: poll for it before parking the
        // task, which would cost a wake-up of this thread (a syscall, often a sleeping CPU).
        // Adaptive and one caller at a time (see `CALLER_MISSED`, `CALLER_SPINNING`).
        let mut rx = rx;
        let misses = CALLER_MISSED.load(Ordering::Relaxed);
        let answered = if (misses < CALLER_MISSES || misses.is_multiple_of(CALLER_PROBE))
            && !CALLER_SPINNING.swap(true, Ordering::Acquire)
        {
            let start = Instant::now();
            let answered = spin(CALLER_SPIN, || match rx.try_recv() {
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => None,
                got => Some(got.ok()),
            });
            CALLER_SPINNING.store(false, Ordering::Release);
            // Answered after the budget (the last yield let others run for long): a miss too.
            let in_time = answered.is_some() && start.elapsed() <= CALLER_SPIN;
            CALLER_MISSED.store(
                if in_time { 0 } else { misses.wrapping_add(1) },
                Ordering::Relaxed,
            );
            answered
        } else {
            if misses >= CALLER_MISSES {
                CALLER_MISSED.store(misses.wrapping_add(1), Ordering::Relaxed);
            }
            None
        };
        let answer = match answered {
            Some(answer) => answer,
            None => rx.await.ok(),
        };
        answer.ok_or_else(|| lost_connection("SQLite"))
    }

    pub(crate) async fn run<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
        mut sink: Collect<R>,
    ) -> Result<Collected<R>> {
        self.call(move |conn| {
            let outcome = run(conn, &compiled, &mut sink)?;
            Ok(sink.finish(outcome))
        })
        .await?
    }

    pub(crate) async fn stream<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
    ) -> Result<Source<'_, R>> {
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_AHEAD);
        self.jobs
            .send(Box::new(move |conn| {
                let mut sink = Forward::<R> {
                    tx,
                    _row: std::marker::PhantomData,
                };
                // An error after the stream was dropped is the stop itself: nobody to tell.
                if let Err(e) = run(conn, &compiled, &mut sink)
                    && !sink.tx.is_closed()
                {
                    let _ = sink.tx.blocking_send(Err(e));
                }
            }))
            .map_err(|_| lost_connection("SQLite"))?;
        Ok(Source::Channel(rx, std::marker::PhantomData))
    }

    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        let sql = sql.to_owned();
        self.call(move |conn| {
            conn.execute_batch(&sql)
                .map_err(|e| crate::error::DatabaseError::into_error(convert(e, Some(&sql), &[])))
        })
        .await?
    }

    /// `ROLLBACK` when a transaction is open (SQLite refuses one otherwise).
    pub(crate) async fn rollback_if_open(&mut self) -> Result<()> {
        self.call(|conn| {
            if conn.is_autocommit() {
                return Ok(());
            }
            conn.execute_batch("ROLLBACK").map_err(|e| {
                crate::error::DatabaseError::into_error(convert(e, Some("ROLLBACK"), &[]))
            })
        })
        .await?
    }

    /// Interrupt the statement running now, if any (after a future was dropped mid-query).
    pub(crate) fn interrupt(&self) {
        self.interrupt.interrupt();
    }
}

/// Sends each decoded row through the stream's channel; stops the statement once the stream
/// is dropped (or after sending a decode error, which ends the stream).
struct Forward<R> {
    tx: tokio::sync::mpsc::Sender<Result<R>>,
    _row: std::marker::PhantomData<fn() -> R>,
}

impl<R: FromRow> RowSink for Forward<R> {
    fn columns(&mut self, _names: &[&str]) {}

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        let decoded = R::from_row(row, 0);
        let failed = decoded.is_err();
        let sent = self.tx.blocking_send(decoded).is_ok();
        if failed || !sent {
            // Stops stepping; `stream`'s job sends nothing more.
            self.tx = tokio::sync::mpsc::channel(1).0;
            return Err(Error::config("the stream stopped"));
        }
        Ok(())
    }
}

/// Run a statement on the connection's thread.
fn run(
    conn: &mut rusqlite::Connection,
    compiled: &Compiled,
    sink: &mut dyn RowSink,
) -> Result<Outcome> {
    let (sql, params) = (compiled.sql(), compiled.params());
    let fail =
        |e: rusqlite::Error| crate::error::DatabaseError::into_error(convert(e, Some(sql), params));
    refuse_silent_changes(params)?;
    let mut stmt = conn.prepare_cached(sql).map_err(fail)?;
    for (i, p) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, Bind(p)).map_err(fail)?;
    }
    let columns = stmt.column_count();
    quarry_core::sink::send_column_names(columns, |i| stmt.column_name(i), sink).map_err(fail)?;
    let mut rows = stmt.raw_query();
    let mut count = 0u64;
    while let Some(row) = rows.next().map_err(fail)? {
        sink.row(&SqliteRow { row })?;
        count += 1;
    }
    drop(rows);
    drop(stmt);
    if columns > 0 {
        return Ok(Outcome {
            rows_affected: count,
            last_insert_id: None,
        });
    }
    let changes = conn.changes();
    let is_insert = sql
        .trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("insert"));
    Ok(Outcome {
        rows_affected: changes,
        last_insert_id: (is_insert && changes > 0).then(|| conn.last_insert_rowid()),
    })
}

/// Values SQLite would store as something else are refused, naming the parameter.
fn refuse_silent_changes(params: &[Value]) -> Result<()> {
    for (i, v) in params.iter().enumerate() {
        let feature = match v {
            Value::F32(f) if f.is_nan() => "NaN (SQLite stores it as NULL)",
            Value::F64(f) if f.is_nan() => "NaN (SQLite stores it as NULL)",
            Value::Date(Value::DATE_INFINITY | Value::DATE_NEG_INFINITY)
            | Value::Timestamp(Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY)
            | Value::TimestampTz(Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY) => {
                "an infinite date or timestamp (PostgreSQL's; SQLite's are ISO 8601 text)"
            }
            _ => continue,
        };
        return Err(Error::Unsupported {
            feature: format!("{feature}, in parameter {}", i + 1),
            dialect: "sqlite",
        });
    }
    Ok(())
}

/// Binds a [`Value`] without copying it; dates and times as SQLAlchemy's SQLite types store
/// them (ISO 8601 text), UUIDs as 32 hex digits.
struct Bind<'a>(&'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let text = |s: String| Ok(ToSqlOutput::Owned(rusqlite::types::Value::Text(s)));
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::I16(v) => ValueRef::Integer(i64::from(*v)),
            Value::I32(v) => ValueRef::Integer(i64::from(*v)),
            Value::I64(v) => ValueRef::Integer(*v),
            Value::F32(v) => ValueRef::Real(f64::from(*v)),
            Value::F64(v) => ValueRef::Real(*v),
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Date(d) => return text(temporal::Date(*d).to_string()),
            Value::Time(t) => {
                let (h, m, s, us) = temporal::hms(*t);
                return text(format!("{h:02}:{m:02}:{s:02}.{us:06}"));
            }
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                let (days, time) = temporal::split_timestamp(*t);
                let (y, mo, d) = temporal::civil_from_days(days);
                let (h, m, s, us) = temporal::hms(time);
                return text(format!(
                    "{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}.{us:06}"
                ));
            }
            Value::Uuid(u) => return text(temporal::uuid_hex(u)),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("the SQLite driver cannot bind {}", other.kind_name()).into(),
                ));
            }
        }))
    }
}

struct SqliteRow<'a, 'stmt> {
    row: &'a rusqlite::Row<'stmt>,
}

impl SqliteRow<'_, '_> {
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.row
            .get_ref(idx)
            .map_err(|e| Error::NoSuchColumn(format!("result has no column {idx}: {e}")))
    }

    fn mismatch(&self, idx: usize, expected: &'static str, found: ValueRef<'_>) -> Error {
        let found = match found {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an INTEGER value",
            ValueRef::Real(_) => "a REAL value",
            ValueRef::Text(_) => "a TEXT value",
            ValueRef::Blob(_) => "a BLOB value",
        };
        DecodeError::new(self.name(idx), expected, found).into_error()
    }
}

impl RawRow for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.row.as_ref().column_count()
    }

    fn name(&self, idx: usize) -> &str {
        self.row.as_ref().column_name(idx).unwrap_or("?")
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(self.mismatch(idx, "an integer", other)),
        }
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            #[allow(
                clippy::cast_precision_loss,
                reason = "SQLite stores integral REALs so"
            )]
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(self.mismatch(idx, "a float", other)),
        }
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(0) => Ok(Some(false)),
            ValueRef::Integer(1) => Ok(Some(true)),
            ValueRef::Integer(v) => Err(DecodeError::new(
                self.name(idx),
                "bool",
                format!("the INTEGER {v}, which is neither 0 nor 1"),
            )
            .into_error()),
            other => Err(self.mismatch(idx, "bool", other)),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
                DecodeError::new(self.name(idx), "String", "TEXT that is not valid UTF-8")
                    .into_error()
            }),
            other => Err(self.mismatch(idx, "String", other)),
        }
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b.to_vec())),
            other => Err(self.mismatch(idx, "Vec<u8>", other)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        Ok(match self.get(idx)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::I64(v),
            ValueRef::Real(v) => Value::F64(v),
            ValueRef::Text(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.get(idx)?, ValueRef::Null))
    }
}

/// A rusqlite error as a [`DatabaseError`] carrying the statement.
fn convert(e: rusqlite::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let (kind, code, message) = match &e {
        rusqlite::Error::SqliteFailure(ffi_err, msg) => {
            let kind = match ffi_err.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    DatabaseErrorKind::UniqueViolation
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DatabaseErrorKind::ForeignKeyViolation,
                ffi::SQLITE_CONSTRAINT_NOTNULL => DatabaseErrorKind::NotNullViolation,
                ffi::SQLITE_CONSTRAINT_CHECK => DatabaseErrorKind::CheckViolation,
                ffi::SQLITE_BUSY_SNAPSHOT => DatabaseErrorKind::SerializationFailure,
                _ => match ffi_err.code {
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                        DatabaseErrorKind::LockTimeout
                    }
                    rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::NotADatabase => {
                        DatabaseErrorKind::Connection
                    }
                    _ if msg.as_deref().is_some_and(|m| {
                        m.contains("syntax error") || m.starts_with("no such")
                    }) =>
                    {
                        DatabaseErrorKind::Syntax
                    }
                    _ => DatabaseErrorKind::Other,
                },
            };
            let message = msg.clone().unwrap_or_else(|| ffi_err.to_string());
            (kind, Some(ffi_err.extended_code.to_string()), message)
        }
        rusqlite::Error::SqlInputError { error, msg, .. } => (
            DatabaseErrorKind::Syntax,
            Some(error.extended_code.to_string()),
            msg.clone(),
        ),
        other => (DatabaseErrorKind::Other, None, other.to_string()),
    };
    let mut err = DatabaseError::new(kind, message);
    err.code = code;
    if let Some((_, rest)) = err.message.split_once("constraint failed: ") {
        err.constraint = Some(rest.to_owned());
    }
    err.sql = sql.map(str::to_owned);
    err.params = params.to_vec();
    err
}
