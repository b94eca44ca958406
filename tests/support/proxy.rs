//! A loopback TCP proxy for failure tests, on std threads only.
//!
//! It forwards between its clients and one server, and on demand breaks the network in one of
//! the ways a pool must survive:
//! - [`Proxy::black_hole`]: nothing gets through any more, yet every socket stays open and new
//!   connections are accepted (and left hanging) — a partitioned network. [`Proxy::forward`]
//!   heals it: what was held back is delivered, the hanging connections go through.
//! - [`Proxy::cut`]: every connection is closed and new ones are refused — the server is down.
//! - [`Proxy::hang_connects`] / [`Proxy::refuse_connects`]: only new connections hang or are
//!   refused; the established ones keep flowing.
//!
//! Every thread of the proxy polls its state at least every [`TICK`], so a change takes
//! effect within a few milliseconds and the proxy stops when dropped.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a proxy thread looks at the state while it has nothing else to do.
const TICK: Duration = Duration::from_millis(10);

/// What happens to a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewConns {
    /// Forwarded to the server.
    Forward,
    /// Accepted and held, not forwarded until `Forward` again.
    Hang,
    /// Refused: the proxy does not listen.
    Refuse,
}

#[derive(Debug)]
struct State {
    new: NewConns,
    /// False while established connections are black-holed.
    flowing: bool,
    /// Raised by `cut`: connections opened in an older epoch are closed.
    epoch: u64,
    /// Whether the accept thread has its listener now.
    listening: bool,
    /// Client connections open now.
    open: usize,
    shutdown: bool,
}

struct Inner {
    upstream: SocketAddr,
    port: u16,
    state: Mutex<State>,
    changed: Condvar,
}

/// A running proxy; stops (closing every connection) when dropped.
pub struct Proxy {
    inner: Arc<Inner>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Start forwarding a free loopback port to `upstream`.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = bind_free_port();
        let port = listener.local_addr().expect("local address").port();
        let inner = Arc::new(Inner {
            upstream,
            port,
            state: Mutex::new(State {
                new: NewConns::Forward,
                flowing: true,
                epoch: 0,
                listening: true,
                open: 0,
                shutdown: false,
            }),
            changed: Condvar::new(),
        });
        let acceptor = {
            let inner = Arc::clone(&inner);
            thread::Builder::new()
                .name("proxy-accept".into())
                .spawn(move || accept_loop(&inner, Some(listener)))
                .expect("spawn the proxy's accept thread")
        };
        Proxy {
            inner,
            acceptor: Some(acceptor),
        }
    }

    /// The proxy's address: `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.inner.port))
    }

    /// Forward everything again: new connections (and those left hanging) go through, held
    /// data is delivered. Returns once the proxy listens.
    pub fn forward(&self) {
        self.set(|s| {
            s.new = NewConns::Forward;
            s.flowing = true;
        });
        self.wait_until(|s| s.listening);
    }

    /// Stop forwarding: established connections stay open but nothing gets through; new ones
    /// are accepted and held. Returns once the proxy listens.
    pub fn black_hole(&self) {
        self.set(|s| {
            s.new = NewConns::Hang;
            s.flowing = false;
        });
        self.wait_until(|s| s.listening);
    }

    /// The server is down: close every connection and refuse new ones. Returns once no
    /// connection is open and the proxy no longer listens.
    pub fn cut(&self) {
        self.set(|s| {
            s.new = NewConns::Refuse;
            s.epoch += 1;
        });
        self.wait_until(|s| !s.listening && s.open == 0);
    }

    /// Accept new connections but do not forward them (a connect that hangs); established
    /// connections keep flowing. Returns once the proxy listens.
    pub fn hang_connects(&self) {
        self.set(|s| s.new = NewConns::Hang);
        self.wait_until(|s| s.listening);
    }

    /// Refuse new connections (and close those left hanging); established ones keep flowing.
    /// Returns once the proxy no longer listens.
    pub fn refuse_connects(&self) {
        self.set(|s| s.new = NewConns::Refuse);
        self.wait_until(|s| !s.listening);
    }

    /// Client connections open now (forwarded or held).
    pub fn open_connections(&self) -> usize {
        self.lock().open
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.inner.changed.notify_all();
    }

    fn wait_until(&self, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut state = self.lock();
        while !done(&state) {
            let now = Instant::now();
            assert!(now < deadline, "proxy state not reached in 5 s: {state:?}");
            state = self
                .inner
                .changed
                .wait_timeout(state, TICK)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.set(|s| s.shutdown = true);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A listener on a free loopback port below the kernel's ephemeral range, so that no
/// outgoing connection takes the port while `refuse_connects` has it closed.
fn bind_free_port() -> TcpListener {
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut n = clock ^ u64::from(std::process::id()) ^ STARTED.fetch_add(1, Ordering::Relaxed);
    for _ in 0..200 {
        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let port = 20_000 + (n >> 33) % 12_000;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port as u16)) {
            l.set_nonblocking(true).expect("nonblocking listener");
            return l;
        }
    }
    panic!("no free loopback port for the proxy in 20000..32000");
}

fn accept_loop(inner: &Arc<Inner>, mut listener: Option<TcpListener>) {
    let lock = || inner.state.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let (new, shutdown) = {
            let s = lock();
            (s.new, s.shutdown)
        };
        if shutdown {
            return;
        }
        if new == NewConns::Refuse {
            if listener.take().is_some() {
                lock().listening = false;
                inner.changed.notify_all();
            }
            thread::sleep(TICK / 2);
            continue;
        }
        let Some(l) = &listener else {
            // Listen again on the same port (SO_REUSEADDR is set by std).
            if let Ok(l) = TcpListener::bind(("127.0.0.1", inner.port)) {
                l.set_nonblocking(true).expect("nonblocking listener");
                listener = Some(l);
                lock().listening = true;
                inner.changed.notify_all();
            } else {
                thread::sleep(TICK);
            }
            continue;
        };
        match l.accept() {
            Ok((client, _)) => {
                let epoch = {
                    let mut s = lock();
                    s.open += 1;
                    s.epoch
                };
                let inner = Arc::clone(inner);
                let spawned = thread::Builder::new()
                    .name("proxy-conn".into())
                    .spawn(move || {
                        serve(&inner, client, epoch);
                        inner.state.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                        inner.changed.notify_all();
                    });
                if spawned.is_err() {
                    lock().open -= 1;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(TICK / 2),
            Err(_) => thread::sleep(TICK),
        }
    }
}

/// Why a connection's thread stops.
fn ended(s: &State, epoch: u64) -> bool {
    s.shutdown || s.epoch != epoch
}

/// One client connection: wait until new connections are forwarded, then pump both ways.
fn serve(inner: &Arc<Inner>, client: TcpStream, epoch: u64) {
    let _ = client.set_nonblocking(false);
    {
        let mut s = inner.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if ended(&s, epoch) || s.new == NewConns::Refuse {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            if s.new == NewConns::Forward {
                break;
            }
            s = inner
                .changed
                .wait_timeout(s, TICK)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
    let Ok(server) = TcpStream::connect_timeout(&inner.upstream, Duration::from_secs(2)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = {
        let inner = Arc::clone(inner);
        thread::Builder::new()
            .name("proxy-pump".into())
            .spawn(move || pump(&inner, client2, server2, epoch))
    };
    pump(inner, server, client, epoch);
    if let Ok(up) = up {
        let _ = up.join();
    }
}

/// Copy `from` → `to` while the proxy forwards; hold what was read while it black-holes; close
/// both sockets when cut or stopped. Returns at end of stream or on an error.
fn pump(inner: &Inner, mut from: TcpStream, mut to: TcpStream, epoch: u64) {
    let close = |from: &TcpStream, to: &TcpStream| {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    };
    // A socket only ever read with a timeout, and written with one, never blocks a check.
    let _ = from.set_read_timeout(Some(TICK));
    let _ = to.set_write_timeout(Some(TICK));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Wait while black-holed (reading nothing, so the peers' buffers fill as on a real
        // partition), stop when cut.
        if !wait_flowing(inner, epoch) {
            return close(&from, &to);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return close(&from, &to),
        };
        let mut off = 0;
        while off < n {
            // Data read just before a black hole is held until the network heals.
            if !wait_flowing(inner, epoch) {
                return close(&from, &to);
            }
            match to.write(&buf[off..n]) {
                Ok(0) => return close(&from, &to),
                Ok(k) => off += k,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return close(&from, &to),
            }
        }
    }
}

/// Block while the proxy black-holes; false once the connection must close.
fn wait_flowing(inner: &Inner, epoch: u64) -> bool {
    let mut s = inner.state.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if ended(&s, epoch) {
            return false;
        }
        if s.flowing {
            return true;
        }
        s = inner
            .changed
            .wait_timeout(s, TICK)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
