//! The column types of the optional features (chrono, time, uuid, serde_json, rust_decimal)
//! stored and read back on real databases: typical values, `NULL`s and the extremes, and bound
//! as parameters in comparisons.
//!
//! Each behaviour is a function of an [`Engine`] on an empty database and the backend's name,
//! run by `on_backends!` on every backend of `tests/support` (SQLite in memory and in a file,
//! PostgreSQL, MariaDB; a database of its own per test). Run with
//! `cargo test --all-features --test types`.
#![cfg(all(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "serde_json",
    feature = "rust_decimal"
))]

mod support;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use quarry::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;
use time::macros::{date, datetime, time};
use uuid::Uuid;

static META: MetaData = MetaData::new();

/// One non-null column of each feature type.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "typed", metadata = META)]
struct Typed {
    #[column(primary_key)]
    id: i64,
    c_date: NaiveDate,
    c_time: NaiveTime,
    c_datetime: NaiveDateTime,
    c_utc: DateTime<Utc>,
    c_fixed: DateTime<FixedOffset>,
    t_date: time::Date,
    t_time: time::Time,
    t_datetime: time::PrimitiveDateTime,
    t_offset: time::OffsetDateTime,
    uuid: Uuid,
    json: serde_json::Value,
    decimal: Decimal,
}

/// The same types, nullable.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "maybe_typed", metadata = META)]
struct MaybeTyped {
    #[column(primary_key)]
    id: i64,
    c_date: Option<NaiveDate>,
    c_time: Option<NaiveTime>,
    c_datetime: Option<NaiveDateTime>,
    c_utc: Option<DateTime<Utc>>,
    c_fixed: Option<DateTime<FixedOffset>>,
    t_date: Option<time::Date>,
    t_time: Option<time::Time>,
    t_datetime: Option<time::PrimitiveDateTime>,
    t_offset: Option<time::OffsetDateTime>,
    uuid: Option<Uuid>,
    json: Option<serde_json::Value>,
    decimal: Option<Decimal>,
}

/// A UUID primary key: an ordinary column, never autoincrement.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tokens", metadata = META)]
struct Token {
    #[column(primary_key)]
    id: Uuid,
    #[column(references = Token::id)]
    parent: Option<Uuid>,
    issued: DateTime<Utc>,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).expect("a decimal literal")
}

fn chrono_date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn chrono_time(h: u32, m: u32, s: u32, us: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, us).expect("a valid time")
}

/// Typical values: a leap day, microseconds, an offset of +02:00, unicode JSON.
fn typical() -> Typed {
    let c_datetime = chrono_date(2024, 2, 29).and_time(chrono_time(13, 45, 7, 123_456));
    let plus_two = FixedOffset::east_opt(2 * 3600).expect("+02:00");
    Typed {
        id: 1,
        c_date: chrono_date(2024, 2, 29),
        c_time: chrono_time(13, 45, 7, 123_456),
        c_datetime,
        c_utc: Utc.from_utc_datetime(&c_datetime),
        c_fixed: plus_two
            .from_local_datetime(&c_datetime)
            .single()
            .expect("no gap in a fixed offset"),
        t_date: date!(2024 - 02 - 29),
        t_time: time!(13:45:07.123_456),
        t_datetime: datetime!(2024-02-29 13:45:07.123_456),
        t_offset: datetime!(2024-02-29 13:45:07.123_456 -05:30),
        uuid: Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
        json: json!({
            "name": "Zoë Ångström 🦀 日本語",
            "tags": ["a", {"nested": [1, 2.5, null, true]}],
            "empty": {},
        }),
        decimal: dec("-12.340"),
    }
}

/// The earliest values: year 1, midnight, the smallest decimals.
fn earliest() -> Typed {
    let midnight = chrono_time(0, 0, 0, 0);
    let year_one = chrono_date(1, 1, 1).and_time(midnight);
    Typed {
        id: 2,
        c_date: chrono_date(1, 1, 1),
        c_time: midnight,
        c_datetime: year_one,
        c_utc: Utc.from_utc_datetime(&year_one),
        c_fixed: Utc.from_utc_datetime(&year_one).fixed_offset(),
        t_date: date!(0001 - 01 - 01),
        t_time: time::Time::MIDNIGHT,
        t_datetime: datetime!(0001-01-01 0:00),
        t_offset: datetime!(0001-01-01 0:00 UTC),
        uuid: Uuid::nil(),
        json: json!({}),
        decimal: dec("-0.0001"),
    }
}

/// The latest values: year 9999, the last microsecond of the day, 28 significant digits.
fn latest() -> Typed {
    let last = chrono_time(23, 59, 59, 999_999);
    let end = chrono_date(9999, 12, 31).and_time(last);
    Typed {
        id: 3,
        c_date: chrono_date(9999, 12, 31),
        c_time: last,
        c_datetime: end,
        c_utc: Utc.from_utc_datetime(&end),
        c_fixed: Utc.from_utc_datetime(&end).fixed_offset(),
        t_date: date!(9999 - 12 - 31),
        t_time: time!(23:59:59.999_999),
        t_datetime: datetime!(9999-12-31 23:59:59.999_999),
        t_offset: datetime!(9999-12-31 23:59:59.999_999 UTC),
        uuid: Uuid::max(),
        json: json!([[[]], {"a": {"b": {"c": "\u{1F980}\"quoted\"\n"}}}, -1.5e300, 42]),
        decimal: dec("1234567890.123456789012345678"),
    }
}

/// More decimals and JSON documents, one per row of `maybe_typed`, beside a row of NULLs.
fn decimals() -> Vec<Decimal> {
    vec![
        dec("0.0000000000000000000000000001"),
        dec("9999999999999999999999999999"),
        dec("-0.1"),
        dec("100"),
        dec("1.50"),
    ]
}

fn documents() -> Vec<serde_json::Value> {
    vec![
        json!(42),
        json!("just a string"),
        json!(null),
        json!([]),
        json!(-0.5),
    ]
}

/// A decimal as SQLite can keep it: its `NUMERIC` affinity stores a number as an INTEGER when
/// it fits one, otherwise as a REAL (15 significant digits), so the SQLite driver refuses
/// decimals of more digits rather than round them silently (tests/hostile.rs); the rows
/// written to SQLite here are rounded to 15 significant digits first, and come back equal.
fn as_sqlite_numeric(d: Decimal) -> Decimal {
    if d.to_string().parse::<i64>().is_ok() {
        return d;
    }
    d.round_sf(15)
        .expect("15 significant digits fit")
        .normalize()
}

/// `row` as it is written to `backend`.
fn stored(backend: &str, mut row: Typed) -> Typed {
    if backend.starts_with("sqlite") {
        row.decimal = as_sqlite_numeric(row.decimal);
    }
    row
}

/// The ids a statement returns.
fn ids<S: quarry::Statement<Row = i64>>(conn: &mut Connection, stmt: S) -> Vec<i64> {
    conn.execute(stmt).expect("select").all().expect("decode")
}

fn create(engine: &Engine) {
    META.create_all(engine).expect("create_all");
}

/// Non-null columns: typical values and both extremes come back equal.
fn non_null_columns_round_trip(engine: &Engine, backend: &str) {
    create(engine);
    let mut conn = engine.connect().expect("connect");
    let rows = [typical(), earliest(), latest()].map(|r| stored(backend, r));
    conn.execute(Typed::insert_many(&rows)).expect("insert");
    let back: Vec<Typed> = conn
        .execute(select!(Typed FROM Typed ORDER BY Typed::id))
        .expect("select")
        .all()
        .expect("decode");
    let expected: Vec<Typed> = rows.iter().cloned().map(|r| stored(backend, r)).collect();
    assert_eq!(back, expected, "{backend}");
    // Instants come back in UTC, the same instant as stored.
    let first = &back[0];
    assert_eq!(first.c_fixed.offset().local_minus_utc(), 0, "{backend}");
    assert_eq!(first.c_fixed, typical().c_fixed, "{backend}");
    assert!(first.t_offset.offset().is_utc(), "{backend}");
    assert_eq!(first.t_offset, typical().t_offset, "{backend}");
}

/// Nullable columns: a row of NULLs comes back as `None`s, rows of values as `Some`.
fn nullable_columns_round_trip(engine: &Engine, backend: &str) {
    create(engine);
    let mut conn = engine.connect().expect("connect");
    let nulls = MaybeTyped {
        id: 1,
        c_date: None,
        c_time: None,
        c_datetime: None,
        c_utc: None,
        c_fixed: None,
        t_date: None,
        t_time: None,
        t_datetime: None,
        t_offset: None,
        uuid: None,
        json: None,
        decimal: None,
    };
    let mut rows = vec![nulls];
    for (i, (base, (decimal, json))) in [typical(), earliest(), latest(), typical(), latest()]
        .into_iter()
        .zip(decimals().into_iter().zip(documents()))
        .enumerate()
    {
        rows.push(MaybeTyped {
            id: i as i64 + 2,
            c_date: Some(base.c_date),
            c_time: Some(base.c_time),
            c_datetime: Some(base.c_datetime),
            c_utc: Some(base.c_utc),
            c_fixed: Some(base.c_fixed),
            t_date: Some(base.t_date),
            t_time: Some(base.t_time),
            t_datetime: Some(base.t_datetime),
            t_offset: Some(base.t_offset),
            uuid: Some(base.uuid),
            json: Some(json),
            decimal: Some(decimal),
        });
    }
    if backend.starts_with("sqlite") {
        for r in &mut rows {
            r.decimal = r.decimal.map(as_sqlite_numeric);
        }
    }
    conn.execute(MaybeTyped::insert_many(&rows))
        .expect("insert");
    let back: Vec<MaybeTyped> = conn
        .execute(select!(MaybeTyped FROM MaybeTyped ORDER BY MaybeTyped::id))
        .expect("select")
        .all()
        .expect("decode");
    let expected = rows;
    for (got, want) in back.iter().zip(&expected) {
        assert_eq!(got, want, "{backend}");
    }
    assert_eq!(back.len(), expected.len(), "{backend}");
    // A JSON null is a document, not SQL NULL.
    assert_eq!(back[3].json, Some(serde_json::Value::Null), "{backend}");
}

/// Each type binds as a parameter that the database compares with the stored value.
fn values_bind_in_comparisons(engine: &Engine, backend: &str) {
    create(engine);
    let mut conn = engine.connect().expect("connect");
    conn.execute(Typed::insert_many(
        &[typical(), earliest(), latest()].map(|r| stored(backend, r)),
    ))
    .expect("insert");
    let t = stored(backend, typical());
    let (c_date, c_time, c_datetime, c_utc, c_fixed) =
        (t.c_date, t.c_time, t.c_datetime, t.c_utc, t.c_fixed);
    let (t_date, t_time, t_datetime, t_offset) = (t.t_date, t.t_time, t.t_datetime, t.t_offset);
    let (uuid, decimal) = (t.uuid, t.decimal);
    let found = [
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_date == c_date),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_time == c_time),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_datetime == c_datetime),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_utc == c_utc),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_fixed == c_fixed),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::t_date == t_date),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::t_time == t_time),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::t_datetime == t_datetime),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::t_offset == t_offset),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::uuid == uuid),
        ),
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::decimal == decimal),
        ),
    ];
    for (i, ids) in found.iter().enumerate() {
        assert_eq!(ids, &[1], "{backend}: comparison {i}");
    }
    // PostgreSQL's `json` type has no `=`, as in SQLAlchemy; SQLite compares the text.
    if backend.starts_with("sqlite") {
        let json = t.json;
        assert_eq!(
            ids(
                &mut conn,
                select!(Typed::id FROM Typed WHERE Typed::json == json)
            ),
            [1]
        );
    }
    // An offset other than UTC finds the same instant.
    let same_instant = c_fixed.with_timezone(&FixedOffset::west_opt(8 * 3600).expect("-08:00"));
    assert_eq!(
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::c_fixed == same_instant)
        ),
        [1],
        "{backend}"
    );
    // Dates and times order as values (ISO text on SQLite sorts the same way).
    let year_one = earliest().c_datetime;
    let later: Vec<i64> = ids(
        &mut conn,
        select!(Typed::id FROM Typed WHERE Typed::c_datetime > year_one ORDER BY Typed::t_datetime DESC),
    );
    assert_eq!(later, [3, 1], "{backend}");
    let small = dec("-0.00005");
    assert_eq!(
        ids(
            &mut conn,
            select!(Typed::id FROM Typed WHERE Typed::decimal < small ORDER BY Typed::id)
        ),
        [1, 2],
        "{backend}"
    );
    // Aggregates keep the column's type (`NULL` over no rows, hence the `Option`).
    let newest: Option<time::PrimitiveDateTime> = conn
        .execute(select!(max(Typed::t_datetime) FROM Typed))
        .expect("select")
        .scalar()
        .expect("decode");
    assert_eq!(newest, Some(latest().t_datetime), "{backend}");
    let first_day: Option<NaiveDate> = conn
        .execute(select!(min(Typed::c_date) FROM Typed))
        .expect("select")
        .scalar()
        .expect("decode");
    assert_eq!(first_day, Some(earliest().c_date), "{backend}");
    // A nullable column compares with a plain value and with None.
    conn.execute(insert!(MaybeTyped {
        id: 1,
        uuid: uuid,
        t_date: None
    }))
    .expect("insert maybe");
    assert_eq!(
        ids(
            &mut conn,
            select!(MaybeTyped::id FROM MaybeTyped WHERE MaybeTyped::uuid == uuid && MaybeTyped::t_date == None)
        ),
        [1],
        "{backend}"
    );
}

/// The widest decimals come back exactly on PostgreSQL and MySQL; SQLite, whose `NUMERIC`
/// affinity would turn them into doubles, refuses them; a double beyond `Decimal`'s range is
/// a decode error naming the column, never a clamped value.
fn decimal_extremes_are_exact_or_a_decode_error(engine: &Engine, backend: &str) {
    create(engine);
    let mut conn = engine.connect().expect("connect");
    if backend.starts_with("sqlite") {
        let e = conn
            .execute(insert!(MaybeTyped {
                id: 1,
                decimal: Decimal::MIN
            }))
            .map(|_| ())
            .expect_err("29 digits do not fit a double");
        assert!(e.to_string().contains("29 significant digits"), "{e}");
        conn.execute(text(
            "INSERT INTO maybe_typed (id, decimal) VALUES (1, -7.922816251426434e28)",
        ))
        .expect("insert");
        conn.execute(text(
            "INSERT INTO maybe_typed (id, decimal) VALUES (2, 7.922816251426434e28)",
        ))
        .expect("insert");
    }
    for (id, decimal) in [(1, Decimal::MIN), (2, Decimal::MAX)] {
        if backend.starts_with("sqlite") {
            break;
        }
        conn.execute(insert!(MaybeTyped {
            id: id,
            decimal: decimal
        }))
        .expect("insert");
    }
    let back = conn
        .execute(select!(MaybeTyped::decimal FROM MaybeTyped ORDER BY MaybeTyped::id))
        .and_then(|rows| rows.all());
    if backend.starts_with("sqlite") {
        let e = back.expect_err("a double beyond Decimal::MIN");
        assert_eq!(
            e.to_string(),
            "cannot decode column \"decimal\" as rust_decimal::Decimal: found \
             -79228162514264340000000000000, which is beyond what the type holds \
             (a 96-bit integer with at most 28 digits after the point)"
        );
    } else {
        assert_eq!(
            back.expect("decode"),
            [Some(Decimal::MIN), Some(Decimal::MAX)],
            "{backend}"
        );
    }
}

/// A UUID key is given by the rows, not generated: not autoincrement in the schema or the DDL.
fn uuid_primary_key_is_an_ordinary_column(engine: &Engine, backend: &str) {
    let id = Token::table().column("id").expect("the id column");
    assert!(id.is_primary_key() && !id.is_autoincrement());
    let ddl = quarry::schema_sql::create_table(Token::table(), engine.dialect()).expect("ddl");
    assert!(
        !ddl.contains("INTEGER") && !ddl.contains("SERIAL"),
        "{backend}: {ddl}"
    );
    create(engine);
    let mut conn = engine.connect().expect("connect");
    let issued = Utc
        .with_ymd_and_hms(2024, 2, 29, 13, 45, 0)
        .single()
        .expect("a valid instant");
    let root = Token {
        id: Uuid::nil(),
        parent: None,
        issued,
    };
    let child = Token {
        id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        parent: Some(Uuid::nil()),
        issued,
    };
    conn.execute(Token::insert(&root)).expect("insert root");
    conn.execute(Token::insert(&child)).expect("insert child");
    let key = child.id;
    let back: Token = conn
        .execute(select!(Token WHERE Token::id == key))
        .expect("select")
        .one()
        .expect("one token");
    assert_eq!(back, child, "{backend}");
    let nil = Uuid::nil();
    let children: Vec<Uuid> = conn
        .execute(select!(Token::id FROM Token WHERE Token::parent == nil))
        .expect("select")
        .all()
        .expect("decode");
    assert_eq!(children, [child.id], "{backend}");
    let duplicate = conn
        .execute(Token::insert(&root))
        .expect_err("a second nil key");
    assert_eq!(
        duplicate.as_database().map(|e| e.kind()),
        Some(quarry::DatabaseErrorKind::UniqueViolation),
        "{backend}: {duplicate}"
    );
}

/// Each test body on every backend of `support::backends`, a database of its own each.
macro_rules! on_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn on_every_backend() {
                    for b in crate::support::backends(stringify!($name)) {
                        super::$name(&b.engine, b.name);
                    }
                }
            }
        )*
    };
}

on_backends!(
    non_null_columns_round_trip,
    nullable_columns_round_trip,
    values_bind_in_comparisons,
    decimal_extremes_are_exact_or_a_decode_error,
    uuid_primary_key_is_an_ordinary_column,
);
