//! `Session`, the unit of work: objects are added and deleted in memory, written by `flush()`
//! (parents before children, autoincrement keys filled in), kept in an identity map that
//! `get()` answers from, and committed or rolled back as one transaction. And, as in the seed
//! article on raw connections, the way down from a session to the driver's own connection.
//!
//! ```text
//! cargo run --example session                                 # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example session --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example session --features mysql
//! ```
//!
//! The engine echoes its SQL, so the statements each call sends are visible.

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "session_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "session_posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    #[column(max_length = 100)]
    pub title: String,
}

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory.
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = example_url("session");
    let setup = create_engine(&url)?;
    META.drop_all(&setup)?;
    META.create_all(&setup)?;
    setup.dispose();

    let engine = Engine::builder(&url).echo(true).build()?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );

    // Session(bind=engine); or sessionmaker(&engine).session() for a factory.
    let mut session = Session::new(&engine);

    println!("\nadd: nothing is sent yet");
    session.add(User {
        id: 0,
        name: "ed".into(),
        hair_color: None,
    });
    println!("flush: the INSERT, in a transaction the session began");
    session.flush()?;

    // A fresh table: ed got key 1.
    println!("\nget::<User>(1): from the identity map, no SELECT");
    let ed: User = session.get::<User>(1)?.ok_or("ed is not there")?;
    println!("  {ed:?}");
    session.add(Post {
        id: 0,
        user_id: ed.id,
        title: "ed's first post".into(),
    });
    println!("\ncommit: flushes the post, then COMMIT; the connection goes back to the pool");
    session.commit()?;

    println!("\na change rolled back:");
    session.add(User {
        id: 0,
        name: "wendy".into(),
        hair_color: Some("black".into()),
    });
    session.flush()?;
    session.rollback()?;
    println!("  users now: {}", count_users(&engine)?);

    // Down to the driver: session.connection() is the Connection of its transaction.
    println!("\nthe session's connection, and the native one under it:");
    let conn = session.connection()?;
    let native = conn.driver_connection()?;
    println!("  {}", native_name(native));

    println!("\ndelete: children first, then the parent");
    let posts: Vec<Post> = session
        .connection()?
        .execute(select!(Post WHERE Post::user_id == ed.id))?
        .all()?;
    for post in &posts {
        session.delete(post);
    }
    session.delete(&ed);
    session.commit()?;
    println!("  users now: {}", count_users(&engine)?);

    session.close(); // returns its connection, if it holds one
    META.drop_all(&engine)?;
    engine.dispose();
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn count_users(engine: &Engine) -> quarry::Result<i64> {
    engine.execute(select!(count(User::id) FROM User))?.scalar()
}

fn native_name(native: &mut dyn std::any::Any) -> &'static str {
    #[cfg(feature = "postgres")]
    if native.is::<quarry::driver::native::postgres::Client>() {
        return "postgres::Client";
    }
    #[cfg(feature = "mysql")]
    if native.is::<quarry::driver::native::mysql::Conn>() {
        return "mysql::Conn";
    }
    #[cfg(feature = "sqlite")]
    if native.is::<quarry::driver::native::rusqlite::Connection>() {
        return "rusqlite::Connection";
    }
    let _ = native;
    "another driver's connection"
}
