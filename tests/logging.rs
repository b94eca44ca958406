//! Logging: `tracing` events for statements (target `quarry::engine`) and connection lifecycle
//! (target `quarry::pool`), and `echo(true)` printing SQL on stdout without any subscriber.
//!
//! This file is its own test binary, so installing a global subscriber here affects no other
//! suite.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use quarry::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event seen: `target: field=value …`.
#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

struct Shared(Arc<Recorder>);

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("{}:", event.metadata().target()));
        event.record(&mut fields);
        self.0.lines.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn recorder() -> &'static Arc<Recorder> {
    static R: OnceLock<Arc<Recorder>> = OnceLock::new();
    R.get_or_init(|| {
        let r = Arc::new(Recorder::default());
        tracing::subscriber::set_global_default(Shared(Arc::clone(&r)))
            .expect("no other subscriber in this binary");
        r
    })
}

fn lines_with(marker: &str) -> Vec<String> {
    recorder()
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(marker))
        .cloned()
        .collect()
}

#[test]
fn statements_and_parameters_are_traced_on_quarry_engine() {
    recorder();
    let engine = create_engine("sqlite://").unwrap();
    let mut conn = engine.connect().unwrap();
    conn.execute(text("SELECT :marker_value_17 AS traced_stmt").bind("marker_value_17", "p-17"))
        .unwrap();
    let lines = lines_with("traced_stmt");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("quarry::engine:"), "{lines:?}");
    assert!(
        lines[0].contains("\"p-17\""),
        "parameters are logged: {lines:?}"
    );

    let hidden = Engine::builder("sqlite://")
        .hide_parameters(true)
        .build()
        .unwrap();
    hidden
        .execute(text("SELECT :v AS hidden_stmt").bind("v", "secret-18"))
        .unwrap();
    let lines = lines_with("hidden_stmt");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].contains("secret-18"), "{lines:?}");
    assert!(lines[0].contains("[hidden]"), "{lines:?}");
}

#[test]
fn connection_lifecycle_is_traced_on_quarry_pool() {
    recorder();
    let engine = create_engine("sqlite://").unwrap();
    drop(engine.connect().unwrap());
    engine.dispose();
    let pool: Vec<String> = lines_with("quarry::pool:");
    for what in ["connect", "checkin", "dispose"] {
        assert!(
            pool.iter().any(|l| l.contains(what)),
            "no {what} event in {pool:?}"
        );
    }
}

/// Runs in a child process (see below): an echoing engine, no subscriber of its own.
#[test]
fn echo_child() {
    if std::env::var_os("QUARRY_ECHO_CHILD").is_none() {
        return;
    }
    let engine = Engine::builder("sqlite://").echo(true).build().unwrap();
    engine
        .execute(text("SELECT :n AS echoed_column").bind("n", 42))
        .unwrap();
}

#[test]
fn echo_prints_statements_and_parameters_on_stdout() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "echo_child", "--nocapture", "--test-threads=1"])
        .env("QUARRY_ECHO_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("SELECT ? AS echoed_column"), "{stdout}");
    assert!(stdout.contains("[parameters: [42]]"), "{stdout}");
}
