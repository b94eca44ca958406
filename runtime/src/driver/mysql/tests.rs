//! URL options, error classification and parameter binding, without a server.

use super::*;

fn settings(url: &str) -> Result<Settings> {
    Settings::from_url(&Url::parse(url)?)
}

fn url_error(url: &str) -> String {
    match settings(url) {
        Ok(s) => panic!("{url} was accepted: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn url_defaults_to_local_port_3306() {
    let s = settings("mysql://").unwrap();
    assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 3306));
    assert_eq!((&s.user, &s.password, &s.database), (&None, &None, &None));
    assert_eq!(s.address(), "127.0.0.1:3306");
}

#[test]
fn url_gives_user_password_host_port_database() {
    let s = settings("mariadb://scott:ti%40ger@db.example:3307/shop").unwrap();
    assert_eq!(s.host, "db.example");
    assert_eq!(s.port, 3307);
    assert_eq!(s.user.as_deref(), Some("scott"));
    assert_eq!(s.password.as_deref(), Some("ti@ger"));
    assert_eq!(s.database.as_deref(), Some("shop"));
    let opts = s.opts();
    assert_eq!(opts.get_pass(), Some("ti@ger"));
    assert!(!opts.get_prefer_socket());
    assert_eq!(opts.get_stmt_cache_size(), 256);
}

#[test]
fn debug_never_shows_the_password() {
    let driver = MysqlDriver::new(&Url::parse("mysql://u:hunter2@h/db").unwrap()).unwrap();
    let shown = format!("{driver:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("\"h\""), "{shown}");
}

#[test]
fn connect_timeout_is_in_seconds() {
    let s = settings("mysql://h/db?connect_timeout=2.5").unwrap();
    assert_eq!(s.connect_timeout, Some(Duration::from_millis(2500)));
    assert_eq!(
        s.opts().get_tcp_connect_timeout(),
        Some(Duration::from_millis(2500))
    );
    let err = url_error("mysql://h/db?connect_timeout=soon");
    assert!(
        err.contains(
            "connect_timeout=soon is not allowed: connect_timeout must be a number of \
             seconds greater than 0 and at most 31536000"
        ),
        "{err}"
    );
    assert!(url_error("mysql://h/db?connect_timeout=0").contains("greater than 0"));
}

#[test]
fn charset_accepts_only_utf8() {
    settings("mysql://h/db?charset=utf8mb4").unwrap();
    settings("mysql://h/db?charset=UTF8").unwrap();
    let err = url_error("mysql://h/db?charset=latin1");
    assert!(err.contains("charset \"latin1\" is not supported"), "{err}");
}

#[test]
fn init_commands_run_in_order_and_other_keys_only_once() {
    let s = settings("mysql://h/db?init_command=SET%20a%3D1&init_command=SET%20b%3D2").unwrap();
    assert_eq!(s.init_commands, ["SET a=1", "SET b=2"]);
    let err = url_error("mysql://h/db?connect_timeout=1&connect_timeout=2");
    assert!(
        err.contains("query argument \"connect_timeout\" is given twice"),
        "{err}"
    );
}

#[test]
fn program_name_is_sent_as_a_connection_attribute() {
    let opts = settings("mysql://h/db?program_name=billing")
        .unwrap()
        .opts();
    let attrs = opts.get_connect_attrs().unwrap();
    assert_eq!(
        attrs.get("program_name").map(String::as_str),
        Some("billing")
    );
}

#[test]
fn tls_is_refused_unless_disabled() {
    for url in [
        "mysql://h/db?ssl=true",
        "mysql://h/db?ssl_mode=REQUIRED",
        "mysql://h/db?ssl_ca=/etc/ca.pem",
    ] {
        let err = url_error(url);
        assert!(err.contains("TLS, which is not built into"), "{err}");
    }
    settings("mysql://h/db?ssl_mode=DISABLED").unwrap();
}

#[test]
fn unknown_arguments_name_the_key_and_the_allowed_ones() {
    let err = url_error("mysql://h/db?application_name=x");
    assert!(
        err.contains(
            "unknown query argument \"application_name\" for MySQL; allowed: charset, \
             connect_timeout, init_command, program_name, prepared_statements, read_timeout, \
             ssl_mode, target_session_attrs, write_timeout"
        ),
        "{err}"
    );
}

#[test]
fn read_and_write_timeouts_are_seconds() {
    let s = settings("mysql://h/db?read_timeout=2.5&write_timeout=3").unwrap();
    assert_eq!(s.read_timeout, Some(Duration::from_millis(2500)));
    assert_eq!(s.write_timeout, Some(Duration::from_secs(3)));
    let err = url_error("mysql://h/db?read_timeout=soon");
    assert!(
        err.contains(
            "read_timeout=soon is not allowed: read_timeout must be a number of \
             seconds greater than 0"
        ),
        "{err}"
    );
}

#[test]
fn only_the_mysql_driver_name_is_accepted() {
    settings("mysql+mysql://h/db").unwrap();
    let err = url_error("mysql+pymysql://h/db");
    assert!(err.contains("unknown MySQL driver \"pymysql\""), "{err}");
}

#[test]
fn refused_connection_is_a_disconnect_naming_host_and_port() {
    // Port 1 is closed on any sane test machine.
    let url = Url::parse("mysql://root:hunter2@127.0.0.1:1/test?connect_timeout=5").unwrap();
    let driver = MysqlDriver::new(&url).unwrap();
    let Err(err) = driver.connect() else {
        panic!("connected to port 1");
    };
    let db = err.as_database().unwrap();
    assert_eq!(db.kind(), DatabaseErrorKind::Connection);
    assert!(err.is_disconnect());
    let shown = err.to_string();
    assert!(
        shown.starts_with("cannot connect to MySQL at 127.0.0.1:1: "),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
}

fn server_error(code: u16, message: &str) -> DatabaseError {
    convert(
        mysql::Error::MySqlError(mysql::MySqlError {
            state: "23000".into(),
            message: message.into(),
            code,
        }),
        Some("INSERT INTO t VALUES (?)"),
        &[Value::I64(1)],
    )
}

#[test]
fn server_errors_are_classified_with_code_and_constraint() {
    let cases: &[(u16, &str, DatabaseErrorKind, Option<&str>)] = &[
        (
            1062,
            "Duplicate entry 'a' for key 'users.name'",
            DatabaseErrorKind::UniqueViolation,
            Some("users.name"),
        ),
        (
            1062,
            "Duplicate entry 'a' for key 'name'",
            DatabaseErrorKind::UniqueViolation,
            Some("name"),
        ),
        (
            1452,
            "Cannot add or update a child row: a foreign key constraint fails (`test`.`child`, \
             CONSTRAINT `child_parent_fk` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`))",
            DatabaseErrorKind::ForeignKeyViolation,
            Some("child_parent_fk"),
        ),
        (
            1451,
            "Cannot delete or update a parent row: a foreign key constraint fails (`test`.`c`, \
             CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `p` (`id`))",
            DatabaseErrorKind::ForeignKeyViolation,
            Some("fk"),
        ),
        (
            1048,
            "Column 'name' cannot be null",
            DatabaseErrorKind::NotNullViolation,
            Some("name"),
        ),
        (
            1364,
            "Field 'name' doesn't have a default value",
            DatabaseErrorKind::NotNullViolation,
            Some("name"),
        ),
        (
            3819,
            "Check constraint 'qty_positive' is violated.",
            DatabaseErrorKind::CheckViolation,
            Some("qty_positive"),
        ),
        (
            4025,
            "CONSTRAINT `qty_positive` failed for `test`.`t`",
            DatabaseErrorKind::CheckViolation,
            Some("qty_positive"),
        ),
        (
            1064,
            "You have an error in your SQL syntax",
            DatabaseErrorKind::Syntax,
            None,
        ),
        (
            1146,
            "Table 'test.nope' doesn't exist",
            DatabaseErrorKind::Syntax,
            None,
        ),
        (
            1054,
            "Unknown column 'x' in 'field list'",
            DatabaseErrorKind::Syntax,
            None,
        ),
        (
            1049,
            "Unknown database 'x'",
            DatabaseErrorKind::Syntax,
            None,
        ),
        (
            1213,
            "Deadlock found when trying to get lock",
            DatabaseErrorKind::Deadlock,
            None,
        ),
        (
            1205,
            "Lock wait timeout exceeded; try restarting transaction",
            DatabaseErrorKind::LockTimeout,
            None,
        ),
        (
            1020,
            "Record has changed since last read in table 't'",
            DatabaseErrorKind::SerializationFailure,
            None,
        ),
        (
            1213,
            "WSREP detected deadlock/conflict and aborted the transaction. Try restarting the transaction",
            DatabaseErrorKind::ClusterConflict,
            None,
        ),
        (
            1047,
            "WSREP has not yet prepared node for application use",
            DatabaseErrorKind::ClusterConflict,
            None,
        ),
        (1047, "Unknown command", DatabaseErrorKind::Other, None),
    ];
    for (code, message, kind, constraint) in cases {
        let err = server_error(*code, message);
        assert_eq!(err.kind(), *kind, "{code}: {message}");
        assert_eq!(err.code(), Some(code.to_string().as_str()));
        assert_eq!(err.constraint(), *constraint, "{code}: {message}");
        assert_eq!(err.message(), *message);
        assert_eq!(err.sql(), Some("INSERT INTO t VALUES (?)"));
        assert_eq!(err.params(), &[Value::I64(1)]);
        assert!(!err.is_disconnect());
    }
}

#[test]
fn lost_connections_are_disconnects() {
    for code in [2006, 2013, 1053, 1927, 4031] {
        let err = server_error(code, "gone");
        assert_eq!(err.kind(), DatabaseErrorKind::Connection, "{code}");
        assert!(err.is_disconnect(), "{code}");
    }
    let io = convert(mysql::Error::server_disconnected(), None, &[]);
    assert_eq!(io.kind(), DatabaseErrorKind::Connection);
    assert!(io.is_disconnect());
    assert!(io.message().starts_with("lost connection to MySQL server"));
    let timeout = convert(
        mysql::Error::DriverError(mysql::DriverError::ConnectTimeout),
        None,
        &[],
    );
    assert!(timeout.is_disconnect());
    assert_eq!(timeout.message(), "could not connect: connection timeout");
}

#[test]
fn mistakes_in_the_call_are_not_disconnects() {
    let err = convert(
        mysql::Error::DriverError(mysql::DriverError::MismatchedStmtParams(2, 1)),
        Some("SELECT ?, ?"),
        &[],
    );
    assert_eq!(err.kind(), DatabaseErrorKind::Other);
    assert!(!err.is_disconnect());
    assert_eq!(
        err.message(),
        "statement takes 2 parameters but 1 was supplied"
    );
}

#[test]
fn values_bind_as_mysql_values() {
    use mysql::Value as M;
    let day = |s| temporal::parse_date(s).unwrap();
    let cases = [
        (Value::Null, M::NULL),
        (Value::Bool(true), M::Int(1)),
        (Value::I16(i16::MIN), M::Int(-32768)),
        (Value::I64(i64::MAX), M::Int(i64::MAX)),
        (Value::F32(1.5), M::Float(1.5)),
        (Value::F64(-2.25), M::Double(-2.25)),
        (Value::Text("é".into()), M::Bytes("é".into())),
        (Value::Blob(vec![0, 255]), M::Bytes(vec![0, 255])),
        (Value::Decimal("-1.50".into()), M::Bytes(b"-1.50".to_vec())),
        (Value::Json("[1]".into()), M::Bytes(b"[1]".to_vec())),
        (
            Value::Date(day("2024-02-29")),
            M::Date(2024, 2, 29, 0, 0, 0, 0),
        ),
        (
            Value::Time(temporal::parse_time("13:45:07.25").unwrap()),
            M::Time(false, 0, 13, 45, 7, 250_000),
        ),
        (Value::Time(-1_000_000), M::Time(true, 0, 0, 0, 1, 0)),
        (
            Value::Time(2 * 86_400_000_000 + 3_600_000_000),
            M::Time(false, 2, 1, 0, 0, 0),
        ),
        (
            Value::Timestamp(temporal::parse_timestamp("1969-12-31 23:59:59.5").unwrap()),
            M::Date(1969, 12, 31, 23, 59, 59, 500_000),
        ),
        (
            Value::TimestampTz(temporal::parse_timestamp("2024-02-29T15:45:00+02:00").unwrap()),
            M::Date(2024, 2, 29, 13, 45, 0, 0),
        ),
        (
            Value::Uuid(temporal::parse_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap()),
            M::Bytes(b"67e5504410b1426f9247bb680e5fe0c8".to_vec()),
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(to_mysql(&v).unwrap(), expected, "{v:?}");
    }
    let err = to_mysql(&Value::Date(day("10000-01-01"))).unwrap_err();
    assert_eq!(
        err,
        "a date 10000-01-01 is outside the years MySQL can store (0000 to 9999)"
    );
}
