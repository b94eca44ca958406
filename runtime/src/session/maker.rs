//! Making sessions: `sessionmaker`, `SessionMaker`, `SessionBuilder`, and the binds that
//! send each table to its engine.

use super::*;

/// Make sessions bound to `engine`: a cheap, cloneable factory ([`SessionMaker`]), as
/// SQLAlchemy's `sessionmaker(bind=engine)`. For per-table or per-metadata binds use
/// [`SessionBuilder::sessionmaker`].
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let make = sessionmaker(&engine);
/// let mut session = make.session();
/// let n: i64 = session.execute(text("SELECT 1").columns::<i64>())?.scalar()?;
/// assert_eq!(n, 1);
/// session.close(); // rolls back, returns the connection
/// # Ok::<(), quarry::Error>(())
/// ```
pub fn sessionmaker(engine: &Engine) -> SessionMaker {
    Session::builder(engine).sessionmaker()
}

/// A factory of sessions with the same binds; see [`sessionmaker`]. Cloning it is cheap, and
/// it can be shared between threads (each thread makes its own sessions).
#[derive(Debug, Clone)]
pub struct SessionMaker {
    pub(super) binds: Arc<Binds>,
}

impl SessionMaker {
    /// A new session; it checks out no connection until it is used.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let session = sessionmaker(&engine).session();
    /// assert!(!session.in_transaction());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn session(&self) -> Session {
        Session::with_binds(Arc::clone(&self.binds))
    }
}

/// Settings of a session: which engine each table's statements go to. Made by
/// [`Session::builder`].
///
/// A table's statements (its inserts, updates and deletes at flush, [`Session::get`], and
/// [`Session::execute`] of a statement naming it) go to the engine bound to the table
/// ([`SessionBuilder::bind_table`]), else to the engine bound to its [`MetaData`]
/// ([`SessionBuilder::bind_metadata`]), else to the session's default engine. A statement
/// naming no table (`text()`) and [`Session::connection`] use the default engine.
///
/// A session spanning several engines holds one connection and transaction per engine, begun
/// when first needed. [`Session::commit`] commits them one after the other — not a two-phase
/// commit: if a later commit fails, the earlier ones stay committed.
///
/// ```
/// use quarry::prelude::*;
///
/// static LOGS: MetaData = MetaData::new();
///
/// #[derive(Table, Debug, Clone)]
/// #[table(name = "events", metadata = LOGS)]
/// struct Event {
///     #[column(primary_key)]
///     id: i64,
///     what: String,
/// }
///
/// let main = create_engine("sqlite://")?;
/// let logs = create_engine("sqlite://")?;
/// LOGS.create_all(&logs)?;
///
/// let mut session = Session::builder(&main).bind_metadata(&LOGS, &logs).build();
/// session.add(Event { id: 0, what: "started".into() });
/// session.commit()?;
///
/// let n: i64 = logs.execute(select!(count(Event::id) FROM Event))?.scalar()?;
/// assert_eq!(n, 1);
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionBuilder {
    pub(super) binds: Binds,
}

impl SessionBuilder {
    /// Send the statements of every table of `metadata` to `engine`. Default: the session's
    /// engine. A later bind of the same metadata replaces an earlier one; a table bind beats
    /// a metadata bind.
    pub fn bind_metadata(mut self, metadata: &'static MetaData, engine: &Engine) -> Self {
        let slot = self.binds.slot_of(engine, Engine::same);
        self.binds.metadata.push((metadata, slot));
        self
    }

    /// Send the statements of table `T` to `engine`. Default: the engine of `T`'s metadata
    /// bind, else the session's engine. A later bind of the same table replaces an earlier one.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// #[derive(Table, Debug, Clone)]
    /// struct Audit {
    ///     #[column(primary_key)]
    ///     id: i64,
    /// }
    ///
    /// let main = create_engine("sqlite://")?;
    /// let audit = create_engine("sqlite://")?;
    /// let session = Session::builder(&main).bind_table::<Audit>(&audit).build();
    /// assert_eq!(session.get_bind::<Audit>().url(), audit.url());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn bind_table<T: Table>(mut self, engine: &Engine) -> Self {
        let slot = self.binds.slot_of(engine, Engine::same);
        self.binds.tables.push((T::table(), slot));
        self
    }

    /// The session.
    pub fn build(self) -> Session {
        Session::with_binds(Arc::new(self.binds))
    }

    /// A factory of sessions with these binds.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    /// let main = create_engine("sqlite://")?;
    /// let other = create_engine("sqlite://")?;
    /// let make = Session::builder(&main).bind_metadata(&META, &other).sessionmaker();
    /// let (a, b) = (make.session(), make.clone().session());
    /// # drop((a, b));
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn sessionmaker(self) -> SessionMaker {
        SessionMaker {
            binds: Arc::new(self.binds),
        }
    }
}

/// The engines of a session and which tables go where (the core's rule).
pub(super) type Binds = crate::rules::binds::Binds<Engine>;
