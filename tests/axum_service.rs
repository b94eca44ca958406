//! `examples/axum_service`, served on an ephemeral loopback port and called over HTTP, on
//! every backend: list, create (a unique owner: 409 the second time), one account (404 when
//! there is none), transfers in a transaction — committed, or rolled back whole when the money
//! or the other account is missing — and, on the servers, concurrent transfers that never
//! overdraw. The pool has every connection back at the end.

mod support;

#[path = "../examples/axum_service/client.rs"]
mod client;
#[path = "../examples/axum_service/service.rs"]
mod service;

use std::net::SocketAddr;

use quarry::asyncio::AsyncEngine;
use serde_json::{Value, json};
use support::{Backend, backends};

async fn call(
    addr: SocketAddr,
    method: &'static str,
    path: impl AsRef<str>,
    body: Option<Value>,
) -> (u16, Value) {
    let path = path.as_ref();
    client::call(addr, method, path, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

async fn balances(addr: SocketAddr) -> Vec<i64> {
    let (status, list) = call(addr, "GET", "/accounts", None).await;
    assert_eq!(status, 200, "{list}");
    (list.as_array().into_iter().flatten())
        .map(|a| a["balance"].as_i64().expect("a balance"))
        .collect()
}

async fn exercise(b: &Backend) {
    let engine = AsyncEngine::builder(&b.url)
        .pool_size(4)
        .build()
        .await
        .expect("async engine");
    service::create_tables(&engine).await.expect("tables");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = tokio::spawn(axum::serve(listener, service::router(engine.clone())).into_future());

    let (status, list) = call(addr, "GET", "/accounts", None).await;
    assert_eq!((status, list), (200, json!([])), "{}", b.name);

    let (status, ed) = call(
        addr,
        "POST",
        "/accounts",
        Some(json!({"owner": "ed", "balance": 100})),
    )
    .await;
    assert_eq!(status, 201, "{}: {ed}", b.name);
    let ed_id = ed["id"].as_i64().expect("ed's key");
    let (status, wendy) = call(addr, "POST", "/accounts", Some(json!({"owner": "wendy"}))).await;
    assert_eq!(status, 201, "{}: {wendy}", b.name);
    let wendy_id = wendy["id"].as_i64().expect("wendy's key");
    assert_ne!(ed_id, wendy_id);
    let (status, again) = call(addr, "POST", "/accounts", Some(json!({"owner": "ed"}))).await;
    assert_eq!(status, 409, "{}: a second ed: {again}", b.name);

    let (status, shown) = call(addr, "GET", &format!("/accounts/{ed_id}"), None).await;
    assert_eq!((status, &shown["owner"]), (200, &json!("ed")), "{}", b.name);
    let (status, _) = call(addr, "GET", "/accounts/999", None).await;
    assert_eq!(status, 404, "{}", b.name);

    let move_money = |from: i64, to: i64, amount: i64| {
        call(
            addr,
            "POST",
            "/transfers",
            Some(json!({"from": from, "to": to, "amount": amount})),
        )
    };
    let (status, both) = move_money(ed_id, wendy_id, 30).await;
    assert_eq!(status, 200, "{}: {both}", b.name);
    assert_eq!(balances(addr).await, [70, 30], "{}", b.name);
    // Too little money: nothing moves.
    let (status, _) = move_money(wendy_id, ed_id, 31).await;
    assert_eq!(status, 409, "{}", b.name);
    // An unknown account to credit: the debit is rolled back with the transaction.
    let (status, _) = move_money(ed_id, 999, 5).await;
    assert_eq!(status, 404, "{}", b.name);
    assert_eq!(balances(addr).await, [70, 30], "{}", b.name);

    if !b.is_sqlite() {
        // Ten transfers of 10 at once from 70: seven go through, three find too little.
        let results = futures_join(
            (0..10)
                .map(|_| tokio::spawn(move_money(ed_id, wendy_id, 10)))
                .collect(),
        )
        .await;
        let ok = results.iter().filter(|s| **s == 200).count();
        let refused = results.iter().filter(|s| **s == 409).count();
        assert_eq!((ok, refused), (7, 3), "{}: {results:?}", b.name);
        assert_eq!(balances(addr).await, [0, 100], "{}", b.name);
    }

    server.abort();
    assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
    engine.dispose().await;
}

/// The statuses of the spawned calls, in order.
async fn futures_join(handles: Vec<tokio::task::JoinHandle<(u16, Value)>>) -> Vec<u16> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("call").0);
    }
    out
}

#[test]
fn the_axum_service_lists_creates_and_transfers_over_http() {
    for b in backends("axum_service") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(exercise(&b));
    }
}
