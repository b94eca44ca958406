//! Streamed results (issue 21): `Connection::stream` / `Engine::stream` read rows as the
//! caller iterates, with the `Rows` API of buffered results, and leave the pool healthy
//! however they end — on every backend.

use quarry::Error;
use quarry::ExecutionOptions;
use quarry::prelude::*;

mod support;

use support::backends;

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "stream_items", metadata = META)]
    pub struct StreamItem {
        #[column(primary_key)]
        pub id: i64,
        pub n: i64,
        #[column(max_length = 40)]
        pub note: Option<String>,
    }

    /// The same table read as if `note` were never NULL: decoding fails at the first NULL.
    pub static STRICT_META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "stream_items", metadata = STRICT_META)]
    pub struct StrictItem {
        #[column(primary_key)]
        pub id: i64,
        pub n: i64,
        #[column(max_length = 40)]
        pub note: String,
    }
}

use model::{StreamItem, StrictItem};

const ROWS: i64 = 5_000;

/// Fill the table with `ROWS` rows, `note` NULL on row `null_at` only.
fn fill(engine: &Engine, null_at: Option<i64>) {
    model::META.create_all(engine).unwrap();
    let rows: Vec<StreamItem> = (1..=ROWS)
        .map(|n| StreamItem {
            id: 0,
            n,
            note: (Some(n) != null_at).then(|| format!("note {n}")),
        })
        .collect();
    engine.execute(StreamItem::insert_many(&rows)).unwrap();
}

fn assert_pool_idle(backend: &support::Backend) {
    let status = backend.engine.pool().status();
    assert_eq!(status.checked_out, 0, "{}: {status}", backend.name);
    let n: i64 = backend
        .engine
        .execute(select!(count(StreamItem::id) FROM StreamItem))
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(n, ROWS, "{}", backend.name);
}

#[test]
fn a_streamed_result_yields_every_row_in_order() {
    for backend in backends("stream_all") {
        fill(&backend.engine, None);
        let mut conn = backend.engine.connect().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(100))
            .unwrap();
        let rows = conn
            .stream(select!(StreamItem ORDER BY StreamItem::n))
            .unwrap();
        assert!(rows.is_streamed());
        assert_eq!(rows.keys(), ["id", "n", "note"], "{}", backend.name);
        let mut expected = 1;
        let mut rows = rows;
        for row in rows.by_ref() {
            let row = row.unwrap();
            assert_eq!(row.n, expected, "{}", backend.name);
            assert_eq!(row.note.as_deref(), Some(&*format!("note {expected}")));
            expected += 1;
        }
        assert_eq!(expected, ROWS + 1, "{}", backend.name);
        assert_eq!(rows.rowcount(), ROWS as u64, "{}", backend.name);
        // The connection is free again.
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS);
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn fetchmany_first_one_and_scalar_work_on_streamed_rows() {
    for backend in backends("stream_api") {
        fill(&backend.engine, None);
        let mut conn = backend.engine.connect().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(7))
            .unwrap();
        let mut rows = conn
            .stream(select!(StreamItem::n FROM StreamItem ORDER BY StreamItem::n))
            .unwrap();
        assert_eq!(rows.fetchmany(3).unwrap(), [1, 2, 3], "{}", backend.name);
        let next: Vec<i64> = rows.fetchmany(20).unwrap();
        assert_eq!(next, (4..24).collect::<Vec<_>>(), "{}", backend.name);
        let rest = rows.all().unwrap();
        assert_eq!(rest.len(), ROWS as usize - 23, "{}", backend.name);
        let first = conn
            .stream(select!(StreamItem ORDER BY StreamItem::n DESC))
            .unwrap()
            .first()
            .unwrap()
            .unwrap();
        assert_eq!(first.n, ROWS);
        let n: i64 = conn
            .stream(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS);
        let err = conn
            .stream(select!(StreamItem::n FROM StreamItem))
            .unwrap()
            .one()
            .unwrap_err();
        assert!(matches!(err, Error::MultipleRows), "{err}");
        let none = conn
            .stream(select!(StreamItem WHERE StreamItem::n == -1_i64))
            .unwrap()
            .one_or_none()
            .unwrap();
        assert_eq!(none, None);
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn a_connectionless_stream_returns_its_connection_when_dropped_or_read() {
    for backend in backends("stream_owned") {
        fill(&backend.engine, None);
        let mut rows = backend
            .engine
            .stream(select!(StreamItem ORDER BY StreamItem::n))
            .unwrap();
        assert!(rows.owns_connection());
        assert_eq!(rows.next().unwrap().unwrap().n, 1);
        assert_eq!(backend.engine.pool().status().checked_out, 1);
        drop(rows);
        assert_pool_idle(&backend);
        let all = backend
            .engine
            .stream(select!(StreamItem::n FROM StreamItem))
            .unwrap();
        assert_eq!(all.count(), ROWS as usize, "{}", backend.name);
        assert_pool_idle(&backend);
    }
}

#[test]
fn the_connections_next_statement_closes_an_unread_stream() {
    for backend in backends("stream_closed") {
        fill(&backend.engine, None);
        let mut conn = backend.engine.connect().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(10))
            .unwrap();
        let mut rows = conn
            .stream(select!(StreamItem ORDER BY StreamItem::n))
            .unwrap();
        assert_eq!(rows.next().unwrap().unwrap().n, 1);
        // Another statement on the connection: the stream is closed first.
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS, "{}", backend.name);
        let rest: Vec<quarry::Result<StreamItem>> = rows.collect();
        assert!(rest.len() < ROWS as usize, "{}", backend.name);
        let last = rest.last().unwrap();
        let msg = last.as_ref().unwrap_err().to_string();
        assert!(msg.contains("closed"), "{}: {msg}", backend.name);
        assert!(rest[..rest.len() - 1].iter().all(Result::is_ok));
        assert!(!conn.invalidated());
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn a_decode_error_mid_stream_ends_it_and_leaves_the_connection_healthy() {
    for backend in backends("stream_decode") {
        fill(&backend.engine, Some(2_500));
        let mut conn = backend.engine.connect().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(100))
            .unwrap();
        let results: Vec<quarry::Result<StrictItem>> = conn
            .stream(select!(StrictItem ORDER BY StrictItem::n))
            .unwrap()
            .collect();
        // Every row before the NULL, then the error naming the column, last.
        assert!(
            results.last().is_some_and(Result::is_err),
            "{}",
            backend.name
        );
        let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        assert_eq!(err.len(), 1, "{}", backend.name);
        assert_eq!(ok.len(), 2_499, "{}", backend.name);
        let msg = err[0].as_ref().unwrap_err().to_string();
        assert!(msg.contains("note"), "{}: {msg}", backend.name);
        assert!(!conn.invalidated(), "{}", backend.name);
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS, "{}", backend.name);
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn a_server_error_mid_stream_is_the_last_item_and_the_pool_stays() {
    for backend in backends("stream_server_error") {
        fill(&backend.engine, None);
        if !backend.is_postgres() {
            // SQLite and MySQL give NULL for a division by zero, with no error to stream.
            continue;
        }
        let mut conn = backend.engine.connect().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(10))
            .unwrap();
        let results: Vec<quarry::Result<quarry::Row>> = conn
            .stream(text(
                "SELECT 1 / (n - 4000) AS x FROM stream_items ORDER BY n",
            ))
            .map(|rows| rows.collect())
            .unwrap_or_else(|e| vec![Err(e)]);
        let last = results.last().unwrap();
        let msg = last.as_ref().unwrap_err().to_string();
        assert!(msg.contains("division by zero"), "{msg}");
        assert!(!conn.invalidated());
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS);
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn a_stream_inside_a_transaction_sees_its_writes_and_commit_follows() {
    for backend in backends("stream_tx") {
        fill(&backend.engine, None);
        let mut conn = backend.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        tx.execute(delete!(StreamItem WHERE StreamItem::n > 10_i64))
            .unwrap();
        let mut rows = tx.stream(select!(StreamItem::n FROM StreamItem)).unwrap();
        assert!(rows.next().unwrap().is_ok());
        // Committing closes the unread rest first.
        tx.commit().unwrap();
        drop(rows);
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 10, "{}", backend.name);
    }
}

#[test]
fn a_connection_killed_mid_stream_is_invalidated_and_the_pool_recovers() {
    for backend in backends("stream_killed") {
        fill(&backend.engine, None);
        let (id_sql, kill, big) = if backend.is_postgres() {
            (
                "SELECT pg_backend_pid()::int8",
                "SELECT pg_terminate_backend(:id)",
                "SELECT n::int8 FROM generate_series(1, 100000000) AS n",
            )
        } else if backend.is_mysql() {
            (
                "SELECT CONNECTION_ID()",
                "KILL CONNECTION :id",
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) \
                 SELECT a.n FROM c AS a, c AS b, c AS d",
            )
        } else {
            continue; // SQLite has no server to lose
        };
        let mut conn = backend.engine.connect().unwrap();
        let id: i64 = conn.execute(text(id_sql)).unwrap().scalar().unwrap();
        conn.execution_options(ExecutionOptions::default().yield_per(10))
            .unwrap();
        let mut rows = conn.stream(text(big).columns::<i64>()).unwrap();
        assert!(rows.next().unwrap().is_ok(), "{}", backend.name);
        let mut admin = backend.engine.connect().unwrap();
        admin.execute(text(kill).bind("id", id)).unwrap();
        drop(admin);
        // What was on the way still arrives; then the loss, as the last item.
        let err = rows
            .by_ref()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{}: the stream ended without an error", backend.name));
        assert!(err.is_disconnect(), "{}: {err}", backend.name);
        assert!(rows.next().is_none());
        drop(rows);
        // The connection checks out a fresh one on its next use; the pool serves others.
        let n: i64 = conn
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS, "{}", backend.name);
        drop(conn);
        assert_pool_idle(&backend);
    }
}

#[test]
fn under_the_thread_local_strategy_the_threads_next_statement_closes_its_stream() {
    for backend in support::backends_with("stream_tl", |b| b.strategy(Strategy::ThreadLocal)) {
        fill(&backend.engine, None);
        let mut rows = backend
            .engine
            .stream(select!(StreamItem ORDER BY StreamItem::n))
            .unwrap();
        assert!(rows.next().unwrap().is_ok(), "{}", backend.name);
        // The thread's connection is the stream's: using it closes the stream first.
        let n: i64 = backend
            .engine
            .execute(select!(count(StreamItem::id) FROM StreamItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, ROWS, "{}", backend.name);
        let last = rows.by_ref().last().unwrap();
        assert!(
            last.as_ref()
                .is_err_and(|e| e.to_string().contains("closed")),
            "{}: {last:?}",
            backend.name
        );
        drop(rows);
        assert_pool_idle(&backend);
    }
}
