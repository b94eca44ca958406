//! The per-call-site SQL cache behind "static statements are rendered once".
//!
//! `select!`, `insert!`, `update!` and `delete!` each expand to a builder chain ending in
//! `.cached(&CACHE)`, where `CACHE` is a `static SqlCache` private to that call site. The first
//! time the statement is compiled for a dialect the SQL text is rendered and kept (one slot per
//! dialect, lock-free after the first write). Every later compile walks the statement once more
//! in *verify* mode: the renderer writes nothing, it compares each fragment it would write with
//! the kept text and collects the bound values. If the text matches (the values changed, the
//! shape did not) the kept `&'static str` is used as is; if not (a value spliced into the macro
//! was itself an expression of a different shape, an `in_` list changed length) the statement
//! is rendered afresh. So the cache can never hand out SQL that does not belong to the
//! statement, and [`SqlCache::renders`] counts the full renders.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Compiled;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::render::Renderer;

const SLOTS: usize = 4;

/// SQL text of one statement call site, per dialect. See the [module docs](self).
#[derive(Debug)]
pub struct SqlCache {
    slots: [OnceLock<(&'static str, Box<str>)>; SLOTS],
    renders: AtomicUsize,
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
            slots: [const { OnceLock::new() }; SLOTS],
            renders: AtomicUsize::new(0),
        }
    }

    /// How many times a statement using this cache was rendered in full (not taken from the
    /// cache).
    pub fn renders(&self) -> usize {
        self.renders.load(Ordering::Relaxed)
    }

    fn get(&'static self, dialect: &str) -> Option<&'static str> {
        for slot in &self.slots {
            match slot.get() {
                Some((name, sql)) if *name == dialect => return Some(sql),
                Some(_) => {}
                None => return None,
            }
        }
        None
    }

    fn store(&self, dialect: &'static str, sql: &str) {
        for slot in &self.slots {
            match slot.get() {
                Some((name, _)) if *name == dialect => return,
                Some(_) => {}
                None => {
                    // Losing a race to another thread storing the same text is fine.
                    if slot.set((dialect, sql.into())).is_ok() {
                        return;
                    }
                }
            }
        }
    }

    /// Compile through `cache` when there is one: the kept text if the statement still renders
    /// to it, else a full render (kept for next time if the dialect has no text yet).
    pub(crate) fn compile(
        cache: Option<&'static SqlCache>,
        dialect: &dyn Dialect,
        render: impl Fn(&mut Renderer<'_>) -> Result<()>,
    ) -> Result<Compiled> {
        SqlCache::compile_keyed(cache, dialect.name(), dialect, render)
    }

    /// As [`SqlCache::compile`], keeping the text under `key` rather than the dialect's name
    /// (for a second form of the statement on one dialect).
    pub(crate) fn compile_keyed(
        cache: Option<&'static SqlCache>,
        key: &'static str,
        dialect: &dyn Dialect,
        render: impl Fn(&mut Renderer<'_>) -> Result<()>,
    ) -> Result<Compiled> {
        let Some(cache) = cache else {
            let mut r = Renderer::new(dialect);
            render(&mut r)?;
            return Ok(r.finish());
        };
        if let Some(sql) = cache.get(key) {
            let mut r = Renderer::verifying(dialect, sql);
            render(&mut r)?;
            if let Some(params) = r.finish_verified() {
                return Ok(Compiled::cached(sql, params));
            }
        }
        cache.renders.fetch_add(1, Ordering::Relaxed);
        let mut r = Renderer::new(dialect);
        render(&mut r)?;
        let compiled = r.finish();
        cache.store(key, compiled.sql());
        Ok(compiled)
    }
}
