//! PostgreSQL LISTEN/NOTIFY on a raw driver connection, as in the seed article: Quarry gives
//! the pooled `postgres::Client` for what it does not wrap, and takes it back when dropped.
//!
//! ```sh
//! QUARRY_POSTGRES_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example listen_notify --features postgres
//! ```

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use quarry::driver::native::postgres;
use quarry::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("QUARRY_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into());
    let engine = create_engine(&url)?;

    // A raw connection: checked out of the pool, the native client inside.
    let mut raw = engine.raw_connection()?;
    let client: &mut postgres::Client = raw
        .downcast_mut()
        .ok_or("the engine's driver is not postgres")?;
    client.batch_execute("LISTEN quarry_events")?;

    // Any other connection of the engine may notify; here, a connectionless execution.
    for payload in ["user 1 signed up", "user 2 signed up"] {
        engine.execute(
            text("SELECT pg_notify('quarry_events', :payload)").bind("payload", payload),
        )?;
    }

    let mut received = Vec::new();
    {
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(Duration::from_secs(5));
        while let Some(note) = waiting.next()? {
            println!("{}: {}", note.channel(), note.payload());
            received.push(note.payload().to_owned());
            if received.len() == 2 {
                break;
            }
        }
    }
    client.batch_execute("UNLISTEN quarry_events")?;
    drop(raw); // back to the pool, rolled back

    assert_eq!(received, ["user 1 signed up", "user 2 signed up"]);
    println!("received {} notifications", received.len());
    Ok(())
}
