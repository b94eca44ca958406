//! Bound metadata and implicit execution (SQLAlchemy 1.x's `metadata.bind` and
//! `statement.execute()`): a [`MetaData`] bound to an [`Engine`] lets the statements over its
//! tables run without naming a connection, and `create_all(None)` find its database.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rows::Rows;
use crate::schema::{MetaData, TableDef};
use crate::sql::Statement;

/// The binds: which engine each bound `MetaData` runs on. A side table of the engine crate,
/// keyed by the `MetaData`'s address (a `MetaData` is a `static`, never zero-sized), so that
/// the schema model in `quarry-core` knows no engine. A handful of entries: looked up by a
/// linear scan under a read lock, once per implicit execution.
static BINDS: RwLock<Vec<(&'static MetaData, Engine)>> = RwLock::new(Vec::new());

fn binds() -> RwLockReadGuard<'static, Vec<(&'static MetaData, Engine)>> {
    BINDS.read().unwrap_or_else(PoisonError::into_inner)
}

fn binds_mut() -> RwLockWriteGuard<'static, Vec<(&'static MetaData, Engine)>> {
    BINDS.write().unwrap_or_else(PoisonError::into_inner)
}

/// Bound metadata: a [`MetaData`] bound to an [`Engine`] (SQLAlchemy 1.x's `metadata.bind`).
/// Implemented for `MetaData`; in the prelude.
pub trait BoundMetaData {
    /// Bind this `MetaData` to `engine`: statements over its tables gain
    /// [`.execute()`](Execute::execute) (implicit execution), and `create_all(None)`,
    /// `drop_all(None)` and the tables' `create(None)` / `drop(None)` / `exists(None)` run on
    /// it. Binding again replaces the engine (re-bind); [`BoundMetaData::unbind`] removes it.
    ///
    /// Several `MetaData` bound to different engines route each statement to its own engine
    /// (vertical sharding); a statement over tables of two differently-bound `MetaData` is an
    /// error, not a silent choice.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, PartialEq)]
    /// #[table(name = "users", metadata = META)]
    /// struct User {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.bind(&engine);
    /// META.create_all(None)?;                                  // on the bound engine
    /// insert!(User { name: "ed" }).execute()?;
    /// let users: Vec<User> = select!(User).execute()?.all()?;
    /// assert_eq!(users, [User { id: 1, name: "ed".into() }]);
    /// META.unbind();
    /// assert!(select!(User).execute().is_err());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    fn bind(&'static self, engine: &Engine);

    /// Remove the bind; implicit execution over this `MetaData`'s tables fails again.
    fn unbind(&'static self);

    /// The engine this `MetaData` is bound to, if any.
    fn get_bind(&'static self) -> Option<Engine>;

    /// True while bound to an engine.
    fn is_bound(&'static self) -> bool {
        self.get_bind().is_some()
    }
}

impl BoundMetaData for MetaData {
    fn bind(&'static self, engine: &Engine) {
        let mut binds = binds_mut();
        match binds.iter_mut().find(|(m, _)| std::ptr::eq(*m, self)) {
            Some((_, bound)) => *bound = engine.clone(),
            None => binds.push((self, engine.clone())),
        }
    }

    fn unbind(&'static self) {
        binds_mut().retain(|(m, _)| !std::ptr::eq(*m, self));
    }

    fn get_bind(&'static self) -> Option<Engine> {
        binds()
            .iter()
            .find(|(m, _)| std::ptr::eq(*m, self))
            .map(|(_, engine)| engine.clone())
    }
}

/// `given`, else the bind of `meta`; an error saying how to bind when neither is there.
pub(crate) fn engine_or_bind(meta: &'static MetaData, given: Option<&Engine>) -> Result<Engine> {
    if let Some(engine) = given {
        return Ok(engine.clone());
    }
    meta.get_bind().ok_or_else(|| {
        let name = meta
            .tables()
            .first()
            .map_or("this MetaData", |t| t.metadata_name());
        Error::Unbound(format!(
            "MetaData {name} is not bound to an engine; call {name}.bind(&engine) first, \
             or pass the engine: {name}.create_all(&engine)"
        ))
    })
}

/// `given`, else the bind of the table's `MetaData`; an error naming the table when neither
/// is there.
pub(crate) fn table_engine_or_bind(table: &TableDef, given: Option<&Engine>) -> Result<Engine> {
    if let Some(engine) = given {
        return Ok(engine.clone());
    }
    table
        .metadata()
        .get_bind()
        .ok_or_else(|| unbound_table(table, "pass the engine instead of None"))
}

fn unbound_table(table: &TableDef, otherwise: &str) -> Error {
    let meta = table.metadata_name();
    Error::Unbound(format!(
        "table \"{}\" is not bound to an engine: its MetaData {meta} has no bind; call \
         {meta}.bind(&engine) first, or {otherwise}",
        table.name()
    ))
}

/// Implicit execution: a statement over tables of a bound [`MetaData`] runs on that engine
/// (SQLAlchemy 1.x's `stmt.execute()`), as a connectionless execution: the [`Rows`] own the
/// connection until exhausted or dropped. Under
/// [`Strategy::ThreadLocal`](crate::Strategy::ThreadLocal) it joins the thread's transaction.
///
/// Implemented for every [`Statement`]; in the prelude. See [`BoundMetaData::bind`] for an example.
pub trait Execute: Statement + Sized {
    /// The engine the statement's tables are bound to.
    ///
    /// # Errors
    /// [`Error::Unbound`] when a table's `MetaData` is not bound (the message names the table
    /// and how to bind it), when the tables are bound to different engines (naming a table of
    /// each), or when the statement names no declared table (`text()`, or only tables
    /// defined at run time, which implicit execution does not follow).
    fn get_bind(&self) -> Result<Engine> {
        let mut tables = Vec::new();
        self.tables(&mut tables);
        engine_for(&tables)
    }

    /// Run the statement on its bind; see [`Engine::execute`].
    ///
    /// # Errors
    /// As [`Execute::get_bind`], then as [`Engine::execute`].
    #[track_caller]
    fn execute(self) -> Result<Rows<Self::Row>> {
        let engine = self.get_bind()?;
        engine.execute(self)
    }
}

impl<S: Statement> Execute for S {}

/// What `key` says of the first table, when it says the same of every table (`None` for no
/// tables); else the first table and the first one that differs from it, each with its key.
/// Implicit execution keys tables by their bind, a session by its bind slot.
pub(crate) fn one_key<K>(
    tables: &[&'static TableDef],
    mut key: impl FnMut(&'static TableDef) -> K,
    same: impl Fn(&K, &K) -> bool,
) -> std::result::Result<Option<(K, &'static TableDef)>, Differ<K>> {
    let mut first: Option<(K, &'static TableDef)> = None;
    for &table in tables {
        let k = key(table);
        match first {
            None => first = Some((k, table)),
            Some((ref f, _)) if same(f, &k) => {}
            Some(f) => return Err((f, (k, table))),
        }
    }
    Ok(first)
}

/// The first table with its key, and the first table keyed otherwise (see [`one_key`]).
pub(crate) type Differ<K> = ((K, &'static TableDef), (K, &'static TableDef));

/// The one engine `tables` are bound to.
fn engine_for(tables: &[&'static TableDef]) -> Result<Engine> {
    let bind = |t: &'static TableDef| t.metadata().get_bind();
    let same = |a: &Option<Engine>, b: &Option<Engine>| match (a, b) {
        (Some(a), Some(b)) => a.same(b),
        (a, b) => a.is_none() && b.is_none(),
    };
    match one_key(tables, bind, same) {
        Ok(Some((Some(engine), _))) => Ok(engine),
        Ok(Some((None, table))) => Err(unbound_table(
            table,
            "run the statement with engine.execute(…) or conn.execute(…)",
        )),
        Ok(None) => Err(Error::Unbound(
            "this statement names no declared table, so no MetaData bind applies (text() and \
             tables defined at run time are never bound); run it with engine.execute(…) or \
             conn.execute(…)"
                .into(),
        )),
        Err(((Some(first), first_table), (Some(engine), table))) => Err(Error::Unbound(format!(
            "the statement spans engines: table \"{}\" is bound to {} (MetaData {}) and table \
             \"{}\" to {} (MetaData {}); a statement runs on one engine, so run it with \
             engine.execute(…) on the one that has both tables",
            first_table.name(),
            first.url(),
            first_table.metadata_name(),
            table.name(),
            engine.url(),
            table.metadata_name(),
        ))),
        Err(((Some(engine), bound), (_, unbound)) | ((_, unbound), (Some(engine), bound))) => {
            Err(unbound_table(
                unbound,
                &format!(
                    "bind it to the engine of table \"{}\" ({}) so that the statement has one \
                     engine",
                    bound.name(),
                    engine.url()
                ),
            ))
        }
        Err(((None, _), (None, _))) => unreachable!("two unbound tables are keyed alike"),
    }
}
