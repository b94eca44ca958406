//! Opening connections within a checkout's deadline.
//!
//! A connect that hangs (a black-holed network, a server that accepts but never answers) must
//! not hold a checkout past `pool_timeout`. Where the driver may block on the network, the
//! connect runs on a thread of its own while the checkout waits for it up to its deadline; on
//! time out the checkout fails and the connect thread keeps the slot it reserved: a connection
//! that opens late joins the pool (or is closed), a failure frees the slot. Embedded databases
//! connect inline.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Instant;

use super::{Entry, Shared, lock};
use crate::error::Result;

/// Why no connection was opened.
pub(super) enum Failed {
    /// Opening failed; the caller still holds the slot it reserved.
    Error(crate::Error),
    /// The deadline passed first; the slot now belongs to the connect still under way.
    TimedOut,
}

enum Handoff {
    Waiting,
    Abandoned,
    Done(Result<Entry>),
}

struct Rendezvous {
    state: Mutex<Handoff>,
    done: Condvar,
}

/// Open a connection and run the `on_connect` hooks, on this thread.
pub(super) fn open(shared: &Shared) -> Result<Entry> {
    let result = shared.driver.connect().and_then(|mut conn| {
        let info = shared.new_info();
        for hook in &shared.options.events.connect {
            hook(conn.as_mut(), &info)?;
        }
        Ok(Entry {
            conn,
            info,
            holder: None,
        })
    });
    let mut last = lock(&shared.last_connect_error);
    match &result {
        Ok(entry) => {
            *last = None;
            drop(last);
            tracing::debug!(target: "quarry::pool", id = entry.info.id, "connect: opened a new connection");
        }
        Err(e) => {
            *last = Some(e.to_string());
            drop(last);
            tracing::warn!(target: "quarry::pool", error = %e, "connect failed");
        }
    }
    result
}

/// Open a connection for a checkout that must be done by `deadline` (`None`: no limit).
pub(super) fn open_within(
    shared: &Arc<Shared>,
    deadline: Option<Instant>,
) -> std::result::Result<Entry, Failed> {
    let Some(deadline) = deadline.filter(|_| shared.driver.connect_may_block()) else {
        return open(shared).map_err(Failed::Error);
    };
    let rendezvous = Arc::new(Rendezvous {
        state: Mutex::new(Handoff::Waiting),
        done: Condvar::new(),
    });
    let spawned = {
        let shared = Arc::clone(shared);
        let rendezvous = Arc::clone(&rendezvous);
        thread::Builder::new()
            .name("quarry-pool-connect".into())
            .spawn(move || {
                let result = open(&shared);
                let mut state = lock(&rendezvous.state);
                if matches!(*state, Handoff::Abandoned) {
                    drop(state);
                    opened_late(&shared, result);
                } else {
                    *state = Handoff::Done(result);
                    rendezvous.done.notify_one();
                }
            })
    };
    if let Err(e) = spawned {
        tracing::warn!(target: "quarry::pool", error = %e, "cannot start a connect thread; connecting inline");
        return open(shared).map_err(Failed::Error);
    }
    let mut state = lock(&rendezvous.state);
    loop {
        if let Handoff::Done(_) = &*state {
            return match std::mem::replace(&mut *state, Handoff::Abandoned) {
                Handoff::Done(result) => result.map_err(Failed::Error),
                _ => unreachable!("just matched Done"),
            };
        }
        let now = Instant::now();
        if now >= deadline {
            *state = Handoff::Abandoned;
            tracing::warn!(target: "quarry::pool", "connect still under way at the checkout's deadline; giving up on it");
            return Err(Failed::TimedOut);
        }
        state = rendezvous
            .done
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// A connect finished after its checkout gave up: the connection joins the pool (or is
/// closed), and a failure frees the slot.
fn opened_late(shared: &Shared, result: Result<Entry>) {
    shared.store.opened_late(shared, result);
}
