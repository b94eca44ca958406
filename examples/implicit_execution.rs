//! Implicit execution with bound metadata — "Connectionless Execution, Implicit Execution" of
//! SQLAlchemy 1.3's "Working with Engines and Connections": `META.bind(&engine)` associates
//! every table of `META` with an engine, and statements on those tables gain an `execute()`
//! that finds it. Like connectionless execution, each statement checks out a connection of its
//! own: it is not part of any transaction you hold (which is why SQLAlchemy discourages it).
//!
//! ```text
//! cargo run --example implicit_execution                      # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example implicit_execution --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example implicit_execution --features mysql
//! ```

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "implicit_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

/// A second MetaData, never bound.
pub static UNBOUND: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "implicit_notes", metadata = UNBOUND)]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
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
    let engine = create_engine(&example_url("implicit_execution"))?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?;
    META.create_all(&engine)?;

    // meta.bind = engine
    META.bind(&engine);
    println!("META bound to the engine");

    // users_table.insert().execute(…), users_table.select().execute()
    insert!(User {
        name: "jack",
        hair_color: None
    })
    .execute()?;
    insert!(User {
        name: "wendy",
        hair_color: Some("black".to_owned())
    })
    .execute()?;
    let users: Vec<User> = select!(User).execute()?.all()?;
    println!("\nselect!(User).execute():");
    for user in &users {
        println!("  {user:?}");
    }

    let result = select!(User::name FROM User WHERE User::hair_color == None).execute()?;
    println!(
        "\nthe result owns its connection, as a connectionless one does: {}",
        result.owns_connection()
    );
    result.close(); // result.close()

    // Implicit execution is outside any transaction the program holds.
    println!("\na transaction on a connection of our own inserts \"ed\", not yet committed:");
    let mut conn = engine.connect()?;
    let mut trans = conn.begin()?;
    trans.execute(insert!(User {
        name: "ed",
        hair_color: None
    }))?;
    let n: i64 = select!(count(User::id) FROM User).execute()?.scalar()?;
    println!("  an implicit count meanwhile sees {n} users: it ran on another connection");
    trans.rollback()?;
    drop(conn);

    // A table whose MetaData is not bound has nowhere to go.
    let err = select!(Note)
        .execute()
        .err()
        .ok_or("expected an error for an unbound table")?;
    println!("\nselect!(Note).execute() on unbound metadata: {err}");

    META.drop_all(&engine)?;
    engine.dispose();
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
