//! The binary format without a server: each kind of `Value` encoded for a column type and decoded
//! back through `PgRow`. Expected bytes are PostgreSQL's own, from its send functions
//! (`SELECT date_send('2024-02-29')` → `\x00002279`, and so on).

use std::fmt::Debug;

use bytes::BytesMut;

use super::types::{IsNull, Kind, ToSql, Type};
use super::{BinaryRow, Param, PgRow};
use crate::error::{Error, Result};
use crate::value::{RawRow, Value};

/// A result row built by hand: each column's name, type and bytes (`None` for `NULL`).
struct Row(Vec<(&'static str, Type, Option<Vec<u8>>)>);

impl BinaryRow for Row {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn column(&self, idx: usize) -> Option<(&str, &Type)> {
        self.0.get(idx).map(|(name, ty, _)| (*name, ty))
    }

    fn cell(&self, idx: usize) -> Result<Option<&[u8]>> {
        Ok(self.0[idx].2.as_deref())
    }
}

/// `value` bound to parameter `$position` of type `ty`: its bytes, `None` for `NULL`, or the
/// refusal's message.
fn encode_at(
    value: &Value,
    position: usize,
    ty: &Type,
) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut out = BytesMut::new();
    match Param::new(value, position).to_sql(ty, &mut out) {
        Ok(IsNull::Yes) => Ok(None),
        Ok(IsNull::No) => Ok(Some(out.to_vec())),
        Err(e) => Err(e.to_string()),
    }
}

fn encode(value: &Value, ty: &Type) -> std::result::Result<Option<Vec<u8>>, String> {
    encode_at(value, 1, ty)
}

#[track_caller]
fn bytes(value: &Value, ty: &Type) -> Vec<u8> {
    match encode(value, ty) {
        Ok(Some(b)) => b,
        Ok(None) => panic!("{value:?} as {ty} encoded as NULL"),
        Err(e) => panic!("{value:?} as {ty} was refused: {e}"),
    }
}

#[track_caller]
fn refusal(value: &Value, ty: &Type) -> String {
    match encode(value, ty) {
        Ok(b) => panic!("{value:?} as {ty} was accepted: {b:?}"),
        Err(e) => e,
    }
}

/// A one-column row (named `c`) holding `raw` as a value of type `ty`.
fn cell(ty: Type, raw: Option<&[u8]>) -> Row {
    Row(vec![("c", ty, raw.map(<[u8]>::to_vec))])
}

/// A one-column row holding `value` as the server would send it back from a column of type `ty`.
#[track_caller]
fn stored(value: &Value, ty: Type) -> Row {
    let raw = encode(value, &ty).unwrap_or_else(|e| panic!("{value:?} as {ty}: {e}"));
    Row(vec![("c", ty, raw)])
}

/// `get` on `row` with its cells located in advance, as the driver does for results of up to
/// 16 columns; checked to agree with locating them on each use, as for wider results.
fn read<T: Debug>(row: &Row, get: impl Fn(&dyn RawRow) -> Result<T>) -> Result<T> {
    let cells = (0..row.len())
        .map(|idx| PgRow::locate(row, idx))
        .collect::<Result<Vec<_>>>()?;
    let located = get(&PgRow::new(row, &cells));
    let on_use = get(&PgRow::new(row, &[]));
    assert_eq!(format!("{located:?}"), format!("{on_use:?}"));
    located
}

#[track_caller]
fn value(row: &Row) -> Value {
    read(row, |r| r.get_value(0)).unwrap()
}

#[track_caller]
fn decode_error<T: Debug>(r: Result<T>) -> String {
    match r {
        Ok(v) => panic!("decoded {v:?}"),
        Err(Error::Decode(d)) => d.to_string(),
        Err(other) => panic!("not a decode error: {other}"),
    }
}

/// PostgreSQL's `2024-02-29 13:45:00.25`: days and microseconds since 1970-01-01.
const DAY: i32 = 19_782;
const TIME_OF_DAY: i64 = 49_500_250_000;
const TIMESTAMP: i64 = DAY as i64 * 86_400_000_000 + TIME_OF_DAY;

#[test]
fn null_binds_as_null_to_any_type_and_reads_as_none() {
    for ty in [
        Type::INT4,
        Type::TEXT,
        Type::BYTEA,
        Type::NUMERIC,
        Type::UUID,
    ] {
        assert_eq!(encode(&Value::Null, &ty), Ok(None), "{ty}");
        let row = stored(&Value::Null, ty);
        assert_eq!(value(&row), Value::Null);
        assert!(read(&row, |r| r.is_null(0)).unwrap());
        assert_eq!(read(&row, |r| r.get_i64(0)).unwrap(), None);
        assert_eq!(read(&row, |r| r.get_text(0)).unwrap(), None);
    }
}

#[test]
fn booleans_round_trip_and_bind_to_text_as_words() {
    assert_eq!(bytes(&Value::Bool(true), &Type::BOOL), [1]);
    assert_eq!(bytes(&Value::Bool(false), &Type::BOOL), [0]);
    for b in [true, false] {
        let row = stored(&Value::Bool(b), Type::BOOL);
        assert_eq!(read(&row, |r| r.get_bool(0)).unwrap(), Some(b));
        assert_eq!(value(&row), Value::Bool(b));
    }
    assert_eq!(bytes(&Value::Bool(false), &Type::TEXT), b"false");
    assert_eq!(
        refusal(&Value::Bool(true), &Type::INT4),
        "cannot bind a boolean to parameter $1, which has type int4"
    );
}

#[test]
fn integers_round_trip_through_every_integer_width() {
    let cases = [
        (Value::I16(-2), Type::INT2, vec![0xff, 0xfe], -2),
        (
            Value::I32(i32::MAX),
            Type::INT4,
            vec![0x7f, 0xff, 0xff, 0xff],
            2_147_483_647,
        ),
        (Value::I64(5), Type::INT2, vec![0, 5], 5),
        (
            Value::I64(i64::MIN),
            Type::INT8,
            vec![0x80, 0, 0, 0, 0, 0, 0, 0],
            i64::MIN,
        ),
        (
            Value::I64(u32::MAX.into()),
            Type::OID,
            vec![0xff; 4],
            4_294_967_295,
        ),
    ];
    for (v, ty, wire, back) in cases {
        assert_eq!(bytes(&v, &ty), wire, "{v:?} as {ty}");
        let row = stored(&v, ty);
        assert_eq!(read(&row, |r| r.get_i64(0)).unwrap(), Some(back));
        assert_eq!(value(&row), Value::I64(back));
        assert_eq!(read(&row, |r| r.get_f64(0)).unwrap(), Some(back as f64));
    }
}

#[test]
fn an_integer_out_of_range_for_its_parameter_is_refused_naming_it() {
    assert_eq!(
        refusal(&Value::I64(i64::from(i32::MAX) + 1), &Type::INT4),
        "the integer 2147483648 is out of range for parameter $1 of type int4"
    );
    assert_eq!(
        refusal(&Value::I32(40_000), &Type::INT2),
        "the integer 40000 is out of range for parameter $1 of type int2"
    );
    assert_eq!(
        refusal(&Value::I64(-1), &Type::OID),
        "the integer -1 is out of range for parameter $1 of type oid"
    );
}

#[test]
fn integers_bind_to_float_numeric_and_text_parameters() {
    assert_eq!(bytes(&Value::I64(3), &Type::FLOAT8), 3.0f64.to_be_bytes());
    assert_eq!(bytes(&Value::I16(3), &Type::FLOAT4), 3.0f32.to_be_bytes());
    let row = stored(&Value::I64(-42), Type::NUMERIC);
    assert_eq!(value(&row), Value::Decimal("-42".into()));
    assert_eq!(read(&row, |r| r.get_i64(0)).unwrap(), Some(-42));
    assert_eq!(bytes(&Value::I32(7), &Type::TEXT), b"7");
    assert_eq!(
        refusal(&Value::I64(7), &Type::BOOL),
        "cannot bind an integer to parameter $1, which has type bool"
    );
}

#[test]
fn floats_round_trip_and_narrow_to_real() {
    // float4send(1.5)
    assert_eq!(bytes(&Value::F32(1.5), &Type::FLOAT4), [0x3f, 0xc0, 0, 0]);
    for v in [0.1, -0.0, f64::MAX, f64::MIN_POSITIVE, f64::INFINITY] {
        let row = stored(&Value::F64(v), Type::FLOAT8);
        let back = read(&row, |r| r.get_f64(0)).unwrap().unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        assert_eq!(value(&row), Value::F64(v));
    }
    let nan = read(&stored(&Value::F64(f64::NAN), Type::FLOAT8), |r| {
        r.get_f64(0)
    });
    assert!(nan.unwrap().unwrap().is_nan());
    // REAL holds single precision: an f64 is narrowed, an f32 widened exactly.
    let narrowed = stored(&Value::F64(0.1), Type::FLOAT4);
    assert_eq!(
        read(&narrowed, |r| r.get_f64(0)).unwrap(),
        Some(f64::from(0.1f32))
    );
    let widened = stored(&Value::F32(0.1), Type::FLOAT8);
    assert_eq!(
        read(&widened, |r| r.get_f64(0)).unwrap(),
        Some(f64::from(0.1f32))
    );
}

#[test]
fn floats_bind_to_numeric_as_plain_decimals_and_infinity_is_refused() {
    let decimal = |v: Value| value(&stored(&v, Type::NUMERIC));
    assert_eq!(decimal(Value::F64(2.5)), Value::Decimal("2.5".into()));
    assert_eq!(
        decimal(Value::F64(1e-7)),
        Value::Decimal("0.0000001".into())
    );
    assert_eq!(decimal(Value::F32(-0.25)), Value::Decimal("-0.25".into()));
    assert_eq!(decimal(Value::F64(f64::NAN)), Value::Decimal("NaN".into()));
    assert_eq!(
        refusal(&Value::F64(f64::INFINITY), &Type::NUMERIC),
        "\"inf\" is not a decimal number"
    );
    assert_eq!(bytes(&Value::F64(2.5), &Type::TEXT), b"2.5");
}

#[test]
fn text_binds_to_text_like_json_bytea_and_enum_parameters() {
    let text = Value::Text("héllo".into());
    let citext = Type::new("citext".into(), 16_385, Kind::Simple, "public".into());
    let mood = Type::new(
        "mood".into(),
        16_390,
        Kind::Enum(vec!["happy".into(), "sad".into()]),
        "public".into(),
    );
    for ty in [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        citext,
        mood,
    ] {
        assert_eq!(bytes(&text, &ty), "héllo".as_bytes(), "{ty}");
        let row = stored(&text, ty);
        assert_eq!(
            read(&row, |r| r.get_text(0)).unwrap().as_deref(),
            Some("héllo")
        );
        assert_eq!(value(&row), text);
    }
    assert_eq!(bytes(&text, &Type::BYTEA), "héllo".as_bytes());
    assert_eq!(bytes(&Value::Text("{}".into()), &Type::JSONB), b"\x01{}");
    assert_eq!(bytes(&Value::Text("{}".into()), &Type::JSON), b"{}");
    assert_eq!(
        refusal(&text, &Type::INT4),
        "cannot bind text to parameter $1, which has type int4"
    );
}

#[test]
fn text_that_is_not_utf8_is_a_decode_error() {
    let row = cell(Type::TEXT, Some(b"\xff"));
    assert_eq!(
        decode_error(read(&row, |r| r.get_text(0))),
        "cannot decode column \"c\" as String: found text that is not valid UTF-8"
    );
}

#[test]
fn blobs_round_trip_through_bytea_only() {
    let blob = Value::Blob(vec![0, 255, 1]);
    assert_eq!(bytes(&blob, &Type::BYTEA), [0, 255, 1]);
    let row = stored(&blob, Type::BYTEA);
    assert_eq!(
        read(&row, |r| r.get_blob(0)).unwrap(),
        Some(vec![0, 255, 1])
    );
    assert_eq!(value(&row), blob);
    assert_eq!(
        refusal(&blob, &Type::TEXT),
        "cannot bind a blob to parameter $1, which has type text"
    );
    assert_eq!(
        decode_error(read(&cell(Type::TEXT, Some(b"x")), |r| r.get_blob(0))),
        "cannot decode column \"c\" as Vec<u8>: found a TEXT value"
    );
}

#[test]
fn json_round_trips_through_jsonb_with_its_version_byte_and_through_json() {
    let doc = Value::Json(r#"{"a": 1}"#.into());
    // jsonb_send('{"a": 1}')
    assert_eq!(bytes(&doc, &Type::JSONB), b"\x01{\"a\": 1}");
    assert_eq!(bytes(&doc, &Type::JSON), br#"{"a": 1}"#);
    assert_eq!(bytes(&doc, &Type::TEXT), br#"{"a": 1}"#);
    for ty in [Type::JSONB, Type::JSON] {
        let row = stored(&doc, ty);
        assert_eq!(
            read(&row, |r| r.get_json(0)).unwrap().as_deref(),
            Some(r#"{"a": 1}"#)
        );
        assert_eq!(value(&row), doc);
    }
    assert_eq!(
        refusal(&doc, &Type::BYTEA),
        "cannot bind JSON to parameter $1, which has type bytea"
    );
}

#[test]
fn decimals_round_trip_through_numeric_keeping_their_scale() {
    let d = Value::Decimal("12.340".into());
    // numeric_send(12.340): 2 digits, weight 0, positive, scale 3; 12, 3400
    assert_eq!(
        bytes(&d, &Type::NUMERIC),
        [0, 2, 0, 0, 0, 0, 0, 3, 0, 12, 0x0d, 0x48]
    );
    let row = stored(&d, Type::NUMERIC);
    assert_eq!(
        read(&row, |r| r.get_decimal(0)).unwrap().as_deref(),
        Some("12.340")
    );
    assert_eq!(value(&row), d);
    assert_eq!(read(&row, |r| r.get_f64(0)).unwrap(), Some(12.34));
    assert_eq!(
        bytes(&Value::Decimal("1.5".into()), &Type::FLOAT8),
        1.5f64.to_be_bytes()
    );
    assert_eq!(bytes(&d, &Type::TEXT), b"12.340");
    assert_eq!(
        refusal(&Value::Decimal("1,5".into()), &Type::FLOAT8),
        "cannot bind a decimal to parameter $1, which has type float8"
    );
    assert_eq!(
        refusal(&Value::Decimal("1,5".into()), &Type::NUMERIC),
        "\"1,5\" is not a decimal number"
    );
}

#[test]
fn numeric_reads_as_an_integer_only_when_integral_and_in_range() {
    let int = |text: &str| {
        read(&stored(&Value::Decimal(text.into()), Type::NUMERIC), |r| {
            r.get_i64(0)
        })
    };
    assert_eq!(int("42.000").unwrap(), Some(42));
    assert_eq!(int("-9223372036854775808").unwrap(), Some(i64::MIN));
    assert_eq!(
        decode_error(int("42.5")),
        "cannot decode column \"c\" as an integer: found the NUMERIC 42.5, which is not an \
         integer in range"
    );
    assert_eq!(
        decode_error(int("9223372036854775808")),
        "cannot decode column \"c\" as an integer: found the NUMERIC 9223372036854775808, which \
         is not an integer in range"
    );
    // Integer columns read as decimals too.
    let row = stored(&Value::I64(-7), Type::INT8);
    assert_eq!(
        read(&row, |r| r.get_decimal(0)).unwrap().as_deref(),
        Some("-7")
    );
}

#[test]
fn dates_count_days_from_the_postgresql_epoch() {
    // date_send('2024-02-29'), date_send('1970-01-01')
    assert_eq!(bytes(&Value::Date(DAY), &Type::DATE), [0, 0, 0x22, 0x79]);
    assert_eq!(
        bytes(&Value::Date(0), &Type::DATE),
        [0xff, 0xff, 0xd5, 0x33]
    );
    for d in [DAY, 0, -1, -719_162, 2_932_896] {
        let row = stored(&Value::Date(d), Type::DATE);
        assert_eq!(read(&row, |r| r.get_date(0)).unwrap(), Some(d));
        assert_eq!(value(&row), Value::Date(d));
    }
    // A date bound to a timestamp is its midnight; a date column reads as one too.
    let midnight = i64::from(DAY) * 86_400_000_000;
    let row = stored(&Value::Date(DAY), Type::TIMESTAMP);
    assert_eq!(read(&row, |r| r.get_timestamp(0)).unwrap(), Some(midnight));
    let row = stored(&Value::Date(DAY), Type::DATE);
    assert_eq!(read(&row, |r| r.get_timestamp(0)).unwrap(), Some(midnight));
    assert_eq!(bytes(&Value::Date(DAY), &Type::TEXT), b"2024-02-29");
}

#[test]
fn times_and_timestamps_round_trip_to_the_microsecond() {
    // time_send('13:45:00.25'), timestamp_send('2024-02-29 13:45:00.25')
    let time = Value::Time(TIME_OF_DAY);
    assert_eq!(
        bytes(&time, &Type::TIME),
        [0, 0, 0, 0x0b, 0x86, 0x71, 0xdf, 0x90]
    );
    assert_eq!(value(&stored(&time, Type::TIME)), time);
    let wire = [0, 0x02, 0xb5, 0x84, 0x3b, 0xfe, 0x3f, 0x90];
    let ts = Value::Timestamp(TIMESTAMP);
    assert_eq!(bytes(&ts, &Type::TIMESTAMP), wire);
    assert_eq!(value(&stored(&ts, Type::TIMESTAMP)), ts);
    let tz = Value::TimestampTz(TIMESTAMP);
    assert_eq!(bytes(&tz, &Type::TIMESTAMPTZ), wire);
    assert_eq!(value(&stored(&tz, Type::TIMESTAMPTZ)), tz);
    // PostgreSQL's epoch is zero on the wire; a microsecond before 1970 survives.
    let pg_epoch = Value::Timestamp(10_957 * 86_400_000_000);
    assert_eq!(bytes(&pg_epoch, &Type::TIMESTAMP), [0; 8]);
    let before = stored(&Value::Timestamp(-1), Type::TIMESTAMP);
    assert_eq!(read(&before, |r| r.get_timestamp(0)).unwrap(), Some(-1));
    assert_eq!(bytes(&ts, &Type::TEXT), b"2024-02-29 13:45:00.250000");
    assert_eq!(
        refusal(&time, &Type::TIMESTAMP),
        "cannot bind a time to parameter $1, which has type timestamp"
    );
}

#[test]
fn infinite_dates_and_timestamps_are_decode_errors() {
    let date = cell(Type::DATE, Some(&i32::MAX.to_be_bytes()));
    assert_eq!(
        decode_error(read(&date, |r| r.get_date(0))),
        "cannot decode column \"c\" as a date: found infinity"
    );
    let ts = cell(Type::TIMESTAMP, Some(&i64::MIN.to_be_bytes()));
    assert_eq!(
        decode_error(read(&ts, |r| r.get_timestamp(0))),
        "cannot decode column \"c\" as a timestamp: found infinity"
    );
    let far = cell(Type::TIMESTAMPTZ, Some(&(i64::MAX - 1).to_be_bytes()));
    assert_eq!(
        decode_error(read(&far, |r| r.get_timestamp(0))),
        "cannot decode column \"c\" as a timestamp: found a timestamp out of range"
    );
}

#[test]
fn uuids_round_trip_as_bytes_and_read_from_text() {
    let raw = [
        0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a,
        0x11,
    ];
    let uuid = Value::Uuid(raw);
    assert_eq!(bytes(&uuid, &Type::UUID), raw);
    assert_eq!(value(&stored(&uuid, Type::UUID)), uuid);
    let text = b"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    assert_eq!(bytes(&uuid, &Type::TEXT), text);
    let row = cell(Type::TEXT, Some(text));
    assert_eq!(read(&row, |r| r.get_uuid(0)).unwrap(), Some(raw));
    assert_eq!(
        decode_error(read(&cell(Type::UUID, Some(&raw[..15])), |r| r.get_uuid(0))),
        "cannot decode column \"c\" as a value: found malformed uuid bytes from the server"
    );
}

#[test]
fn a_column_of_another_type_is_a_mismatch_naming_column_and_type() {
    let int = stored(&Value::I32(1), Type::INT4);
    assert_eq!(
        decode_error(read(&int, |r| r.get_text(0))),
        "cannot decode column \"c\" as String: found a INT4 value"
    );
    assert_eq!(
        decode_error(read(&int, |r| r.get_bool(0))),
        "cannot decode column \"c\" as bool: found a INT4 value"
    );
    let text = stored(&Value::Text("1".into()), Type::TEXT);
    assert_eq!(
        decode_error(read(&text, |r| r.get_i64(0))),
        "cannot decode column \"c\" as an integer: found a TEXT value"
    );
}

#[test]
fn fixed_width_values_of_the_wrong_length_are_reported_as_malformed() {
    assert_eq!(
        decode_error(read(&cell(Type::INT4, Some(&[0, 0, 1])), |r| r.get_i64(0))),
        "cannot decode column \"c\" as a value: found malformed int4 bytes from the server"
    );
    assert_eq!(
        decode_error(read(&cell(Type::NUMERIC, Some(&[0, 1, 0])), |r| r.get_decimal(0))),
        "cannot decode column \"c\" as a value: found malformed numeric bytes from the server"
    );
}

#[test]
fn a_column_past_the_end_is_no_such_column() {
    let row = stored(&Value::I64(1), Type::INT8);
    match read(&row, |r| r.get_i64(1)) {
        Err(Error::NoSuchColumn(m)) => assert_eq!(m, "result has no column 1 (it has 1)"),
        other => panic!("{other:?}"),
    }
    assert_eq!(read(&row, |r| Ok(r.name(1).to_owned())).unwrap(), "?");
}

#[test]
fn the_columns_of_a_row_decode_independently() {
    let row = Row(vec![
        ("id", Type::INT4, Some(7i32.to_be_bytes().to_vec())),
        ("name", Type::TEXT, None),
        (
            "price",
            Type::NUMERIC,
            Some(bytes(&Value::Decimal("0.05".into()), &Type::NUMERIC)),
        ),
    ]);
    let all = read(&row, |r| {
        (0..r.len())
            .map(|i| r.get_value(i))
            .collect::<Result<Vec<_>>>()
    });
    assert_eq!(
        all.unwrap(),
        [Value::I64(7), Value::Null, Value::Decimal("0.05".into())]
    );
    assert_eq!(read(&row, |r| Ok(r.name(2).to_owned())).unwrap(), "price");
}

#[test]
fn types_quarry_does_not_decode_ask_for_a_cast() {
    let point = cell(Type::POINT, Some(&[0; 16]));
    let message = decode_error(read(&point, |r| r.get_value(0)));
    assert!(
        message.contains("a value of SQL type POINT, which quarry does not decode"),
        "{message}"
    );
    assert_eq!(value(&cell(Type::VOID, Some(&[]))), Value::Null);
}

#[test]
fn a_refusal_names_the_parameter_position() {
    let uuid = Value::Uuid([0; 16]);
    assert_eq!(
        encode_at(&uuid, 3, &Type::INT8),
        Err("cannot bind a UUID to parameter $3, which has type int8".to_owned())
    );
}

#[test]
fn an_array_declared_unknown_binds_as_a_quoted_text_literal() {
    let v = Value::Array(vec![
        Value::Text("a".into()),
        Value::Text("say \"hi\" \\ there".into()),
        Value::Null,
        Value::Text(String::new()),
    ]);
    assert_eq!(
        String::from_utf8(bytes(&v, &Type::UNKNOWN)).unwrap(),
        r#"{"a","say \"hi\" \\ there",NULL,""}"#
    );
    let ints = Value::Array(vec![
        Value::Array(vec![Value::I64(1), Value::I64(-2)]),
        Value::Array(vec![Value::Bool(true), Value::F64(0.5)]),
    ]);
    assert_eq!(
        String::from_utf8(bytes(&ints, &Type::UNKNOWN)).unwrap(),
        r#"{{"1","-2"},{"true","0.5"}}"#
    );
    assert_eq!(bytes(&Value::Array(vec![]), &Type::UNKNOWN), b"{}");
}
