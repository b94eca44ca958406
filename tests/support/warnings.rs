//! The warnings the pool logs (target `quarry::pool`), captured by a global `tracing`
//! subscriber of the test binary: what the leak-detection tests read.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The warnings the pool logged (target `quarry::pool`), as `field=value …` lines.
pub fn pool_warnings() -> &'static Mutex<Vec<String>> {
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    struct Fields(String);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }
    struct Warnings(&'static Mutex<Vec<String>>);
    impl Subscriber for Warnings {
        fn enabled(&self, m: &Metadata<'_>) -> bool {
            *m.level() <= Level::WARN && m.target().starts_with("quarry::pool")
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    static LINES: OnceLock<&'static Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines: &'static Mutex<Vec<String>> = Box::leak(Box::default());
        tracing::subscriber::set_global_default(Warnings(lines))
            .expect("no other subscriber in this binary");
        lines
    })
}

pub fn warnings_naming(site: &str) -> Vec<String> {
    pool_warnings()
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(site))
        .cloned()
        .collect()
}

/// The warnings naming `site`, once the pool's leak watchdog reported the connection checked
/// out there (waiting up to 3 s for it).
pub fn leak_warnings(site: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    while warnings_naming(site).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    warnings_naming(site)
}

/// `leaks` (from [`leak_warnings`]) hold the watchdog's report of a leak.
pub fn assert_reported_leak(leaks: &[String], backend: &str) {
    assert!(
        leaks.iter().any(|l| l.contains("connection leak")),
        "{backend}: {leaks:?}"
    );
}

/// The connection checked out at `site` was reported again when it came back.
pub fn assert_reported_return(site: &str, backend: &str) {
    assert!(
        warnings_naming(site)
            .iter()
            .any(|l| l.contains("came back after")),
        "{backend}"
    );
}

/// Nothing was reported of the connection checked out at `site`.
pub fn assert_not_reported(site: &str, backend: &str) {
    assert_eq!(warnings_naming(site), Vec::<String>::new(), "{backend}");
}
