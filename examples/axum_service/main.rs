//! A small HTTP service on the async engine (axum, cargo feature `tokio`): list accounts,
//! create one, move money between two in a transaction — see `service.rs` for the routes.
//!
//! ```text
//! cargo run --example axum_service --features tokio            # calls itself, then exits
//! cargo run --example axum_service --features tokio -- --serve 127.0.0.1:3000
//! curl -s localhost:3000/accounts
//! curl -s -XPOST localhost:3000/accounts -H 'content-type: application/json' \
//!     -d '{"owner": "ed", "balance": 100}'
//! curl -s -XPOST localhost:3000/transfers -H 'content-type: application/json' \
//!     -d '{"from": 1, "to": 2, "amount": 30}'
//! ```
//!
//! SQLite in memory unless `QUARRY_EXAMPLE_URL` names another database (`postgresql://…`,
//! `mysql://…`, with `--features tokio,postgres` / `tokio,mysql`). Without `--serve` the service
//! listens on an ephemeral loopback port, makes a few calls to itself over HTTP, prints them and
//! exits (so that CI runs it); `tests/axum_service.rs` does the same on every backend.

mod client;
mod service;

use std::error::Error;

use quarry::asyncio::AsyncEngine;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| "sqlite://".to_owned());
    let engine = AsyncEngine::builder(&url).pool_size(5).build().await?;
    service::create_tables(&engine).await?;
    let app = service::router(engine.clone());

    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--serve") {
        let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("serving {url} on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        return Ok(());
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!("serving {url} on http://{addr}");
    let calls = [
        (
            "POST",
            "/accounts",
            Some(json!({"owner": "ed", "balance": 100})),
        ),
        ("POST", "/accounts", Some(json!({"owner": "wendy"}))),
        (
            "POST",
            "/transfers",
            Some(json!({"from": 1, "to": 2, "amount": 30})),
        ),
        // Too little money: the transaction is rolled back, nothing moves.
        (
            "POST",
            "/transfers",
            Some(json!({"from": 2, "to": 1, "amount": 31})),
        ),
        // An unknown account: the debit is rolled back with it.
        (
            "POST",
            "/transfers",
            Some(json!({"from": 1, "to": 9, "amount": 5})),
        ),
        ("GET", "/accounts", None),
    ];
    let mut last = serde_json::Value::Null;
    for (method, path, body) in calls {
        let (status, answer) = client::call(addr, method, path, body.as_ref()).await?;
        let sent = body.map(|b| format!(" {b}")).unwrap_or_default();
        println!("{method} {path}{sent} -> {status} {answer}");
        last = answer;
    }
    let balances: Vec<i64> = (last.as_array().into_iter().flatten())
        .filter_map(|a| a["balance"].as_i64())
        .collect();
    if balances != [70, 30] {
        return Err(format!("expected balances [70, 30], found {balances:?}").into());
    }
    server.abort();
    engine.dispose().await;
    Ok(())
}
