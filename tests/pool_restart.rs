//! A real restart of the database servers under running pools: while a server is down every
//! checkout returns within `pool_timeout` with an error carrying the last connect error, an
//! engine created while it is down works once it is back, and every engine recovers without
//! being rebuilt.
//!
//! A test binary of its own holding a single test: cargo runs test binaries one after another,
//! so no other test sees the servers go down. A guard starts them again even if the test fails.
//! The servers are the ones of `QUARRY_POSTGRES_URL` / `QUARRY_MYSQL_URL`, found from the
//! server side: PostgreSQL's cluster from its `config_file` (stopped and started with
//! `pg_ctlcluster`), MariaDB's process from its `pid_file` (shut down with `SHUTDOWN`, started
//! again with its own command line through `start-stop-daemon`). Where that cannot be done
//! (a server not on this machine, the tools missing) the server is skipped with the reason —
//! a failure with `CI=true`.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use quarry::EngineBuilder;
use quarry::prelude::*;
use support::pool::{
    Kind, Tagged, Workers, bounded, carries_connect_error, check_outage, hold, select_one,
    server_addr, timed,
};
use support::{Backend, backends};

/// `pool_timeout` of every engine.
const TIMEOUT: Duration = Duration::from_secs(2);
/// What a checkout may take beyond its `pool_timeout` (waking up, being scheduled).
const SLACK: Duration = Duration::from_millis(700);
/// How long a server may take to stop or to start.
const SERVER_WAIT: Duration = Duration::from_secs(60);

/// How to stop and start one server.
#[derive(Debug, Clone)]
enum Control {
    Postgres {
        addr: SocketAddr,
        version: String,
        cluster: String,
    },
    Mysql {
        addr: SocketAddr,
        /// The server's executable and arguments, as it was started.
        command: Vec<String>,
        pid_file: String,
        pid: u32,
    },
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `pg_ctlcluster <version> <cluster> <action…>`, as Debian's tools run a cluster.
fn pg_ctlcluster(version: &str, cluster: &str, action: &[&str]) -> Result<(), String> {
    run(Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, cluster])
        .args(action))
}

fn answers(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

fn wait(what: &str, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + SERVER_WAIT;
    while !done() {
        if Instant::now() >= deadline {
            return Err(format!("{what}: not done after {SERVER_WAIT:?}"));
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn connect(url: &str) -> Result<Connection, String> {
    Engine::builder(url)
        .pool_size(1)
        .build()
        .and_then(|e| e.connect())
        .map_err(|e| e.to_string())
}

fn scalar(url: &str, sql: &'static str) -> Result<String, String> {
    connect(url)?
        .execute(text(sql).columns::<String>())
        .and_then(|r| r.scalar())
        .map_err(|e| format!("{sql}: {e}"))
}

/// Whether process `pid` runs (exists and is no zombie).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest.trim_start());
        !state.starts_with(['Z', 'X'])
    })
}

impl Control {
    /// How to restart the server of a backend, if this machine can.
    fn find(b: &Backend) -> Result<Control, String> {
        let addr = server_addr(&b.url);
        if !addr.ip().is_loopback() {
            return Err(format!("{addr} is not on this machine"));
        }
        if b.is_postgres() {
            // /etc/postgresql/<version>/<cluster>/postgresql.conf
            let config = scalar(&b.url, "SHOW config_file")?;
            let mut parts = config.rsplit('/').skip(1);
            let (Some(cluster), Some(version)) = (parts.next(), parts.next()) else {
                return Err(format!("no cluster in {config:?}"));
            };
            pg_ctlcluster(version, cluster, &["status"])?;
            Ok(Control::Postgres {
                addr,
                version: version.to_owned(),
                cluster: cluster.to_owned(),
            })
        } else {
            let pid_file = scalar(&b.url, "SELECT @@pid_file")?;
            let pid: u32 = std::fs::read_to_string(&pid_file)
                .map_err(|e| format!("{pid_file}: {e}"))?
                .trim()
                .parse()
                .map_err(|e| format!("{pid_file}: {e}"))?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map_err(|e| format!("the command line of process {pid}: {e}"))?;
            let command: Vec<String> = cmdline
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            run(Command::new("start-stop-daemon").arg("--version"))
                .map_err(|e| format!("start-stop-daemon: {e}"))?;
            Ok(Control::Mysql {
                addr,
                command,
                pid_file,
                pid,
            })
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Control::Postgres { addr, .. } | Control::Mysql { addr, .. } => *addr,
        }
    }

    fn stop(&self, url: &str) -> Result<(), String> {
        match self {
            Control::Postgres {
                version, cluster, ..
            } => pg_ctlcluster(version, cluster, &["stop", "-m", "fast"])?,
            Control::Mysql { pid, .. } => {
                connect(url)?
                    .execute(text("SHUTDOWN"))
                    .map_err(|e| format!("SHUTDOWN: {e}"))?;
                wait("the MariaDB process to exit", || !running(*pid))?;
            }
        }
        wait("the port to close", || !answers(self.addr()))
    }

    fn start(&self) -> Result<(), String> {
        if answers(self.addr()) {
            return Ok(());
        }
        match self {
            Control::Postgres {
                version, cluster, ..
            } => pg_ctlcluster(version, cluster, &["start"])?,
            Control::Mysql {
                command, pid_file, ..
            } => run(Command::new("start-stop-daemon")
                .args(["--start", "--oknodo", "--background", "--pidfile"])
                .arg(pid_file)
                .arg("--exec")
                .arg(&command[0])
                .arg("--")
                .args(&command[1..]))?,
        }
        wait("the port to answer", || answers(self.addr()))
    }
}

/// Starts every server again when dropped, whatever happened.
struct Restore(Vec<Control>);

impl Drop for Restore {
    fn drop(&mut self) {
        for c in &self.0 {
            if let Err(e) = c.start() {
                eprintln!("could not start the server again: {c:?}: {e}");
            }
        }
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// One server under test: how to restart it, and two engines on it.
struct Subject {
    backend: Backend,
    control: Control,
    /// Pre-ping on, and off.
    engines: [Tagged; 2],
}

fn configure(pre_ping: bool) -> impl FnOnce(EngineBuilder) -> EngineBuilder {
    move |e| {
        e.pool_size(2)
            .max_overflow(0)
            .pool_timeout(TIMEOUT)
            .pool_pre_ping(pre_ping)
    }
}

#[test]
fn servers_restarted_under_running_pools() {
    let mut subjects = Vec::new();
    for b in backends("restart").into_iter().filter(|b| !b.is_sqlite()) {
        match Control::find(&b) {
            Ok(control) => {
                let kind = Kind::of(&b);
                let engines = [true, false].map(|p| Tagged::new(kind, &b.url, configure(p)));
                subjects.push(Subject {
                    backend: b,
                    control,
                    engines,
                });
            }
            Err(reason) if in_ci() => {
                panic!(
                    "CI=true and the {} server cannot be restarted: {reason}",
                    b.name
                )
            }
            Err(reason) => eprintln!("skipping the {} restart: {reason}", b.name),
        }
    }
    if subjects.is_empty() {
        return;
    }
    let _restore = Restore(subjects.iter().map(|s| s.control.clone()).collect());
    bounded(Duration::from_secs(180), "restart", move || {
        restart_under_load(subjects)
    });
}

fn restart_under_load(subjects: Vec<Subject>) {
    let mut running = Vec::new();
    for s in &subjects {
        for t in &s.engines {
            drop(hold(&t.engine, 2));
            running.push(Workers::start(&t.engine, 3, Duration::from_millis(10)));
        }
    }
    for w in &running {
        assert!(w.progress(3), "workers stalled");
    }

    let down = Instant::now();
    for s in &subjects {
        s.control
            .stop(&s.backend.url)
            .unwrap_or_else(|e| panic!("{}: {e}", s.backend.name));
    }
    eprintln!("servers down after {:?}", down.elapsed());

    // Engines created while the server is down fail on time, carrying the connect error.
    let late: Vec<Tagged> = subjects
        .iter()
        .map(|s| Tagged::new(Kind::of(&s.backend), &s.backend.url, configure(false)))
        .collect();
    for (s, t) in subjects.iter().zip(&late) {
        for _ in 0..2 {
            let (err, took) = timed(|| t.engine.connect().map(drop));
            let err = err.expect_err("the server is down");
            assert!(carries_connect_error(&err), "{}: {err}", s.backend.name);
            assert!(took < TIMEOUT + SLACK, "{}: took {took:?}", s.backend.name);
        }
    }
    thread::sleep(Duration::from_millis(1000));

    let restarting = Instant::now();
    for s in &subjects {
        s.control
            .start()
            .unwrap_or_else(|e| panic!("{}: {e}", s.backend.name));
    }
    // Recovery without a new engine: each one, the late ones too, works again.
    let mut healthy = Instant::now();
    for (s, late) in subjects.iter().zip(&late) {
        for t in s.engines.iter().chain([late]) {
            let deadline = Instant::now() + SERVER_WAIT;
            while let Err(e) = t.engine.connect().and_then(|mut c| select_one(&mut c)) {
                assert!(
                    Instant::now() < deadline,
                    "{}: no recovery: {e}",
                    s.backend.name
                );
                thread::sleep(Duration::from_millis(50));
            }
            healthy = Instant::now();
        }
    }
    eprintln!("servers back after {:?}", restarting.elapsed());
    let healthy = healthy + Duration::from_millis(100);
    thread::sleep(Duration::from_millis(100));
    for w in &running {
        assert!(w.progress(5), "workers stalled after recovery");
    }

    let mut running = running.into_iter();
    for s in &subjects {
        for (t, pre_ping) in s.engines.iter().zip(["pre-ping", "no pre-ping"]) {
            let ops = running.next().expect("workers of every engine").finish();
            let what = format!("{} ({pre_ping})", s.backend.name);
            check_outage(&what, &ops, TIMEOUT + SLACK, down, healthy);
            t.at_rest(&what);
        }
    }
}
