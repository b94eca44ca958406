//! Leak detection: every checkout records its source line and time; a watchdog thread warns
//! about connections held longer than the threshold.

use std::panic::Location;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use super::lock;

struct Record {
    site: &'static Location<'static>,
    since: Instant,
    reported: bool,
}

#[derive(Default)]
struct Records {
    slots: Vec<Option<Record>>,
    free: Vec<usize>,
}

struct State {
    records: Mutex<Records>,
    threshold: Duration,
}

/// The checkouts of one pool; the watchdog stops when the pool is dropped.
pub(super) struct LeakDetector {
    state: Arc<State>,
}

impl LeakDetector {
    pub(super) fn start(threshold: Duration) -> Self {
        let state = Arc::new(State {
            records: Mutex::new(Records::default()),
            threshold,
        });
        let weak = Arc::downgrade(&state);
        let period = (threshold / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let spawned = thread::Builder::new()
            .name("quarry-pool-leaks".into())
            .spawn(move || watch(&weak, period));
        if let Err(e) = spawned {
            tracing::warn!(target: "quarry::pool", error = %e, "cannot start the leak-detection thread; leaks are reported when connections come back");
        }
        LeakDetector { state }
    }

    /// Note a checkout at `site`; returns the key to `release` it with.
    pub(super) fn register(&self, site: &'static Location<'static>) -> usize {
        let record = Record {
            site,
            since: Instant::now(),
            reported: false,
        };
        let mut records = lock(&self.state.records);
        match records.free.pop() {
            Some(key) => {
                records.slots[key] = Some(record);
                key
            }
            None => {
                records.slots.push(Some(record));
                records.slots.len() - 1
            }
        }
    }

    /// The checkout `key` came back.
    pub(super) fn release(&self, key: usize) {
        let mut records = lock(&self.state.records);
        let record = records.slots.get_mut(key).and_then(Option::take);
        records.free.push(key);
        drop(records);
        if let Some(r) = record {
            let held = r.since.elapsed();
            if r.reported || held >= self.state.threshold {
                tracing::warn!(
                    target: "quarry::pool",
                    site = %r.site,
                    held_ms = held.as_millis() as u64,
                    "connection checked out at {} came back after {:?} (leak_detection_threshold {:?})",
                    r.site,
                    held,
                    self.state.threshold
                );
            }
        }
    }
}

#[cfg(test)]
impl LeakDetector {
    /// The checkout sites of the connections reported as leaked so far.
    pub(super) fn reported(&self) -> Vec<String> {
        lock(&self.state.records)
            .slots
            .iter()
            .flatten()
            .filter(|r| r.reported)
            .map(|r| r.site.to_string())
            .collect()
    }
}

fn watch(state: &Weak<State>, period: Duration) {
    loop {
        thread::sleep(period);
        let Some(state) = state.upgrade() else {
            return;
        };
        let mut records = lock(&state.records);
        for r in records.slots.iter_mut().flatten() {
            let held = r.since.elapsed();
            if !r.reported && held >= state.threshold {
                r.reported = true;
                tracing::warn!(
                    target: "quarry::pool",
                    site = %r.site,
                    held_ms = held.as_millis() as u64,
                    "connection leak: checked out at {} and held for {:?} (leak_detection_threshold {:?})",
                    r.site,
                    held,
                    state.threshold
                );
            }
        }
    }
}
