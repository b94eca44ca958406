//! Explicit execution: check a connection out of the engine's pool, run text and expression
//! statements on it, use transactions, give it back — "Basic Usage" and "Using Transactions"
//! of SQLAlchemy 1.3's "Working with Engines and Connections".
//!
//! ```text
//! cargo run --example explicit_execution                      # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example explicit_execution --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example explicit_execution --features mysql
//! ```

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

// Table names of their own, so that the examples can share a server's database.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "explicit_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50, unique)]
    pub name: String,
}

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory (so that several
/// connections see one database, as they do on a server).
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = create_engine(&example_url("explicit_execution"))?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?; // leftovers of an interrupted run
    META.create_all(&engine)?;

    // connection = engine.connect(): a proxy for a pooled driver connection.
    let mut connection = engine.connect()?;
    // No transaction is open, so each statement commits as it runs ("autocommit").
    for name in ["jack", "wendy"] {
        connection.execute(insert!(User { name }))?;
    }

    // result = connection.execute("select name from users"); for row in result: …
    println!("\ntext SQL, rows by column name:");
    let result = connection.execute(text("SELECT name FROM explicit_users ORDER BY id"))?;
    for row in result {
        let name: String = row?.get("name")?;
        println!("  username: {name}");
    }

    // The same connection runs expression constructs, typed by the select list.
    println!("\nan expression construct, rows as structs:");
    for user in connection
        .execute(select!(User ORDER BY User::name))?
        .all()?
    {
        println!("  {user:?}");
    }

    // trans = connection.begin(); …; trans.commit() — dropping the guard rolls back, so `?`
    // is the `except: trans.rollback(); raise` of the seed.
    println!("\na transaction that commits:");
    let mut trans = connection.begin()?;
    trans.execute(insert!(User { name: "ed" }))?;
    trans.execute(update!(User SET name = "jack sparrow" WHERE User::name == "jack"))?;
    trans.commit()?;
    println!("  committed: {} users", count(&mut connection)?);

    println!("\na transaction that fails (a duplicate name):");
    let outcome = add_two(&mut connection, "mary", "ed");
    println!("  error: {}", outcome.err().ok_or("expected an error")?);
    println!(
        "  rolled back: still {} users, no \"mary\"",
        count(&mut connection)?
    );

    // with engine.begin() as connection: … — a connection and a transaction in one.
    println!("\nengine.transaction(|conn| …): commit on Ok, rollback on Err");
    engine.transaction(|conn| -> quarry::Result<()> {
        conn.execute(insert!(User { name: "mary" }))?;
        Ok(())
    })?;
    println!("  now {} users", count(&mut connection)?);

    // connection.close(): back to the pool (rolled back, in case a transaction was left open).
    connection.close();
    println!("\npool after close: {}", engine.pool_status());

    META.drop_all(&engine)?;
    engine.dispose();
    remove_sqlite_file(&engine);
    Ok(())
}

/// Insert two users in one transaction: both or neither.
fn add_two(conn: &mut Connection, a: &str, b: &str) -> quarry::Result<()> {
    let mut trans = conn.begin()?;
    trans.execute(insert!(User { name: a }))?;
    trans.execute(insert!(User { name: b }))?; // fails: the guard's drop rolls back `a` too
    trans.commit()
}

fn count(conn: &mut Connection) -> quarry::Result<i64> {
    conn.execute(select!(count(User::id) FROM User))?.scalar()
}

/// The default database is a file of our own: remove it.
fn remove_sqlite_file(engine: &Engine) {
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
}
