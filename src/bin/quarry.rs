//! `quarry`: versioned migrations and schema printing from the command line.
//!
//! Built with the cargo feature `cli`: `cargo install --path . --features cli,postgres,mysql`.
//! Arguments are parsed by hand (a few subcommands and flags need no parser crate).
//! Exit codes: 0 success, 1 a failure (database, migration), 2 a usage error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use quarry::Engine;
use quarry::migrate::{Migrator, new_migration};

const HELP: &str = "\
quarry — migrations and schema printing for Quarry

Usage:
  quarry migrate new NAME [--dir DIR]        create DIR/NNN_NAME/{up,down}.sql
  quarry migrate run [--url URL] [--dir DIR] apply pending migrations
  quarry migrate revert [N] [--url URL] [--dir DIR]
                                             revert the last N applied (default 1)
  quarry migrate status [--url URL] [--dir DIR]
                                             list migrations and whether each is applied
  quarry migrate resolve VERSION [--url URL] [--dir DIR]
                                             forget a migration that failed part-way (MySQL),
                                             after repairing the database by hand
  quarry print-schema [--url URL] [--tables a,b]
                                             print the live tables as #[derive(Table)] source

Options:
  --url URL     database URL (default: $DATABASE_URL), e.g. postgresql://user@host/db,
                mysql://root@127.0.0.1/app, sqlite:///path/to/app.db
  --dir DIR     migrations directory (default: migrations)
  --tables L    comma-separated table names (print-schema)
  -h, --help    show this help
  -V, --version show the version
";

/// A usage mistake (exit code 2) or a failure (exit code 1).
enum Failure {
    Usage(String),
    Failed(String),
}

impl From<quarry::Error> for Failure {
    fn from(e: quarry::Error) -> Self {
        Failure::Failed(e.to_string())
    }
}

struct Args {
    positional: Vec<String>,
    url: Option<String>,
    dir: PathBuf,
    tables: Option<Vec<String>>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Option<Args>, Failure> {
    let mut out = Args {
        positional: Vec::new(),
        url: None,
        dir: PathBuf::from("migrations"),
        tables: None,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| Failure::Usage(format!("{name} needs a value, e.g. {name} VALUE")))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "-V" | "--version" => {
                println!("quarry {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            "--url" => out.url = Some(value("--url")?),
            "--dir" => out.dir = PathBuf::from(value("--dir")?),
            "--tables" => {
                out.tables = Some(
                    value("--tables")?
                        .split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                );
            }
            f if f.starts_with('-') => {
                return Err(Failure::Usage(format!(
                    "unknown option {f}; see quarry --help"
                )));
            }
            _ => out.positional.push(arg),
        }
    }
    Ok(Some(out))
}

fn engine(args: &Args) -> Result<Engine, Failure> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => std::env::var("DATABASE_URL").map_err(|_| {
            Failure::Usage("no database URL: pass --url URL or set DATABASE_URL".into())
        })?,
    };
    Ok(quarry::create_engine(&url)?)
}

/// `text` in `colour` (an ANSI code) when stdout is a terminal.
fn paint(text: &str, colour: &str) -> String {
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[{colour}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn run(args: Args) -> Result<(), Failure> {
    let words: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["migrate", "new", name] => {
            let path = new_migration(
                &args.dir,
                name,
                "-- Write the migration here.\n",
                "-- Write how to undo it here.\n",
            )?;
            println!("created {}", path.display());
        }
        ["migrate", "run"] => {
            let engine = engine(&args)?;
            let applied = Migrator::from_dir(&args.dir)?.run_with(&engine, |a| {
                println!(
                    "{} {:03}_{} ({} ms)",
                    paint("applied", "32"),
                    a.version,
                    a.name,
                    a.took.as_millis()
                );
            })?;
            if applied.is_empty() {
                println!("nothing to apply");
            }
        }
        ["migrate", "revert", rest @ ..] => {
            let n = match rest {
                [] => 1,
                [n] => n.parse().map_err(|_| {
                    Failure::Usage(format!("revert takes a number of migrations, not {n:?}"))
                })?,
                _ => return Err(Failure::Usage("revert takes at most one number".into())),
            };
            let engine = engine(&args)?;
            for r in Migrator::from_dir(&args.dir)?.revert(&engine, n)? {
                println!("{} {:03}_{}", paint("reverted", "33"), r.version, r.name);
            }
        }
        ["migrate", "status"] => {
            let engine = engine(&args)?;
            for s in Migrator::from_dir(&args.dir)?.status(&engine)? {
                let state = if s.failed {
                    paint("FAILED ", "31")
                } else if s.applied {
                    paint("applied", "32")
                } else {
                    paint("pending", "33")
                };
                let mut notes = Vec::new();
                if s.changed {
                    notes.push("up.sql changed since applied");
                }
                if s.missing {
                    notes.push("no file");
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", notes.join(", "))
                };
                println!("{state}  {:03}_{}{notes}", s.version, s.name);
            }
        }
        ["migrate", "resolve", version] => {
            let version: i64 = version.parse().map_err(|_| {
                Failure::Usage(format!("resolve takes a version number, not {version:?}"))
            })?;
            let engine = engine(&args)?;
            if Migrator::from_dir(&args.dir)?.resolve(&engine, version)? {
                println!("migration {version} is no longer marked failed; run again");
            } else {
                return Err(Failure::Failed(format!(
                    "migration {version} is not marked failed"
                )));
            }
        }
        ["print-schema"] => {
            let engine = engine(&args)?;
            let mut live =
                quarry::reflect(&engine)?.retain(|t| t.name() != quarry::migrate::VERSION_TABLE);
            if let Some(tables) = &args.tables {
                for t in tables {
                    if live.def(t).is_none() {
                        return Err(Failure::Failed(format!(
                            "no table named {t:?} in the database; it has: {}",
                            live.names().join(", ")
                        )));
                    }
                }
                live = live.retain(|t| tables.iter().any(|n| n == t.name()));
            }
            print!("{}", quarry::migrate::print_schema(&live));
        }
        [] => return Err(Failure::Usage("no command; see quarry --help".into())),
        _ => {
            return Err(Failure::Usage(format!(
                "unknown command {:?}; see quarry --help",
                words.join(" ")
            )));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse(std::env::args().skip(1)).and_then(|args| match args {
        None => {
            print!("{HELP}");
            Ok(())
        }
        Some(args) => run(args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("{} {msg}", paint("usage error:", "31"));
            ExitCode::from(2)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("{} {msg}", paint("error:", "31"));
            ExitCode::FAILURE
        }
    }
}
