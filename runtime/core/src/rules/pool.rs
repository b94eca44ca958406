//! The pool's checkout policy, sans I/O (shared by the blocking pool of `quarry-runtime` and the
//! async pool of `quarry-async`): what a checkout and a checkin decide, without the
//! connections, the clock, the threads or the locks that carry the decisions out.
//!
//! - [`Settings`]: the limits (`pool_size`, `max_overflow`, `-1` unbounded), the timeout
//!   deadline, and [`Settings::screen`]: whether an idle connection about to be handed out is
//!   ready, must be pre-pinged, or must be replaced (older than a pool-wide invalidation, or
//!   than `pool_recycle`).
//! - [`Generations`]: connection ids and the pool-wide invalidation mark (`stale_below`).
//! - [`Queue`]: a `Queue` pool's bookkeeping — idle connections, open ones counted against
//!   the limits, waiters served first come first served — generic over the connection `C` and
//!   the waiter `W`, so that a blocking pool (a parked thread) and a non-blocking one (a
//!   oneshot sender) drive the same state machine, each under its own lock.
//! - [`ResetOnReturn::action`]: what the reset of a returned connection does.
//!
//! Only `std` and the crate's error type here: the caller reads the clock and passes `now`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How many connections one checkout tries when its `on_checkout` hooks find them
/// disconnected; the error of the last one fails the checkout.
pub const CHECKOUT_ATTEMPTS: usize = 3;

/// The pre-ping budget of a checkout without a deadline (a timeout too long to represent).
const PING_WITHOUT_DEADLINE: Duration = Duration::from_secs(30);

/// The shortest pre-ping budget: a checkout at its deadline still gets a round trip's chance.
const MIN_PING: Duration = Duration::from_millis(1);

/// What the pool does to a connection coming back (SQLAlchemy's `reset_on_return`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetOnReturn {
    /// Roll back whatever transaction is open. The default.
    Rollback,
    /// Commit whatever transaction is open.
    Commit,
    /// Nothing: the next user inherits any open transaction.
    None,
}

/// What resetting a returned connection does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetAction {
    /// Send a rollback.
    Rollback,
    /// Send a commit.
    Commit,
    /// Send nothing.
    Nothing,
}

impl ResetOnReturn {
    /// The reset of a connection, given whether its transaction is open (asked only for
    /// `Commit`). A rollback is sent either way (the driver may know better than its flag).
    pub fn action(self, in_transaction: impl FnOnce() -> bool) -> ResetAction {
        match self {
            ResetOnReturn::Rollback => ResetAction::Rollback,
            ResetOnReturn::Commit if in_transaction() => ResetAction::Commit,
            ResetOnReturn::Commit | ResetOnReturn::None => ResetAction::Nothing,
        }
    }
}

/// The settings the checkout decisions depend on; defaults as `PoolBuilder`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Idle connections kept.
    pub size: usize,
    /// Connections beyond `size` opened under load; `-1`: unbounded.
    pub max_overflow: isize,
    /// How long a checkout may take in all.
    pub timeout: Duration,
    /// Replace connections at least this old at checkout.
    pub recycle: Option<Duration>,
    /// Test reused connections at checkout.
    pub pre_ping: bool,
    /// Hand out the most recently returned idle connection first.
    pub use_lifo: bool,
    /// What a returned connection's reset does.
    pub reset_on_return: ResetOnReturn,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            size: 5,
            max_overflow: 10,
            timeout: Duration::from_secs(30),
            recycle: None,
            pre_ping: false,
            use_lifo: false,
            reset_on_return: ResetOnReturn::Rollback,
        }
    }
}

/// What to do with an idle connection about to be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Hand it out.
    Ready,
    /// Test it with a round trip first (see [`ping_budget`]); replace it if that fails.
    Ping,
    /// Close it and open another in its place.
    Replace(Replace),
}

/// Why a connection is replaced at checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Opened before a pool-wide invalidation (a disconnect, or `dispose()`).
    Stale,
    /// At least `pool_recycle` old.
    Recycle,
}

impl Settings {
    /// Settings every class can work with.
    ///
    /// # Errors
    /// [`Error::Config`] for a `max_overflow` below -1.
    pub fn validate(&self) -> Result<()> {
        if self.max_overflow < -1 {
            return Err(Error::config(format!(
                "max_overflow must be -1 (unbounded) or at least 0, got {}",
                self.max_overflow
            )));
        }
        Ok(())
    }

    /// The most connections a `Queue` pool has open at once; `None`: no limit.
    pub fn capacity(&self) -> Option<usize> {
        usize::try_from(self.max_overflow)
            .ok()
            .map(|overflow| self.size.saturating_add(overflow))
    }

    /// The deadline of a checkout that started at `start`; `None` when the timeout is too
    /// long to represent (wait forever).
    pub fn deadline(&self, start: Instant) -> Option<Instant> {
        start.checked_add(self.timeout)
    }

    /// Decide about an idle connection (its `id` and when it was `created`) about to be
    /// handed out, with the pool's invalidation mark `stale_below`. `now` is read only when
    /// `pool_recycle` is set.
    pub fn screen(
        &self,
        id: u64,
        created: Instant,
        stale_below: u64,
        now: impl FnOnce() -> Instant,
    ) -> Screen {
        if is_stale(id, stale_below) {
            Screen::Replace(Replace::Stale)
        } else if self
            .recycle
            .is_some_and(|age| now().saturating_duration_since(created) >= age)
        {
            Screen::Replace(Replace::Recycle)
        } else if self.pre_ping {
            Screen::Ping
        } else {
            Screen::Ready
        }
    }
}

/// Whether a connection of `id` was opened before the invalidation mark `stale_below`: such
/// a connection is replaced at checkout and closed on return.
pub fn is_stale(id: u64, stale_below: u64) -> bool {
    id < stale_below
}

/// How long a pre-ping may take: the time left until the checkout's deadline, at least
/// [`MIN_PING`].
pub fn ping_budget(deadline: Option<Instant>, now: Instant) -> Duration {
    deadline.map_or(PING_WITHOUT_DEADLINE, |d| {
        d.saturating_duration_since(now).max(MIN_PING)
    })
}

/// Whether a checkout with this deadline must give up at `now`.
pub fn expired(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

/// How long a waiting checkout may still wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The deadline has passed: leave the queue.
    Expired,
    /// Until woken, or this long.
    For(Duration),
    /// Until woken.
    Forever,
}

/// How long a checkout with this deadline may still wait at `now`.
pub fn wait(deadline: Option<Instant>, now: Instant) -> Wait {
    match deadline {
        Some(d) if now >= d => Wait::Expired,
        Some(d) => Wait::For(d - now),
        None => Wait::Forever,
    }
}

/// Connection ids and the pool-wide invalidation mark. Ids count up from 1, so "older" is
/// "smaller id", and one number, `stale_below`, marks every connection open at an
/// invalidation. Atomics, not a lock: every checkout and checkin reads the mark.
#[derive(Debug)]
pub struct Generations {
    /// The id of the next connection opened.
    next_id: AtomicU64,
    /// Connections whose id is below this are replaced at checkout and closed on return.
    stale_below: AtomicU64,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            next_id: AtomicU64::new(1),
            stale_below: AtomicU64::new(0),
        }
    }
}

impl Generations {
    /// The id of a connection being opened.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::AcqRel)
    }

    /// The invalidation mark now.
    pub fn stale_below(&self) -> u64 {
        self.stale_below.load(Ordering::Acquire)
    }

    /// Whether the connection `id` is older than the last invalidation.
    pub fn is_stale(&self, id: u64) -> bool {
        is_stale(id, self.stale_below())
    }

    /// Mark every connection opened so far stale; returns whether that marked any the mark
    /// did not cover already (a second disconnect of the same generation marks nothing).
    pub fn invalidate_all(&self) -> bool {
        let now = self.next_id.load(Ordering::Acquire);
        self.stale_below.fetch_max(now, Ordering::AcqRel) < now
    }

    /// `dispose()`: mark every connection opened so far stale.
    pub fn retire_all(&self) {
        self.stale_below
            .store(self.next_id.load(Ordering::Acquire), Ordering::Release);
    }
}

/// An idle connection, or room for a new one.
#[derive(Debug, PartialEq, Eq)]
pub enum Take<C> {
    /// An idle connection, to screen before use.
    Idle(C),
    /// Room for one more connection, already counted as open: open it, or `release` it.
    Room,
}

/// Where a healthy returned connection goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Returned<C, W> {
    /// To this waiter, the first in line (it left the queue).
    Waiter(W, C),
    /// Kept idle.
    Kept,
    /// Closed: the pool keeps `pool_size` idle connections and this one is beyond them (its
    /// room is freed already).
    Close(C),
}

/// A `Queue` pool's bookkeeping: idle connections in return order, the count of open ones
/// (idle, checked out or being opened) against the limits, and the checkouts waiting, first
/// come first served.
///
/// Invariant: while waiters queue there is no idle connection and no room (whatever comes
/// back is handed to the first of them), so a newcomer finds neither and queues behind them.
#[derive(Debug)]
pub struct Queue<C, W> {
    idle: VecDeque<C>,
    open: usize,
    waiters: VecDeque<W>,
    size: usize,
    capacity: Option<usize>,
    lifo: bool,
}

impl<C, W> Queue<C, W> {
    /// An empty queue for these settings; room for `pool_size` idle connections is allocated
    /// now, so that checkouts and checkins allocate nothing.
    ///
    /// # Errors
    /// [`Error::Config`] for settings under which no connection could ever be handed out.
    pub fn new(settings: &Settings) -> Result<Self> {
        if settings.size == 0 && settings.max_overflow == 0 {
            return Err(Error::config(
                "a Queue pool of pool_size 0 and max_overflow 0 can never hand out a connection",
            ));
        }
        Ok(Queue {
            idle: VecDeque::with_capacity(settings.size),
            open: 0,
            waiters: VecDeque::new(),
            size: settings.size,
            capacity: settings.capacity(),
            lifo: settings.use_lifo,
        })
    }

    /// An idle connection or room for a new one, if there is one without waiting.
    pub fn take(&mut self) -> Option<Take<C>> {
        let idle = if self.lifo {
            self.idle.pop_back()
        } else {
            self.idle.pop_front()
        };
        if let Some(conn) = idle {
            return Some(Take::Idle(conn));
        }
        if self.capacity.is_none_or(|cap| self.open < cap) {
            self.open += 1;
            return Some(Take::Room);
        }
        None
    }

    /// Queue a checkout that found nothing (after `take` said `None`).
    pub fn wait(&mut self, waiter: W) {
        self.waiters.push_back(waiter);
    }

    /// A waiter gives up (its deadline passed): it leaves the queue, if it is still in it.
    pub fn give_up(&mut self, is_it: impl Fn(&W) -> bool) {
        self.waiters.retain(|w| !is_it(w));
    }

    /// A healthy connection comes back.
    pub fn checkin(&mut self, conn: C) -> Returned<C, W> {
        if let Some(waiter) = self.waiters.pop_front() {
            Returned::Waiter(waiter, conn)
        } else if self.idle.len() < self.size {
            self.idle.push_back(conn);
            Returned::Kept
        } else {
            self.open -= 1;
            Returned::Close(conn)
        }
    }

    /// A connection was closed or failed to open: its room goes to the first waiter, who is
    /// returned (it left the queue), else it is freed.
    pub fn release(&mut self) -> Option<W> {
        let waiter = self.waiters.pop_front();
        if waiter.is_none() {
            self.open -= 1;
        }
        waiter
    }

    /// Take the idle connections `stale` picks out of the pool, keeping the order of the
    /// others; the caller closes them and `release`s their room.
    pub fn remove_idle(&mut self, mut stale: impl FnMut(&C) -> bool) -> Vec<C> {
        let mut removed = Vec::new();
        for _ in 0..self.idle.len() {
            if let Some(conn) = self.idle.pop_front() {
                if stale(&conn) {
                    removed.push(conn);
                } else {
                    self.idle.push_back(conn);
                }
            }
        }
        removed
    }

    /// Idle connections now.
    pub fn idle(&self) -> usize {
        self.idle.len()
    }

    /// Connections open now: idle, checked out, or being opened.
    pub fn open(&self) -> usize {
        self.open
    }

    /// Checkouts waiting now.
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(size: usize, max_overflow: isize) -> Settings {
        Settings {
            size,
            max_overflow,
            ..Settings::default()
        }
    }

    fn queue(size: usize, max_overflow: isize) -> Queue<u64, &'static str> {
        Queue::new(&settings(size, max_overflow)).unwrap()
    }

    /// Open `n` connections, then return them, numbered 1 to `n`, in that order.
    fn fill<W>(q: &mut Queue<u64, W>, n: u64) {
        for _ in 0..n {
            assert_eq!(q.take(), Some(Take::Room));
        }
        for c in 1..=n {
            assert!(matches!(q.checkin(c), Returned::Kept));
        }
    }

    #[test]
    fn a_new_queue_hands_out_room_up_to_size_plus_overflow() {
        let mut q = queue(2, 1);
        for _ in 0..3 {
            assert_eq!(q.take(), Some(Take::Room));
        }
        assert_eq!(q.take(), None);
        assert_eq!((q.open(), q.idle()), (3, 0));
    }

    #[test]
    fn unbounded_overflow_never_runs_out_of_room() {
        let mut q = queue(1, -1);
        for _ in 0..1000 {
            assert_eq!(q.take(), Some(Take::Room));
        }
        assert_eq!(q.open(), 1000);
    }

    #[test]
    fn returned_connections_are_kept_up_to_size_and_the_rest_closed() {
        let mut q = queue(1, 1);
        assert_eq!(q.take(), Some(Take::Room));
        assert_eq!(q.take(), Some(Take::Room));
        assert_eq!(q.checkin(1), Returned::Kept);
        assert_eq!(q.checkin(2), Returned::Close(2));
        assert_eq!((q.open(), q.idle()), (1, 1));
    }

    #[test]
    fn idle_connections_go_out_in_return_order_or_reversed_with_lifo() {
        for (use_lifo, first) in [(false, 1), (true, 3)] {
            let mut q: Queue<u64, ()> = Queue::new(&Settings {
                use_lifo,
                ..settings(3, 0)
            })
            .unwrap();
            fill(&mut q, 3);
            assert_eq!(q.take(), Some(Take::Idle(first)));
        }
    }

    #[test]
    fn waiters_get_returned_connections_and_freed_room_first_come_first_served() {
        let mut q = queue(1, 0);
        assert_eq!(q.take(), Some(Take::Room));
        assert_eq!(q.take(), None);
        q.wait("a");
        q.wait("b");
        q.wait("c");
        assert_eq!(q.checkin(7), Returned::Waiter("a", 7));
        assert_eq!(q.release(), Some("b"));
        q.give_up(|w| *w == "c");
        assert_eq!(q.waiting(), 0);
        // The room handed to "b" is still counted as open; freeing it now empties the pool.
        assert_eq!(q.open(), 1);
        assert_eq!(q.release(), None);
        assert_eq!(q.open(), 0);
    }

    #[test]
    fn a_waiter_that_was_served_before_giving_up_is_not_removed_twice() {
        let mut q = queue(1, 0);
        assert_eq!(q.take(), Some(Take::Room));
        q.wait("a");
        assert_eq!(q.release(), Some("a"));
        q.give_up(|w| *w == "a");
        assert_eq!((q.waiting(), q.open()), (0, 1));
    }

    #[test]
    fn removing_stale_idle_connections_keeps_the_order_of_the_rest() {
        let mut q = queue(4, 0);
        fill(&mut q, 4);
        assert_eq!(q.remove_idle(|c| c % 2 == 1), [1, 3]);
        assert_eq!(q.idle(), 2);
        // Their room is still counted until released.
        assert_eq!(q.open(), 4);
        assert_eq!(q.take(), Some(Take::Idle(2)));
        assert_eq!(q.take(), Some(Take::Idle(4)));
    }

    #[test]
    fn a_queue_that_could_never_hand_out_a_connection_is_refused() {
        let e = Queue::<u64, ()>::new(&settings(0, 0)).unwrap_err();
        assert!(e.to_string().contains("can never hand out"), "{e}");
        assert!(Queue::<u64, ()>::new(&settings(0, 1)).is_ok());
    }

    #[test]
    fn max_overflow_below_minus_one_is_refused() {
        assert!(settings(5, -2).validate().is_err());
        assert!(settings(5, -1).validate().is_ok());
        assert_eq!(settings(5, -1).capacity(), None);
        assert_eq!(settings(5, 3).capacity(), Some(8));
        assert_eq!(settings(usize::MAX, 3).capacity(), Some(usize::MAX));
    }

    #[test]
    fn screening_replaces_stale_before_old_and_pings_only_the_rest() {
        let t0 = Instant::now();
        let s = Settings {
            recycle: Some(Duration::from_secs(60)),
            pre_ping: true,
            ..Settings::default()
        };
        let later = || t0 + Duration::from_secs(61);
        assert_eq!(s.screen(3, t0, 4, later), Screen::Replace(Replace::Stale));
        assert_eq!(s.screen(4, t0, 4, later), Screen::Replace(Replace::Recycle));
        assert_eq!(s.screen(4, t0, 4, || t0), Screen::Ping);
        let plain = Settings::default();
        assert_eq!(
            plain.screen(4, t0, 0, || panic!("no clock without recycle")),
            Screen::Ready
        );
    }

    #[test]
    fn the_ping_budget_is_the_time_left_and_at_least_a_millisecond() {
        let now = Instant::now();
        let later = now + Duration::from_secs(2);
        assert_eq!(ping_budget(Some(later), now), Duration::from_secs(2));
        assert_eq!(ping_budget(Some(now), later), MIN_PING);
        assert_eq!(ping_budget(None, now), PING_WITHOUT_DEADLINE);
    }

    #[test]
    fn deadlines_expire_at_their_instant_and_none_waits_forever() {
        let now = Instant::now();
        let s = Settings {
            timeout: Duration::from_millis(100),
            ..Settings::default()
        };
        let d = s.deadline(now);
        assert_eq!(d, Some(now + Duration::from_millis(100)));
        assert!(!expired(d, now));
        assert!(expired(d, now + Duration::from_millis(100)));
        assert_eq!(wait(d, now), Wait::For(Duration::from_millis(100)));
        assert_eq!(wait(d, now + Duration::from_secs(1)), Wait::Expired);
        assert_eq!(wait(None, now), Wait::Forever);
        assert!(!expired(None, now));
        let forever = Settings {
            timeout: Duration::MAX,
            ..Settings::default()
        };
        assert_eq!(forever.deadline(now), None);
    }

    #[test]
    fn an_invalidation_marks_every_connection_opened_before_it_once() {
        let g = Generations::default();
        let (a, b) = (g.next_id(), g.next_id());
        assert_eq!((a, b), (1, 2));
        assert!(!g.is_stale(a));
        assert!(g.invalidate_all());
        assert!(!g.invalidate_all(), "nothing new to mark");
        assert!(g.is_stale(a) && g.is_stale(b));
        let c = g.next_id();
        assert!(!g.is_stale(c));
        g.retire_all();
        assert!(g.is_stale(c));
    }

    #[test]
    fn the_reset_commits_only_an_open_transaction() {
        let asked = || panic!("only Commit asks");
        assert_eq!(ResetOnReturn::Rollback.action(asked), ResetAction::Rollback);
        assert_eq!(ResetOnReturn::Commit.action(|| true), ResetAction::Commit);
        assert_eq!(ResetOnReturn::Commit.action(|| false), ResetAction::Nothing);
        assert_eq!(ResetOnReturn::None.action(asked), ResetAction::Nothing);
    }
}
