//! Helpers shared by the test suites.

use quarry::dialect::{ALL, Dialect};

/// Snapshot `render(dialect)` for every dialect, as `<name>@<dialect>.snap`.
#[track_caller]
pub fn check_each_dialect(name: &str, render: impl Fn(&dyn Dialect) -> String) {
    for dialect in ALL {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(dialect.name());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("../snapshots");
        settings.bind(|| insta::assert_snapshot!(name, render(*dialect)));
    }
}
