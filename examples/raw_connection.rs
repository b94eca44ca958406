//! Working with the driver's own connection, for what Quarry does not wrap — "Working with
//! Raw DBAPI Connections" of SQLAlchemy 1.3: stored procedures (`callproc`) and multiple
//! result sets (`nextset`). The connection is still pooled: dropping it gives it back, rolled
//! back.
//!
//! - PostgreSQL (`postgres::Client`): a function called with `SELECT`, a procedure with
//!   `CALL`, and two result sets from one `simple_query`.
//! - MySQL/MariaDB (`mysql::Conn`): a procedure returning two result sets, read one after the
//!   other with `exec_iter` (the `nextset` loop).
//! - SQLite (`rusqlite::Connection`): no stored procedures and no multiple result sets; a
//!   script through `execute_batch`, then a statement per result set.
//!
//! ```text
//! cargo run --example raw_connection                          # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example raw_connection --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example raw_connection --features mysql
//! ```

use std::error::Error;

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "raw_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
}

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory.
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let engine = create_engine(&example_url("raw_connection"))?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?;
    META.create_all(&engine)?;

    // dbapi_conn = engine.raw_connection(): checked out of the pool, the native one inside.
    {
        let mut raw = engine.raw_connection()?;
        println!("\nraw connection checked out: {}", engine.pool_status());
        match engine.dialect().name() {
            #[cfg(feature = "postgres")]
            "postgresql" => postgres_native(raw.downcast_mut().ok_or("not a postgres::Client")?)?,
            #[cfg(feature = "mysql")]
            "mysql" => mysql_native(raw.downcast_mut().ok_or("not a mysql::Conn")?)?,
            #[cfg(feature = "sqlite")]
            "sqlite" => sqlite_native(raw.downcast_mut().ok_or("not a rusqlite::Connection")?)?,
            other => return Err(format!("no native part for the {other} dialect").into()),
        }
    } // dbapi_conn.close(): back to the pool
    println!("\nraw connection dropped: {}", engine.pool_status());

    // connection.connection: the native connection under a Connection one already holds.
    let mut conn = engine.connect()?;
    let native = conn.driver_connection()?;
    println!("\nunder a Connection: {}", describe(native));

    // What the native calls did, read back through Quarry.
    let users: Vec<User> = conn.execute(select!(User ORDER BY User::id))?.all()?;
    println!("\nread back with select!: {users:?}");

    conn.close();
    META.drop_all(&engine)?;
    engine.dispose();
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

#[cfg(feature = "postgres")]
fn postgres_native(
    client: &mut quarry::driver::native::postgres::Client,
) -> Result<(), Box<dyn Error>> {
    use quarry::driver::native::postgres::SimpleQueryMessage;

    client.batch_execute(
        "CREATE FUNCTION raw_add_user(p_name text) RETURNS bigint LANGUAGE sql AS
             $$ INSERT INTO raw_users (name) VALUES (p_name) RETURNING id $$;
         CREATE PROCEDURE raw_rename(p_id bigint, p_name text) LANGUAGE sql AS
             $$ UPDATE raw_users SET name = p_name WHERE id = p_id $$",
    )?;
    println!("PostgreSQL: created function raw_add_user and procedure raw_rename");

    // callproc: a function through SELECT, a procedure through CALL.
    let jack: i64 = client
        .query_one("SELECT raw_add_user($1)", &[&"jack"])?
        .get(0);
    let wendy: i64 = client
        .query_one("SELECT raw_add_user($1)", &[&"wendy"])?
        .get(0);
    println!("  SELECT raw_add_user(…) returned ids {jack} and {wendy}");
    client.execute("CALL raw_rename($1, $2)", &[&jack, &"jack sparrow"])?;
    println!("  CALL raw_rename({jack}, 'jack sparrow')");

    // Multiple result sets: several statements in one simple query; each set ends with its
    // CommandComplete.
    println!("  two result sets from one simple_query:");
    let mut set = 1;
    for message in client.simple_query(
        "SELECT id, name FROM raw_users ORDER BY id; SELECT count(*) FROM raw_users",
    )? {
        match message {
            SimpleQueryMessage::Row(row) => {
                let values: Vec<&str> = (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL"))
                    .collect();
                println!("    set {set}: {values:?}");
            }
            SimpleQueryMessage::CommandComplete(rows) => {
                println!("    set {set} complete ({rows} rows)");
                set += 1;
            }
            _ => {}
        }
    }

    client.batch_execute("DROP PROCEDURE raw_rename; DROP FUNCTION raw_add_user")?;
    Ok(())
}

#[cfg(feature = "mysql")]
fn mysql_native(conn: &mut quarry::driver::native::mysql::Conn) -> Result<(), Box<dyn Error>> {
    use quarry::driver::native::mysql::prelude::Queryable;
    use quarry::driver::native::mysql::{Row, Value};

    conn.query_drop("DROP PROCEDURE IF EXISTS raw_add_and_list")?;
    conn.query_drop(
        "CREATE PROCEDURE raw_add_and_list(IN p_name VARCHAR(50))
         BEGIN
             INSERT INTO raw_users (name) VALUES (p_name);
             SELECT id, name FROM raw_users ORDER BY id;
             SELECT count(*) FROM raw_users;
         END",
    )?;
    println!("MySQL: created procedure raw_add_and_list, which returns two result sets");

    let show = |row: Row| -> String {
        let values: Vec<String> = row
            .unwrap()
            .iter()
            .map(|v: &Value| v.as_sql(false))
            .collect();
        values.join(", ")
    };
    for name in ["jack", "wendy"] {
        // callproc with a bound parameter; then the nextset loop.
        let mut result = conn.exec_iter("CALL raw_add_and_list(?)", (name,))?;
        println!("  CALL raw_add_and_list('{name}'):");
        let mut set = 0;
        while let Some(rows) = result.iter() {
            set += 1;
            for row in rows {
                println!("    set {set}: {}", show(row?));
            }
        }
    }

    // Several statements in one text query give a result set each, too.
    let mut result = conn.query_iter("UPDATE raw_users SET name = 'jack sparrow' WHERE name = 'jack'; SELECT name FROM raw_users ORDER BY id")?;
    println!("  UPDATE …; SELECT … in one query:");
    let mut set = 0;
    while let Some(rows) = result.iter() {
        set += 1;
        let affected = rows.affected_rows();
        let rows: Vec<Row> = rows.collect::<Result<_, _>>()?;
        if rows.is_empty() {
            println!("    set {set}: {affected} rows affected");
        }
        for row in rows {
            println!("    set {set}: {}", show(row));
        }
    }
    drop(result);

    conn.query_drop("DROP PROCEDURE raw_add_and_list")?;
    Ok(())
}

#[cfg(feature = "sqlite")]
fn sqlite_native(
    conn: &mut quarry::driver::native::rusqlite::Connection,
) -> Result<(), Box<dyn Error>> {
    use quarry::driver::native::rusqlite::types::Value;

    println!(
        "SQLite: no stored procedures and no multiple result sets. A script runs through \
         execute_batch (no rows back); each result set is a statement of its own."
    );
    conn.execute_batch(
        "INSERT INTO raw_users (name) VALUES ('jack');
         INSERT INTO raw_users (name) VALUES ('wendy');
         UPDATE raw_users SET name = 'jack sparrow' WHERE name = 'jack';",
    )?;
    println!("  execute_batch: two inserts and an update");
    for (set, sql) in [
        "SELECT id, name FROM raw_users ORDER BY id",
        "SELECT count(*) FROM raw_users",
    ]
    .into_iter()
    .enumerate()
    {
        let mut stmt = conn.prepare(sql)?;
        let width = stmt.column_count();
        let rows = stmt.query_map([], |row| {
            (0..width)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Vec<_>, _>>()
        })?;
        for row in rows {
            println!("    set {}: {:?}", set + 1, row?);
        }
    }
    Ok(())
}

/// One native call on the connection under a `Connection`, whichever driver it is.
fn describe(native: &mut dyn std::any::Any) -> String {
    #[cfg(feature = "postgres")]
    if let Some(client) = native.downcast_mut::<quarry::driver::native::postgres::Client>() {
        return format!("a postgres::Client, closed: {}", client.is_closed());
    }
    #[cfg(feature = "mysql")]
    if let Some(conn) = native.downcast_mut::<quarry::driver::native::mysql::Conn>() {
        return format!(
            "a mysql::Conn, server connection id {}",
            conn.connection_id()
        );
    }
    #[cfg(feature = "sqlite")]
    if let Some(conn) = native.downcast_mut::<quarry::driver::native::rusqlite::Connection>() {
        return format!(
            "a rusqlite::Connection, in autocommit mode: {}",
            conn.is_autocommit()
        );
    }
    let _ = native;
    "a driver connection of another kind".to_owned()
}
