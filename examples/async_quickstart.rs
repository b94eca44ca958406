//! The async engine in one page (cargo feature `tokio`): the quickstart's tables and
//! statements on `quarry::asyncio`, on SQLite — a connection, a transaction, a stream, and a
//! transaction closure, on a tokio runtime.
//!
//! ```text
//! cargo run --example async_quickstart --features tokio              # in memory
//! cargo run --example async_quickstart --features tokio -- blog.db   # in a file
//! ```

use quarry::asyncio::{AsyncMetaDataDdl, create_async_engine};
use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), quarry::Error> {
    let url = match std::env::args().nth(1) {
        Some(path) => format!("sqlite:///{path}"),
        None => "sqlite://".to_owned(),
    };
    let engine = create_async_engine(&url).await?;
    println!("async engine: {url}");
    // The tables, with the DDL the blocking `create_all` sends.
    META.create_all_async(&engine).await?;

    // The same statements as the blocking engine, awaited.
    let mut conn = engine.connect().await?;
    for name in ["ed", "wendy", "mary"] {
        conn.execute(insert!(User {
            name: name,
            hair_color: None
        }))
        .await?;
    }
    let users: Vec<User> = conn.execute(select!(User ORDER BY User::name)).await?.all();
    println!(
        "users: {:?}",
        users.iter().map(|u| &u.name).collect::<Vec<_>>()
    );

    // A transaction: rolled back, then committed.
    let mut tx = conn.begin().await?;
    tx.execute(update!(User SET hair_color = Some("red".to_owned()) WHERE User::name == "ed"))
        .await?;
    tx.rollback().await?;
    let mut tx = conn.begin().await?;
    tx.execute(update!(User SET hair_color = Some("grey".to_owned()) WHERE User::name == "mary"))
        .await?;
    tx.commit().await?;

    // A stream: rows pulled from the database as they are read.
    let mut stream = conn
        .stream(select!(User WHERE User::hair_color.is_not_null()))
        .await?;
    while let Some(user) = stream.next().await {
        let user = user?;
        println!("with hair color: {} ({:?})", user.name, user.hair_color);
        assert_eq!(user.name, "mary");
    }
    drop(stream);
    drop(conn);

    // A transaction as a closure: committed on Ok, rolled back on Err.
    engine
        .transaction(async |conn| {
            conn.execute(delete!(User WHERE User::name == "wendy"))
                .await?;
            Ok(())
        })
        .await?;
    let left: i64 = engine
        .execute(select!(count(User::id) FROM User))
        .await?
        .scalar()?;
    println!("users left: {left}");
    assert_eq!(left, 2);
    engine.dispose().await;
    Ok(())
}
