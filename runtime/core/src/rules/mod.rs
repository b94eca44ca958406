//! The rules engines share, as plain state machines: the transaction stack of a connection,
//! a pool's checkout decisions, and a session's unit of work and flush plan.
//!
//! They decide and never act: each returns what to run, an engine runs it on its own
//! connections (blocking or not) and reports back. So the blocking engine and a non-blocking
//! one follow the same rules without copying them.

pub mod binds;
pub mod flush;
pub mod pool;
pub mod retry;
pub mod routing;
pub mod transaction;
pub mod unit;
