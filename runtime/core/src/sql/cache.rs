//! The per-call-site SQL cache behind "static statements are rendered once".
//!
//! `select!`, `insert!`, `update!` and `delete!` each expand to a builder chain ending in
//! `.cached(&CACHE)`, where `CACHE` is a `static SqlCache` private to that call site. The first
//! time the statement is compiled for a dialect the SQL text is rendered and kept, keyed by the
//! dialect's name and the statement's [`Form`]; later compiles check the kept text and collect
//! the values (`crate::render::compile` does both). This module is only the storage: a
//! lock-free, append-only list of texts whose first entry sits in the `static` itself, so any
//! number of dialects — the built-in ones and every registered one — are cached, and a lookup
//! takes no lock and allocates nothing.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which text of a statement an entry is: the statement as written, or a variant the engine
/// asks for on execution.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The statement's own SQL.
    Plain,
    /// A single-row `INSERT` with `RETURNING` its autoincrement key appended (PostgreSQL).
    ReturningKey,
}

/// A (dialect name, form) pair.
type Key = (&'static str, Form);

/// The most shapes kept per (dialect, form) of one call site.
pub(crate) const MAX_SHAPES: usize = 4;

/// SQL text of one statement call site, per dialect. See the [module docs](self).
#[derive(Debug)]
pub struct SqlCache {
    head: Slot,
    renders: AtomicUsize,
}

/// One entry of the list, and the way to the next.
#[derive(Debug)]
struct Slot {
    entry: OnceLock<(Key, Box<str>)>,
    next: OnceLock<Box<Slot>>,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            entry: OnceLock::new(),
            next: OnceLock::new(),
        }
    }
}

impl Default for SqlCache {
    fn default() -> Self {
        SqlCache::new()
    }
}

impl SqlCache {
    /// An empty cache, for a `static`.
    pub const fn new() -> Self {
        SqlCache {
            head: Slot::new(),
            renders: AtomicUsize::new(0),
        }
    }

    /// How many times a statement using this cache was rendered in full (not taken from the
    /// cache).
    pub fn renders(&self) -> usize {
        self.renders.load(Ordering::Relaxed)
    }

    pub(crate) fn count_render(&self) {
        self.renders.fetch_add(1, Ordering::Relaxed);
    }

    /// The text kept under `key`, if any (the first shape).
    #[cfg(test)]
    pub(crate) fn get(&'static self, key: Key) -> Option<&'static str> {
        let mut slot = &self.head;
        loop {
            let (k, sql) = slot.entry.get()?;
            if *k == key {
                return Some(sql);
            }
            slot = slot.next.get()?;
        }
    }

    /// Every text kept under `key`, first kept first: the shapes a call site's statement has
    /// taken (`col == v` is `= ?` or `IS NULL` as `v` is `Some` or `None`).
    pub(crate) fn shapes(&'static self, key: Key) -> impl Iterator<Item = &'static str> {
        let mut slot = Some(&self.head);
        std::iter::from_fn(move || {
            loop {
                let current = slot?;
                slot = current.next.get().map(|b| &**b);
                match current.entry.get() {
                    Some((k, sql)) if *k == key => return Some(&**sql),
                    Some(_) => {}
                    None => return None,
                }
            }
        })
    }

    /// Keep `sql` as one more shape under `key`, unless that text is kept already or `key`
    /// has [`MAX_SHAPES`] texts (a statement whose shape keeps changing is rendered each
    /// time rather than growing the list without end).
    pub(crate) fn store_shape(&self, key: Key, sql: &str) {
        let mut slot = &self.head;
        let mut shapes = 0;
        loop {
            match slot.entry.get() {
                Some((k, kept)) if *k == key => {
                    if **kept == *sql {
                        return;
                    }
                    shapes += 1;
                    if shapes >= MAX_SHAPES {
                        return;
                    }
                }
                Some(_) => {}
                None => {
                    if slot.entry.set((key, sql.into())).is_ok() {
                        return;
                    }
                    continue;
                }
            }
            slot = slot.next.get_or_init(|| Box::new(Slot::new()));
        }
    }

    /// Keep `sql` under `key` unless a text is kept there already (a thread that lost a race
    /// to store the same key stored the same text).
    #[cfg(test)]
    pub(crate) fn store(&self, key: Key, sql: &str) {
        let mut slot = &self.head;
        loop {
            match slot.entry.get() {
                Some((k, _)) if *k == key => return,
                Some(_) => {}
                None => {
                    if slot.entry.set((key, sql.into())).is_ok() {
                        return;
                    }
                    // Another thread filled this slot first: look at what it stored.
                    continue;
                }
            }
            slot = slot.next.get_or_init(|| Box::new(Slot::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_number_of_dialects_and_forms_are_kept() {
        static CACHE: SqlCache = SqlCache::new();
        let names = ["sqlite", "postgresql", "mysql", "fourth", "fifth", "sixth"];
        for name in names {
            assert_eq!(CACHE.get((name, Form::Plain)), None);
            CACHE.store((name, Form::Plain), &format!("SELECT '{name}'"));
            CACHE.store((name, Form::ReturningKey), &format!("INSERT '{name}'"));
        }
        for name in names {
            assert_eq!(
                CACHE.get((name, Form::Plain)),
                Some(format!("SELECT '{name}'").as_str())
            );
            assert_eq!(
                CACHE.get((name, Form::ReturningKey)),
                Some(format!("INSERT '{name}'").as_str())
            );
        }
    }

    #[test]
    fn shapes_are_kept_once_each_up_to_the_limit() {
        static CACHE: SqlCache = SqlCache::new();
        let key = ("sqlite", Form::Plain);
        CACHE.store(("mysql", Form::Plain), "other dialect");
        for sql in ["a = ?", "a IS NULL", "a = ?", "b", "c", "d", "e"] {
            CACHE.store_shape(key, sql);
        }
        let kept: Vec<&str> = CACHE.shapes(key).collect();
        assert_eq!(kept, ["a = ?", "a IS NULL", "b", "c"]);
        assert_eq!(CACHE.get(key), Some("a = ?"));
    }

    #[test]
    fn the_first_text_stored_under_a_key_stays() {
        static CACHE: SqlCache = SqlCache::new();
        CACHE.store(("sqlite", Form::Plain), "first");
        CACHE.store(("sqlite", Form::Plain), "second");
        assert_eq!(CACHE.get(("sqlite", Form::Plain)), Some("first"));
    }

    #[test]
    fn threads_storing_at_once_lose_nothing() {
        static CACHE: SqlCache = SqlCache::new();
        std::thread::scope(|s| {
            for t in 0..8 {
                s.spawn(move || {
                    for d in 0..16 {
                        let name: &'static str = ["a", "b", "c", "d", "e", "f", "g", "h"][d % 8];
                        let form = if d < 8 {
                            Form::Plain
                        } else {
                            Form::ReturningKey
                        };
                        CACHE.store((name, form), &format!("{name} {form:?} from {t}"));
                    }
                });
            }
        });
        for name in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            for form in [Form::Plain, Form::ReturningKey] {
                let sql = CACHE.get((name, form)).expect("stored");
                assert!(sql.starts_with(&format!("{name} {form:?} from ")), "{sql}");
            }
        }
    }
}
