//! Servers going away under a running engine (issue 24, item 6), on real topologies:
//!
//! - PostgreSQL: a throwaway hot standby of the primary (port 5434, made here with
//!   `pg_basebackup -R`) is promoted after the primary is cut off; an engine on the multi-host
//!   URL `primary,standby?target_session_attrs=read-write` carries on writing on the new
//!   primary, with every committed row there.
//! - MariaDB Galera: node 3 of `cargo xtask db cluster start` is killed (`SIGKILL`) while
//!   writers commit through all three nodes; every commit that returned is on the survivors.
//!   Node 3 is started again and rejoins before the test ends.
//!
//! Both need the topologies of `cargo xtask db cluster start` (the standby's replication
//! access on the primary, the Galera nodes): they skip with a printed reason when those are
//! not running, and fail under `QUARRY_CLUSTER=1` (`cargo xtask test --cluster`, what CI runs).
//! They run as root, as CI does, to act as the `postgres` and `mysql` users.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use quarry::prelude::*;
use quarry::{Error, Url};
use support::proxy::Proxy;

const THROWAWAY_PORT: u16 = 5434;

/// Run `command` as the `postgres` user; its output, or why it failed.
fn as_postgres(command: &str) -> Result<String, String> {
    let out = Command::new("su")
        .args(["postgres", "-c", command])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("su postgres -c {command}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The PostgreSQL server programs of the installed major version.
fn pg_bin() -> Result<PathBuf, String> {
    let version = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("/etc/postgresql: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()
        .ok_or("no PostgreSQL version under /etc/postgresql")?;
    Ok(PathBuf::from(format!("/usr/lib/postgresql/{version}/bin")))
}

/// A hot standby of the primary in a directory of its own, stopped and removed on drop.
struct Throwaway {
    dir: PathBuf,
    bin: PathBuf,
}

impl Throwaway {
    fn start() -> Result<Throwaway, String> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("quarry-failover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("install")
            .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700"])
            .arg(&dir)
            .status()
            .map_err(|e| format!("install -d: {e}"))?;
        if !status.success() {
            return Err(format!("cannot make {}", dir.display()));
        }
        let standby = Throwaway { dir, bin };
        let d = standby.dir.display();
        as_postgres(&format!(
            "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D {d} -R -X stream -c fast"
        ))?;
        // Debian keeps a cluster's settings under /etc: the copy needs its own (and, as a
        // hot standby, the primary's max_connections, PostgreSQL's default here).
        std::fs::write(
            standby.dir.join("postgresql.conf"),
            format!(
                "port = {THROWAWAY_PORT}\nlisten_addresses = '127.0.0.1'\n\
                 unix_socket_directories = '{d}'\nhot_standby = on\nshared_buffers = 16MB\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            standby.dir.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| e.to_string())?;
        as_postgres(&format!(
            "{}/pg_ctl -D {d} -l {d}/server.log -w -t 60 start",
            standby.bin.display()
        ))?;
        Ok(standby)
    }

    fn promote(&self) -> Result<(), String> {
        as_postgres(&format!(
            "{}/pg_ctl -D {} -w -t 60 promote",
            self.bin.display(),
            self.dir.display()
        ))
        .map(drop)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = as_postgres(&format!(
            "{}/pg_ctl -D {} -m immediate stop",
            self.bin.display(),
            self.dir.display()
        ));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the topologies are running: the standby on 5433 answers (which also means the
/// primary lets replication connections in).
fn standby_running() -> bool {
    let url = std::env::var("QUARRY_PG_REPLICA_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5433/test".into());
    let answer = Engine::builder(&url)
        .connect_arg("connect_timeout", "2")
        .build()
        .and_then(|e| {
            e.execute(text("SELECT pg_is_in_recovery()").columns::<bool>())?
                .scalar::<bool>()
        });
    match answer {
        Ok(true) => true,
        other => {
            support::cluster_unavailable("PostgreSQL hot standby", format!("{url}: {other:?}"));
            false
        }
    }
}

fn server_port(engine: &Engine) -> Result<i32, Error> {
    engine
        .execute(text("SELECT inet_server_port()").columns::<i32>())?
        .scalar()
}

#[test]
fn a_multi_host_engine_writes_on_the_promoted_standby_once_the_primary_is_gone() {
    if !cfg!(feature = "postgres") || !standby_running() {
        return;
    }
    let primary_url = support::postgres_url();
    let primary = create_engine(&primary_url).expect("primary engine");
    let table = format!("failover_{}", std::process::id());
    primary
        .execute(text(format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, note TEXT)"
        )))
        .expect("create the table");
    let cleanup = |primary: &Engine| {
        let _ = primary.execute(text(format!("DROP TABLE IF EXISTS {table}")));
    };

    let standby = match Throwaway::start() {
        Ok(s) => s,
        Err(e) => {
            cleanup(&primary);
            support::cluster_unavailable("throwaway PostgreSQL standby", e);
            return;
        }
    };
    // The engine reaches the primary through a proxy, so that the test can take it away
    // without stopping the server every other test uses.
    let proxy = Proxy::start(support::pool::server_addr(&primary_url));
    let u: Url = primary_url.parse().expect("URL");
    let url = format!(
        "postgresql://{}@{},127.0.0.1:{THROWAWAY_PORT}/{}?target_session_attrs=read-write&connect_timeout=2",
        u.username().unwrap_or("postgres"),
        proxy.addr(),
        u.database().unwrap_or("test"),
    );
    let engine = Engine::builder(&url)
        .pool_pre_ping(true)
        .build()
        .expect("multi-host engine");
    let insert = |id: i32| {
        engine
            .execute(text(format!("INSERT INTO {table} VALUES (:id, 'committed')")).bind("id", id))
    };

    // Writes go to the primary; the standby is read-only and passed over.
    assert_eq!(
        server_port(&engine).expect("port"),
        i32::from(u.port().unwrap_or(5432))
    );
    for id in 1..=3 {
        insert(id).expect("write on the primary");
    }
    // The standby has replayed them before the primary goes.
    let standby_engine = create_engine(&format!(
        "postgresql://postgres@127.0.0.1:{THROWAWAY_PORT}/test"
    ))
    .unwrap();
    let replayed = support::pool::eventually(|| {
        standby_engine
            .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
            .and_then(|r| r.scalar::<i64>())
            .is_ok_and(|n| n == 3)
    });
    assert!(replayed, "the throwaway standby never replayed the rows");

    // The primary goes away (every connection cut, new ones refused); the standby is promoted.
    proxy.cut();
    standby.promote().expect("promote the standby");
    let gone = Instant::now();

    // The next writes carry on on the new primary: the pool's pre-ping drops the dead
    // connection, and the multi-host URL's next read-write host answers.
    let mut seen = Vec::new();
    let recovered = loop {
        match insert(4) {
            Ok(_) => break true,
            Err(e) => {
                assert!(
                    e.is_disconnect(),
                    "only disconnects while failing over: {e}"
                );
                seen.push(e.to_string());
            }
        }
        if gone.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = gone.elapsed();
    assert!(
        recovered,
        "no write succeeded 30 s after the failover: {seen:?}"
    );
    eprintln!(
        "failover: writing again {took:?} after the primary was cut, {} error(s) to the caller: {seen:?}",
        seen.len()
    );
    assert!(seen.len() <= 1, "with pre-ping at most one error: {seen:?}");
    assert_eq!(
        server_port(&engine).expect("port"),
        i32::from(THROWAWAY_PORT)
    );
    let ids: Vec<i32> = engine
        .execute(text(format!("SELECT id FROM {table} ORDER BY id")).columns::<i32>())
        .and_then(|r| r.all())
        .expect("read on the new primary");
    assert_eq!(ids, [1, 2, 3, 4], "every committed row on the new primary");

    engine.dispose();
    standby_engine.dispose();
    drop(standby);
    cleanup(&primary);
}

// ---- Galera: a node killed mid-run ----------------------------------------------------------

const GALERA_BASE: &str = "/var/lib/quarry-cluster/galera";

fn galera_urls() -> Vec<String> {
    std::env::var("QUARRY_GALERA_URLS")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| {
            (3307..=3309)
                .map(|p| format!("mysql://root@127.0.0.1:{p}/test"))
                .collect()
        })
}

fn galera_status(engine: &Engine, name: &str) -> Result<String, Error> {
    let row = engine
        .execute(text(format!("SHOW STATUS LIKE '{name}'")))?
        .one()?;
    row.get::<String>(1)
}

/// Start node 3 again as `cargo xtask db cluster start` does (see `xtask/src/cluster.rs`) and
/// wait until the cluster has three synced nodes.
fn restart_node3(first: &Engine, third: &Engine) -> Result<(), String> {
    let dir = Path::new(GALERA_BASE).join("node3");
    let status = Command::new("start-stop-daemon")
        .args(["--start", "--background", "--pidfile"])
        .arg(dir.join("mysqld.pid"))
        .args(["--exec", "/usr/sbin/mariadbd", "--"])
        .arg(format!("--defaults-file={}", dir.join("my.cnf").display()))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("start-stop-daemon could not start node 3".into());
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        let size = galera_status(first, "wsrep_cluster_size").unwrap_or_default();
        let synced = galera_status(third, "wsrep_local_state_comment").unwrap_or_default();
        if size == "3" && synced == "Synced" {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "node 3 did not rejoin in 180 s (see {})",
        dir.join("error.log").display()
    ))
}

#[test]
fn a_galera_node_killed_mid_run_loses_no_committed_row() {
    if !cfg!(feature = "mysql") {
        return;
    }
    let urls = galera_urls();
    let engines: Vec<Engine> = urls
        .iter()
        .map(|u| {
            Engine::builder(u)
                .connect_arg("connect_timeout", "2")
                .pool_pre_ping(true)
                .build()
                .expect("node engine")
        })
        .collect();
    let sizes = galera_status(&engines[0], "wsrep_cluster_size");
    if !sizes.as_ref().is_ok_and(|s| s == "3") {
        support::cluster_unavailable("MariaDB Galera cluster", format!("cluster size: {sizes:?}"));
        return;
    }
    let pidfile = Path::new(GALERA_BASE).join("node3/mysqld.pid");
    let pid = match std::fs::read_to_string(&pidfile) {
        Ok(p) => p.trim().to_owned(),
        Err(e) => {
            support::cluster_unavailable(
                "MariaDB Galera cluster",
                format!("{}: {e}", pidfile.display()),
            );
            return;
        }
    };
    let table = format!("galera_kill_{}", std::process::id());
    engines[0]
        .execute(text(format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, node INTEGER NOT NULL)"
        )))
        .expect("create the table");

    // Six writers, two per node, each committing rows with ids of its own, recording those
    // whose commit returned.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let engine = engines[w % 3].clone();
            let stop = Arc::clone(&stop);
            let table = table.clone();
            std::thread::spawn(move || {
                let mut committed = Vec::new();
                let mut failures = 0;
                let mut id = w as i64 * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    id += 1;
                    let sql = format!("INSERT INTO {table} VALUES (:id, :node)");
                    match engine.execute(text(sql).bind("id", id).bind("node", w as i64 % 3 + 1)) {
                        Ok(_) => committed.push(id),
                        Err(e) => {
                            assert!(e.is_disconnect() || e.is_retryable(), "writer {w}: {e}");
                            failures += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
                (committed, failures)
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-9", &pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(killed, "kill -9 {pid} (node 3)");
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let mut committed = Vec::new();
    let mut failures = 0;
    for w in writers {
        let (ids, failed) = w.join().expect("writer");
        committed.extend(ids);
        failures += failed;
    }
    committed.sort_unstable();

    // Every commit that returned is on both survivors.
    for (node, engine) in engines.iter().enumerate().take(2) {
        let ids: Vec<i64> = engine
            .execute(text(format!("SELECT id FROM {table} ORDER BY id")).columns::<i64>())
            .and_then(|r| r.all())
            .expect("read a survivor");
        let missing: Vec<&i64> = committed
            .iter()
            .filter(|id| ids.binary_search(id).is_err())
            .collect();
        assert!(
            missing.is_empty(),
            "node {}: {} committed rows missing, e.g. {:?}",
            node + 1,
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
    eprintln!(
        "galera: {} rows committed, {failures} failed writes (on the killed node), none lost",
        committed.len()
    );
    assert!(failures > 0, "the writers on node 3 saw it go");

    let rejoined = restart_node3(&engines[0], &engines[2]);
    let _ = engines[0].execute(text(format!("DROP TABLE IF EXISTS {table}")));
    rejoined.expect("node 3 rejoins");
}
