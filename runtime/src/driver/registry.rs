//! The dialect registry: third-party drivers that `create_engine` finds by the URL's scheme.
//!
//! SQLAlchemy's `registry.register("mysql.foodialect", module, class)` in Rust: a name — a new
//! dialect `name`, or a driver `name+driver` — maps to a factory that makes a [`Driver`] for
//! a parsed [`Url`]. A driver brings its dialect ([`Driver::dialect`]), so a factory is all a
//! plugin needs. Public as `quarry::dialect::{register, unregister, registered}`.
//!
//! The rules (see [`register`]):
//! - `name+driver` is looked up before `name`; both before the built-in dialects.
//! - A built-in dialect's bare name (`sqlite`, `postgresql`/`postgres`, `mysql`, `mariadb`) and
//!   its own driver (`sqlite+rusqlite`, `postgresql+postgres`, `mysql+mysql`, `mariadb+mysql`)
//!   cannot be registered: that would silently change every engine of the process. New drivers
//!   for a built-in dialect (`postgresql+traced`) can.
//! - Registering a name again replaces its factory (logged at `info` on target
//!   `quarry::dialect`); [`register`] returns whether it did.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::Driver;
use crate::error::{Error, Result};
use crate::url::{Url, canonical_dialect, is_name};

/// What [`register`] stores: makes a driver for a URL whose scheme matched the registered name.
pub type DriverFactory = dyn Fn(&Url) -> Result<Arc<dyn Driver>> + Send + Sync + 'static;

/// Registered names (normalised: `postgres` is `postgresql`) → factories. A `BTreeMap` because
/// its `new` is `const` and [`registered`] lists names in order.
static REGISTRY: RwLock<BTreeMap<String, Arc<DriverFactory>>> = RwLock::new(BTreeMap::new());

/// The built-in dialects, each with the name of its built-in driver.
pub(crate) const BUILT_IN: &[(&str, &str)] = &[
    ("sqlite", "rusqlite"),
    ("postgresql", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
];

/// Further built-in drivers of the built-in dialects, chosen by name in the URL (never the
/// default): `postgresql+wire`, the lean PostgreSQL driver.
pub(crate) const OTHER_BUILT_IN: &[(&str, &str)] = &[("postgresql", "wire")];

/// Register `factory` under `name` — `"dialect"` or `"dialect+driver"` — so that
/// [`create_engine`](crate::create_engine) and [`for_url`](super::for_url) use it for URLs
/// with that scheme. Returns true when it replaced an earlier registration of the same name.
///
/// A URL `a+b://…` is served by the factory registered as `a+b`, else by the one registered as
/// `a` (which then sees the driver part in [`Url::driver_name`]), else by the built-in dialect
/// `a`. The factory gets the whole parsed URL, so it can read host, database and query
/// arguments; it should not do I/O (connections are opened later, by the pool). An error it
/// returns reaches the caller as an [`Error::Url`] naming the registered name.
///
/// Names are ASCII letters, digits and `_` (a letter first), with at most one `+`; `postgres`
/// means `postgresql`, as in URLs.
///
/// ```
/// use std::sync::Arc;
/// use quarry::dialect;
/// use quarry::driver::{self, Driver};
/// use quarry::{Url, create_engine, text};
///
/// // A new name for SQLite in memory; a real plugin would return a driver of its own.
/// dialect::register("memdb", |url: &Url| -> quarry::Result<Arc<dyn Driver>> {
///     let _ = url.database(); // a factory reads what it needs from the URL
///     driver::for_url(&Url::parse("sqlite://")?)
/// })?;
/// assert!(dialect::registered().contains(&"memdb".to_owned()));
///
/// let engine = create_engine("memdb://")?;
/// assert_eq!(engine.dialect().name(), "sqlite");
/// let n: i64 = engine.connect()?.execute(text("SELECT 40 + 2"))?.one()?.get(0)?;
/// assert_eq!(n, 42);
///
/// // Built-in names stay built-in.
/// assert!(dialect::register("sqlite", |url: &Url| driver::for_url(url)).is_err());
/// assert!(dialect::unregister("memdb"));
/// # Ok::<(), quarry::Error>(())
/// ```
///
/// # Errors
/// [`Error::Config`] when `name` is not of the form above, or names a built-in dialect or
/// driver.
pub fn register<F>(name: &str, factory: F) -> Result<bool>
where
    F: Fn(&Url) -> Result<Arc<dyn Driver>> + Send + Sync + 'static,
{
    let key = normalise(name)?;
    let (dialect, driver) = split(&key);
    if let Some((_, own)) = BUILT_IN.iter().find(|(d, _)| *d == dialect) {
        match driver {
            None => {
                return Err(Error::config(format!(
                    "cannot register {name:?}: it is a built-in dialect; register a driver for \
                     it instead, e.g. \"{dialect}+mydriver\""
                )));
            }
            Some(d) if d == *own || OTHER_BUILT_IN.contains(&(dialect, d)) => {
                return Err(Error::config(format!(
                    "cannot register {name:?}: it is the built-in driver of {dialect}; choose \
                     another driver name, e.g. \"{dialect}+mydriver\""
                )));
            }
            Some(_) => {}
        }
    }
    // The replaced factory is dropped after the lock is released: its captures' destructors
    // may use the registry.
    let previous = write().insert(key.clone(), Arc::new(factory));
    let replaced = previous.is_some();
    drop(previous);
    if replaced {
        tracing::info!(target: "quarry::dialect", name = %key, "replaced a registered dialect");
    } else {
        tracing::debug!(target: "quarry::dialect", name = %key, "registered a dialect");
    }
    Ok(replaced)
}

/// Remove the registration of `name`; true if there was one. Engines already built keep
/// their driver.
pub fn unregister(name: &str) -> bool {
    match normalise(name) {
        Ok(key) => {
            let removed = write().remove(&key); // dropped after the lock is released
            removed.is_some()
        }
        Err(_) => false,
    }
}

/// The registered names, sorted (`postgres` spelled `postgresql`).
pub fn registered() -> Vec<String> {
    read().keys().cloned().collect()
}

/// The factory for `url` and the name it was registered under: `dialect+driver` first, then
/// `dialect`. The lock is released before the factory runs, so a factory may itself call
/// [`for_url`](super::for_url) or [`register`].
pub(crate) fn lookup(url: &Url) -> Option<(String, Arc<DriverFactory>)> {
    let map = read();
    let exact = url
        .driver_name()
        .map(|driver| format!("{}+{driver}", url.dialect_name()));
    exact
        .into_iter()
        .chain([url.dialect_name().to_owned()])
        .find_map(|key| map.get(&key).map(|f| (key, Arc::clone(f))))
}

/// The registered drivers of the built-in dialect `dialect` (`postgresql+traced`, …).
pub(crate) fn drivers_of(dialect: &str) -> Vec<String> {
    let prefix = format!("{dialect}+");
    read()
        .keys()
        .filter(|k| k.starts_with(&prefix))
        .cloned()
        .collect()
}

fn read() -> std::sync::RwLockReadGuard<'static, BTreeMap<String, Arc<DriverFactory>>> {
    // A panic cannot leave the map half-updated (one insert or remove per write): go on.
    REGISTRY.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> std::sync::RwLockWriteGuard<'static, BTreeMap<String, Arc<DriverFactory>>> {
    REGISTRY.write().unwrap_or_else(PoisonError::into_inner)
}

fn split(key: &str) -> (&str, Option<&str>) {
    match key.split_once('+') {
        Some((d, drv)) => (d, Some(drv)),
        None => (key, None),
    }
}

/// Check a registered name's form; spell `postgres` as `postgresql`, as URLs do.
fn normalise(name: &str) -> Result<String> {
    let (dialect, driver) = split(name);
    if !is_name(dialect) || !driver.is_none_or(is_name) {
        return Err(Error::config(format!(
            "cannot register {name:?}: a dialect name is \"dialect\" or \"dialect+driver\", each \
             part ASCII letters, digits and '_', starting with a letter"
        )));
    }
    let dialect = canonical_dialect(dialect);
    Ok(match driver {
        Some(driver) => format!("{dialect}+{driver}"),
        None => dialect.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_postgres_is_postgresql() {
        assert_eq!(normalise("postgres+traced").unwrap(), "postgresql+traced");
        assert_eq!(normalise("my_db2").unwrap(), "my_db2");
        for bad in ["", "2db", "a+", "+b", "a+b+c", "a-b", "a.b", "é"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn built_in_names_and_drivers_are_refused() {
        let f = |_: &Url| -> Result<Arc<dyn Driver>> { Err(Error::config("unused")) };
        for name in [
            "sqlite",
            "postgres",
            "postgresql",
            "mysql",
            "mariadb",
            "sqlite+rusqlite",
            "postgres+postgres",
            "mariadb+mysql",
            "postgres+wire",
        ] {
            let e = register(name, f).unwrap_err().to_string();
            assert!(e.contains("built-in"), "{name}: {e}");
        }
        assert!(registered().iter().all(|n| !n.starts_with("sqlite")));
    }
}
