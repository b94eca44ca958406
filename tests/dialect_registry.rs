//! The dialect registry: `quarry::dialect::register(name, factory)` and `create_engine` finding
//! the registered driver by the URL's `dialect+driver` scheme — on every backend, through a
//! wrapper that counts what its connections run.
//!
//! The registry is process-global and tests run in parallel: each test registers names of its
//! own.

mod support;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use quarry::dialect::{self, Dialect};
use quarry::driver::{self, Driver, DriverConnection, Outcome, RowSink};
use quarry::prelude::*;
use quarry::{Url, Value};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "reg_users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub name: String,
    }
}

use model::{META, User};

/// Wraps a driver; counts the statements (`run` and `batch`) of its connections.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Driver>,
    statements: Arc<AtomicUsize>,
}

impl Driver for Counting {
    fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect()
    }
    fn connect(&self) -> quarry::Result<Box<dyn DriverConnection>> {
        Ok(Box::new(CountingConn {
            inner: self.inner.connect()?,
            statements: Arc::clone(&self.statements),
        }))
    }
    fn connect_may_block(&self) -> bool {
        self.inner.connect_may_block()
    }
    fn each_connection_is_a_new_database(&self) -> bool {
        self.inner.each_connection_is_a_new_database()
    }
}

struct CountingConn {
    inner: Box<dyn DriverConnection>,
    statements: Arc<AtomicUsize>,
}

impl DriverConnection for CountingConn {
    fn run(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> quarry::Result<Outcome> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.run(sql, params, sink)
    }
    fn batch(&mut self, sql: &str) -> quarry::Result<()> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.batch(sql)
    }
    fn ping(&mut self) -> quarry::Result<()> {
        self.inner.ping()
    }
    fn ping_within(&mut self, timeout: Duration) -> quarry::Result<()> {
        self.inner.ping_within(timeout)
    }
    fn begin(&mut self) -> quarry::Result<()> {
        self.inner.begin()
    }
    fn commit(&mut self) -> quarry::Result<()> {
        self.inner.commit()
    }
    fn rollback(&mut self) -> quarry::Result<()> {
        self.inner.rollback()
    }
    fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }
    fn forget_transaction(&mut self) {
        self.inner.forget_transaction();
    }
    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> quarry::Result<()> {
        self.inner.set_statement_timeout(timeout)
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self.inner.as_any_mut()
    }
    fn as_any(&self) -> &dyn Any {
        self.inner.as_any()
    }
}

/// Register `name` as a counting wrapper around the driver for `inner_url`; the counter.
fn register_counting(name: &str, inner_url: &str) -> Arc<AtomicUsize> {
    let statements = Arc::new(AtomicUsize::new(0));
    let (count, inner_url) = (Arc::clone(&statements), inner_url.to_owned());
    dialect::register(name, move |_url: &Url| -> quarry::Result<Arc<dyn Driver>> {
        Ok(Arc::new(Counting {
            inner: driver::for_url(&Url::parse(&inner_url)?)?,
            statements: Arc::clone(&count),
        }))
    })
    .expect("register");
    statements
}

/// Create, fill, query and drop a table through `engine`.
fn round_trip(engine: &Engine) -> quarry::Result<Vec<String>> {
    META.create_all(engine)?;
    engine.transaction(|conn| -> quarry::Result<()> {
        for name in ["ed", "wendy"] {
            conn.execute(insert!(User { name }))?;
        }
        Ok(())
    })?;
    let names = engine
        .execute(select!(User::name FROM User ORDER BY User::name))?
        .all()?;
    META.drop_all(engine)?;
    Ok(names)
}

#[test]
fn a_registered_name_serves_create_engine_and_every_statement_goes_through_it() {
    let count = register_counting("regcount", "sqlite://");
    let engine = create_engine("regcount://").unwrap();
    assert_eq!(engine.dialect().name(), "sqlite");
    assert_eq!(engine.url().dialect_name(), "regcount");
    assert_eq!(round_trip(&engine).unwrap(), ["ed", "wendy"]);
    // has-table + CREATE, two INSERTs, the SELECT, has-table + DROP.
    assert!(count.load(Ordering::SeqCst) >= 7, "{count:?}");

    let before = count.load(Ordering::SeqCst);
    let n: i64 = engine
        .connect()
        .unwrap()
        .execute(text("SELECT 1"))
        .unwrap()
        .one()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count.load(Ordering::SeqCst), before + 1);

    // The native connection is still the wrapped driver's.
    let mut raw = engine.raw_connection().unwrap();
    assert!(
        raw.downcast_mut::<quarry::driver::native::rusqlite::Connection>()
            .is_some()
    );
    assert!(dialect::registered().contains(&"regcount".to_owned()));
}

#[test]
fn name_plus_driver_beats_the_bare_name_which_takes_the_other_drivers() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let tag = |which: &'static str| {
        let seen = Arc::clone(&seen);
        move |url: &Url| -> quarry::Result<Arc<dyn Driver>> {
            seen.lock()
                .unwrap()
                .push(format!("{which}:{}", url.driver_name().unwrap_or("-")));
            driver::for_url(&Url::parse("sqlite://")?)
        }
    };
    dialect::register("regpick", tag("bare")).unwrap();
    dialect::register("regpick+fast", tag("exact")).unwrap();
    for url in ["regpick://", "regpick+fast://", "regpick+slow://"] {
        create_engine(url).unwrap();
    }
    assert_eq!(*seen.lock().unwrap(), ["bare:-", "exact:fast", "bare:slow"]);

    // Without the bare name, an unregistered driver is an unknown dialect.
    assert!(dialect::unregister("regpick"));
    let e = create_engine("regpick+slow://").unwrap_err().to_string();
    assert!(e.contains("unknown dialect \"regpick\""), "{e}");
    assert!(e.contains("regpick+fast"), "{e}");
}

#[test]
fn a_new_driver_for_a_built_in_dialect_and_unknown_drivers_list_the_known() {
    let count = register_counting("sqlite+regcounting", "sqlite://");
    let engine = create_engine("sqlite+regcounting://").unwrap();
    assert_eq!(round_trip(&engine).unwrap(), ["ed", "wendy"]);
    assert!(count.load(Ordering::SeqCst) > 0);
    // The built-in driver is still there under both spellings.
    create_engine("sqlite://").unwrap();
    create_engine("sqlite+rusqlite://").unwrap();

    let e = create_engine("sqlite+nosuch://").unwrap_err();
    assert!(matches!(e, quarry::Error::Url { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("unknown driver \"nosuch\" for sqlite"), "{e}");
    assert!(e.contains("sqlite+rusqlite"), "{e}");
    assert!(e.contains("sqlite+regcounting"), "{e}");
}

#[test]
fn an_unknown_dialect_names_it_and_lists_built_in_and_registered_ones() {
    let _ = register_counting("reglisted", "sqlite://");
    let e = create_engine("oracle+cx_oracle://scott:tiger@db/orcl").unwrap_err();
    assert!(matches!(e, quarry::Error::Url { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("unknown dialect \"oracle\""), "{e}");
    assert!(e.contains("sqlite, postgresql, mysql, mariadb"), "{e}");
    assert!(e.contains("reglisted"), "{e}");
    assert!(e.contains("quarry::dialect::register"), "{e}");
    assert!(!e.contains("tiger"), "{e}");
}

#[test]
fn a_factory_error_names_the_registered_name_and_the_url() {
    dialect::register("regfail", |url: &Url| -> quarry::Result<Arc<dyn Driver>> {
        match url.database() {
            None => Err(quarry::Error::Config(
                "regfail needs a database name".into(),
            )),
            // An error about the URL the factory built reaches the caller too.
            Some(db) => driver::for_url(&Url::parse(&format!("sqlite:///{db}?bogus=1"))?),
        }
    })
    .unwrap();
    let e = create_engine("regfail://user:secret@host").unwrap_err();
    assert!(matches!(e, quarry::Error::Url { .. }), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("the driver registered as \"regfail\" failed"),
        "{e}"
    );
    assert!(e.contains("regfail needs a database name"), "{e}");
    assert!(e.contains("regfail://user:***@host"), "{e}");
    assert!(!e.contains("secret"), "{e}");

    let e = create_engine("regfail:///x.db").unwrap_err().to_string();
    assert!(e.contains("bogus"), "{e}");
}

#[test]
fn registering_again_replaces_and_unregistering_removes() {
    let first = register_counting("regagain", "sqlite://");
    let second = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&second);
    let replaced = dialect::register("regagain", move |_: &Url| {
        Ok(Arc::new(Counting {
            inner: driver::for_url(&Url::parse("sqlite://")?)?,
            statements: Arc::clone(&count),
        }) as Arc<dyn Driver>)
    })
    .unwrap();
    assert!(replaced);
    let engine = create_engine("regagain://").unwrap();
    engine.execute(text("SELECT 1")).unwrap().close();
    assert_eq!(
        (
            first.load(Ordering::SeqCst),
            second.load(Ordering::SeqCst) > 0
        ),
        (0, true)
    );

    assert!(dialect::unregister("regagain"));
    assert!(!dialect::unregister("regagain"));
    assert!(!dialect::registered().contains(&"regagain".to_owned()));
    // An engine keeps its driver; new engines cannot find the name.
    engine.execute(text("SELECT 1")).unwrap().close();
    let e = create_engine("regagain://").unwrap_err().to_string();
    assert!(e.contains("unknown dialect \"regagain\""), "{e}");
}

#[test]
fn built_in_names_and_malformed_names_cannot_be_registered() {
    let factory = |url: &Url| driver::for_url(url);
    for name in [
        "sqlite",
        "postgres",
        "mysql",
        "postgresql+postgres",
        "mysql+mysql",
    ] {
        let e = dialect::register(name, factory).unwrap_err().to_string();
        assert!(e.contains("built-in"), "{name}: {e}");
    }
    for name in ["", "log-sqlite", "a+b+c", "9db"] {
        let e = dialect::register(name, factory).unwrap_err().to_string();
        assert!(
            e.contains("\"dialect\" or \"dialect+driver\""),
            "{name}: {e}"
        );
    }
    // `postgres` is spelled `postgresql`, in names as in URLs.
    dialect::register("postgres+regalias", factory).unwrap();
    assert!(dialect::registered().contains(&"postgresql+regalias".to_owned()));
    assert!(dialect::unregister("postgresql+regalias"));
}

#[test]
fn the_wrapped_driver_chooses_the_pool_for_a_memory_database() {
    let _ = register_counting("regmemory", "sqlite://");
    let engine = create_engine("regmemory://").unwrap();
    assert_eq!(engine.pool().poolclass(), PoolClass::SingletonThread);
    let e = Engine::builder("regmemory://")
        .poolclass(PoolClass::Queue)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("poolclass Queue cannot serve regmemory://"),
        "{e}"
    );

    let path = std::env::temp_dir().join(format!("quarry_regfile_{}.db", std::process::id()));
    let _ = register_counting("regfile", &format!("sqlite:///{}", path.display()));
    let engine = create_engine("regfile://").unwrap();
    assert_eq!(engine.pool().poolclass(), PoolClass::Queue);
    assert_eq!(round_trip(&engine).unwrap(), ["ed", "wendy"]);
    engine.dispose();
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_registered_wrapper_runs_on_every_backend() {
    for b in support::backends("dialect_registry") {
        // One name per backend: `regtraced_postgresql+counting`, …
        let name = format!("regtraced_{}", b.name.replace('-', "_"));
        let count = register_counting(&format!("{name}+counting"), &b.url);
        let engine = create_engine(&format!("{name}+counting://")).unwrap();
        assert_eq!(
            engine.dialect().name(),
            b.engine.dialect().name(),
            "{}",
            b.name
        );
        assert_eq!(round_trip(&engine).unwrap(), ["ed", "wendy"], "{}", b.name);
        assert!(count.load(Ordering::SeqCst) >= 7, "{}: {count:?}", b.name);
        engine.dispose();
        assert!(dialect::unregister(&format!("{name}+counting")));
    }
}
