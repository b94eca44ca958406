//! Bulk writes (issue 21): `insert_many` over a backend's bind limit runs as several
//! statements under it, in one transaction when none is open, and the pool stays healthy —
//! on every backend.

use quarry::Error;
use quarry::prelude::*;

mod support;

use support::backends;

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// Two bound parameters a row (the key is the database's).
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "bulk_items", metadata = META)]
    pub struct BulkItem {
        #[column(primary_key)]
        pub id: i64,
        #[column(unique)]
        pub n: i64,
        #[column(max_length = 40)]
        pub label: String,
    }
}

use model::BulkItem;

fn items(range: std::ops::Range<i64>) -> Vec<BulkItem> {
    range
        .map(|n| BulkItem {
            id: 0,
            n,
            label: format!("item {n}"),
        })
        .collect()
}

fn count(engine: &Engine) -> i64 {
    engine
        .execute(select!(count(BulkItem::id) FROM BulkItem))
        .unwrap()
        .scalar()
        .unwrap()
}

/// The pool kept its connections (none lost, none leaked) and serves a query.
fn assert_pool_healthy(backend: &support::Backend, before: quarry::pool::PoolStatus) {
    let after = backend.engine.pool().status();
    assert_eq!(after.checked_out, 0, "{}: {after}", backend.name);
    assert!(
        after.checked_in >= before.checked_in,
        "{}: {before} -> {after}",
        backend.name
    );
    let one: i64 = backend
        .engine
        .execute(text("SELECT 1"))
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(one, 1);
}

#[test]
fn insert_many_over_the_bind_limit_is_split_and_every_row_lands() {
    for backend in backends("bulk_split") {
        model::META.create_all(&backend.engine).unwrap();
        // SQLite takes 32,766 binds, the servers 65,535: 100,000 rows bind 200,000.
        let rows = items(0..100_000);
        drop(backend.engine.connect().unwrap());
        let before = backend.engine.pool().status();
        let mut conn = backend.engine.connect().unwrap();
        let done = conn.execute(BulkItem::insert_many(&rows)).unwrap();
        assert_eq!(done.rowcount(), 100_000, "{}", backend.name);
        assert!(!conn.in_transaction(), "{}", backend.name);
        drop(conn);
        assert_eq!(count(&backend.engine), 100_000, "{}", backend.name);
        let (lo, hi): (i64, i64) = backend
            .engine
            .execute(select!(min(BulkItem::n), max(BulkItem::n) FROM BulkItem))
            .unwrap()
            .one()
            .map(|(a, b): (Option<i64>, Option<i64>)| (a.unwrap(), b.unwrap()))
            .unwrap();
        assert_eq!((lo, hi), (0, 99_999), "{}", backend.name);
        let last: String = backend
            .engine
            .execute(select!(BulkItem::label FROM BulkItem WHERE BulkItem::n == 99_999_i64))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(last, "item 99999");
        assert_pool_healthy(&backend, before);
    }
}

#[test]
fn seventy_thousand_binds_just_over_the_server_limit_are_split() {
    for backend in backends("bulk_70k") {
        model::META.create_all(&backend.engine).unwrap();
        // 35,000 rows × 2 = 70,000 binds: one over the limit on every backend.
        let rows = items(0..35_000);
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(BulkItem::insert_many(&rows)).unwrap();
        drop(conn);
        assert_eq!(count(&backend.engine), 35_000, "{}", backend.name);
    }
}

#[test]
fn a_failing_batch_rolls_back_every_batch_and_the_pool_stays() {
    for backend in backends("bulk_rollback") {
        model::META.create_all(&backend.engine).unwrap();
        // The last row repeats the first one's unique `n`: the last batch fails.
        let mut rows = items(0..40_000);
        rows.push(BulkItem {
            id: 0,
            n: 0,
            label: "duplicate".into(),
        });
        drop(backend.engine.connect().unwrap());
        let before = backend.engine.pool().status();
        let mut conn = backend.engine.connect().unwrap();
        let err = conn.execute(BulkItem::insert_many(&rows)).unwrap_err();
        assert!(!err.is_disconnect(), "{}: {err}", backend.name);
        assert!(
            matches!(&err, Error::Database(db) if db.kind == quarry::DatabaseErrorKind::UniqueViolation),
            "{}: {err}",
            backend.name
        );
        assert!(!conn.in_transaction(), "{}", backend.name);
        // The connection is usable at once, and nothing of the earlier batches is kept.
        let n: i64 = conn
            .execute(select!(count(BulkItem::id) FROM BulkItem))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 0, "{}", backend.name);
        drop(conn);
        assert_pool_healthy(&backend, before);
    }
}

#[test]
fn inside_the_callers_transaction_the_batches_are_part_of_it() {
    for backend in backends("bulk_in_tx") {
        model::META.create_all(&backend.engine).unwrap();
        let rows = items(0..40_000);
        let mut conn = backend.engine.connect().unwrap();
        {
            let mut tx = conn.begin().unwrap();
            tx.execute(BulkItem::insert_many(&rows)).unwrap();
            assert!(tx.in_transaction());
            let n: i64 = tx
                .execute(select!(count(BulkItem::id) FROM BulkItem))
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 40_000, "{}", backend.name);
            tx.rollback().unwrap();
        }
        assert_eq!(count(&backend.engine), 0, "{}", backend.name);
        let mut tx = conn.begin().unwrap();
        tx.execute(BulkItem::insert_many(&rows)).unwrap();
        tx.commit().unwrap();
        assert_eq!(count(&backend.engine), 40_000, "{}", backend.name);
    }
}

#[test]
fn a_split_insert_returning_gives_every_rows_key() {
    for backend in backends("bulk_returning") {
        if backend.is_mysql() {
            continue; // MySQL has no RETURNING
        }
        model::META.create_all(&backend.engine).unwrap();
        let rows = items(0..40_000);
        let mut conn = backend.engine.connect().unwrap();
        let ids: Vec<i64> = conn
            .execute(BulkItem::insert_many(&rows).returning(BulkItem::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(ids.len(), 40_000, "{}", backend.name);
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 40_000, "{}", backend.name);
    }
}

#[test]
fn other_statements_over_the_limit_are_refused_not_split() {
    for backend in backends("bulk_refused") {
        model::META.create_all(&backend.engine).unwrap();
        let limit = if backend.is_sqlite() { 32_766 } else { 65_535 };
        let values: Vec<i64> = (0..=limit as i64).collect();
        let mut conn = backend.engine.connect().unwrap();
        let err = conn
            .execute(select!(BulkItem WHERE BulkItem::n.in_(values)))
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::TooLarge { .. }), "{msg}");
        assert!(msg.contains(&(limit + 1).to_string()), "{msg}");
        assert!(msg.contains(&limit.to_string()), "{msg}");
        assert!(!conn.in_transaction());
        conn.execute(BulkItem::insert_many(&items(0..3))).unwrap();
        drop(conn);
        assert_eq!(count(&backend.engine), 3, "{}", backend.name);
    }
}

#[test]
fn copy_in_loads_rows_on_postgres_and_is_unsupported_elsewhere() {
    for backend in backends("bulk_copy") {
        model::META.create_all(&backend.engine).unwrap();
        let rows = items(0..100_000);
        drop(backend.engine.connect().unwrap());
        let before = backend.engine.pool().status();
        let mut conn = backend.engine.connect().unwrap();
        if !backend.is_postgres() {
            let err = conn.copy_in(&rows).unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{err}");
            continue;
        }
        assert_eq!(conn.copy_in(&rows).unwrap(), 100_000);
        let label: String = conn
            .execute(select!(BulkItem::label FROM BulkItem WHERE BulkItem::n == 77_777_i64))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(label, "item 77777");
        // A duplicate key fails the whole COPY: nothing more is written, the connection stays.
        let again = items(100_000..100_010)
            .into_iter()
            .chain(items(5..6))
            .collect::<Vec<_>>();
        let err = conn.copy_in(&again).unwrap_err();
        assert!(!err.is_disconnect(), "{err}");
        assert!(
            matches!(&err, Error::Database(db) if db.kind == quarry::DatabaseErrorKind::UniqueViolation),
            "{err}"
        );
        assert!(!conn.invalidated());
        drop(conn);
        assert_eq!(count(&backend.engine), 100_000);
        assert_pool_healthy(&backend, before);
        // Inside a transaction it is part of it.
        let mut conn = backend.engine.connect().unwrap();
        let mut tx = conn.begin().unwrap();
        tx.copy_in(&items(200_000..200_005)).unwrap();
        tx.rollback().unwrap();
        drop(conn);
        assert_eq!(count(&backend.engine), 100_000);
    }
}

#[test]
fn an_engine_with_replicas_splits_insert_many_on_the_primary() {
    for backend in backends("bulk_routed") {
        if backend.name == "sqlite-memory" {
            continue; // its replica would be a new, empty database
        }
        model::META.create_all(&backend.engine).unwrap();
        let routed = Engine::builder(&backend.url)
            .replicas([backend.url.as_str()])
            .build()
            .unwrap();
        let rows = items(0..40_000);
        let done = routed.execute(BulkItem::insert_many(&rows)).unwrap();
        assert_eq!(done.rowcount(), 40_000, "{}", backend.name);
        drop(done);
        assert_eq!(count(&backend.engine), 40_000, "{}", backend.name);
        routed.dispose();
    }
}

mod blobs {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// A row of about a mebibyte (created as `LONGBLOB` by hand: MySQL's `BLOB` holds 64 KiB).
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "bulk_blobs", metadata = META)]
    pub struct BulkBlob {
        #[column(primary_key)]
        pub id: i64,
        pub body: Vec<u8>,
    }
}

#[test]
fn insert_many_texts_are_kept_per_table_dialect_and_row_count() {
    use quarry::Compile as _;
    for dialect in quarry::dialect::ALL {
        let a = BulkItem::insert_many(&items(0..3))
            .compile(*dialect)
            .unwrap();
        let b = BulkItem::insert_many(&items(10..13))
            .compile(*dialect)
            .unwrap();
        let again = BulkItem::insert_many(&items(20..23))
            .compile(*dialect)
            .unwrap();
        assert_eq!(a.sql(), b.sql());
        // After the first render, the same kept text, not a render of it each time.
        assert!(std::ptr::eq(b.sql(), again.sql()), "{}", dialect.name());
        assert_eq!(b.params()[0], quarry::Value::I64(10));
        assert_eq!(b.params().len(), 6);
        let c = BulkItem::insert_many(&items(0..4))
            .compile(*dialect)
            .unwrap();
        assert_ne!(a.sql(), c.sql());
        assert_eq!(c.params().len(), 8);
    }
}

#[test]
fn insert_many_over_max_allowed_packet_is_split_on_mysql() {
    use blobs::BulkBlob;
    for backend in backends("bulk_packet") {
        if !backend.is_mysql() {
            continue;
        }
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(text("DROP TABLE IF EXISTS bulk_blobs"))
            .unwrap();
        conn.execute(text(
            "CREATE TABLE bulk_blobs (id BIGINT AUTO_INCREMENT PRIMARY KEY, body LONGBLOB)",
        ))
        .unwrap();
        let limit: i64 = conn
            .execute(text("SELECT @@max_allowed_packet"))
            .unwrap()
            .scalar()
            .unwrap();
        let limit = usize::try_from(limit).unwrap();
        drop(conn);
        // Rows of a mebibyte whose sum is over the packet limit: several statements.
        let row = 1 << 20;
        let n = limit / row + 3;
        let rows: Vec<BulkBlob> = (0..n)
            .map(|i| BulkBlob {
                id: 0,
                body: vec![u8::try_from(i % 200).unwrap(); row],
            })
            .collect();
        let before = backend.engine.pool().status();
        let mut conn = backend.engine.connect().unwrap();
        let done = conn.execute(BulkBlob::insert_many(&rows)).unwrap();
        assert_eq!(done.rowcount(), u64::try_from(n).unwrap());
        let (count, bytes): (i64, Option<quarry::Value>) = conn
            .execute(text("SELECT count(*), sum(length(body)) FROM bulk_blobs"))
            .unwrap()
            .one()
            .map(|r| (r.get(0).unwrap(), r.get(1).ok()))
            .unwrap();
        assert_eq!(count, i64::try_from(n).unwrap());
        assert!(bytes.is_some());
        // A row alone over the limit is refused before it is sent; nothing lands.
        let huge = vec![
            BulkBlob {
                id: 0,
                body: vec![1; 16],
            },
            BulkBlob {
                id: 0,
                body: vec![2; limit + 1],
            },
        ];
        let err = conn.execute(BulkBlob::insert_many(&huge)).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
        assert!(!err.is_disconnect(), "{err}");
        let after: i64 = conn
            .execute(text("SELECT count(*) FROM bulk_blobs"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(
            after,
            i64::try_from(n).unwrap(),
            "the first batch was rolled back"
        );
        conn.execute(text("DROP TABLE bulk_blobs")).unwrap();
        drop(conn);
        assert_pool_healthy(&backend, before);
    }
}
