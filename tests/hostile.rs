//! Hostile and oversized input (issue 18): URLs that once panicked or leaked their password,
//! DDL string literals, statements over a database's limits, deep expressions, `text()` lexing
//! on the server each rule concerns, and edge values — on every backend.

use quarry::prelude::*;
use quarry::{Error, Url};

mod support;

use support::backends;

mod literals {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// Defaults holding every character a string literal must survive.
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "literal_defaults", metadata = META)]
    pub struct LiteralDefaults {
        #[column(primary_key)]
        pub id: i64,
        #[column(default = "x\\")]
        pub backslash: String,
        #[column(default = "it's 'quoted' ''twice''")]
        pub quotes: String,
        #[column(default = "\\' OR 1=1 -- \\\\n")]
        pub injection: String,
        #[column(default = "naïve ünïcödé ✓ 𝄞 \u{202e}")]
        pub unicode: String,
        #[column(default = "%_?$1:a")]
        pub placeholders: String,
    }

    pub static NUL_META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "nul_default", metadata = NUL_META)]
    pub struct NulDefault {
        #[column(primary_key)]
        pub id: i64,
        #[column(default = "a\0b")]
        pub nul: String,
    }
}

mod numbers {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "numbers", metadata = META)]
    pub struct Number {
        #[column(primary_key)]
        pub id: i64,
        pub n: i64,
    }
}

use literals::{LiteralDefaults, NulDefault};
use numbers::Number;

/// The text of an error, `Display` and `Debug`.
fn texts(e: &Error) -> String {
    format!("{e} | {e:?}")
}

// ---- 1. numeric URL arguments -------------------------------------------------------------

#[test]
fn numeric_url_arguments_out_of_range_are_errors_naming_argument_and_range() {
    let cases: &[(&str, &str)] = &[
        ("sqlite://?timeout=inf", "timeout"),
        ("sqlite://?timeout=NaN", "timeout"),
        ("sqlite://?timeout=-1", "timeout"),
        ("sqlite://?timeout=1e300", "timeout"),
        ("sqlite://?timeout=9999999999", "timeout"),
        ("mysql://u@h/db?connect_timeout=1e300", "connect_timeout"),
        ("mysql://u@h/db?read_timeout=inf", "read_timeout"),
        ("mysql://u@h/db?write_timeout=NaN", "write_timeout"),
        ("mysql://u@h/db?connect_timeout=-5", "connect_timeout"),
        ("mysql://u@h/db?read_timeout=0", "read_timeout"),
        (
            "postgresql://u@h/db?connect_timeout=1e300",
            "connect_timeout",
        ),
        ("postgresql://u@h/db?connect_timeout=-1", "connect_timeout"),
        ("postgresql://u@h/db?connect_timeout=1.5", "connect_timeout"),
        ("postgresql://u@h/db?connect_timeout=NaN", "connect_timeout"),
    ];
    for (url, arg) in cases {
        let result = std::panic::catch_unwind(|| create_engine(url).map(|_| ()));
        let err = match result {
            Err(_) => panic!("{url} panicked"),
            Ok(Ok(())) => panic!("{url} was accepted"),
            Ok(Err(e)) => e,
        };
        let msg = err.to_string();
        assert!(matches!(err, Error::Url { .. }), "{url}: {msg}");
        assert!(msg.contains(&format!("{arg}=")), "{url}: {msg}");
        assert!(
            msg.contains(" from ") || msg.contains("greater than"),
            "{url}: {msg}"
        );
        assert!(
            msg.contains(" to ") || msg.contains("at most"),
            "{url}: {msg}"
        );
    }
    // In range: accepted (nothing connects yet).
    for url in [
        "sqlite://?timeout=2.5",
        "mysql://u@h/db?connect_timeout=0.5&read_timeout=30",
        "postgresql://u@h/db?connect_timeout=0",
    ] {
        create_engine(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

// ---- 2. passwords ---------------------------------------------------------------------------

#[test]
fn no_url_form_shows_its_password_in_display_debug_or_any_error() {
    let forms = [
        "postgresql://u:pa/sekrit@h/db",
        "postgresql://u:12/sekrit@h/db",
        "postgresql:/u:sekrit@h/db",
        "postgresql://u:pa?sekrit@h/db",
        "postgresql://u:sekrit@h:99999/db",
        "postgresql://u:sekrit@h/db?nope=1",
        "mysql://u:sekrit@h/db?connect_timeout=x",
        "mysql://u@h/db?password=sekrit&bad",
        "mysql://u@h/db?PASSWORD=sekrit&bad",
        "mysql://u@h/db?ssl_password=sekrit",
        "mysql://u@h/db?Ssl_Password=sekrit&charset=latin1",
        "sqlite://?password=sekrit&timeout=inf",
    ];
    for form in forms {
        let mut seen = String::new();
        match Url::parse(form) {
            Ok(url) => {
                seen.push_str(&format!("{url} {url:?} "));
                assert!(url.password().is_some() || url.query().iter().any(|(_, v)| v == "sekrit"));
            }
            Err(e) => seen.push_str(&texts(&e)),
        }
        match Engine::builder(form).build() {
            Ok(engine) => seen.push_str(&format!("{:?} {} ", engine, engine.url())),
            Err(e) => seen.push_str(&texts(&e)),
        }
        seen.push_str(&format!("{:?}", Engine::builder(form)));
        seen.push_str(&quarry::url::mask(form));
        assert!(!seen.contains("sekrit"), "{form}: {seen}");
    }
}

#[test]
fn url_display_round_trips() {
    for text in [
        "postgresql://app@h%40st:5433/my%2Fdb?application_name=a%26b",
        "mysql://u%3Ax@[::1]:3306/shop?init_command=SET%20a%3D1",
        "sqlite:////tmp/dir%20x/a%3Fb.db",
    ] {
        let url: Url = text.parse().unwrap();
        let again: Url = url.to_string().parse().unwrap();
        assert_eq!(again, url, "{text} -> {url}");
    }
}

// ---- 3. DDL string literals -----------------------------------------------------------------

#[test]
fn ddl_string_literals_survive_quotes_backslashes_and_unicode_on_every_backend() {
    for backend in backends("literals") {
        let (name, engine) = (backend.name, backend.engine.clone());
        literals::META
            .create_all(&engine)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut conn = engine.connect().unwrap();
        conn.execute(text("INSERT INTO literal_defaults (id) VALUES (1)"))
            .unwrap();
        let row: LiteralDefaults = conn
            .execute(select!(LiteralDefaults))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(
            row,
            LiteralDefaults {
                id: 1,
                backslash: "x\\".into(),
                quotes: "it's 'quoted' ''twice''".into(),
                injection: "\\' OR 1=1 -- \\\\n".into(),
                unicode: "naïve ünïcödé ✓ 𝄞 \u{202e}".into(),
                placeholders: "%_?$1:a".into(),
            },
            "{name}"
        );
    }
}

#[test]
fn a_nul_in_a_ddl_literal_is_escaped_on_mysql_and_refused_elsewhere() {
    for backend in backends("nul_literal") {
        let (name, engine) = (backend.name, backend.engine.clone());
        let created = literals::NUL_META.create_all(&engine);
        if backend.is_mysql() {
            created.unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut conn = engine.connect().unwrap();
            conn.execute(text("INSERT INTO nul_default (id) VALUES (1)"))
                .unwrap();
            let row: NulDefault = conn.execute(select!(NulDefault)).unwrap().one().unwrap();
            assert_eq!(row.nul, "a\0b", "{name}");
        } else {
            let err = created.expect_err(name);
            let msg = err.to_string();
            assert!(matches!(err, Error::Unsupported { .. }), "{name}: {msg}");
            assert!(
                msg.contains("NUL") && msg.contains("nul_default"),
                "{name}: {msg}"
            );
            assert!(!NulDefault::table().exists(&engine).unwrap(), "{name}");
        }
    }
}

// ---- 4. oversized statements ----------------------------------------------------------------

/// Run `stmt` expecting [`Error::TooLarge`] naming `count` and `limit`; the pool keeps its
/// idle connections and serves a query afterwards.
fn assert_refused_and_pool_intact<S>(
    backend: &support::Backend,
    stmt: S,
    count: usize,
    limit: usize,
) where
    S: quarry::Statement,
{
    let name = backend.name;
    let engine = &backend.engine;
    // Warm the pool: one idle connection at least.
    drop(engine.connect().unwrap());
    let before = engine.pool().status();
    let err = {
        let mut conn = engine.connect().unwrap();
        match conn.execute(stmt) {
            Ok(_) => panic!("{name}: an oversized statement ran"),
            Err(e) => e,
        }
    };
    let msg = err.to_string();
    assert!(matches!(err, Error::TooLarge { .. }), "{name}: {msg}");
    assert!(!err.is_disconnect(), "{name}: {msg}");
    assert!(msg.contains(&count.to_string()), "{name}: {msg}");
    assert!(msg.contains(&limit.to_string()), "{name}: {msg}");
    let after = engine.pool().status();
    assert_eq!(
        after.checked_in, before.checked_in,
        "{name}: {before} -> {after}"
    );
    let n: i64 = engine
        .connect()
        .unwrap()
        .execute(select!(count(Number::id) FROM Number))
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(n, 1, "{name}");
}

#[test]
fn more_binds_than_the_backend_takes_is_a_clear_error_and_the_pool_stays() {
    for backend in backends("too_many_binds") {
        numbers::META.create_all(&backend.engine).unwrap();
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(insert!(Number { n: 1 })).unwrap();
        drop(conn);
        let limit = if backend.is_sqlite() { 32_766 } else { 65_535 };
        let values: Vec<i64> = (0..=limit as i64).collect();
        let stmt = select!(Number WHERE Number::n.in_(values));
        assert_refused_and_pool_intact(&backend, stmt, limit + 1, limit);
        // At the limit, the statement runs.
        let values: Vec<i64> = (0..limit as i64).collect();
        let rows = backend
            .engine
            .connect()
            .unwrap()
            .execute(select!(Number WHERE Number::n.in_(values)))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(rows.len(), 1, "{}", backend.name);
    }
}

#[test]
fn a_value_over_max_allowed_packet_is_refused_before_mysql_drops_the_connection() {
    for backend in backends("max_packet") {
        if !backend.is_mysql() {
            continue;
        }
        numbers::META.create_all(&backend.engine).unwrap();
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(insert!(Number { n: 1 })).unwrap();
        conn.execute(text(
            "CREATE TABLE big (id INTEGER PRIMARY KEY, body LONGBLOB)",
        ))
        .unwrap();
        let limit: i64 = conn
            .execute(text("SELECT @@max_allowed_packet"))
            .unwrap()
            .one()
            .unwrap()
            .get(0)
            .unwrap();
        drop(conn);
        let limit = usize::try_from(limit).unwrap();
        // Over the limit, on both of the crate's paths: one packet (under 16 MiB), long data.
        for size in [limit + 1, (64 << 20).max(limit + 1)] {
            let body = vec![b'x'; size];
            let stmt = text("INSERT INTO big (id, body) VALUES (1, :body)").bind("body", body);
            let err = {
                let mut conn = backend.engine.connect().unwrap();
                conn.execute(stmt).expect_err("over max_allowed_packet")
            };
            let msg = err.to_string();
            assert!(matches!(err, Error::TooLarge { .. }), "{msg}");
            assert!(!err.is_disconnect(), "{msg}");
            assert!(msg.contains(&limit.to_string()), "{msg}");
            assert!(msg.contains("max_allowed_packet"), "{msg}");
        }
        let stmt = text("INSERT INTO big (id, body) VALUES (1, :body)").bind("body", vec![0u8; 0]);
        assert_refused_and_pool_intact_after(&backend, stmt);
        // Under the limit, a large value goes through.
        let body = vec![b'y'; limit / 2];
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(
            text("INSERT INTO big (id, body) VALUES (2, :body)").bind("body", body.clone()),
        )
        .unwrap();
        let back: Vec<u8> = conn
            .execute(text("SELECT body FROM big WHERE id = 2"))
            .unwrap()
            .one()
            .unwrap()
            .get(0)
            .unwrap();
        assert!(back == body);
    }
}

/// After refusals, a statement of ordinary size still runs on a pooled connection.
fn assert_refused_and_pool_intact_after<S>(backend: &support::Backend, stmt: S)
where
    S: quarry::Statement,
{
    let before = backend.engine.pool().status();
    backend.engine.connect().unwrap().execute(stmt).unwrap();
    let after = backend.engine.pool().status();
    assert_eq!(before.checked_in, after.checked_in, "{before} -> {after}");
}

// ---- 5. long chains and deep trees ----------------------------------------------------------

/// `n = 0 OR n = 1 OR … OR n = len-1` (or AND), built one `.or()` at a time.
fn chain(len: i64, or: bool) -> quarry::Expr<bool> {
    let mut e = Number::n.eq(0);
    for i in 1..len {
        e = if or {
            e.or(Number::n.eq(i))
        } else {
            e.and(Number::n.ne(i))
        };
    }
    e
}

/// Truly nested: `n = k AND (… OR n = -k)`, two levels more per step.
fn nested(steps: i64) -> quarry::Expr<bool> {
    let mut e = Number::n.eq(0);
    for i in 1..=steps {
        e = Number::n.ne(i).and(e.or(Number::n.eq(-i)));
    }
    e
}

/// Run `f` on a thread with Rust's default 2 MiB stack, as a spawned thread has.
fn in_2mb_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("the 2 MiB thread panicked"))
}

#[test]
fn a_5000_long_or_chain_builds_renders_verifies_and_drops_in_a_2mb_thread() {
    in_2mb_thread(|| {
        static CACHE: quarry::SqlCache = quarry::SqlCache::new();
        for or in [true, false] {
            for dialect in quarry::dialect::ALL {
                // Twice: a render, then the cache's verify walk.
                for _ in 0..2 {
                    let stmt = Number::select().filter(chain(5_000, or)).cached(&CACHE);
                    let compiled = stmt.compile(*dialect).unwrap();
                    assert_eq!(compiled.params().len(), 5_000);
                    let op = if or { " OR " } else { " AND " };
                    assert_eq!(compiled.sql().matches(op).count(), 4_999);
                    if dialect.name() == "sqlite" {
                        // Groups of 71 (√5000 + 1): 71 of them, depth about 140.
                        assert_eq!(compiled.sql().matches('(').count(), 71);
                    } else {
                        assert!(!compiled.sql().contains('('), "flat: no parentheses");
                    }
                }
            }
            let e = chain(5_000, or);
            assert!(format!("{e:?}").len() > 5_000);
            drop(e.clone());
        }
    });
}

#[test]
fn a_5000_long_or_chain_runs_on_every_backend() {
    for backend in backends("or_chain") {
        let name = backend.name;
        // SQLite's own parser nests `a OR b OR c` and stops at SQLITE_MAX_EXPR_DEPTH (1000):
        // past 500 items the chain is written in parenthesized groups.
        let len = 5_000;
        let engine = backend.engine.clone();
        let n = in_2mb_thread(move || {
            // On this thread: a SQLite memory engine's connection belongs to its thread.
            numbers::META.create_all(&engine).unwrap();
            let mut conn = engine.connect().unwrap();
            conn.execute(Number::insert_many(&[
                Number { id: 0, n: 7 },
                Number { id: 0, n: 9_999 },
            ]))
            .unwrap();
            let rows = conn.execute(Number::select().filter(chain(len, true)));
            rows.and_then(|r| r.all())
                .map(|rows| rows.len())
                .map_err(|e| e.to_string().chars().take(300).collect::<String>())
        });
        assert_eq!(n, Ok(1), "{name}");
    }
}

#[test]
fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
    in_2mb_thread(|| {
        for dialect in quarry::dialect::ALL {
            // Just under the limit (the WHERE clause itself is a level): renders.
            let depth = (quarry::MAX_EXPR_DEPTH as i64 - 2) / 2;
            Number::select()
                .filter(nested(depth))
                .compile(*dialect)
                .unwrap();
            // Far past it (5,000 levels: the walks before rendering stop at the limit too):
            // refused, naming the limit.
            let err = Number::select()
                .filter(nested(2_500))
                .compile(*dialect)
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::TooLarge { .. }), "{msg}");
            assert!(msg.contains("200") && msg.contains("nested"), "{msg}");
        }
        // Implicit execution's walk for the statement's tables stops at the limit too.
        let mut tables = Vec::new();
        quarry::Statement::tables(&Number::select().filter(nested(2_500)), &mut tables);
        assert!(tables.iter().all(|t| t.name() == "numbers"));
    });
}

#[test]
fn subqueries_nested_to_the_limit_render_in_a_2mb_thread() {
    in_2mb_thread(|| {
        for dialect in quarry::dialect::ALL {
            let mut e = Number::n.eq(0);
            for _ in 0..quarry::MAX_EXPR_DEPTH {
                e = exists(Number::select().filter(e));
            }
            let err = Number::select().filter(e).compile(*dialect).unwrap_err();
            assert!(matches!(err, Error::TooLarge { .. }), "{err}");
        }
    });
}

// ---- 6. text() lexing, on the server each rule concerns -------------------------------------

/// Run `stmt` and read the first row's columns as text.
fn texts_of(backend: &support::Backend, stmt: quarry::Text) -> Vec<String> {
    let mut conn = backend.engine.connect().unwrap();
    let row = conn
        .execute(stmt)
        .unwrap_or_else(|e| panic!("{}: {e}", backend.name))
        .one()
        .unwrap();
    (0..row.len())
        .map(|i| row.get::<String>(i).unwrap())
        .collect()
}

#[test]
fn text_scanning_follows_each_servers_lexical_rules() {
    for backend in backends("text_lexing") {
        let name = backend.name;
        let got = if backend.is_postgres() {
            let mut got = texts_of(
                &backend,
                text("SELECT /* /* :a */ :b */ :c::text AS c, $é$ :x $é$ AS d, E'it\\'s :y' AS e")
                    .bind("c", "C"),
            );
            got.extend(texts_of(
                &backend,
                text("SELECT :idé::text AS v, 1 \\:\\: text AS w").bind("idé", "V"),
            ));
            got
        } else if backend.is_mysql() {
            let mut got = texts_of(
                &backend,
                text("SELECT 'it\\'s :a' AS s, \"say \\\":b\\\"\" AS t, CAST(:c AS CHAR) AS c # :d\n")
                    .bind("c", "C"),
            );
            // Alone, `\:` sends `:` (once the backslash was sent).
            let mut conn = backend.engine.connect().unwrap();
            conn.execute(text(r"SET @v \:= 'V'")).unwrap();
            let row = conn
                .execute(text("SELECT @v, CAST(1--:n AS CHAR)").bind("n", 1))
                .unwrap()
                .one()
                .unwrap();
            got.push(row.get::<String>(0).unwrap());
            got.push(row.get::<String>(1).unwrap());
            got
        } else {
            texts_of(
                &backend,
                text("SELECT 'x' AS [a:b], :d AS d, :idé AS e /* :z */ -- :y")
                    .bind_all([("d", "D"), ("idé", "E")]),
            )
        };
        let want: &[&str] = if backend.is_postgres() {
            &["C", " :x ", "it's :y", "V", "1"]
        } else if backend.is_mysql() {
            &["it's :a", "say \":b\"", "C", "V", "2"]
        } else {
            &["x", "D", "E"]
        };
        assert_eq!(got, want, "{name}");
    }
}

// ---- 7. values a backend would change silently ----------------------------------------------

#[test]
fn nan_is_refused_where_it_would_be_stored_as_something_else() {
    for backend in backends("nan") {
        let name = backend.name;
        let mut conn = backend.engine.connect().unwrap();
        let sql = if backend.is_postgres() {
            "SELECT :x::float8 AS x"
        } else {
            "SELECT :x AS x"
        };
        let result = conn.execute(text(sql).bind("x", f64::NAN));
        if backend.is_postgres() {
            let row = result.unwrap().one().unwrap();
            assert!(row.get::<f64>(0).unwrap().is_nan(), "{name}");
        } else {
            let err = result.map(|_| ()).expect_err(name);
            let msg = err.to_string();
            assert!(msg.contains("NaN"), "{name}: {msg}");
            assert!(!err.is_disconnect(), "{name}: {msg}");
        }
        // Infinity: PostgreSQL and SQLite store it; MySQL has none.
        let result = conn.execute(text(sql).bind("x", f64::INFINITY));
        if backend.is_mysql() {
            let msg = result.map(|_| ()).expect_err(name).to_string();
            assert!(msg.contains("inf"), "{name}: {msg}");
        } else {
            let v: f64 = result.unwrap().one().unwrap().get(0).unwrap();
            assert_eq!(v, f64::INFINITY, "{name}");
        }
    }
}

#[test]
fn sqlite_refuses_decimals_it_would_round_and_keeps_the_rest() {
    for backend in backends("decimals") {
        if !backend.is_sqlite() {
            continue;
        }
        let mut conn = backend.engine.connect().unwrap();
        conn.execute(text("CREATE TABLE d (v DECIMAL(38, 10))"))
            .unwrap();
        let long = quarry::Value::Decimal("1234567890123456789.0123456789".into());
        let err = conn
            .execute(text("INSERT INTO d (v) VALUES (:v)").bind("v", long))
            .map(|_| ())
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Unsupported { .. }), "{msg}");
        assert!(
            msg.contains("29 significant digits") && msg.contains("15"),
            "{msg}"
        );
        let short = quarry::Value::Decimal("-0012.3400".into());
        conn.execute(text("INSERT INTO d (v) VALUES (:v)").bind("v", short))
            .unwrap();
        let back: f64 = conn
            .execute(text("SELECT v FROM d"))
            .unwrap()
            .one()
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(back, -12.34);
    }
}

#[test]
fn postgres_infinite_dates_and_timestamps_read_as_values_and_go_back() {
    for backend in backends("infinity") {
        if !backend.is_postgres() {
            continue;
        }
        let mut conn = backend.engine.connect().unwrap();
        let row = conn
            .execute(text(
                "SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp, \
                 '-infinity'::timestamptz, '2024-02-29'::date",
            ))
            .unwrap()
            .one()
            .unwrap();
        let values: Vec<quarry::Value> = (0..5).map(|i| row.get(i).unwrap()).collect();
        assert_eq!(
            values[..4],
            [
                quarry::Value::Date(quarry::Value::DATE_INFINITY),
                quarry::Value::Date(quarry::Value::DATE_NEG_INFINITY),
                quarry::Value::Timestamp(quarry::Value::TIMESTAMP_INFINITY),
                quarry::Value::TimestampTz(quarry::Value::TIMESTAMP_NEG_INFINITY),
            ]
        );
        assert_eq!(format!("{:?}", values[0]), "infinity");
        // Sent back as the infinities they are.
        let back = conn
            .execute(
                text("SELECT (:d)::date = 'infinity'::date, (:t)::timestamp = '-infinity'::timestamp")
                    .bind("d", values[0].clone())
                    .bind("t", quarry::Value::Timestamp(quarry::Value::TIMESTAMP_NEG_INFINITY)),
            )
            .unwrap()
            .one()
            .unwrap();
        assert!(back.get::<bool>(0).unwrap() && back.get::<bool>(1).unwrap());
    }
    // Where there is no infinity, it is refused rather than written as something else.
    for backend in backends("no_infinity") {
        if backend.is_postgres() {
            continue;
        }
        let mut conn = backend.engine.connect().unwrap();
        let inf = quarry::Value::Date(quarry::Value::DATE_INFINITY);
        let err = conn
            .execute(text("SELECT :d AS d").bind("d", inf))
            .map(|_| ())
            .unwrap_err();
        assert!(!err.is_disconnect(), "{}: {err}", backend.name);
    }
}
