//! Horizontal sharding: the rows of one table spread over several databases, each behind an
//! engine of its own — SQLAlchemy's `horizontal_shard` extension without the ORM.
//!
//! A [`ShardedEngine`] names its shards and holds three choosers, as SQLAlchemy's
//! `ShardedSession` does:
//!
//! - the **shard chooser** picks the one shard a new row goes to, from the row's values (a
//!   tenant, a region, a hash of the key): [`ShardedEngine::insert`], [`ShardedSession::add`];
//! - the **identity chooser** lists the shards a primary key may live on, tried in order by
//!   [`ShardedSession::get`] (default: every shard);
//! - the **query chooser** lists the shards a statement runs on, from its tables and
//!   parameters; results are concatenated in the order of the list, row counts added up
//!   (default: every shard).
//!
//! [`ShardedEngine::on`] and [`ShardedSession::execute_on`] name a shard outright. Identity
//! keys include the shard: the same primary key on two shards is two rows, each kept in its
//! shard's identity map.
//!
//! ```
//! use quarry::prelude::*;
//! use quarry::{ShardedEngine, ShardedSession, Value};
//!
//! static META: MetaData = MetaData::new();
//!
//! #[derive(Table, Debug, Clone, PartialEq)]
//! #[table(metadata = META)]
//! struct Weather {
//!     #[column(primary_key)]
//!     id: i64,
//!     continent: String,
//!     city: String,
//! }
//!
//! let sharded = ShardedEngine::builder()
//!     .shard("north_america", create_engine("sqlite://")?)
//!     .shard("europe", create_engine("sqlite://")?)
//!     .shard_chooser(|row| match row.get("continent") {
//!         Some(Value::Text(c)) if c == "Europe" => "europe",
//!         _ => "north_america",
//!     })
//!     .build()?;
//! for engine in sharded.engines() {
//!     META.create_all(engine)?;
//! }
//!
//! let mut session = ShardedSession::new(&sharded);
//! session.add(Weather { id: 1, continent: "North America".into(), city: "Toronto".into() })?;
//! session.add(Weather { id: 2, continent: "Europe".into(), city: "London".into() })?;
//! session.commit()?;
//!
//! // Every shard is asked, the rows come back concatenated in shard order.
//! let cities: Vec<Weather> = sharded.execute(Weather::select())?.all();
//! assert_eq!(cities.len(), 2);
//! // Each row lives on one shard only.
//! let europe = sharded.on("europe")?.execute(Weather::select())?.all()?;
//! assert_eq!(europe[0].city, "London");
//! # Ok::<(), quarry::Error>(())
//! ```
//!
//! What it does not do: make a write to several shards atomic (each shard's transaction
//! commits on its own, in shard order; a failure part-way leaves the earlier shards
//! committed), merge-sort or re-aggregate results across shards (`ORDER BY`, `LIMIT` and
//! `COUNT` apply per shard), or hand out primary keys unique across shards (autoincrement
//! keys are per shard; use keys of your own, such as UUIDs, where rows may move).

use std::fmt;
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::pool::PoolStatus;
use crate::rows::Rows;
use crate::schema::{Insertable, TableDef};
use crate::session::{Added, PrimaryKey, Session};
use crate::sql::{Identity, Statement, Table};
use crate::value::Value;

type ShardChooser = dyn Fn(&ShardRow<'_>) -> String + Send + Sync;
type IdentityChooser = dyn Fn(&'static TableDef, &[Value]) -> Vec<String> + Send + Sync;
type QueryChooser = dyn Fn(&ShardQuery<'_>) -> Vec<String> + Send + Sync;

/// Several engines, each a shard holding some of the rows, and the choosers that route rows,
/// keys and statements to them. Cheap to clone (one shared inside).
///
/// See [the module](crate::shard) for an example.
#[derive(Clone)]
pub struct ShardedEngine {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Vec<(String, Engine)>,
    shard_chooser: Option<Box<ShardChooser>>,
    identity_chooser: Option<Box<IdentityChooser>>,
    query_chooser: Option<Box<QueryChooser>>,
}

impl fmt::Debug for ShardedEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedEngine")
            .field("shards", &self.inner.shards)
            .field("shard_chooser", &self.inner.shard_chooser.is_some())
            .field("identity_chooser", &self.inner.identity_chooser.is_some())
            .field("query_chooser", &self.inner.query_chooser.is_some())
            .finish()
    }
}

/// Builds a [`ShardedEngine`]: [`ShardedEngine::builder`].
#[must_use]
pub struct ShardedEngineBuilder {
    shards: Vec<(String, Engine)>,
    shard_chooser: Option<Box<ShardChooser>>,
    identity_chooser: Option<Box<IdentityChooser>>,
    query_chooser: Option<Box<QueryChooser>>,
}

impl fmt::Debug for ShardedEngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedEngineBuilder")
            .field("shards", &self.shards)
            .finish_non_exhaustive()
    }
}

/// A row about to be written, as the shard chooser sees it: its table and its column values
/// (an autoincrement key the database will assign is not among them).
#[derive(Debug)]
pub struct ShardRow<'a> {
    table: &'static TableDef,
    values: &'a [(usize, Value)],
}

impl<'a> ShardRow<'a> {
    /// The row's table.
    pub fn table(&self) -> &'static TableDef {
        self.table
    }

    /// The value of the column named `column`; `None` for a column the row leaves to the
    /// database (an autoincrement key) or that the table does not have.
    pub fn get(&self, column: &str) -> Option<&'a Value> {
        let index = self
            .table
            .columns()
            .iter()
            .position(|c| c.name() == column)?;
        self.values
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, value)| value)
    }

    /// Every `(column name, value)` of the row, in the table's column order.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &'a Value)> + '_ {
        let table = self.table;
        self.values
            .iter()
            .map(move |(i, value)| (table.columns()[*i].name(), value))
    }
}

/// A statement about to run, as the query chooser sees it: the tables it names, and its SQL
/// and parameters as compiled for the first shard's dialect.
#[derive(Debug)]
pub struct ShardQuery<'a> {
    tables: &'a [&'static TableDef],
    sql: &'a str,
    params: &'a [Value],
}

impl<'a> ShardQuery<'a> {
    /// Every table the statement names, first-seen order.
    pub fn tables(&self) -> &'a [&'static TableDef] {
        self.tables
    }

    /// True when the statement names the table called `name`.
    pub fn names_table(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t.name() == name)
    }

    /// The statement's SQL, as the first shard's dialect renders it.
    pub fn sql(&self) -> &'a str {
        self.sql
    }

    /// The statement's bound parameters, in the order of their placeholders.
    pub fn params(&self) -> &'a [Value] {
        self.params
    }
}

/// A statement's results from every shard it ran on: the rows concatenated in the order the
/// query chooser listed the shards, the row counts added up.
#[derive(Debug)]
pub struct ShardedRows<R> {
    rows: Vec<R>,
    per_shard: Vec<(String, usize, u64)>,
}

impl<R> ShardedRows<R> {
    /// Every row, shard after shard.
    pub fn all(self) -> Vec<R> {
        self.rows
    }

    /// The rows, borrowed.
    pub fn rows(&self) -> &[R] {
        &self.rows
    }

    /// The rows each shard gave or changed, summed (for `UPDATE` and `DELETE`, the rows
    /// matched on every shard).
    pub fn rowcount(&self) -> u64 {
        self.per_shard.iter().map(|(_, _, count)| count).sum()
    }

    /// The shards the statement ran on, in order, with how many rows each returned.
    pub fn shards(&self) -> impl Iterator<Item = (&str, usize)> + '_ {
        self.per_shard
            .iter()
            .map(|(name, rows, _)| (name.as_str(), *rows))
    }

    /// The rows that came from `shard`.
    pub fn from_shard(&self, shard: &str) -> &[R] {
        let mut start = 0;
        for (name, rows, _) in &self.per_shard {
            if name == shard {
                return &self.rows[start..start + rows];
            }
            start += rows;
        }
        &[]
    }
}

impl<R> IntoIterator for ShardedRows<R> {
    type Item = R;
    type IntoIter = std::vec::IntoIter<R>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

impl ShardedEngineBuilder {
    /// Add a shard named `name`, served by `engine`. Shards are asked in the order added,
    /// unless a chooser says otherwise.
    pub fn shard(mut self, name: impl Into<String>, engine: Engine) -> Self {
        self.shards.push((name.into(), engine));
        self
    }

    /// How a new row picks its shard: a function of the row's values returning a shard's
    /// name. Needed for writes through [`ShardedEngine::insert`] and
    /// [`ShardedSession::add`]/[`ShardedSession::delete`] when there is more than one shard.
    pub fn shard_chooser<F, S>(mut self, chooser: F) -> Self
    where
        F: Fn(&ShardRow<'_>) -> S + Send + Sync + 'static,
        S: Into<String>,
    {
        self.shard_chooser = Some(Box::new(move |row| chooser(row).into()));
        self
    }

    /// Which shards a primary key of a table may be on, in the order to try them
    /// ([`ShardedSession::get`]). Default: every shard, in the order added.
    pub fn identity_chooser<F, I, S>(mut self, chooser: F) -> Self
    where
        F: Fn(&'static TableDef, &[Value]) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.identity_chooser = Some(Box::new(move |table, key| {
            chooser(table, key).into_iter().map(Into::into).collect()
        }));
        self
    }

    /// Which shards a statement runs on ([`ShardedEngine::execute`],
    /// [`ShardedSession::execute`]). Default: every shard, in the order added.
    pub fn query_chooser<F, I, S>(mut self, chooser: F) -> Self
    where
        F: Fn(&ShardQuery<'_>) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.query_chooser = Some(Box::new(move |query| {
            chooser(query).into_iter().map(Into::into).collect()
        }));
        self
    }

    /// The sharded engine.
    ///
    /// # Errors
    /// [`Error::Config`] with no shard, or with two shards of one name.
    pub fn build(self) -> Result<ShardedEngine> {
        if self.shards.is_empty() {
            return Err(Error::config(
                "a sharded engine needs at least one shard: add them with .shard(name, engine)",
            ));
        }
        for (i, (name, _)) in self.shards.iter().enumerate() {
            if self.shards[..i].iter().any(|(other, _)| other == name) {
                return Err(Error::config(format!(
                    "shard \"{name}\" is added twice; each shard needs a name of its own"
                )));
            }
        }
        Ok(ShardedEngine {
            inner: Arc::new(Inner {
                shards: self.shards,
                shard_chooser: self.shard_chooser,
                identity_chooser: self.identity_chooser,
                query_chooser: self.query_chooser,
            }),
        })
    }
}

impl ShardedEngine {
    /// Start configuring a sharded engine: [`ShardedEngineBuilder::shard`] for each shard,
    /// then the choosers.
    pub fn builder() -> ShardedEngineBuilder {
        ShardedEngineBuilder {
            shards: Vec::new(),
            shard_chooser: None,
            identity_chooser: None,
            query_chooser: None,
        }
    }

    /// The shards' names, in the order added.
    pub fn shard_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.shards.iter().map(|(name, _)| name.as_str())
    }

    /// The shards' engines, in the order added (to create tables on each, say).
    pub fn engines(&self) -> impl Iterator<Item = &Engine> + '_ {
        self.inner.shards.iter().map(|(_, engine)| engine)
    }

    /// The engine of the shard named `shard`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the shard and the shards there are, when there is none of
    /// that name.
    pub fn on(&self, shard: &str) -> Result<&Engine> {
        self.index(shard).map(|i| &self.inner.shards[i].1)
    }

    /// Each shard's pool, by name.
    pub fn pool_status(&self) -> Vec<(String, PoolStatus)> {
        self.inner
            .shards
            .iter()
            .map(|(name, engine)| (name.clone(), engine.pool_status()))
            .collect()
    }

    /// Close every shard's pooled connections ([`Engine::dispose`]).
    pub fn dispose(&self) {
        for (_, engine) in &self.inner.shards {
            engine.dispose();
        }
    }

    /// The shard the shard chooser picks for `row`.
    ///
    /// # Errors
    /// [`Error::Config`] when there are several shards and no shard chooser, or when the
    /// chooser names a shard there is not.
    pub fn shard_for<T: Table + Insertable>(&self, row: &T) -> Result<&str> {
        let mut values = Vec::new();
        row.values(&mut values);
        let i = self.choose_shard(T::table(), &values)?;
        Ok(&self.inner.shards[i].0)
    }

    /// `INSERT` `row` on the shard the shard chooser picks for it.
    ///
    /// # Errors
    /// As [`ShardedEngine::shard_for`], or the database's.
    pub fn insert<T: Table + Insertable>(&self, row: &T) -> Result<Rows<()>> {
        let mut values = Vec::new();
        row.values(&mut values);
        let i = self.choose_shard(T::table(), &values)?;
        self.inner.shards[i].1.execute(T::insert(row))
    }

    /// Run `stmt` on each shard the query chooser lists (every shard by default), one after
    /// the other, each on a connection of its own outside any transaction: the rows
    /// concatenated, the row counts summed.
    ///
    /// # Errors
    /// [`Error::Config`] when the chooser names a shard there is not or no shard at all; the
    /// first shard's error, after which no further shard is asked.
    pub fn execute<S: Statement>(&self, stmt: S) -> Result<ShardedRows<S::Row>> {
        let shards = self.choose_query(&stmt)?;
        let mut out = ShardedRows {
            rows: Vec::new(),
            per_shard: Vec::with_capacity(shards.len()),
        };
        for i in shards {
            let (name, engine) = &self.inner.shards[i];
            let rows = engine.execute(&stmt)?;
            out.push(name, rows)?;
        }
        Ok(out)
    }

    fn index(&self, shard: &str) -> Result<usize> {
        self.inner
            .shards
            .iter()
            .position(|(name, _)| name == shard)
            .ok_or_else(|| {
                Error::config(format!(
                    "there is no shard \"{shard}\"; the shards are {}",
                    self.listed()
                ))
            })
    }

    fn listed(&self) -> String {
        let names: Vec<String> = self.shard_names().map(|n| format!("\"{n}\"")).collect();
        names.join(", ")
    }

    fn choose_shard(&self, table: &'static TableDef, values: &[(usize, Value)]) -> Result<usize> {
        match &self.inner.shard_chooser {
            Some(chooser) => {
                let name = chooser(&ShardRow { table, values });
                self.index(&name).map_err(|_| {
                    Error::config(format!(
                        "the shard chooser picked shard \"{name}\" for a row of {}, but there is \
                         no such shard; the shards are {}",
                        table.name(),
                        self.listed()
                    ))
                })
            }
            None if self.inner.shards.len() == 1 => Ok(0),
            None => Err(Error::config(format!(
                "which shard does a new row of {} go to? There are {} shards ({}) and no shard \
                 chooser: set one with ShardedEngine::builder().shard_chooser(|row| …)",
                table.name(),
                self.inner.shards.len(),
                self.listed()
            ))),
        }
    }

    fn choose_identity(&self, table: &'static TableDef, key: &[Value]) -> Result<Vec<usize>> {
        match &self.inner.identity_chooser {
            Some(chooser) => chooser(table, key)
                .iter()
                .map(|name| {
                    self.index(name).map_err(|_| {
                        Error::config(format!(
                            "the identity chooser picked shard \"{name}\" for a key of {}, but \
                             there is no such shard; the shards are {}",
                            table.name(),
                            self.listed()
                        ))
                    })
                })
                .collect(),
            None => Ok((0..self.inner.shards.len()).collect()),
        }
    }

    fn choose_query<S: Statement>(&self, stmt: &S) -> Result<Vec<usize>> {
        let Some(chooser) = &self.inner.query_chooser else {
            return Ok((0..self.inner.shards.len()).collect());
        };
        let mut tables = Vec::new();
        stmt.tables(&mut tables);
        let compiled = stmt.compile(self.inner.shards[0].1.dialect())?;
        let names = chooser(&ShardQuery {
            tables: &tables,
            sql: compiled.sql(),
            params: compiled.params(),
        });
        if names.is_empty() {
            return Err(Error::config(format!(
                "the query chooser picked no shard for: {}",
                compiled.sql()
            )));
        }
        names
            .iter()
            .map(|name| {
                self.index(name).map_err(|_| {
                    Error::config(format!(
                        "the query chooser picked shard \"{name}\", but there is no such shard; \
                         the shards are {}",
                        self.listed()
                    ))
                })
            })
            .collect()
    }
}

impl<R> ShardedRows<R> {
    fn push(&mut self, shard: &str, rows: Rows<R>) -> Result<()>
    where
        R: crate::schema::FromRow,
    {
        // `into_parts`: a statement without a result set (an UPDATE on every shard) reads as
        // no rows here, its counts added up below.
        let (rows, _, outcome) = rows.into_parts()?;
        let count = outcome.rows_affected;
        let n = rows.len();
        self.rows.extend(rows);
        // A statement without rows counts what it changed; one with rows, what it returned.
        let count = if n > 0 { n as u64 } else { count };
        self.per_shard.push((shard.to_owned(), n, count));
        Ok(())
    }
}

/// A unit of work over a [`ShardedEngine`]: a [`Session`] per shard (each with its own
/// transaction and identity map, so identity keys include the shard), with new rows routed by
/// the shard chooser, keys looked up on the shards the identity chooser lists, and
/// statements run on those the query chooser lists.
///
/// [`ShardedSession::commit`] flushes every shard first, then commits them in shard order;
/// see [the module](crate::shard) for what that does not promise.
#[derive(Debug)]
pub struct ShardedSession {
    engine: ShardedEngine,
    sessions: Vec<Session>,
}

impl ShardedSession {
    /// A session over every shard of `engine`; no connection is checked out until used.
    pub fn new(engine: &ShardedEngine) -> ShardedSession {
        ShardedSession {
            engine: engine.clone(),
            sessions: engine
                .inner
                .shards
                .iter()
                .map(|(_, e)| Session::new(e))
                .collect(),
        }
    }

    /// The session of the shard named `shard`.
    ///
    /// # Errors
    /// [`Error::Config`] when there is no such shard.
    pub fn session(&mut self, shard: &str) -> Result<&mut Session> {
        let i = self.engine.index(shard)?;
        Ok(&mut self.sessions[i])
    }

    /// Queue `obj` for insertion, on the shard the shard chooser picks for it.
    ///
    /// # Errors
    /// As [`ShardedEngine::shard_for`].
    pub fn add<T: Identity + Insertable + Send>(&mut self, obj: T) -> Result<Added<T>> {
        let i = self.shard_of_row(&obj)?;
        Ok(self.sessions[i].add(obj))
    }

    /// Queue each of `objs`, as [`ShardedSession::add`].
    ///
    /// # Errors
    /// As [`ShardedSession::add`]; the objects before the culprit stay queued.
    pub fn add_all<T, I>(&mut self, objs: I) -> Result<Vec<Added<T>>>
    where
        T: Identity + Insertable + Send,
        I: IntoIterator<Item = T>,
    {
        objs.into_iter().map(|obj| self.add(obj)).collect()
    }

    /// Queue `obj` for deletion on the shard the shard chooser picks for it (the shard it was
    /// written to, as long as the values the chooser reads have not changed).
    ///
    /// # Errors
    /// As [`ShardedEngine::shard_for`].
    pub fn delete<T: Identity + Insertable>(&mut self, obj: &T) -> Result<()> {
        let i = self.shard_of_row(obj)?;
        self.sessions[i].delete(obj);
        Ok(())
    }

    /// The object of primary key `key`: from the identity map of the first shard the identity
    /// chooser lists that has it, else from the first of those shards whose database has it.
    ///
    /// # Errors
    /// As [`Session::get`]; [`Error::Config`] when the identity chooser names an unknown
    /// shard.
    pub fn get<T: Identity + Clone + Send>(&mut self, key: impl PrimaryKey) -> Result<Option<T>> {
        Ok(self.get_with_shard(key)?.map(|(_, obj)| obj))
    }

    /// As [`ShardedSession::get`], with the name of the shard the object is on: the identity
    /// key's shard part.
    ///
    /// # Errors
    /// As [`ShardedSession::get`].
    pub fn get_with_shard<T: Identity + Clone + Send>(
        &mut self,
        key: impl PrimaryKey,
    ) -> Result<Option<(String, T)>> {
        let key = key.into_key()?;
        for i in self.engine.choose_identity(T::table(), &key)? {
            if let Some(obj) = self.sessions[i].get::<T>(key.clone())? {
                return Ok(Some((self.engine.inner.shards[i].0.clone(), obj)));
            }
        }
        Ok(None)
    }

    /// The object of primary key `key` on the shard named `shard` only.
    ///
    /// # Errors
    /// As [`Session::get`]; [`Error::Config`] when there is no such shard.
    pub fn get_from<T: Identity + Clone + Send>(
        &mut self,
        shard: &str,
        key: impl PrimaryKey,
    ) -> Result<Option<T>> {
        self.session(shard)?.get(key)
    }

    /// Run `stmt` in the session's transaction on each shard the query chooser lists (every
    /// shard by default): the rows concatenated, the row counts summed. Each shard's pending
    /// work is flushed first, as [`Session::execute`] does.
    ///
    /// # Errors
    /// As [`ShardedEngine::execute`].
    pub fn execute<S: Statement>(&mut self, stmt: S) -> Result<ShardedRows<S::Row>> {
        let shards = self.engine.choose_query(&stmt)?;
        let mut out = ShardedRows {
            rows: Vec::new(),
            per_shard: Vec::with_capacity(shards.len()),
        };
        for i in shards {
            let rows = self.sessions[i].execute(&stmt)?;
            out.push(&self.engine.inner.shards[i].0, rows)?;
        }
        Ok(out)
    }

    /// Run `stmt` in the session's transaction on the shard named `shard`.
    ///
    /// # Errors
    /// [`Error::Config`] when there is no such shard; as [`Session::execute`].
    pub fn execute_on<S: Statement>(&mut self, shard: &str, stmt: S) -> Result<Rows<S::Row>> {
        self.session(shard)?.execute(stmt)
    }

    /// Flush every shard's pending work, in shard order.
    ///
    /// # Errors
    /// The first shard's error, as [`Session::flush`]; later shards are not flushed.
    pub fn flush(&mut self) -> Result<()> {
        self.sessions.iter_mut().try_for_each(Session::flush)
    }

    /// Flush every shard, then commit each shard's transaction in shard order. A flush error
    /// commits nothing (and rolls every shard back); a commit error leaves the shards before
    /// it committed and rolls back the rest.
    ///
    /// # Errors
    /// The first error.
    pub fn commit(&mut self) -> Result<()> {
        if let Err(e) = self.flush() {
            self.close();
            return Err(e);
        }
        for i in 0..self.sessions.len() {
            if let Err(e) = self.sessions[i].commit() {
                for later in &mut self.sessions[i + 1..] {
                    later.close();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Roll back every shard's transaction and discard pending work.
    ///
    /// # Errors
    /// The first shard's error; every shard is rolled back regardless.
    pub fn rollback(&mut self) -> Result<()> {
        let mut first = None;
        for session in &mut self.sessions {
            if let Err(e) = session.rollback() {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Roll back and return every shard's connection to its pool; the session stays usable.
    pub fn close(&mut self) {
        for session in &mut self.sessions {
            session.close();
        }
    }

    /// True while any shard's transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.sessions.iter().any(Session::in_transaction)
    }

    fn shard_of_row<T: Table + Insertable>(&self, obj: &T) -> Result<usize> {
        let mut values = Vec::new();
        obj.values(&mut values);
        self.engine.choose_shard(T::table(), &values)
    }
}
