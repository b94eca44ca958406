//! Bound metadata on the async engine: a [`MetaData`] bound to an [`AsyncEngine`] lets the
//! statements over its tables run without naming the engine (`stmt.execute_async()`), as the
//! blocking engine's `META.bind(&engine)` and `stmt.execute()` (SQLAlchemy 1.x's implicit
//! execution). A side table keyed by the `MetaData`'s address, separate from the blocking
//! engine's: one `MetaData` may be bound to a blocking and an async engine at once.

use std::future::Future;
use std::panic::Location;
use std::sync::{PoisonError, RwLock};

use quarry_core::{Error, MetaData, Result, Statement, TableDef};

use crate::engine::AsyncEngine;
use crate::rows::Rows;

static BINDS: RwLock<Vec<(&'static MetaData, AsyncEngine)>> = RwLock::new(Vec::new());

/// A [`MetaData`] bound to an [`AsyncEngine`]. Implemented for `MetaData`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// use quarry_async::{AsyncBoundMetaData, ExecuteAsync, create_async_engine};
/// use quarry_core::MetaData;
///
/// static META: MetaData = MetaData::new();
/// let engine = create_async_engine("sqlite://").await?;
/// META.bind_async(&engine);
/// assert!(META.get_async_bind().is_some());
/// META.unbind_async();
/// assert!(META.get_async_bind().is_none());
/// # Ok(())
/// # }
/// ```
pub trait AsyncBoundMetaData {
    /// Bind this `MetaData` to `engine`: statements over its tables gain
    /// [`ExecuteAsync::execute_async`]. Binding again replaces the engine. Several `MetaData`
    /// bound to different engines route each statement to its own; a statement over tables
    /// of two differently-bound `MetaData` is an error.
    fn bind_async(&'static self, engine: &AsyncEngine);
    /// Remove the bind.
    fn unbind_async(&'static self);
    /// The async engine this `MetaData` is bound to, if any.
    fn get_async_bind(&'static self) -> Option<AsyncEngine>;
}

impl AsyncBoundMetaData for MetaData {
    fn bind_async(&'static self, engine: &AsyncEngine) {
        let mut binds = BINDS.write().unwrap_or_else(PoisonError::into_inner);
        match binds.iter_mut().find(|(m, _)| std::ptr::eq(*m, self)) {
            Some((_, bound)) => *bound = engine.clone(),
            None => binds.push((self, engine.clone())),
        }
    }

    fn unbind_async(&'static self) {
        let mut binds = BINDS.write().unwrap_or_else(PoisonError::into_inner);
        binds.retain(|(m, _)| !std::ptr::eq(*m, self));
    }

    fn get_async_bind(&'static self) -> Option<AsyncEngine> {
        let binds = BINDS.read().unwrap_or_else(PoisonError::into_inner);
        binds
            .iter()
            .find(|(m, _)| std::ptr::eq(*m, self))
            .map(|(_, engine)| engine.clone())
    }
}

/// Implicit execution on the async engine: a statement over tables of a bound [`MetaData`]
/// runs on that engine, as [`AsyncEngine::execute`]. Implemented for every [`Statement`].
pub trait ExecuteAsync: Statement + Sized {
    /// The async engine the statement's tables are bound to.
    ///
    /// # Errors
    /// [`Error::Unbound`] when a table's `MetaData` is not bound (naming the table and how to
    /// bind it), when the tables are bound to different engines (naming a table of each), or
    /// when the statement names no declared table.
    fn get_async_bind(&self) -> Result<AsyncEngine> {
        let mut tables = Vec::new();
        self.tables(&mut tables);
        engine_for(&tables)
    }

    /// Run the statement on its bind; see [`AsyncEngine::execute`].
    ///
    /// # Errors
    /// As [`ExecuteAsync::get_async_bind`], then as [`AsyncEngine::execute`].
    #[track_caller]
    fn execute_async(self) -> impl Future<Output = Result<Rows<Self::Row>>>
    where
        Self::Row: Send + 'static,
    {
        let site = Location::caller();
        let compiled = self
            .get_async_bind()
            .and_then(|engine| Ok((self.compile_for_execution(engine.dialect())?, engine)));
        async move {
            let (compiled, engine) = compiled?;
            let mut conn = engine.connect_at(site).await?;
            conn.run(compiled).await
        }
    }
}

impl<S: Statement> ExecuteAsync for S {}

fn unbound(table: &TableDef) -> Error {
    let meta = table.metadata_name();
    Error::Unbound(format!(
        "table \"{}\" is not bound to an async engine: its MetaData {meta} has no async bind; \
         call {meta}.bind_async(&engine) first, or run it with engine.execute(…)",
        table.name()
    ))
}

/// The one async engine `tables` are bound to.
fn engine_for(tables: &[&'static TableDef]) -> Result<AsyncEngine> {
    let mut found: Option<(AsyncEngine, &'static TableDef)> = None;
    for &table in tables {
        let engine = table
            .metadata()
            .get_async_bind()
            .ok_or_else(|| unbound(table))?;
        match &found {
            None => found = Some((engine, table)),
            Some((first, _)) if first.same(&engine) => {}
            Some((_, first)) => {
                return Err(Error::Unbound(format!(
                    "tables \"{}\" and \"{}\" are bound to different async engines; run the \
                     statement on one with engine.execute(…)",
                    first.name(),
                    table.name()
                )));
            }
        }
    }
    found.map(|(engine, _)| engine).ok_or_else(|| {
        Error::Unbound(
            "the statement names no declared table, so it has no bind; run it with \
             engine.execute(…)"
                .into(),
        )
    })
}
