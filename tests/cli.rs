//! The `quarry` binary (feature `cli`) on a SQLite file: `migrate new|run|status|revert`,
//! `print-schema`, help, and its exit codes (0 success, 1 failure, 2 usage mistake).
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

fn quarry(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env_remove("NO_COLOR")
        .output()
        .expect("run quarry")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_cli_creates_runs_reports_reverts_and_prints() {
    let dir = std::env::temp_dir().join(format!("quarry_cli_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite:///{}", dir.join("app.db").display());

    let help = quarry(&dir, &url, &["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("quarry migrate new NAME"));

    let new = quarry(&dir, &url, &["migrate", "new", "create_books"]);
    assert!(new.status.success(), "{}", stderr(&new));
    let migration = dir.join("migrations/001_create_books");
    std::fs::write(
        migration.join("up.sql"),
        "CREATE TABLE books (id INTEGER NOT NULL, title VARCHAR(80) NOT NULL, PRIMARY KEY (id));\n",
    )
    .expect("up");
    std::fs::write(migration.join("down.sql"), "DROP TABLE books;\n").expect("down");

    let status = quarry(&dir, &url, &["migrate", "status"]);
    assert_eq!(stdout(&status), "pending  001_create_books\n");
    let run = quarry(&dir, &url, &["migrate", "run"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).starts_with("applied 001_create_books ("),
        "{}",
        stdout(&run)
    );
    assert_eq!(
        stdout(&quarry(&dir, &url, &["migrate", "status"])),
        "applied  001_create_books\n"
    );

    let printed = quarry(&dir, &url, &["print-schema", "--tables", "books"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert!(
        stdout(&printed).contains("pub struct Books {"),
        "{}",
        stdout(&printed)
    );
    assert!(!stdout(&printed).contains("quarry_migrations"));
    let missing = quarry(&dir, &url, &["print-schema", "--tables", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no table named \"nope\""),
        "{}",
        stderr(&missing)
    );

    // An applied migration edited afterwards: refused, exit 1, naming the file.
    std::fs::write(
        migration.join("up.sql"),
        "CREATE TABLE books (id INTEGER);\n",
    )
    .expect("edit");
    let edited = quarry(&dir, &url, &["migrate", "run"]);
    assert_eq!(edited.status.code(), Some(1));
    assert!(
        stderr(&edited).contains("001_create_books/up.sql now has checksum"),
        "{}",
        stderr(&edited)
    );

    std::fs::write(
        migration.join("up.sql"),
        "CREATE TABLE books (id INTEGER NOT NULL, title VARCHAR(80) NOT NULL, PRIMARY KEY (id));\n",
    )
    .expect("restore");
    let revert = quarry(&dir, &url, &["migrate", "revert"]);
    assert!(revert.status.success(), "{}", stderr(&revert));
    assert_eq!(stdout(&revert), "reverted 001_create_books\n");

    for usage in [
        &["bogus"][..],
        &["migrate", "revert", "many"],
        &["migrate", "run", "--frobnicate"],
    ] {
        let out = quarry(&dir, &url, usage);
        assert_eq!(out.status.code(), Some(2), "{usage:?}: {}", stderr(&out));
    }
    let no_url = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(["migrate", "status"])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run");
    assert_eq!(no_url.status.code(), Some(2));
    assert!(stderr(&no_url).contains("pass --url URL or set DATABASE_URL"));
    let _ = std::fs::remove_dir_all(&dir);
}
