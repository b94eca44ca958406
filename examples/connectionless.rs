//! Connectionless execution: `engine.execute(…)` checks a connection out for the one
//! statement, and the result holds it until its rows are read, it is closed, or dropped
//! (SQLAlchemy's `close_with_result`) — "Connectionless Execution" of SQLAlchemy 1.3's
//! "Working with Engines and Connections". Watch the pool's counters.
//!
//! ```text
//! cargo run --example connectionless                          # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example connectionless --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example connectionless --features mysql
//! ```

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "connectionless_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
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

fn checked_out(engine: &Engine) -> usize {
    engine.pool_status().checked_out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = create_engine(&example_url("connectionless"))?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?;
    META.create_all(&engine)?;

    // A statement without rows gives its connection back at once.
    for name in ["jack", "wendy", "ed", "mary"] {
        engine.execute(insert!(User { name }))?;
    }
    println!(
        "4 inserts, each on a connection of its own; checked out now: {}",
        checked_out(&engine)
    );

    // result = engine.execute("select name from users"); for row in result: …
    println!("\nengine.execute(text(…)), read to the end:");
    let result = engine.execute(text("SELECT name FROM connectionless_users ORDER BY id"))?;
    println!(
        "  the result owns a connection: {} (checked out: {})",
        result.owns_connection(),
        checked_out(&engine)
    );
    for row in result {
        let name: String = row?.get("name")?;
        println!("  username: {name}");
    }
    println!("  exhausted: checked out {}", checked_out(&engine));

    // An expression construct, the same way.
    println!("\nengine.execute(select!(…)), partly read, then closed:");
    let mut result = engine.execute(select!(User ORDER BY User::id))?;
    let first_two = result.fetchmany(2)?;
    println!(
        "  first two: {:?}",
        first_two.iter().map(|u| &u.name).collect::<Vec<_>>()
    );
    println!(
        "  rows remain, the connection is still held: checked out {}",
        checked_out(&engine)
    );
    result.close(); // result.close()
    println!("  closed: checked out {}", checked_out(&engine));

    // Without close(), dropping the result does the same — Rust's drop is deterministic, so
    // this is not the garbage-collection case the seed warns about.
    {
        let _unread = engine.execute(select!(User))?;
        println!(
            "\nan unread result in scope: checked out {}",
            checked_out(&engine)
        );
    }
    println!("dropped: checked out {}", checked_out(&engine));

    // Results that are read at once never hold anything.
    let n: i64 = engine
        .execute(select!(count(User::id) FROM User))?
        .scalar()?;
    println!(
        "\ncount via scalar(): {n}; checked out {}",
        checked_out(&engine)
    );
    println!("pool: {}", engine.pool_status());

    META.drop_all(&engine)?;
    engine.dispose();
    remove_sqlite_file(&engine);
    Ok(())
}

/// The default database is a file of our own: remove it.
fn remove_sqlite_file(engine: &Engine) {
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
}
