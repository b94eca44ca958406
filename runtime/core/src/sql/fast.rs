//! The zero-render path of a `select!` call site whose shape is static (issue 21).
//!
//! `select!` decides from its own syntax whether a call site may take it: a select list,
//! `FROM`/`JOIN` of declared tables only, conditions and terms made of columns, Rust values,
//! comparisons, `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `LIKE`, `BETWEEN`, arithmetic and a few
//! SQL functions — no subquery, no `in_` list, no alias, no user function, no turbofish.
//! Each Rust value that is not a literal becomes a *slot*, evaluated once before the
//! statement is built. Then, per execution, the value's type decides: a plain bindable type
//! ([`StaticBind`]: integers, floats, `bool`, text, bytes, the feature types — never an
//! `Option`, whose `None` changes the SQL to `IS NULL`) keeps the site static; anything else
//! (a column, an `Option`, a type only known as a generic) takes today's path.
//!
//! A [`FastSite`] (a `static` per call site) learns from the first executions that build the
//! model: a *template* (the model itself, and which of its parameters — in a fixed walk
//! order — come from which slot; the rest are constants of the call site) and, per dialect
//! and [`Form`], the SQL text with the source of each placeholder's value. Learning requires
//! every value of the statement to be distinct, so that the mapping is unambiguous, and the
//! parameter count to be the slots plus the literals the macro counted; a statement that
//! does not fit is retried a few times, then left to the verify path. Once learned, an
//! execution takes the text and gathers the slot values: no model, no verify pass, nothing
//! allocated. The model is built from the template only when something asks for it (a
//! builder method, `Debug`, a dialect not learned yet).

use std::any::type_name;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::params::Params;
use super::select::{FromItem, SelectItem, SelectStmt};
use super::{Compiled, Form, FromSource, Run, Select, SqlCache, SqlExpr, TableRef};
use crate::dialect::Dialect;
use crate::value::{ToSql, Value};

/// How many executions may try to learn a call site before it is left to the verify path.
const MAX_ATTEMPTS: usize = 16;

/// A Rust value whose parameter never changes the statement's SQL: one placeholder, whatever
/// the value. `Option`s are not (`None` compared is `IS NULL`), nor are columns.
pub trait StaticBind {
    /// The parameter, as the model's `AsExpr` would bind it.
    fn bind_value(&self) -> Value;
    /// The same, taking the value (no copy of text or bytes).
    fn into_bind_value(self) -> Value
    where
        Self: Sized,
    {
        self.bind_value()
    }
}

macro_rules! static_bind {
    ($($t:ty),*) => {$(
        impl StaticBind for $t {
            fn bind_value(&self) -> Value {
                self.to_value()
            }
        }
        impl StaticBind for &$t {
            fn bind_value(&self) -> Value {
                (**self).to_value()
            }
        }
    )*};
}

static_bind!(i16, i32, i64, f32, f64, bool);
crate::value::feature_types!(static_bind);
crate::value::array_types!(static_bind);

impl StaticBind for String {
    fn bind_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn into_bind_value(self) -> Value {
        Value::Text(self)
    }
}
impl StaticBind for &String {
    fn bind_value(&self) -> Value {
        Value::Text((*self).clone())
    }
}
impl StaticBind for &str {
    fn bind_value(&self) -> Value {
        Value::Text((*self).to_owned())
    }
}
impl StaticBind for Vec<u8> {
    fn bind_value(&self) -> Value {
        Value::Blob(self.clone())
    }
    fn into_bind_value(self) -> Value {
        Value::Blob(self)
    }
}
impl StaticBind for &Vec<u8> {
    fn bind_value(&self) -> Value {
        Value::Blob((*self).clone())
    }
}
impl StaticBind for &[u8] {
    fn bind_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
/// `LIMIT` / `OFFSET`, bound as `Select::limit` binds them.
impl StaticBind for u64 {
    fn bind_value(&self) -> Value {
        Value::I64(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

/// A slot's value looked at by reference: `(&Probe(&v)).bindable()` is [`Bindable`]'s
/// answer for a [`StaticBind`] type and [`NotBindable`]'s for any other (method lookup tries
/// `Probe` before `&Probe`), decided by rustc where the type is known.
pub struct Probe<'a, T>(pub &'a T);

impl<T> fmt::Debug for Probe<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Probe")
    }
}

impl<T> fmt::Debug for Take<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Take")
    }
}

/// A slot's value taken: `(&Take::new(v)).take()`.
pub struct Take<T>(std::cell::Cell<Option<T>>);

impl<T> Take<T> {
    /// Hold `value` until it is taken.
    pub fn new(value: T) -> Self {
        Take(std::cell::Cell::new(Some(value)))
    }
}

/// The answers for a [`StaticBind`] slot.
pub trait Bindable {
    /// True.
    fn bindable(&self) -> bool;
    /// The parameter.
    fn value(&self) -> Option<Value>;
}

impl<T: StaticBind> Bindable for Probe<'_, T> {
    #[inline]
    fn bindable(&self) -> bool {
        true
    }
    fn value(&self) -> Option<Value> {
        Some(self.0.bind_value())
    }
}

/// Taking a [`StaticBind`] slot's value.
pub trait Takeable {
    /// The parameter.
    fn take(&self) -> Value;
}

impl<T: StaticBind> Takeable for Take<T> {
    #[inline]
    fn take(&self) -> Value {
        self.0
            .take()
            .map_or(Value::Null, StaticBind::into_bind_value)
    }
}

/// The answers for any other slot: not bindable, so the call site is dynamic.
pub trait NotBindable {
    /// False.
    fn bindable(&self) -> bool;
    /// None.
    fn value(&self) -> Option<Value>;
}

impl<T> NotBindable for &Probe<'_, T> {
    #[inline]
    fn bindable(&self) -> bool {
        false
    }
    fn value(&self) -> Option<Value> {
        None
    }
}

/// Never reached at run time ([`FastSite::check`] said the site is dynamic); there for the
/// types.
pub trait NotTakeable {
    /// `NULL`.
    fn take(&self) -> Value;
}

impl<T> NotTakeable for &Take<T> {
    fn take(&self) -> Value {
        Value::Null
    }
}

/// Where a placeholder's value comes from.
#[derive(Debug)]
enum Source {
    Slot(u8),
    Const(Value),
}

/// The SQL text of one dialect and form, and its placeholders' sources.
#[derive(Debug)]
struct Entry {
    dialect: &'static str,
    form: Form,
    sql: Box<str>,
    sources: Box<[Source]>,
    /// The sources are the slots, in order: the statement's values are the parameters as
    /// they stand (no constant, no reordering), so an engine can run them borrowed.
    in_order: bool,
    /// The result's column names, from the first execution.
    keys: OnceLock<std::sync::Arc<[String]>>,
}

/// The model of the first execution that could be learned, and what each of its
/// parameters (in walk order) is: a slot, or a constant (`None`).
#[derive(Debug)]
pub struct Template<S> {
    stmt: S,
    map: Box<[Option<u8>]>,
    tables: &'static str,
}

/// A statement model the zero-render path can learn: walks its parameters in a fixed
/// order, and says whether it reached every one.
pub trait Learnable: Clone + fmt::Debug + Send + Sync + 'static {
    /// Call `f` on each parameter value in a fixed order; false when the model holds
    /// something the walk does not know (then it is not learned).
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Value)) -> bool;
    /// A model that fails to compile, naming an internal mistake (never expected).
    fn broken() -> Self;
}

/// One call site's learned template and texts. See the [module docs](self).
pub struct FastSite<S> {
    constants: usize,
    attempts: AtomicUsize,
    template: OnceLock<Template<S>>,
    head: Node,
}

impl<S> fmt::Debug for FastSite<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastSite")
            .field("constants", &self.constants)
            .field("learned", &self.template.get().is_some())
            .finish_non_exhaustive()
    }
}

/// A lock-free, append-only list of entries (as [`SqlCache`]'s).
#[derive(Debug)]
struct Node {
    entry: OnceLock<Entry>,
    next: OnceLock<Box<Node>>,
}

impl Node {
    const fn new() -> Self {
        Node {
            entry: OnceLock::new(),
            next: OnceLock::new(),
        }
    }
}

/// What a call site does with this execution.
#[derive(Debug)]
pub enum Decision<S: 'static> {
    /// Gather the slots; the template is learned.
    Ready(&'static Template<S>),
    /// Build the model and learn from it.
    Learn,
    /// Build the model (today's path).
    Dynamic,
}

impl<S: Learnable> FastSite<S> {
    /// A call site whose statement has `constants` parameters that are literals.
    pub const fn new(constants: usize) -> Self {
        FastSite {
            constants,
            attempts: AtomicUsize::new(0),
            template: OnceLock::new(),
            head: Node::new(),
        }
    }

    /// The way of this execution: `tables` names the statement's table types (a call site
    /// in a generic function is one `static` for every instance), `bindable` says per slot
    /// whether its type is [`StaticBind`].
    #[inline]
    pub fn check(&'static self, tables: &'static str, bindable: &[bool]) -> Decision<S> {
        if !bindable.iter().all(|b| *b) {
            return Decision::Dynamic;
        }
        match self.template.get() {
            Some(t) if same(t.tables, tables) => Decision::Ready(t),
            Some(_) => Decision::Dynamic,
            None if self.attempts.load(Ordering::Relaxed) < MAX_ATTEMPTS => Decision::Learn,
            None => Decision::Dynamic,
        }
    }

    fn entries(&'static self) -> impl Iterator<Item = &'static Entry> {
        let mut node = Some(&self.head);
        std::iter::from_fn(move || {
            let current = node?;
            node = current.next.get().map(|b| &**b);
            current.entry.get()
        })
    }

    fn entry(&'static self, dialect: &str, form: Form) -> Option<&'static Entry> {
        self.entries()
            .find(|e| e.form == form && same(e.dialect, dialect))
    }

    fn store(&self, entry: Entry) {
        let mut node = &self.head;
        let mut entry = Some(entry);
        loop {
            match node.entry.get() {
                Some(e)
                    if Some((e.dialect, e.form)) == entry.as_ref().map(|n| (n.dialect, n.form)) =>
                {
                    return;
                }
                Some(_) => {}
                None => {
                    let Some(new) = entry.take() else { return };
                    match node.entry.set(new) {
                        Ok(()) => return,
                        // Another thread filled this node first: look at what it stored.
                        Err(back) => {
                            entry = Some(back);
                            continue;
                        }
                    }
                }
            }
            node = node.next.get_or_init(|| Box::new(Node::new()));
        }
    }
}

impl<S: Learnable> Template<S> {
    /// The model for `slots`: the template's, each slot's parameter replaced.
    fn instantiate(&self, slots: &[Value]) -> S {
        let mut stmt = self.stmt.clone();
        let mut at = 0;
        let mut complete = true;
        let reached = stmt.visit_params(&mut |v| {
            if let Some(slot) = self.map.get(at).copied().flatten() {
                match slots.get(usize::from(slot)) {
                    Some(value) => *v = value.clone(),
                    None => complete = false,
                }
            }
            at += 1;
        });
        if reached && complete && at == self.map.len() {
            stmt
        } else {
            S::broken()
        }
    }
}

/// The parameters of `stmt` in walk order, if the walk reaches them all.
fn walk<S: Learnable>(stmt: &S) -> Option<Vec<Value>> {
    let mut copy = stmt.clone();
    let mut values = Vec::new();
    copy.visit_params(&mut |v| values.push(v.clone()))
        .then_some(values)
}

/// `a == b`, at once when both are the same `'static` text (a type's or a dialect's name,
/// compared on every execution).
#[inline]
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

fn distinct(values: &[Value]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(i, v)| values[..i].iter().all(|w| w != v))
}

/// The statement's body: the model, built now or — on the zero-render path — only when
/// something asks for it, and the slots of a fast call site.
pub struct Model<S: Learnable> {
    /// Boxed, so that a statement of the zero-render path (which has none) is small to move:
    /// the model is hundreds of bytes, moved several times between the macro and the driver.
    built: Option<Box<S>>,
    /// Built from the template when asked for through `&self`.
    lazy: OnceLock<Box<S>>,
    fast: Option<Fast<S>>,
}

/// A fast call site's part of a statement.
struct Fast<S: 'static> {
    site: &'static FastSite<S>,
    /// Set on the zero-render path (the model is built from it on demand).
    template: Option<&'static Template<S>>,
    tables: &'static str,
    slots: Params,
}

impl<S: 'static> Clone for Fast<S> {
    fn clone(&self) -> Self {
        Fast {
            site: self.site,
            template: self.template,
            tables: self.tables,
            slots: self.slots.clone(),
        }
    }
}

impl<S: Learnable> Model<S> {
    /// A model built as usual.
    pub(crate) fn built(stmt: S) -> Self {
        Model {
            built: Some(Box::new(stmt)),
            lazy: OnceLock::new(),
            fast: None,
        }
    }

    fn materialize(fast: Option<&Fast<S>>) -> S {
        match fast.and_then(|f| f.template.map(|t| (t, f))) {
            Some((template, f)) => template.instantiate(f.slots.as_slice()),
            None => S::broken(),
        }
    }

    /// The model, built now if it was not.
    pub(crate) fn into_inner(self) -> S {
        let Model { built, lazy, fast } = self;
        built
            .or_else(|| lazy.into_inner())
            .map_or_else(|| Self::materialize(fast.as_ref()), |b| *b)
    }

    /// The learned entry of `dialect` and `form` for this statement, and its slots.
    #[inline]
    fn learned_entry(
        &self,
        dialect: &dyn Dialect,
        form: Form,
    ) -> Option<(&'static Entry, &[Value])> {
        let fast = self.fast.as_ref()?;
        // A statement built to learn from may meet a site another instance of its generic
        // function taught: the text is only its own if the tables are.
        if fast.template.is_none() && !same(fast.site.template.get()?.tables, fast.tables) {
            return None;
        }
        Some((
            fast.site.entry(dialect.name(), form)?,
            fast.slots.as_slice(),
        ))
    }

    /// The learned SQL of `dialect` with this statement's values as they stand, borrowed,
    /// when they are its parameters in order (`Entry::in_order`): nothing is built.
    #[inline]
    pub(crate) fn fast_run(&self, dialect: &dyn Dialect, form: Form) -> Option<Run<'_>> {
        let (entry, slots) = self.learned_entry(dialect, form)?;
        entry.in_order.then_some(Run {
            sql: &entry.sql,
            params: slots,
            returns_key: false,
            keys: Some(&entry.keys),
        })
    }

    /// The learned SQL of `dialect` with this statement's values: the zero-render path.
    pub(crate) fn fast_compiled(&self, dialect: &dyn Dialect, form: Form) -> Option<Compiled> {
        let (entry, slots) = self.learned_entry(dialect, form)?;
        let mut params = Params::new();
        for source in &entry.sources {
            params.push(match source {
                Source::Slot(i) => slots.get(usize::from(*i))?.clone(),
                Source::Const(v) => v.clone(),
            });
        }
        Some(Compiled::fast(&entry.sql, params, &entry.keys))
    }

    /// After a full compile for `dialect`: learn the template and this dialect's text, when
    /// this statement is a fast call site's and they are not known yet.
    pub(crate) fn learn(&self, dialect: &dyn Dialect, form: Form, compiled: &Compiled) {
        let Some(fast) = &self.fast else { return };
        let site = fast.site;
        let name = dialect.name();
        if site.entry(name, form).is_some() {
            return;
        }
        let stmt: &S = self;
        let Some(values) = walk(stmt) else {
            site.attempts.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let slots = fast.slots.as_slice();
        if !distinct(&values) || values.len() != slots.len() + site.constants {
            site.attempts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let template = match site.template.get() {
            Some(t) if same(t.tables, fast.tables) => t,
            Some(_) => return,
            None => {
                // Each slot's value is exactly one of the parameters (all distinct).
                let mut map = vec![None; values.len()];
                for (i, slot) in slots.iter().enumerate() {
                    let Some(at) = values.iter().position(|v| v == slot) else {
                        site.attempts.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    map[at] = u8::try_from(i).ok();
                }
                site.template.get_or_init(|| Template {
                    stmt: stmt.clone(),
                    map: map.into(),
                    tables: fast.tables,
                })
            }
        };
        // The dialect may bind values of its own (SQLite's `OFFSET ?` of 0 after a lone
        // `LIMIT`): constants, told apart from the model's values only when every parameter
        // is distinct too, and each of the model's values is used exactly once.
        let params = compiled.params();
        let extra = params.len().checked_sub(values.len());
        if template.map.len() != values.len()
            || extra.is_none()
            || (extra != Some(0) && !distinct(params))
        {
            return;
        }
        let mut sources = Vec::with_capacity(params.len());
        let mut used = 0;
        for p in params {
            let Some(at) = values.iter().position(|v| v == p) else {
                sources.push(Source::Const(p.clone()));
                continue;
            };
            used += 1;
            sources.push(match template.map[at] {
                Some(slot) if slots.get(usize::from(slot)) == Some(p) => Source::Slot(slot),
                Some(_) => return,
                None => Source::Const(p.clone()),
            });
        }
        if used != values.len() {
            return;
        }
        let in_order = sources.len() == slots.len()
            && sources
                .iter()
                .enumerate()
                .all(|(i, s)| matches!(s, Source::Slot(n) if usize::from(*n) == i));
        site.store(Entry {
            dialect: name,
            form,
            sql: compiled.sql().into(),
            sources: sources.into(),
            in_order,
            keys: OnceLock::new(),
        });
    }
}

impl<S: Learnable> Deref for Model<S> {
    type Target = S;
    fn deref(&self) -> &S {
        match &self.built {
            Some(stmt) => stmt,
            None => self
                .lazy
                .get_or_init(|| Box::new(Self::materialize(self.fast.as_ref()))),
        }
    }
}

/// Changing the model ends the zero-render path: the learned text no longer applies.
impl<S: Learnable> DerefMut for Model<S> {
    fn deref_mut(&mut self) -> &mut S {
        let lazy = self.lazy.take();
        let fast = self.fast.take();
        self.built.get_or_insert_with(|| {
            lazy.unwrap_or_else(|| Box::new(Self::materialize(fast.as_ref())))
        })
    }
}

impl<S: Learnable> Clone for Model<S> {
    fn clone(&self) -> Self {
        Model {
            built: self.built.clone(),
            lazy: self.lazy.clone(),
            fast: self.fast.clone(),
        }
    }
}

impl<S: Learnable> fmt::Debug for Model<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<S: Learnable + PartialEq> PartialEq for Model<S> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// The statement of a learned `select!` call site, its values taken from the slots.
#[inline]
pub fn fast_select<R, const N: usize>(
    template: &'static Template<SelectStmt>,
    site: &'static FastSite<SelectStmt>,
    cache: &'static SqlCache,
    values: [Value; N],
) -> Select<R> {
    let slots = Params::from_array(values);
    let model = Model {
        built: None,
        lazy: OnceLock::new(),
        fast: Some(Fast {
            site,
            template: Some(template),
            tables: template.tables,
            slots,
        }),
    };
    Select::from_model(model, Some(cache))
}

impl<R> Select<R> {
    /// Whether this statement came from a learned static call site and still is its: its
    /// model is built only when something asks for it (tests of the zero-render path).
    #[doc(hidden)]
    pub fn is_zero_render(&self) -> bool {
        self.stmt
            .fast
            .as_ref()
            .is_some_and(|f| f.template.is_some())
    }

    /// A `select!` call site that may learn its template from this statement.
    #[doc(hidden)]
    pub fn learning<const N: usize>(
        mut self,
        site: &'static FastSite<SelectStmt>,
        tables: &'static str,
        values: Option<[Option<Value>; N]>,
    ) -> Self {
        let Some(values) = values else { return self };
        let mut slots = Params::new();
        for v in values {
            match v {
                Some(v) => slots.push(v),
                None => return self,
            }
        }
        self.stmt.fast = Some(Fast {
            site,
            template: None,
            tables,
            slots,
        });
        self
    }
}

/// The name of a type tuple, for [`FastSite::check`].
pub fn tables_name<T: ?Sized>() -> &'static str {
    type_name::<T>()
}

impl Learnable for SelectStmt {
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Value)) -> bool {
        let SelectStmt {
            distinct: _,
            distinct_on,
            items,
            from,
            where_,
            group_by,
            having,
            order_by,
            limit,
            offset,
            lock,
            correlation: _,
        } = self;
        let mut ok = distinct_on.iter_mut().all(|e| visit_expr(e, f));
        for item in items.iter_mut() {
            ok &= match item {
                SelectItem::Table(t) => plain(t),
                SelectItem::Expr(e) | SelectItem::Labeled { expr: e, .. } => visit_expr(e, f),
            };
        }
        for FromItem { table, joins } in from.iter_mut() {
            ok &= plain(table);
            for j in joins.iter_mut() {
                ok &= plain(&j.table) && visit_expr(&mut j.on, f);
            }
        }
        ok &= where_.as_mut().is_none_or(|e| visit_expr(e, f));
        ok &= group_by.iter_mut().all(|e| visit_expr(e, f));
        ok &= having.as_mut().is_none_or(|e| visit_expr(e, f));
        ok &= order_by.iter_mut().all(|o| visit_expr(&mut o.expr, f));
        ok &= limit.as_mut().is_none_or(|e| visit_expr(e, f));
        ok &= offset.as_mut().is_none_or(|e| visit_expr(e, f));
        ok &= lock.as_ref().is_none_or(|l| l.of.iter().all(plain));
        ok
    }

    fn broken() -> Self {
        let mut stmt = SelectStmt::new(Vec::new());
        stmt.where_ = Some(SqlExpr::Invalid(LOST.into()));
        stmt
    }
}

/// A table named directly (not a subquery, whose parameters the walk does not reach).
fn plain(t: &TableRef) -> bool {
    !matches!(t.source(), FromSource::Derived(_))
}

/// Walk `e`'s parameters; false on an expression the walk does not know.
fn visit_expr(e: &mut SqlExpr, f: &mut dyn FnMut(&mut Value)) -> bool {
    match e {
        SqlExpr::Column { table, .. } => plain(table),
        SqlExpr::Param(v) => {
            f(v);
            true
        }
        SqlExpr::Star | SqlExpr::Truth(_) => true,
        SqlExpr::Binary(l, _, r) => visit_expr(l, f) && visit_expr(r, f),
        SqlExpr::Clauses(_, items) | SqlExpr::Function { args: items, .. } => {
            items.iter_mut().all(|e| visit_expr(e, f))
        }
        SqlExpr::Not(e) | SqlExpr::Neg(e) | SqlExpr::IsNull { expr: e, .. } => visit_expr(e, f),
        SqlExpr::Cast { expr, .. } => visit_expr(expr, f),
        SqlExpr::Like { expr, pattern, .. } => visit_expr(expr, f) && visit_expr(pattern, f),
        SqlExpr::Between {
            expr, low, high, ..
        } => visit_expr(expr, f) && visit_expr(low, f) && visit_expr(high, f),
        _ => false,
    }
}

/// The table of a statement kind that never takes the zero-render path, for [`Learnable::broken`].
static NO_META: crate::schema::MetaData = crate::schema::MetaData::new();
static NO_TABLE: crate::schema::TableDef =
    crate::schema::TableDef::new("quarry_internal_error", &[], &NO_META);
const LOST: &str = "internal: a fast call site lost its template";

impl Learnable for super::CompoundStmt {
    fn visit_params(&mut self, _: &mut dyn FnMut(&mut Value)) -> bool {
        false
    }
    fn broken() -> Self {
        super::CompoundStmt {
            first: SelectStmt::broken(),
            rest: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }
}

impl Learnable for super::InsertStmt {
    fn visit_params(&mut self, _: &mut dyn FnMut(&mut Value)) -> bool {
        false
    }
    fn broken() -> Self {
        super::InsertStmt {
            table: TableRef::new(&NO_TABLE),
            columns: Vec::new(),
            rows: Vec::new(),
            on_conflict: None,
            returning: Vec::new(),
            error: Some(LOST.to_owned()),
            select: None,
        }
    }
}

impl Learnable for super::UpdateStmt {
    fn visit_params(&mut self, _: &mut dyn FnMut(&mut Value)) -> bool {
        false
    }
    fn broken() -> Self {
        super::UpdateStmt {
            table: TableRef::new(&NO_TABLE),
            assignments: Vec::new(),
            where_: None,
            returning: Vec::new(),
            error: Some(LOST.to_owned()),
        }
    }
}

impl Learnable for super::DeleteStmt {
    fn visit_params(&mut self, _: &mut dyn FnMut(&mut Value)) -> bool {
        false
    }
    fn broken() -> Self {
        super::DeleteStmt {
            table: TableRef::new(&NO_TABLE),
            where_: Some(SqlExpr::Invalid(LOST.into())),
            returning: Vec::new(),
        }
    }
}
