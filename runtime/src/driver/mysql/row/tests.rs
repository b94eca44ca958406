//! Decoding without a server: hand-built rows as the binary and text protocols deliver them.

use super::*;

#[test]
fn decimal_text_is_an_integer_only_without_a_fraction() {
    assert_eq!(parse_integer("6"), Ok(Some(6)));
    assert_eq!(parse_integer("-6.0000"), Ok(Some(-6)));
    assert_eq!(parse_integer("6.5"), Ok(None));
    assert_eq!(parse_integer("abc"), Ok(None));
    assert_eq!(parse_integer("-"), Ok(None));
    assert_eq!(parse_integer("99999999999999999999"), Err(()));
    assert_eq!(parse_integer("-9223372036854775808"), Ok(Some(i64::MIN)));
}

#[test]
fn mysql_time_text_is_an_interval() {
    assert_eq!(parse_mysql_time("13:45:00"), Some(49_500_000_000));
    assert_eq!(parse_mysql_time("13:45:00.250000"), Some(49_500_250_000));
    assert_eq!(
        parse_mysql_time("-838:59:59.000000"),
        Some(-(838 * 3600 + 59 * 60 + 59) * 1_000_000)
    );
    assert_eq!(parse_mysql_time("12:61:00"), None);
    assert_eq!(parse_mysql_time("noon"), None);
}

/// A hand-built row: what the server would send, column by column.
struct FakeRow(Vec<(mysql::Column, mysql::Value)>);

impl Cells for FakeRow {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn cell(&self, idx: usize) -> Option<(&mysql::Value, &mysql::Column)> {
        self.0.get(idx).map(|(c, v)| (v, c))
    }

    fn column(&self, idx: usize) -> Option<&mysql::Column> {
        self.0.get(idx).map(|(c, _)| c)
    }
}

const UTF8MB4: u16 = 45;

fn col(ty: ColumnType, name: &str) -> mysql::Column {
    mysql::Column::new(ty)
        .with_name(name.as_bytes())
        .with_character_set(match ty {
            ColumnType::MYSQL_TYPE_VARCHAR
            | ColumnType::MYSQL_TYPE_VAR_STRING
            | ColumnType::MYSQL_TYPE_STRING
            | ColumnType::MYSQL_TYPE_BLOB => UTF8MB4,
            _ => BINARY_CHARSET,
        })
}

fn one(ty: ColumnType, v: mysql::Value) -> FakeRow {
    FakeRow(vec![(col(ty, "c"), v)])
}

fn decode_error(r: Result<impl fmt::Debug>) -> String {
    match r {
        Ok(v) => panic!("decoded {v:?}"),
        Err(Error::Decode(d)) => d.to_string(),
        Err(other) => panic!("not a decode error: {other}"),
    }
}

#[test]
fn integers_decode_from_every_protocol() {
    use ColumnType::*;
    use mysql::Value as M;
    let get = |ty, v| {
        let row = one(ty, v);
        MysqlRow { row: &row }.get_i64(0)
    };
    assert_eq!(
        get(MYSQL_TYPE_LONGLONG, M::Int(i64::MIN)).unwrap(),
        Some(i64::MIN)
    );
    assert_eq!(get(MYSQL_TYPE_LONGLONG, M::UInt(7)).unwrap(), Some(7));
    assert_eq!(get(MYSQL_TYPE_LONGLONG, M::NULL).unwrap(), None);
    // Text protocol and DECIMAL results such as SUM().
    assert_eq!(
        get(MYSQL_TYPE_LONG, M::Bytes(b"-42".to_vec())).unwrap(),
        Some(-42)
    );
    assert_eq!(
        get(MYSQL_TYPE_NEWDECIMAL, M::Bytes(b"6.0000".to_vec())).unwrap(),
        Some(6)
    );
    assert_eq!(
        get(MYSQL_TYPE_BIT, M::Bytes(vec![1, 0])).unwrap(),
        Some(256)
    );
    let err = decode_error(get(MYSQL_TYPE_LONGLONG, M::UInt(u64::MAX)));
    assert_eq!(
        err,
        "cannot decode column \"c\" as an integer: found 18446744073709551615, which is out of \
         range"
    );
    let err = decode_error(get(MYSQL_TYPE_NEWDECIMAL, M::Bytes(b"6.5".to_vec())));
    assert!(
        err.ends_with("found a DECIMAL value with a fraction (6.5)"),
        "{err}"
    );
    let err = decode_error(get(MYSQL_TYPE_DATETIME, M::Date(2024, 1, 1, 0, 0, 0, 0)));
    assert!(err.ends_with("found a DATETIME value"), "{err}");
    let err = decode_error(get(MYSQL_TYPE_VAR_STRING, M::Bytes(b"5".to_vec())));
    assert!(err.ends_with("found a VARCHAR value"), "{err}");
}

#[test]
fn booleans_are_zero_or_one() {
    use ColumnType::*;
    use mysql::Value as M;
    let get = |ty, v| {
        let row = one(ty, v);
        MysqlRow { row: &row }.get_bool(0)
    };
    assert_eq!(get(MYSQL_TYPE_TINY, M::Int(0)).unwrap(), Some(false));
    assert_eq!(get(MYSQL_TYPE_TINY, M::Int(1)).unwrap(), Some(true));
    assert_eq!(
        get(MYSQL_TYPE_TINY, M::Bytes(b"1".to_vec())).unwrap(),
        Some(true)
    );
    assert_eq!(get(MYSQL_TYPE_BIT, M::Bytes(vec![0])).unwrap(), Some(false));
    let err = decode_error(get(MYSQL_TYPE_TINY, M::Int(2)));
    assert!(
        err.ends_with("found the TINYINT 2, which is neither 0 nor 1"),
        "{err}"
    );
}

#[test]
fn text_must_be_a_string_column_and_utf8() {
    use ColumnType::*;
    use mysql::Value as M;
    let get = |ty, v| {
        let row = one(ty, v);
        MysqlRow { row: &row }.get_text(0)
    };
    assert_eq!(
        get(MYSQL_TYPE_VAR_STRING, M::Bytes("héllo".into()))
            .unwrap()
            .as_deref(),
        Some("héllo")
    );
    let err = decode_error(get(MYSQL_TYPE_BLOB, M::Bytes(vec![0xff])));
    assert!(
        err.ends_with("found a TEXT value that is not valid UTF-8"),
        "{err}"
    );
    let err = decode_error(get(MYSQL_TYPE_LONG, M::Int(1)));
    assert_eq!(
        err,
        "cannot decode column \"c\" as String: found an INT value"
    );
}

#[test]
fn dates_times_and_timestamps_decode_natively_and_from_text() {
    use ColumnType::*;
    use mysql::Value as M;
    let day = temporal::parse_date("2024-02-29").unwrap();
    let ts = temporal::parse_timestamp("2024-02-29 13:45:00.25").unwrap();
    let row = FakeRow(vec![
        (col(MYSQL_TYPE_DATE, "d"), M::Date(2024, 2, 29, 0, 0, 0, 0)),
        (col(MYSQL_TYPE_DATE, "dt"), M::Bytes(b"2024-02-29".to_vec())),
        (
            col(MYSQL_TYPE_DATETIME, "ts"),
            M::Date(2024, 2, 29, 13, 45, 0, 250_000),
        ),
        (
            col(MYSQL_TYPE_DATETIME, "tst"),
            M::Bytes(b"2024-02-29 13:45:00.250000".to_vec()),
        ),
        (
            col(MYSQL_TYPE_TIME, "t"),
            M::Time(false, 0, 13, 45, 0, 250_000),
        ),
        (
            col(MYSQL_TYPE_TIME, "tt"),
            M::Bytes(b"13:45:00.250000".to_vec()),
        ),
        (col(MYSQL_TYPE_TIME, "long"), M::Time(true, 1, 0, 0, 0, 0)),
        (col(MYSQL_TYPE_DATE, "zero"), M::Date(0, 0, 0, 0, 0, 0, 0)),
    ]);
    let row = MysqlRow { row: &row };
    assert_eq!(row.get_date(0).unwrap(), Some(day));
    assert_eq!(row.get_date(1).unwrap(), Some(day));
    assert_eq!(row.get_value(0).unwrap(), Value::Date(day));
    assert_eq!(row.get_value(1).unwrap(), Value::Date(day));
    assert_eq!(row.get_timestamp(2).unwrap(), Some(ts));
    assert_eq!(row.get_timestamp(3).unwrap(), Some(ts));
    assert_eq!(row.get_value(2).unwrap(), Value::Timestamp(ts));
    assert_eq!(row.get_value(3).unwrap(), Value::Timestamp(ts));
    assert_eq!(row.get_time(4).unwrap(), Some(49_500_250_000));
    assert_eq!(row.get_time(5).unwrap(), Some(49_500_250_000));
    assert_eq!(row.get_value(6).unwrap(), Value::Time(-MICROS_PER_DAY));
    let err = decode_error(row.get_time(6));
    assert!(
        err.ends_with("found the TIME -24:00:00, which is not a time of day"),
        "{err}"
    );
    let err = decode_error(row.get_date(2));
    assert!(
        err.ends_with("found a DATETIME value with a time of day"),
        "{err}"
    );
    let err = decode_error(row.get_date(3));
    assert!(
        err.ends_with("found a DATETIME value with a time of day"),
        "{err}"
    );
    let err = decode_error(row.get_timestamp(0));
    assert!(err.ends_with("found a DATE value"), "{err}");
    let err = decode_error(row.get_date(7));
    assert!(
        err.ends_with("found the date 0000-00-00, which is not a calendar date"),
        "{err}"
    );
    assert_eq!(row.get_value(7).unwrap(), Value::Text("0000-00-00".into()));
}

#[test]
fn decimals_uuids_json_and_blobs() {
    use ColumnType::*;
    use mysql::Value as M;
    let u = temporal::parse_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    let row = FakeRow(vec![
        (
            col(MYSQL_TYPE_NEWDECIMAL, "dec"),
            M::Bytes(b"-12.340".to_vec()),
        ),
        (
            col(MYSQL_TYPE_STRING, "u32"),
            M::Bytes(b"67e5504410b1426f9247bb680e5fe0c8".to_vec()),
        ),
        (
            col(MYSQL_TYPE_STRING, "u36"),
            M::Bytes(b"67e55044-10b1-426f-9247-bb680e5fe0c8".to_vec()),
        ),
        (
            col(MYSQL_TYPE_STRING, "u16").with_character_set(BINARY_CHARSET),
            M::Bytes(u.to_vec()),
        ),
        (col(MYSQL_TYPE_JSON, "j"), M::Bytes(b"{\"a\": 1}".to_vec())),
        (
            col(MYSQL_TYPE_BLOB, "b").with_character_set(BINARY_CHARSET),
            M::Bytes(vec![0, 1, 0]),
        ),
        (col(MYSQL_TYPE_LONGLONG, "big"), M::UInt(u64::MAX)),
    ]);
    let row = MysqlRow { row: &row };
    assert_eq!(row.get_decimal(0).unwrap().as_deref(), Some("-12.340"));
    assert_eq!(row.get_value(0).unwrap(), Value::Decimal("-12.340".into()));
    assert_eq!(row.get_uuid(1).unwrap(), Some(u));
    assert_eq!(row.get_uuid(2).unwrap(), Some(u));
    assert_eq!(row.get_uuid(3).unwrap(), Some(u));
    assert_eq!(row.get_json(4).unwrap().as_deref(), Some("{\"a\": 1}"));
    assert_eq!(row.get_value(4).unwrap(), Value::Json("{\"a\": 1}".into()));
    assert_eq!(row.get_blob(5).unwrap(), Some(vec![0, 1, 0]));
    assert_eq!(row.get_value(5).unwrap(), Value::Blob(vec![0, 1, 0]));
    assert_eq!(
        row.get_value(6).unwrap(),
        Value::Decimal(u64::MAX.to_string())
    );
    assert_eq!(row.get_decimal(6).unwrap(), Some(u64::MAX.to_string()));
    let err = decode_error(row.get_uuid(0));
    assert!(err.ends_with("found a DECIMAL value"), "{err}");
    assert!(matches!(row.get_i64(9), Err(Error::NoSuchColumn(_))));
}
