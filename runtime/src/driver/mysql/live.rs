//! A live smoke suite against `QUARRY_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`).
//! Without a server the tests print why and pass, unless `CI=true`.

use super::*;
use crate::value::RawRow;

fn decode_error(r: Result<impl fmt::Debug>) -> String {
    match r {
        Ok(v) => panic!("decoded {v:?}"),
        Err(Error::Decode(d)) => d.to_string(),
        Err(other) => panic!("not a decode error: {other}"),
    }
}

fn live() -> Option<(MysqlDriver, Box<dyn DriverConnection>)> {
    let url = std::env::var("QUARRY_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
    let url = Url::parse(&url).expect("QUARRY_MYSQL_URL is a valid URL");
    let driver = MysqlDriver::new(&url).expect("QUARRY_MYSQL_URL is a MySQL URL");
    match driver.connect() {
        Ok(conn) => Some((driver, conn)),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no MySQL server at {url}: {e}")
        }
        Err(e) => {
            eprintln!("skipping live MySQL test: no server at {url}: {e}");
            None
        }
    }
}

/// A table name no other test (or test run) uses.
fn unique_table(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "quarry_{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Collects column names and rows as dynamic values, and runs `check` on each raw row.
struct Collect<F> {
    columns: Option<Vec<String>>,
    rows: Vec<Vec<Value>>,
    check: F,
}

impl<F: FnMut(&dyn RawRow) -> Result<()>> RowSink for Collect<F> {
    fn columns(&mut self, names: &[&str]) {
        assert!(self.columns.is_none(), "columns() called twice");
        self.columns = Some(names.iter().map(|n| (*n).to_owned()).collect());
    }

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        assert!(self.columns.is_some(), "row() before columns()");
        (self.check)(row)?;
        let values = (0..row.len())
            .map(|i| row.get_value(i))
            .collect::<Result<_>>()?;
        self.rows.push(values);
        Ok(())
    }
}

struct Ran {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    outcome: Outcome,
}

fn run_checked(
    conn: &mut dyn DriverConnection,
    sql: &str,
    params: &[Value],
    check: impl FnMut(&dyn RawRow) -> Result<()>,
) -> Result<Ran> {
    let mut sink = Collect {
        columns: None,
        rows: Vec::new(),
        check,
    };
    let outcome = conn.run(sql, params, &mut sink)?;
    Ok(Ran {
        columns: sink.columns.expect("columns() was called"),
        rows: sink.rows,
        outcome,
    })
}

fn run(conn: &mut dyn DriverConnection, sql: &str, params: &[Value]) -> Result<Ran> {
    run_checked(conn, sql, params, |_| Ok(()))
}

fn count(conn: &mut dyn DriverConnection, table: &str) -> i64 {
    let ran = run(conn, &format!("SELECT COUNT(*) FROM {table}"), &[]).unwrap();
    match ran.rows[0][0] {
        Value::I64(n) => n,
        ref other => panic!("COUNT(*) gave {other:?}"),
    }
}

fn no_sink() -> impl RowSink {
    Collect {
        columns: None,
        rows: Vec::new(),
        check: |_: &dyn RawRow| Ok(()),
    }
}

/// Trailing zeros of a DECIMAL(65, 30) off: `-12.340000…` → `-12.34`.
fn trim_decimal(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[test]
fn every_value_kind_round_trips() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let t = unique_table("values");
    conn.batch(&format!(
        "CREATE TEMPORARY TABLE {t} (id INT PRIMARY KEY, b BOOL, i16 SMALLINT, i32 INT, \
         i64 BIGINT, f32 FLOAT, f64 DOUBLE, txt TEXT, blb BLOB, d DATE, tm TIME(6), \
         ts DATETIME(6), tstz DATETIME(6), u CHAR(32), j JSON, amount DECIMAL(65, 30))"
    ))
    .unwrap();
    let date = |s| Value::Date(temporal::parse_date(s).unwrap());
    let time = |s| Value::Time(temporal::parse_time(s).unwrap());
    let stamp = |s| Value::Timestamp(temporal::parse_timestamp(s).unwrap());
    let uuid = |s| Value::Uuid(temporal::parse_uuid(s).unwrap());
    let rows: Vec<Vec<Value>> = vec![
        vec![
            Value::I32(1),
            Value::Bool(false),
            Value::I16(i16::MIN),
            Value::I32(i32::MIN),
            Value::I64(i64::MIN),
            Value::F32(-1.5),
            Value::F64(f64::MIN_POSITIVE),
            Value::Text(String::new()),
            Value::Blob(Vec::new()),
            date("1000-01-01"),
            time("00:00:00"),
            stamp("1000-01-01 00:00:00"),
            Value::TimestampTz(temporal::parse_timestamp("1970-01-01T02:00:00+02:00").unwrap()),
            uuid("00000000000000000000000000000000"),
            Value::Json("[]".into()),
            Value::Decimal("-12.340".into()),
        ],
        vec![
            Value::I32(2),
            Value::Bool(true),
            Value::I16(i16::MAX),
            Value::I32(i32::MAX),
            Value::I64(i64::MAX),
            Value::F32(3.25),
            Value::F64(1e300),
            Value::Text("héllo 🦀 'quoted' \\ back\nslash \"".into()),
            Value::Blob(vec![0, 1, 0, 255, 0]),
            date("9999-12-31"),
            time("23:59:59.999999"),
            stamp("9999-12-31 23:59:59.999999"),
            Value::TimestampTz(temporal::parse_timestamp("2024-02-29 13:45:00.25Z").unwrap()),
            uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            Value::Json("{\"a\": [1, \"x\"]}".into()),
            Value::Decimal("12345678901234567890.123456789012345678901234567890".into()),
        ],
        std::iter::once(Value::I32(3))
            .chain(std::iter::repeat_n(Value::Null, 15))
            .collect(),
    ];
    let insert = format!("INSERT INTO {t} VALUES (?{})", ", ?".repeat(15));
    for row in &rows {
        let ran = run(conn, &insert, row).unwrap();
        assert!(ran.columns.is_empty());
        assert_eq!(ran.outcome.rows_affected, 1);
        assert_eq!(ran.outcome.last_insert_id, None, "no AUTO_INCREMENT column");
    }

    let mut typed: Vec<Vec<Value>> = Vec::new();
    let ran = run_checked(conn, &format!("SELECT * FROM {t} ORDER BY id"), &[], |r| {
        let f32_value = r.get_f64(5)?.map(|v| Value::F32(v as f32));
        typed.push(vec![
            Value::I32(r.get_i64(0)?.unwrap() as i32),
            r.get_bool(1)?.map_or(Value::Null, Value::Bool),
            r.get_i64(2)?.map_or(Value::Null, |v| Value::I16(v as i16)),
            r.get_i64(3)?.map_or(Value::Null, |v| Value::I32(v as i32)),
            r.get_i64(4)?.map_or(Value::Null, Value::I64),
            f32_value.unwrap_or(Value::Null),
            r.get_f64(6)?.map_or(Value::Null, Value::F64),
            r.get_text(7)?.map_or(Value::Null, Value::Text),
            r.get_blob(8)?.map_or(Value::Null, Value::Blob),
            r.get_date(9)?.map_or(Value::Null, Value::Date),
            r.get_time(10)?.map_or(Value::Null, Value::Time),
            r.get_timestamp(11)?.map_or(Value::Null, Value::Timestamp),
            r.get_timestamp(12)?.map_or(Value::Null, Value::TimestampTz),
            r.get_uuid(13)?.map_or(Value::Null, Value::Uuid),
            r.get_json(14)?.map_or(Value::Null, Value::Json),
            r.get_decimal(15)?
                .map_or(Value::Null, |d| Value::Decimal(trim_decimal(&d).to_owned())),
        ]);
        for i in 0..r.len() {
            assert_eq!(r.is_null(i)?, r.get_value(i)? == Value::Null);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        ran.columns,
        [
            "id", "b", "i16", "i32", "i64", "f32", "f64", "txt", "blb", "d", "tm", "ts", "tstz",
            "u", "j", "amount"
        ]
    );
    assert_eq!(ran.outcome.rows_affected, 3, "rows fetched");
    let mut expected = rows.clone();
    expected[0][15] = Value::Decimal("-12.34".into());
    expected[1][15] = Value::Decimal("12345678901234567890.12345678901234567890123456789".into());
    assert_eq!(typed, expected);

    // Dynamic values: the closest Value of each column type.
    let dynamic = &ran.rows[1];
    assert_eq!(dynamic[1], Value::I64(1));
    assert_eq!(dynamic[2], Value::I64(i64::from(i16::MAX)));
    assert_eq!(dynamic[5], Value::F32(3.25));
    assert_eq!(dynamic[6], Value::F64(1e300));
    assert_eq!(dynamic[7], rows[1][7]);
    assert_eq!(dynamic[8], rows[1][8]);
    assert_eq!(dynamic[9], rows[1][9]);
    assert_eq!(dynamic[10], rows[1][10]);
    assert_eq!(dynamic[11], rows[1][11]);
    assert_eq!(
        dynamic[13],
        Value::Text("67e5504410b1426f9247bb680e5fe0c8".into())
    );
    // MariaDB's JSON is LONGTEXT; MySQL's is its own type.
    assert!(
        matches!(&dynamic[14], Value::Json(j) | Value::Text(j) if j == "{\"a\": [1, \"x\"]}"),
        "{:?}",
        dynamic[14]
    );
    assert!(matches!(&dynamic[15], Value::Decimal(d) if d.starts_with("12345678901234567890.1")));
    assert!(ran.rows[2][1..].iter().all(|v| *v == Value::Null));

    // Parameters echoed back keep their kind.
    let mut echoed = Vec::new();
    run_checked(
        conn,
        "SELECT ?, ?, ?, ?",
        &[
            rows[1][9].clone(),
            rows[1][10].clone(),
            rows[1][11].clone(),
            rows[1][4].clone(),
        ],
        |r| {
            echoed.push((
                r.get_date(0)?,
                r.get_time(1)?,
                r.get_timestamp(2)?,
                r.get_i64(3)?,
            ));
            Ok(())
        },
    )
    .unwrap();
    let as_i64 = |v: &Value| match v {
        Value::I64(v) | Value::Time(v) | Value::Timestamp(v) => *v,
        Value::Date(d) => i64::from(*d),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        echoed,
        [(
            Some(as_i64(&rows[1][9]) as i32),
            Some(as_i64(&rows[1][10])),
            Some(as_i64(&rows[1][11])),
            Some(i64::MAX)
        )]
    );
    conn.batch(&format!("DROP TEMPORARY TABLE {t}")).unwrap();
}

#[test]
fn decoding_names_what_it_found() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let mut errors = Vec::new();
    let ran = run_checked(
        conn,
        "SELECT SUM(x), AVG(x), CAST('2024-02-29 13:45:00' AS DATETIME), 2 \
         FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) AS s",
        &[],
        |r| {
            assert_eq!(r.get_i64(0)?, Some(6), "SUM() is a DECIMAL");
            assert_eq!(r.get_i64(1)?, Some(2), "AVG() is 2.0000");
            errors.push(decode_error(r.get_text(2)));
            errors.push(decode_error(r.get_bool(3)));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(ran.rows.len(), 1);
    assert!(
        errors[0].ends_with("found a DATETIME value"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("which is neither 0 nor 1"),
        "{}",
        errors[1]
    );
}

#[test]
fn rows_affected_and_auto_increment_ids() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let t = unique_table("ids");
    conn.batch(&format!(
        "CREATE TEMPORARY TABLE {t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL)"
    ))
    .unwrap();
    let insert = format!("INSERT INTO {t} (n) VALUES (?)");
    for (n, id) in [(10, 1), (20, 2), (20, 3)] {
        let ran = run(conn, &insert, &[Value::I32(n)]).unwrap();
        assert_eq!(ran.outcome.rows_affected, 1);
        assert_eq!(ran.outcome.last_insert_id, Some(id));
    }
    // Matched rows, not changed rows, as on the other backends (CLIENT_FOUND_ROWS).
    let ran = run(
        conn,
        &format!("UPDATE {t} SET n = 20 WHERE n >= ?"),
        &[Value::I32(10)],
    )
    .unwrap();
    assert_eq!(ran.outcome.rows_affected, 3);
    assert_eq!(ran.outcome.last_insert_id, None);
    let ran = run(
        conn,
        &format!("DELETE FROM {t} WHERE n = ?"),
        &[Value::I32(20)],
    )
    .unwrap();
    assert_eq!(ran.outcome.rows_affected, 3);
    let ran = run(conn, &format!("SELECT id FROM {t}"), &[]).unwrap();
    assert_eq!(ran.columns, ["id"], "columns also without rows");
    assert!(ran.rows.is_empty());
    assert_eq!(ran.outcome.rows_affected, 0);
    conn.batch(&format!("DROP TEMPORARY TABLE {t}")).unwrap();
}

#[test]
fn constraint_violations_carry_kind_code_and_name() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let t = unique_table("uniq");
    conn.batch(&format!(
        "CREATE TEMPORARY TABLE {t} (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT, \
         CONSTRAINT {t}_name UNIQUE (name), CONSTRAINT {t}_qty CHECK (qty >= 0))"
    ))
    .unwrap();
    let insert = format!("INSERT INTO {t} (id, name, qty) VALUES (?, ?, ?)");
    let row = |id: i32, name: Option<&str>, qty: i32| {
        vec![
            Value::I32(id),
            name.map_or(Value::Null, |n| Value::Text(n.into())),
            Value::I32(qty),
        ]
    };
    run(conn, &insert, &row(1, Some("a"), 1)).unwrap();
    let failure = |conn: &mut dyn DriverConnection, params: Vec<Value>| {
        let Err(err) = conn.run(&insert, &params, &mut no_sink()) else {
            panic!("{params:?} was accepted");
        };
        assert!(!err.is_disconnect());
        let db = err.as_database().expect("a database error");
        assert_eq!(db.sql(), Some(insert.as_str()));
        assert_eq!(db.params(), params.as_slice());
        (
            db.kind(),
            db.code().map(str::to_owned),
            db.constraint().map(str::to_owned),
        )
    };
    let (kind, code, constraint) = failure(conn, row(2, Some("a"), 1));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
    assert_eq!(code.as_deref(), Some("1062"));
    // MariaDB names the key, MySQL 8 table.key.
    let constraint = constraint.unwrap();
    assert!(constraint.ends_with(&format!("{t}_name")), "{constraint}");
    let (kind, code, constraint) = failure(conn, row(1, Some("b"), 1));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
    assert_eq!(code.as_deref(), Some("1062"));
    assert!(constraint.unwrap().ends_with("PRIMARY"));
    let (kind, code, constraint) = failure(conn, row(3, None, 1));
    assert_eq!(kind, DatabaseErrorKind::NotNullViolation);
    assert_eq!(code.as_deref(), Some("1048"));
    assert_eq!(constraint.as_deref(), Some("name"));
    let (kind, _, constraint) = failure(conn, row(4, Some("c"), -1));
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
    assert_eq!(constraint, Some(format!("{t}_qty")));
    // The connection is still usable after each failure.
    assert_eq!(count(conn, &t), 1);
    conn.batch(&format!("DROP TEMPORARY TABLE {t}")).unwrap();
}

#[test]
fn rollback_discards_and_commit_keeps() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let t = unique_table("tx");
    conn.batch(&format!(
        "CREATE TEMPORARY TABLE {t} (id INT PRIMARY KEY) ENGINE=InnoDB"
    ))
    .unwrap();
    let insert = format!("INSERT INTO {t} VALUES (?)");
    assert!(!conn.in_transaction());
    conn.rollback().unwrap(); // no transaction: nothing to do

    conn.begin().unwrap();
    assert!(conn.in_transaction());
    let err = conn.begin().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("a transaction is already open on this connection"),
        "{err}"
    );
    assert!(conn.in_transaction());
    run(conn, &insert, &[Value::I32(1)]).unwrap();
    assert_eq!(count(conn, &t), 1);
    conn.rollback().unwrap();
    assert!(!conn.in_transaction());
    assert_eq!(count(conn, &t), 0);

    conn.begin().unwrap();
    run(conn, &insert, &[Value::I32(2)]).unwrap();
    conn.commit().unwrap();
    assert!(!conn.in_transaction());
    conn.rollback().unwrap();
    assert_eq!(count(conn, &t), 1);
    conn.batch(&format!("DROP TEMPORARY TABLE {t}")).unwrap();
}

#[test]
fn statements_the_server_cannot_prepare_run_as_text() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    // PREPARE and EXECUTE are refused by the prepared statement protocol (error 1295).
    run(
        conn,
        "PREPARE quarry_stmt FROM 'SELECT 41 + 1 AS answer, NOW() AS now'",
        &[],
    )
    .unwrap();
    let mut answers = Vec::new();
    let ran = run_checked(conn, "EXECUTE quarry_stmt", &[], |r| {
        answers.push((r.get_i64(0)?, r.get_timestamp(1)?.is_some()));
        Ok(())
    })
    .unwrap();
    assert_eq!(ran.columns, ["answer", "now"]);
    assert_eq!(answers, [(Some(42), true)]);
    assert_eq!(
        ran.rows[0][0],
        Value::I64(42),
        "text protocol decodes by column type"
    );
    assert!(matches!(ran.rows[0][1], Value::Timestamp(_)));
    run(conn, "DEALLOCATE PREPARE quarry_stmt", &[]).unwrap();
    // With parameters there is no fallback.
    let err = conn
        .run(
            "PREPARE quarry_stmt FROM ?",
            &[Value::Text("SELECT 1".into())],
            &mut no_sink(),
        )
        .err()
        .unwrap();
    assert_eq!(err.as_database().unwrap().code(), Some("1295"));
}

#[test]
fn batch_runs_several_statements_and_reports_a_later_failure() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let t = unique_table("batch");
    conn.batch(&format!(
        "CREATE TEMPORARY TABLE {t} (id INT); INSERT INTO {t} VALUES (1), (2); SELECT 1"
    ))
    .unwrap();
    assert_eq!(count(conn, &t), 2);
    let sql = format!("INSERT INTO {t} VALUES (3); SELECT * FROM quarry_no_such_table");
    let err = conn.batch(&sql).unwrap_err();
    let db = err.as_database().unwrap();
    assert_eq!(db.kind(), DatabaseErrorKind::Syntax);
    assert_eq!(db.code(), Some("1146"));
    assert_eq!(db.sql(), Some(sql.as_str()));
    assert_eq!(count(conn, &t), 3, "the statement before the failure ran");
    conn.batch(&format!("DROP TEMPORARY TABLE {t}")).unwrap();
}

#[test]
fn parameter_count_must_match() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let err = conn
        .run("SELECT ?, ?", &[Value::I32(1)], &mut no_sink())
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "statement expects 2 parameters but 1 were given: SELECT ?, ?"
    );
    // Again, the statement now kept: the same error, and the connection still serves.
    let err = conn
        .run("SELECT ?, ?", &[Value::I32(1)], &mut no_sink())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "statement expects 2 parameters but 1 were given: SELECT ?, ?"
    );
    let ran = run(conn, "SELECT ?, ?", &[Value::I32(1), Value::I32(2)]).unwrap();
    assert_eq!(ran.rows, [[Value::I64(1), Value::I64(2)]]);
    let err = conn.run("SELEC 1", &[], &mut no_sink()).unwrap_err();
    assert_eq!(err.as_database().unwrap().kind(), DatabaseErrorKind::Syntax);
    assert_eq!(err.as_database().unwrap().code(), Some("1064"));
    assert_eq!(run(conn, "SELECT 1", &[]).unwrap().rows, [[Value::I64(1)]]);
}

/// Statements this session prepared and has not closed, as the server counts them.
fn open_statements(conn: &mut dyn DriverConnection) -> i64 {
    let ran = run(
        conn,
        "SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_close')",
        &[],
    )
    .unwrap();
    let mut open = 0;
    for row in &ran.rows {
        let (Value::Text(name), Value::Text(n)) = (&row[0], &row[1]) else {
            panic!("SHOW SESSION STATUS gave {row:?}");
        };
        let n: i64 = n.parse().unwrap();
        open += if name.eq_ignore_ascii_case("Com_stmt_prepare") {
            n
        } else {
            -n
        };
    }
    open
}

#[test]
fn kept_statements_stay_bounded_and_in_step_with_the_crate_cache() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let before = open_statements(conn);
    let distinct = STMT_CACHE_SIZE + 44;
    for round in 0..2i64 {
        for i in 0..distinct as i64 {
            // Each text once per round: the crate evicts (and closes) the oldest.
            let ran = run(conn, &format!("SELECT {i} + ?"), &[Value::I64(round)]).unwrap();
            assert_eq!(ran.rows, [[Value::I64(i + round)]], "statement {i}");
            // One text on every turn: kept by the memo, never seen by the crate's cache
            // after its first prepare, so both must evict it together or the memo would run
            // a statement the crate closed.
            let ran = run(conn, "SELECT 'hot', ?", &[Value::I64(i)]).unwrap();
            assert_eq!(ran.rows, [[Value::Text("hot".into()), Value::I64(i)]]);
        }
        let open = open_statements(conn) - before;
        assert!(
            (1..=STMT_CACHE_SIZE as i64 + 1).contains(&open),
            "round {round}: {open} statements open on the server"
        );
    }
}

#[test]
fn kept_statements_survive_a_rollback_and_are_dropped_for_native_use() {
    let Some((_, mut conn)) = live() else { return };
    let conn = conn.as_mut();
    let sql = "SELECT ? + 1";
    assert_eq!(
        run(conn, sql, &[Value::I64(1)]).unwrap().rows,
        [[Value::I64(2)]]
    );
    // The pool's reset on return.
    conn.begin().unwrap();
    assert_eq!(
        run(conn, sql, &[Value::I64(2)]).unwrap().rows,
        [[Value::I64(3)]]
    );
    conn.rollback().unwrap();
    assert_eq!(
        run(conn, sql, &[Value::I64(3)]).unwrap().rows,
        [[Value::I64(4)]]
    );
    // A native reset drops every statement on the server, and statements prepared natively
    // afterwards may get the ids the memo held.
    {
        let native = conn.as_any_mut().downcast_mut::<mysql::Conn>().unwrap();
        native.reset().unwrap();
        for _ in 0..3 {
            let stmt = native.prep("SELECT 'native', ?").unwrap();
            let _: Option<(String, i64)> = native.exec_first(&stmt, (0,)).unwrap();
        }
    }
    conn.rollback().unwrap();
    assert_eq!(
        run(conn, sql, &[Value::I64(4)]).unwrap().rows,
        [[Value::I64(5)]]
    );
    let ran = run(conn, "SELECT ? + 10", &[Value::I64(1)]).unwrap();
    assert_eq!(ran.rows, [[Value::I64(11)]]);
}

#[test]
fn killed_connection_is_a_disconnect_and_ends_the_transaction() {
    let Some((driver, mut conn)) = live() else {
        return;
    };
    let conn = conn.as_mut();
    conn.ping().unwrap();
    let ran = run(conn, "SELECT CONNECTION_ID()", &[]).unwrap();
    let Value::I64(id) = ran.rows[0][0] else {
        panic!("CONNECTION_ID() gave {:?}", ran.rows[0][0]);
    };
    conn.begin().unwrap();
    let mut killer = driver.connect().unwrap();
    killer.batch(&format!("KILL {id}")).unwrap();
    let err = conn.ping().unwrap_err();
    assert!(err.is_disconnect(), "{err:?}");
    assert_eq!(
        err.as_database().unwrap().kind(),
        DatabaseErrorKind::Connection
    );
    assert!(!conn.in_transaction());
    let err = conn.run("SELECT 1", &[], &mut no_sink()).unwrap_err();
    assert!(err.is_disconnect(), "{err:?}");
}

#[test]
fn init_command_runs_on_connect_and_its_failure_is_named() {
    let Some((_, _)) = live() else { return };
    let base = std::env::var("QUARRY_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = Url::parse(&format!(
        "{base}{sep}init_command=SET%20@quarry_init%20%3D%207&program_name=quarry-test"
    ))
    .unwrap();
    let mut conn = MysqlDriver::new(&url).unwrap().connect().unwrap();
    let ran = run(
        conn.as_mut(),
        "SELECT @quarry_init, @@character_set_client",
        &[],
    )
    .unwrap();
    assert_eq!(ran.rows[0][0], Value::I64(7));
    assert_eq!(ran.rows[0][1], Value::Text("utf8mb4".into()));

    let url = Url::parse(&format!("{base}{sep}init_command=SELEC%201")).unwrap();
    let Err(err) = MysqlDriver::new(&url).unwrap().connect() else {
        panic!("a bad init_command was accepted");
    };
    assert!(
        err.to_string()
            .starts_with("init_command failed on MySQL at "),
        "{err}"
    );
    assert_eq!(err.as_database().unwrap().sql(), Some("SELEC 1"));
}
