//! Prepared statements by their SQL text, kept in front of the `mysql` crate's own cache.
//!
//! `Conn::prep` parses the SQL for named parameters (`:name`) on every call before it looks in
//! the crate's statement cache: ~2 400 instructions, a third of what a one-row `SELECT` costs
//! the client. This memo maps the text to the crate's `Statement`, so a statement run again
//! goes straight to `exec_iter`, as a program that prepares once and keeps the `Statement`.
//!
//! The crate's cache still owns the statements: it closes what it evicts (`COM_STMT_CLOSE`), so
//! the server's `max_prepared_stmt_count` is never leaked, and a native user of the connection
//! (`raw_connection`) keeps the crate's behaviour — with the crate's cache off, each `exec` of
//! SQL text there would leave a statement open on the server until the connection closes. The
//! memo must then never hold a statement the crate closed, and it stays in step with it by
//! construction:
//! - its capacity is the crate's (`STMT_CACHE_SIZE`, the size the driver opens connections
//!   with; a connection from an engine's `creator`, whose crate cache size cannot be read, has
//!   no memo);
//! - every `prep` that succeeds (and so moves the statement to the front of the crate's LRU
//!   order, or puts it there) is a miss here, and its statement is kept;
//! - it evicts first in, first out. Hits here never reach the crate, so the crate's least
//!   recently used statement is this memo's oldest, and both evict it on the same miss.
//!
//! Native use may prepare, close or reset (`COM_RESET_CONNECTION` and `COM_CHANGE_USER` drop
//! every statement, and the server may hand out their ids again), so the connection empties the
//! memo whenever it hands the native connection out.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::driver::SqlHasher;

/// A statement the crate prepared, with what the driver reads off its text once.
#[derive(Clone)]
pub(super) struct Prepared {
    pub(super) stmt: mysql::Statement,
    /// `driver::transaction_effect` of the text.
    pub(super) effect: Option<bool>,
}

impl Prepared {
    pub(super) fn new(sql: &str, stmt: mysql::Statement) -> Self {
        Prepared {
            stmt,
            effect: crate::driver::transaction_effect(sql),
        }
    }
}

/// The memo: at most `capacity` statements, the oldest evicted first.
pub(super) struct Statements {
    by_sql: HashMap<Box<str>, (Prepared, u64), BuildHasherDefault<SqlHasher>>,
    capacity: usize,
    /// Counts insertions: the entry with the smallest count is the oldest.
    inserted: u64,
}

impl Statements {
    /// A memo in step with a crate cache of `capacity` statements (0: no memo).
    pub(super) fn new(capacity: usize) -> Self {
        Statements {
            by_sql: HashMap::default(),
            capacity,
            inserted: 0,
        }
    }

    pub(super) fn get(&self, sql: &str) -> Option<&Prepared> {
        self.by_sql.get(sql).map(|(p, _)| p)
    }

    /// Keep what a successful `prep` of `sql` gave (every one must come here, see the module
    /// docs), evicting the oldest when full.
    pub(super) fn insert(&mut self, sql: &str, prepared: Prepared) {
        if self.capacity == 0 {
            return;
        }
        if self.by_sql.len() >= self.capacity {
            // A scan, on a miss that has just cost a round trip to the server.
            let oldest = self
                .by_sql
                .iter()
                .min_by_key(|(_, (_, n))| *n)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.by_sql.remove(&key);
            }
        }
        self.inserted += 1;
        self.by_sql.insert(sql.into(), (prepared, self.inserted));
    }

    /// Forget every statement (the native connection is handed out, or lost).
    pub(super) fn clear(&mut self) {
        self.by_sql.clear();
    }
}
