//! Nesting of transaction blocks, as in SQLAlchemy 1.3's "Working with Engines and
//! Connections": `method_a` begins a transaction and calls `method_b`, which begins one too.
//! Only the outermost begin/commit pair takes effect; a rollback anywhere rolls back the
//! whole. Then the real nested kind, a SAVEPOINT (`begin_nested`), for contrast.
//!
//! ```text
//! cargo run --example nested_transactions                     # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example nested_transactions --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example nested_transactions --features mysql
//! ```

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "nested_mytable", metadata = META)]
pub struct MyTable {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub col1: String,
    #[column(max_length = 50)]
    pub col2: String,
}

/// What `method_b` does after its inserts.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// `trans.commit()`: the transaction is not committed yet.
    Commit,
    /// A statement fails: `?` drops the guard, which rolls back the whole transaction.
    Fail,
    /// `trans.rollback()`, and return as if all were well.
    RollBack,
}

// method_a starts a transaction and calls method_b. `Transaction` derefs to `Connection`, so
// method_b takes `&mut trans` as it would take any connection.
fn method_a(connection: &mut Connection, then: Then) -> quarry::Result<()> {
    let mut trans = connection.begin()?; // open a transaction
    method_b(&mut trans, then)?; // an error drops `trans`: rollback
    let seen = seen_elsewhere(trans.engine())?;
    println!("  back in method_a: another connection sees {seen} rows (method_b's not committed)");
    trans.commit() // the transaction is committed here
}

// method_b also starts a transaction: it runs in the context of method_a's.
fn method_b(connection: &mut Connection, then: Then) -> quarry::Result<()> {
    let mut trans = connection.begin()?; // open a transaction - a marker inside method_a's
    let id = trans
        .execute(insert!(MyTable {
            col1: "bat",
            col2: "lala"
        }))?
        .last_insert_id();
    trans.execute(text(
        "INSERT INTO nested_mytable (col1, col2) VALUES ('bat', 'lala')",
    ))?;
    match then {
        Then::Commit => trans.commit(), // transaction is not committed yet
        Then::Fail => {
            // The first row's key again: a unique violation on every database.
            trans.execute(
                text("INSERT INTO nested_mytable (id, col1, col2) VALUES (:id, 'x', 'y')")
                    .bind("id", id.unwrap_or(1)),
            )?;
            trans.commit()
        }
        Then::RollBack => {
            trans.rollback()?; // rolls back method_a's transaction, unconditionally
            Ok(())
        }
    }
}

/// Rows a connection other than the caller's sees: committed ones only.
fn seen_elsewhere(engine: &Engine) -> quarry::Result<i64> {
    engine
        .execute(select!(count(MyTable::id) FROM MyTable))?
        .scalar()
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
    let engine = create_engine(&example_url("nested_transactions"))?;
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?;
    META.create_all(&engine)?;

    // conn = engine.connect(); method_a(conn); conn.close()
    let mut conn = engine.connect()?;

    println!("\n1. method_b commits, then method_a commits:");
    method_a(&mut conn, Then::Commit)?;
    println!("  after method_a: {} rows", seen_elsewhere(&engine)?);

    println!("\n2. a statement in method_b fails:");
    let err = method_a(&mut conn, Then::Fail)
        .err()
        .ok_or("expected an error")?;
    println!(
        "  method_a returned: {}",
        err.to_string().lines().next().unwrap_or_default()
    );
    println!(
        "  still {} rows: both inserts of method_b rolled back",
        seen_elsewhere(&engine)?
    );

    println!("\n3. method_b rolls back and returns Ok:");
    let err = method_a(&mut conn, Then::RollBack)
        .err()
        .ok_or("expected an error")?;
    println!("  method_a's commit: {err}");
    assert!(matches!(err, quarry::Error::InactiveTransaction(_)));
    println!("  still {} rows", seen_elsewhere(&engine)?);

    // The real nested transaction: a SAVEPOINT, whose rollback keeps the outer work.
    println!("\n4. begin_nested(): SAVEPOINT");
    let mut outer = conn.begin()?;
    outer.execute(insert!(MyTable {
        col1: "kept",
        col2: "outer"
    }))?;
    {
        let mut savepoint = outer.begin_nested()?;
        savepoint.execute(insert!(MyTable {
            col1: "dropped",
            col2: "inner"
        }))?;
        savepoint.rollback()?; // ROLLBACK TO SAVEPOINT: only the inner insert goes
    }
    outer.commit()?;
    let rows: Vec<(String, String)> = conn
        .execute(select!(MyTable::col1, MyTable::col2 FROM MyTable WHERE MyTable::col2 != "lala"))?
        .all()?;
    println!("  rows after the outer commit: {rows:?}");

    conn.close();
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
