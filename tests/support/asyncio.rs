//! What the async suites share: a multi-thread runtime per test, an async engine on a
//! backend's database, and its tables created through the async engine.

use quarry::asyncio::{AsyncEngine, AsyncEngineBuilder, AsyncMetaDataDdl, PoolStatus};
use quarry::prelude::*;

use super::Backend;

/// Run `f` to completion on a fresh two-worker runtime.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The async engine on the backend's database (its own memory database for `sqlite://`).
pub async fn engine_for(
    b: &Backend,
    configure: impl FnOnce(AsyncEngineBuilder) -> AsyncEngineBuilder,
) -> AsyncEngine {
    configure(AsyncEngine::builder(&b.url))
        .build()
        .await
        .expect("async engine")
}

/// Create `meta`'s tables through the async engine (`create_all_async`: the DDL the blocking
/// `create_all` sends).
pub async fn create_tables(engine: &AsyncEngine, meta: &'static MetaData) {
    meta.create_all_async(engine)
        .await
        .expect("create_all_async");
}

/// No connection of `engine` is out and no checkout waits; the status, for more checks.
pub fn assert_pool_at_rest(engine: &AsyncEngine, backend: &str) -> PoolStatus {
    let status = engine.pool_status();
    assert_eq!(
        (status.checked_out, status.waiting),
        (0, 0),
        "{backend}: {status:?}"
    );
    status
}
