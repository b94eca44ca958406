//! The thread-local execution strategy — "Using the Threadlocal Execution Strategy" of
//! SQLAlchemy 1.3's "Working with Engines and Connections": `engine.begin()` binds a
//! transaction to the current thread, and connectionless (`engine.execute`) and implicit
//! (`stmt.execute()`) statements anywhere in the program join it, without passing a
//! connection around. `engine.connect()` still gives a connection outside it: here, a log
//! that keeps its rows while the work rolls back.
//!
//! ```text
//! cargo run --example thread_local                            # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example thread_local --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example thread_local --features mysql
//! ```

use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "threadlocal_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50, unique)]
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "threadlocal_log", metadata = META)]
pub struct Log {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 100)]
    pub message: String,
}

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory (a memory database would
/// give the log connection the thread's own connection).
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

// Parts of the application that take no connection: they join the thread's transaction.
fn call_operation1(engine: &Engine, name: &str) -> quarry::Result<()> {
    engine.execute(insert!(User { name }))?; // connectionless
    Ok(())
}

fn call_operation2(old: &str, new: &str) -> quarry::Result<()> {
    update!(User SET name = new WHERE User::name == old).execute()?; // implicit
    Ok(())
}

fn call_operation3(conn: &mut Connection) -> quarry::Result<i64> {
    conn.execute(select!(count(User::id) FROM User))?.scalar()
}

/// db.begin(); conn = db.connect(); log "started"; the operations; commit or roll back; log
/// the outcome on `conn`, which is outside the thread's transaction.
fn run(engine: &Engine, name: &str, rename_to: &str) -> quarry::Result<()> {
    let tx = engine.begin()?; // binds a transaction to this thread
    let mut log = engine.connect()?; // not part of it
    log.execute(insert!(Log {
        message: format!("operation started: add {name}, rename to {rename_to}")
    }))?;

    let work = call_operation1(engine, name).and_then(|()| call_operation2(name, rename_to));

    match work {
        Ok(()) => {
            // The contextual connection is the thread's: it sees the uncommitted work.
            let seen = {
                let mut ctx = engine.contextual_connect()?;
                call_operation3(&mut ctx)?
            }; // released; the transaction goes on
            println!("  inside the transaction: {seen} users");
            tx.commit()?;
            log.execute(insert!(Log {
                message: "operation succeeded".to_owned()
            }))?;
            println!("  committed");
        }
        Err(e) => {
            // After a failed statement PostgreSQL accepts nothing but ROLLBACK in the
            // transaction; every backend rolls back here.
            tx.rollback()?;
            log.execute(insert!(Log {
                message: "operation failed".to_owned()
            }))?;
            println!(
                "  rolled back: {}",
                e.to_string().lines().next().unwrap_or("")
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::builder(example_url("thread_local"))
        .strategy(Strategy::ThreadLocal)
        .build()?;
    println!(
        "engine: {} ({} dialect), thread-local strategy",
        engine.url(),
        engine.dialect().name()
    );
    META.drop_all(&engine)?;
    META.create_all(&engine)?;
    META.bind(&engine); // for call_operation2's implicit execution

    println!("\nrun 1: add jack, rename him to ed");
    run(&engine, "jack", "ed")?;
    println!("\nrun 2: add wendy, rename her to ed (a unique violation)");
    run(&engine, "wendy", "ed")?;

    let users: Vec<String> = engine
        .execute(select!(User::name FROM User ORDER BY User::id))?
        .all()?;
    println!("\nusers: {users:?} (run 2's insert of wendy was rolled back)");
    println!("the log kept every line, written outside the transactions:");
    for entry in engine.execute(select!(Log ORDER BY Log::id))?.all()? {
        println!("  {}", entry.message);
    }

    META.drop_all(&engine)?;
    engine.dispose();
    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none()
        && let Some(path) = engine.url().database()
    {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
