//! Quarry in one page: two related tables, created in SQLite, filled and queried with typed
//! results.
//!
//! ```text
//! cargo run --example quickstart                  # in memory
//! cargo run --example quickstart -- blog.db       # in a file (kept between runs)
//! ```

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

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id, index)]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

fn main() -> Result<(), quarry::Error> {
    let url = match std::env::args().nth(1) {
        Some(path) => format!("sqlite:///{path}"),
        None => "sqlite://".to_owned(),
    };
    let engine = create_engine(&url)?;
    println!("engine: {url}");

    let tables: Vec<&str> = META.tables().iter().map(|t| t.name()).collect();
    println!("tables, parents first: {}", tables.join(", "));
    META.create_all(&engine)?;

    let mut conn = engine.connect()?;

    // Column values are checked against the column types by rustc; `id` is left out, so the
    // database assigns it.
    let john = conn
        .execute(insert!(User {
            name: "john",
            hair_color: None
        }))?
        .last_insert_id();
    let ed = conn
        .execute(insert!(User {
            name: "ed",
            hair_color: Some("black".to_owned())
        }))?
        .last_insert_id();
    let (Some(john), Some(ed)) = (john, ed) else {
        return Err(quarry::Error::NoRows);
    };

    // Builders say the same thing without macros.
    let posts = [
        Post {
            id: 0,
            user_id: john,
            title: "Hello".into(),
            body: Some("First post".into()),
        },
        Post {
            id: 0,
            user_id: john,
            title: "Again".into(),
            body: None,
        },
        Post {
            id: 0,
            user_id: ed,
            title: "Ed writes".into(),
            body: None,
        },
    ];
    let inserted = conn.execute(Post::insert_many(&posts))?.rowcount();
    println!("inserted {inserted} posts");

    let users: Vec<User> = conn.execute(select!(User ORDER BY User::name))?.all()?;
    println!("\nall users:");
    for u in &users {
        println!(
            "  #{:<2} {:<6} hair: {}",
            u.id,
            u.name,
            u.hair_color.as_deref().unwrap_or("-")
        );
    }

    let name = "ed";
    let found: Option<User> = conn
        .execute(select!(User WHERE User::name == name))?
        .first()?;
    println!("\nlooked up {name:?}: {found:?}");

    let by_john: Vec<Post> = conn
        .execute(select!(Post WHERE Post::user_id == john ORDER BY Post::id DESC))?
        .all()?;
    println!("\nposts by john, newest first:");
    for p in &by_john {
        println!(
            "  #{} {:?} ({})",
            p.id,
            p.title,
            p.body.as_deref().unwrap_or("no body")
        );
    }

    let no_color = conn
        .execute(select!(User WHERE User::hair_color == None))?
        .one()?;
    println!("\nthe one user without a hair color: {}", no_color.name);

    let query = select!(Post WHERE Post::title != "Again" && Post::user_id == john LIMIT 5);
    println!(
        "\nSQL for SQLite:     {}",
        query.compile(&quarry::dialect::Sqlite)?.sql()
    );
    println!(
        "SQL for PostgreSQL: {}",
        query.compile(&quarry::dialect::Postgres)?.sql()
    );
    println!(
        "SQL for MySQL:      {}",
        query.compile(&quarry::dialect::Mysql)?.sql()
    );
    Ok(())
}
