//! `text()` on SQLite through the public API: named binds, dynamic `Row`s, typed columns, and
//! the errors a user meets (missing binds, unknown columns, values that do not decode).

use quarry::prelude::*;
use quarry::{Error, Value};

/// An in-memory database with `users (id, name, hair_color)`: ed (black), wendy (black),
/// mary (no color).
fn setup() -> quarry::Result<Connection> {
    let engine = create_engine("sqlite://")?;
    let mut conn = engine.connect()?;
    conn.execute(text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)",
    ))?;
    for (name, color) in [
        ("ed", Some("black")),
        ("wendy", Some("black")),
        ("mary", None),
    ] {
        conn.execute(
            text("INSERT INTO users (name, hair_color) VALUES (:name, :color)")
                .bind("name", name)
                .bind("color", color),
        )?;
    }
    Ok(conn)
}

fn message<T: std::fmt::Debug>(r: quarry::Result<T>) -> (Error, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let shown = e.to_string();
            (e, shown)
        }
    }
}

#[test]
fn named_binds_select_rows() -> quarry::Result<()> {
    let mut conn = setup()?;
    let rows = conn
        .execute(
            text("SELECT name FROM users WHERE hair_color = :color AND id > :min ORDER BY id")
                .bind("color", "black")
                .bind("min", 1),
        )?
        .all()?;
    let names = rows
        .iter()
        .map(|r| r.get::<String>("name"))
        .collect::<quarry::Result<Vec<_>>>()?;
    assert_eq!(names, ["wendy"]);
    Ok(())
}

#[test]
fn a_repeated_bind_binds_each_time() -> quarry::Result<()> {
    let mut conn = setup()?;
    let row = conn
        .execute(
            text("SELECT count(*) AS n FROM users WHERE name = :who OR (:who = 'nobody')")
                .bind("who", "ed"),
        )?
        .one()?;
    assert_eq!(row.get::<i64>("n")?, 1);
    Ok(())
}

#[test]
fn bind_all_binds_dynamic_names() -> quarry::Result<()> {
    let mut conn = setup()?;
    let filters = vec![("a".to_owned(), "ed"), ("b".to_owned(), "mary")];
    let n = conn
        .execute(
            text("SELECT count(*) FROM users WHERE name IN (:a, :b)")
                .bind_all(filters)
                .columns::<i64>(),
        )?
        .scalar()?;
    assert_eq!(n, 2);
    Ok(())
}

#[test]
fn sql_without_binds_runs_as_written() -> quarry::Result<()> {
    let mut conn = setup()?;
    let row = conn
        .execute(text("SELECT 'a:b' AS s, 10 || '\\:' AS t -- :nothing"))?
        .one()?;
    assert_eq!(row.get::<String>("s")?, "a:b");
    assert_eq!(row.get::<String>("t")?, "10\\:");
    Ok(())
}

#[test]
fn columns_decode_into_a_tuple() -> quarry::Result<()> {
    let mut conn = setup()?;
    let users: Vec<(i64, String)> = conn
        .execute(
            text("SELECT id, name FROM users WHERE hair_color = :c ORDER BY id")
                .columns::<(i64, String)>()
                .bind("c", "black"),
        )?
        .all()?;
    assert_eq!(users, [(1, "ed".to_owned()), (2, "wendy".to_owned())]);

    let colors: Vec<Option<String>> = conn
        .execute(text("SELECT hair_color FROM users ORDER BY id").columns::<Option<String>>())?
        .all()?;
    assert_eq!(
        colors,
        [Some("black".to_owned()), Some("black".to_owned()), None]
    );
    Ok(())
}

#[test]
fn a_row_after_typed_columns_takes_the_rest() -> quarry::Result<()> {
    let mut conn = setup()?;
    let (id, rest) = conn
        .execute(
            text("SELECT id, name, hair_color FROM users WHERE id = 3").columns::<(i64, Row)>(),
        )?
        .one()?;
    assert_eq!(id, 3);
    assert_eq!(rest.keys().collect::<Vec<_>>(), ["name", "hair_color"]);
    assert_eq!(rest.get::<String>(0)?, "mary");
    Ok(())
}

#[test]
fn row_reads_by_name_index_and_option() -> quarry::Result<()> {
    let mut conn = setup()?;
    let rows = conn
        .execute(text("SELECT id, name, hair_color FROM users ORDER BY id"))?
        .all()?;
    assert_eq!(rows.len(), 3);
    let mary = &rows[2];
    assert_eq!(mary.get::<i64>("id")?, 3);
    assert_eq!(mary.get::<i32>(0)?, 3);
    assert_eq!(mary.get::<String>(1)?, "mary");
    assert_eq!(mary.get::<Option<String>>("hair_color")?, None);
    assert_eq!(
        rows[0].get::<Option<String>>("hair_color")?.as_deref(),
        Some("black")
    );
    assert_eq!(mary.get_value("hair_color")?, &Value::Null);
    assert_eq!(mary.len(), 3);
    assert_eq!(
        format!("{mary:?}"),
        r#"Row { id: 3, name: "mary", hair_color: NULL }"#
    );
    Ok(())
}

#[test]
fn missing_column_error_suggests_the_name() -> quarry::Result<()> {
    let mut conn = setup()?;
    let row = conn
        .execute(text("SELECT id, name FROM users WHERE id = :id").bind("id", 1))?
        .one()?;
    let (err, shown) = message(row.get::<String>("nmae"));
    assert!(matches!(err, Error::NoSuchColumn(_)), "{err:?}");
    assert_eq!(
        shown,
        r#"no column named "nmae" in this row; columns: id, name; did you mean "name"?"#
    );
    let (_, shown) = message(row.get::<String>(2));
    assert_eq!(
        shown,
        "no column at index 2 in this row of 2 columns; columns: id, name"
    );
    Ok(())
}

#[test]
fn decode_error_names_the_column() -> quarry::Result<()> {
    let mut conn = setup()?;
    let row = conn
        .execute(text(
            "SELECT name, hair_color FROM users WHERE name = 'mary'",
        ))?
        .one()?;
    let (err, shown) = message(row.get::<i64>("name"));
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_eq!(shown, r#"cannot decode column "name" as i64: found text"#);
    let (_, shown) = message(row.get::<String>("hair_color"));
    assert_eq!(
        shown,
        r#"cannot decode column "hair_color" as String: found NULL"#
    );
    Ok(())
}

#[test]
fn missing_and_unused_binds_fail_before_the_database_is_asked() -> quarry::Result<()> {
    let mut conn = setup()?;
    let (err, shown) = message(conn.execute(text("SELECT * FROM users WHERE name = :name")));
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        shown,
        r#"text(): no value bound for :name in "SELECT * FROM users WHERE name = :name""#
    );
    let (_, shown) = message(
        conn.execute(
            text("SELECT * FROM users WHERE name = :name")
                .bind("name", "ed")
                .bind("nmae", "ed"),
        ),
    );
    assert_eq!(
        shown,
        r#"text(): "nmae" is bound but "SELECT * FROM users WHERE name = :name" has no :nmae; its binds are :name; did you mean "name"?"#
    );
    Ok(())
}

#[test]
fn a_text_can_be_executed_again_by_reference() -> quarry::Result<()> {
    let mut conn = setup()?;
    let stmt = text("SELECT name FROM users WHERE id = :id").columns::<String>();
    let mut names = Vec::new();
    for id in 1..=3 {
        names.push(conn.execute(stmt.clone().bind("id", id))?.one()?);
    }
    assert_eq!(names, ["ed", "wendy", "mary"]);
    let bound = stmt.bind("id", 2);
    assert_eq!(conn.execute(&bound)?.one()?, "wendy");
    assert_eq!(conn.execute(&bound)?.one()?, "wendy");
    Ok(())
}

/// A connection reuses the column names of recent results (up to four statements): the keys
/// of each result are still its own, whatever ran before and in whatever order.
#[test]
fn keys_are_each_results_own_across_reused_statements() -> quarry::Result<()> {
    let mut conn = setup()?;
    let statements: [(&str, &[&str]); 6] = [
        ("SELECT id FROM users", &["id"]),
        ("SELECT id, name FROM users", &["id", "name"]),
        ("SELECT name, id FROM users", &["name", "id"]),
        ("SELECT name AS id FROM users", &["id"]),
        (
            "SELECT hair_color, name, id FROM users",
            &["hair_color", "name", "id"],
        ),
        ("SELECT id AS name FROM users", &["name"]),
    ];
    for round in 0..3 {
        for (i, (sql, keys)) in statements.iter().enumerate() {
            // Shuffle the order from round to round: hits, misses and evictions of the cache.
            let (sql, keys) = if round == 1 {
                statements[5 - i]
            } else {
                (*sql, *keys)
            };
            let rows = conn.execute(text(sql))?;
            assert_eq!(rows.keys(), keys, "{sql} in round {round}");
        }
    }
    Ok(())
}
