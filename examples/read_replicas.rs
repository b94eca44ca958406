//! Read replicas: `Engine::builder(primary).replicas([...])` sends reads outside a transaction
//! to a replica and everything else to the primary; a replica that is down is skipped.
//!
//! ```text
//! cargo run --example read_replicas                           # SQLite files in the temp dir
//! # The real thing: the hot standby of `cargo xtask db cluster start`.
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1:5432/test \
//! QUARRY_EXAMPLE_REPLICA_URL=postgresql://postgres@127.0.0.1:5433/test \
//!     cargo run --example read_replicas --features postgres
//! ```
//!
//! SQLite has no replication, and without `QUARRY_EXAMPLE_REPLICA_URL` a server has no
//! replica here: the example then names the primary's own database as its replica, so the
//! routing shows (in each member's pool counters) while the data stays one.

use std::time::Duration;

use quarry::Route;
use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "replica_example_books", metadata = META)]
pub struct Book {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 80)]
    pub title: String,
}

fn example_url() -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join("quarry_example_read_replicas.db");
        format!("sqlite:///{}", path.display())
    })
}

/// Who holds a connection now: one line per member.
fn show(engine: &Engine, moment: &str) {
    println!("{moment}:");
    for m in engine.members() {
        println!(
            "  {:<8} {:<60} up={} checked out={}",
            if m.primary { "primary" } else { "replica" },
            m.url,
            m.up,
            m.pool.checked_out
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let primary = example_url();
    let replica = std::env::var("QUARRY_EXAMPLE_REPLICA_URL").unwrap_or_else(|_| primary.clone());
    let engine = Engine::builder(&primary).replicas([&replica]).build()?;

    // DDL and writes: the primary.
    META.drop_all(&engine)?;
    META.create_all(&engine)?;
    engine.execute(insert!(Book { title: "Dune" }))?;
    engine.execute(insert!(Book { title: "Emma" }))?;

    // A real replica may lag the primary by a moment: wait for the rows to arrive there.
    for _ in 0..100 {
        let on_replica: i64 = engine
            .execute(select!(count(Book::id) FROM Book))?
            .scalar()?;
        if on_replica == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // A read outside a transaction: a replica. Its rows hold the connection until read.
    let rows = engine.execute(select!(Book ORDER BY Book::id))?;
    show(&engine, "a read, rows not yet consumed");
    let books: Vec<Book> = rows.all()?;
    println!("read {} books from the replica", books.len());

    // A unit of work reads its own writes: the primary.
    let count = engine.transaction(|conn| {
        conn.execute(insert!(Book { title: "Ulysses" }))?;
        conn.execute(select!(count(Book::id) FROM Book))?.scalar()
    })?;
    println!("inside the transaction: {count} books (the primary)");

    // Force the primary for a read that must see the latest write.
    let fresh: i64 = engine
        .with_route(Route::Primary)
        .execute(select!(count(Book::id) FROM Book))?
        .scalar()?;
    println!("through Route::Primary: {fresh} books");

    // A replica that is down is taken out; the read goes to the primary, without an error.
    let dead = if primary.starts_with("sqlite") {
        "sqlite:////nonexistent-quarry-dir/replica.db".to_string()
    } else if primary.starts_with("postgres") {
        "postgresql://postgres@127.0.0.1:1/test?connect_timeout=1".to_string()
    } else {
        "mysql://root@127.0.0.1:1/test?connect_timeout=1".to_string()
    };
    let with_dead = Engine::builder(&primary).replicas([dead]).build()?;
    let n: i64 = with_dead
        .execute(select!(count(Book::id) FROM Book))?
        .scalar()?;
    println!("with the replica down: {n} books (the primary served)");
    show(&with_dead, "after the failed replica");

    META.drop_all(&engine)?;
    Ok(())
}
