//! Evolving a live schema: declare v1 and create it, add rows, change the struct to v2 (a new
//! `language` column with a default, an index, a column made nullable), let Quarry write the
//! migration, review it, run it, and query the new column.
//!
//! ```text
//! cargo run --example migrations                      # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test \
//!     cargo run --example migrations --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test \
//!     cargo run --example migrations --features mysql
//! ```
//!
//! On a server the example works in a schema (PostgreSQL) or database (MariaDB/MySQL) it
//! creates for itself and drops at the end; nothing else of the server is touched.

use quarry::migrate::Migrator;
use quarry::prelude::*;

pub static V1: MetaData = MetaData::new();
pub static V2: MetaData = MetaData::new();

/// The tables as the application first shipped them.
mod v1 {
    use super::V1;
    use quarry::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "books", metadata = V1)]
    pub struct Book {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 200)]
        pub title: String,
        #[column(max_length = 100)]
        pub author: String,
    }
}

/// The same struct after the change: `language` (with a default, so existing rows get one),
/// an index on `author`, and `author` nullable.
mod v2 {
    use super::V2;
    use quarry::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "books", metadata = V2)]
    pub struct Book {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 200)]
        pub title: String,
        #[column(max_length = 100, index)]
        pub author: Option<String>,
        #[column(max_length = 8, default = "en")]
        pub language: String,
    }
}

/// Where the example runs, and what it removes afterwards.
struct Place {
    engine: Engine,
    cleanup: Box<dyn FnOnce() -> Result<(), quarry::Error>>,
}

/// A SQLite file in the temp dir, or a schema / database of the example's own on the server
/// of `QUARRY_EXAMPLE_URL`.
fn place() -> Result<Place, quarry::Error> {
    let name = format!("quarry_example_migrations_{}", std::process::id());
    let Ok(url) = std::env::var("QUARRY_EXAMPLE_URL") else {
        let path = std::env::temp_dir().join(format!("{name}.db"));
        let engine = create_engine(&format!("sqlite:///{}", path.display()))?;
        return Ok(Place {
            engine,
            cleanup: Box::new(move || {
                let _ = std::fs::remove_file(&path);
                Ok(())
            }),
        });
    };
    let admin = create_engine(&url)?;
    match admin.dialect().name() {
        "postgresql" => {
            admin.execute(text(format!("CREATE SCHEMA {name}")))?;
            let engine = Engine::builder(&url)
                .connect_arg("options", format!("-csearch_path={name}"))
                .build()?;
            Ok(Place {
                engine,
                cleanup: Box::new(move || {
                    admin.execute(text(format!("DROP SCHEMA {name} CASCADE")))?;
                    Ok(())
                }),
            })
        }
        _ => {
            admin.execute(text(format!("CREATE DATABASE {name}")))?;
            let (base, query) = url.split_once('?').unwrap_or((&url, ""));
            let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
            let sep = if query.is_empty() { "" } else { "?" };
            let engine = create_engine(&format!("{server}/{name}{sep}{query}"))?;
            Ok(Place {
                engine,
                cleanup: Box::new(move || {
                    admin.execute(text(format!("DROP DATABASE {name}")))?;
                    Ok(())
                }),
            })
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Place { engine, cleanup } = place()?;
    let result = evolve(&engine);
    engine.dispose();
    cleanup()?;
    result
}

fn evolve(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "engine: {} ({} dialect)",
        engine.url(),
        engine.dialect().name()
    );
    let dir =
        std::env::temp_dir().join(format!("quarry_example_migrations_{}", std::process::id()));

    // Version 1, created and filled.
    V1.create_all(engine)?;
    for (title, author) in [("A Wizard of Earthsea", "Le Guin"), ("Ficciones", "Borges")] {
        engine.execute(insert!(v1::Book {
            title: title,
            author: author
        }))?;
    }

    // The struct changed: what would it take?
    let plan = quarry::migrate::diff(&V2, engine)?;
    println!("\nthe database is behind the code by:\n{plan}");

    // Write it as a migration a human reviews (and commits next to the code).
    let Some(migration) = quarry::migrate::autogenerate(&V2, engine, &dir, "add_language")? else {
        return Err("the database already matched".into());
    };
    println!("review {}:", migration.join("up.sql").display());
    println!("{}", std::fs::read_to_string(migration.join("up.sql"))?);

    // Run it (a second process running it at the same time would wait, then find it applied).
    let migrator = Migrator::from_dir(&dir)?;
    migrator.run_with(engine, |a| {
        println!("applied {:03}_{} in {:?}", a.version, a.name, a.took)
    })?;
    assert!(quarry::migrate::diff(&V2, engine)?.is_empty());

    // The new column is there, filled with its default.
    engine.execute(insert!(v2::Book {
        title: "Solaris",
        author: None,
        language: "pl"
    }))?;
    let books: Vec<(String, String)> = engine
        .execute(select!(v2::Book::title, v2::Book::language FROM v2::Book ORDER BY v2::Book::id))?
        .all()?;
    for (title, language) in &books {
        println!("{title}: {language}");
    }
    assert_eq!(books[0].1, "en");
    for state in migrator.status(engine)? {
        println!(
            "migration {:03}_{}: applied = {}",
            state.version, state.name, state.applied
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
