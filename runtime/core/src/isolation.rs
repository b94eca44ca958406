//! Settings a statement's SQL depends on but no statement holds: the isolation level.

/// How isolated a transaction is from concurrent ones (`SET TRANSACTION ISOLATION LEVEL …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (SQLite: `PRAGMA read_uncommitted = 1`, shared-cache only).
    ReadUncommitted,
    /// `READ COMMITTED`.
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE` (SQLite's only real level).
    Serializable,
    /// No transaction block around statements: each one commits at once. This is what a Quarry
    /// connection does anyway outside `begin()`, so this level changes nothing on the server.
    Autocommit,
}

impl IsolationLevel {
    /// The SQL spelling, `READ COMMITTED`.
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
            IsolationLevel::Autocommit => "AUTOCOMMIT",
        }
    }
}
