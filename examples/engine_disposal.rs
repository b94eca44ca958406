//! Engine disposal — "Engine Disposal" of SQLAlchemy 1.3's "Working with Engines and
//! Connections": an engine keeps idle connections open in its pool; `dispose()` closes them.
//! Connections checked out at the time keep working and are closed, not kept, when they come
//! back; later checkouts open new ones. Or do without pooling: `PoolClass::Null`.
//!
//! ```text
//! cargo run --example engine_disposal                         # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example engine_disposal --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example engine_disposal --features mysql
//! ```

use quarry::prelude::*;

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory (pooled like a server's).
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

fn ping(conn: &mut Connection) -> quarry::Result<i64> {
    conn.execute(text("SELECT 1").columns::<i64>())?.scalar()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = example_url("engine_disposal");
    // Announce every new driver connection, so that reuse and replacement show.
    let engine = Engine::builder(&url)
        .pool_size(5)
        .on_connect(|_conn, info| {
            println!("  (opened connection #{})", info.id());
            Ok(())
        })
        .build()?;
    println!(
        "engine: {} ({} dialect, {:?} pool)",
        engine.url(),
        engine.dialect().name(),
        engine.pool().poolclass()
    );
    if engine.pool().poolclass() != PoolClass::Queue {
        println!("(a memory database: dispose() gives a new, empty one)");
    }

    println!("\nthree connections at once, then given back:");
    {
        let mut conns = vec![engine.connect()?, engine.connect()?, engine.connect()?];
        for conn in &mut conns {
            ping(conn)?;
        }
    }
    println!("  {}", engine.pool_status());

    println!("\nreused, not reopened:");
    ping(&mut engine.connect()?)?;
    println!("  {}", engine.pool_status());

    println!("\none connection stays checked out; engine.dispose():");
    let mut held = engine.connect()?;
    engine.dispose();
    println!("  {}", engine.pool_status());
    println!(
        "  the held connection still works: SELECT 1 -> {}",
        ping(&mut held)?
    );
    drop(held);
    println!("  given back, it is closed rather than kept:");
    println!("  {}", engine.pool_status());

    println!("\nthe engine is still usable; new connections are opened:");
    ping(&mut engine.connect()?)?;
    println!("  {}", engine.pool_status());

    // When the engine itself is dropped (its last clone), the pool and its idle connections
    // go with it; dispose() is for closing them while the engine lives on — after a fork, in
    // test suites, for short-lived tenants.
    engine.dispose();
    drop(engine);

    println!("\nno pooling at all: PoolClass::Null opens and closes a connection per checkout");
    let unpooled = Engine::builder(&url)
        .poolclass(PoolClass::Null)
        .on_connect(|_conn, info| {
            println!("  (opened connection #{})", info.id());
            Ok(())
        })
        .build();
    match unpooled {
        Ok(engine) => {
            ping(&mut engine.connect()?)?;
            ping(&mut engine.connect()?)?;
            println!("  two checkouts: {}", engine.pool_status());
        }
        // A memory database cannot be served without a pool: each connection is a new one.
        Err(e) => println!("  refused: {e}"),
    }

    if std::env::var_os("QUARRY_EXAMPLE_URL").is_none() {
        let path = std::env::temp_dir().join("quarry_example_engine_disposal.db");
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
