//! The runtime of every async contender: a tokio `current_thread` runtime of its own, the fair
//! single-client comparison with the blocking contenders (one thread polls the client; the
//! drivers' own threads — SQLite workers, `spawn_blocking` — are the drivers' cost). Each
//! iteration is one `block_on`, whose cost (~100 ns) every async contender pays alike.

use anyhow::{Context, Result};

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio: build a current_thread runtime")
}
