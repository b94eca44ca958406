//! `cargo xtask db cluster start|stop|status`: the topologies past one server, from Debian's
//! packages, on loopback addresses only.
//!
//! - a PostgreSQL hot standby of the primary (the local server on 5432) on 5433, made with
//!   `pg_createcluster` + `pg_basebackup -R` (streaming replication);
//! - `pgbouncer` in transaction mode on 6432 in front of the primary (installed with apt-get
//!   when missing);
//! - a 3-node MariaDB Galera cluster on 3307, 3308, 3309 (`galera-4`, rsync SST, small buffers),
//!   each node with a data directory under `/var/lib/quarry-cluster/galera/`.
//!
//! Every step is idempotent: `start` starts what is down and makes what is missing; `stop` stops
//! all of it and keeps the data (the next `start` is quick). The tests find these at
//! `QUARRY_PG_REPLICA_URL`, `QUARRY_PGBOUNCER_URL` and `QUARRY_GALERA_URLS` (defaults: the
//! ports above).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{is_up, pg_version, run};

/// Where pgbouncer and the Galera nodes keep their files.
const BASE: &str = "/var/lib/quarry-cluster";
const STANDBY_PORT: u16 = 5433;
const PGBOUNCER_PORT: u16 = 6432;
const GALERA_PORTS: [u16; 3] = [3307, 3308, 3309];

/// One member of the topologies, for `status`.
struct Member {
    name: String,
    port: u16,
}

fn members() -> Vec<Member> {
    let mut out = vec![
        Member {
            name: "PostgreSQL standby".into(),
            port: STANDBY_PORT,
        },
        Member {
            name: "pgbouncer (transaction mode)".into(),
            port: PGBOUNCER_PORT,
        },
    ];
    for (i, port) in GALERA_PORTS.iter().enumerate() {
        out.push(Member {
            name: format!("Galera node {}", i + 1),
            port: *port,
        });
    }
    out
}

fn up(port: u16) -> bool {
    is_up(&format!("127.0.0.1:{port}"))
}

fn wait_for(port: u16, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !up(port) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    true
}

pub fn main(args: &[&str]) -> Result<()> {
    match args {
        [] | ["status"] => {
            status();
            Ok(())
        }
        ["start"] => start(),
        ["stop"] => stop(),
        _ => bail!("usage: cargo xtask db cluster [status|start|stop]"),
    }
}

/// Print each member's state; return the names of those that are down.
pub fn status() -> Vec<String> {
    let mut down = Vec::new();
    for m in members() {
        let is = up(m.port);
        eprintln!(
            "{:<30} 127.0.0.1:{} {}",
            m.name,
            m.port,
            if is { "up" } else { "DOWN" }
        );
        if !is {
            down.push(m.name);
        }
    }
    down
}

/// Start every member; with `CI=true` one that does not come up is an error.
pub fn start() -> Result<()> {
    crate::start_servers()?;
    let mut failed = Vec::new();
    for (name, step) in [
        ("PostgreSQL standby", start_standby as fn() -> Result<()>),
        ("pgbouncer", start_pgbouncer),
        ("Galera cluster", start_galera),
    ] {
        let began = Instant::now();
        match step() {
            Ok(()) => eprintln!("{name}: up ({:.1} s)", began.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("{name}: could not start: {e:#}");
                failed.push(name);
            }
        }
    }
    status();
    if !failed.is_empty() {
        bail!(
            "these topologies could not be started: {}",
            failed.join(", ")
        );
    }
    Ok(())
}

pub fn stop() -> Result<()> {
    // Galera: the nodes that joined first, the bootstrap node last, so that node 1 is the one
    // safe to bootstrap from at the next start.
    for n in [3, 2, 1] {
        let sock = galera_dir(n).join("mysqld.sock");
        if sock.exists() {
            let _ = run(Command::new("mariadb-admin").args([
                "-uroot",
                &format!("--socket={}", sock.display()),
                "shutdown",
            ]));
        }
    }
    let pid = Path::new(BASE).join("pgbouncer/pgbouncer.pid");
    if let Ok(pid) = std::fs::read_to_string(&pid) {
        let _ = run(Command::new("kill").arg(pid.trim()));
    }
    if let Ok(version) = pg_version()
        && Path::new(&format!("/etc/postgresql/{version}/standby")).exists()
    {
        let _ = run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &version,
            "standby",
            "stop",
        ]));
    }
    status();
    Ok(())
}

fn psql(port: u16, sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "test",
            "-tAc",
            sql,
        ])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Append `line` to the file unless a line equal to it is there; true when it was added.
fn ensure_line(path: &Path, line: &str) -> Result<bool> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if text.lines().any(|l| l.trim() == line) {
        return Ok(false);
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// A hot standby on 5433, streaming from the primary on 5432.
fn start_standby() -> Result<()> {
    if !up(5432) {
        bail!("the primary (127.0.0.1:5432) is down");
    }
    let version = pg_version()?;
    let primary_hba = PathBuf::from(format!("/etc/postgresql/{version}/main/pg_hba.conf"));
    if ensure_line(&primary_hba, "host replication all 127.0.0.1/32 trust")? {
        psql(5432, "SELECT pg_reload_conf()")?;
    }
    let conf = PathBuf::from(format!("/etc/postgresql/{version}/standby"));
    let data = PathBuf::from(format!("/var/lib/postgresql/{version}/standby"));
    if !conf.exists() {
        run(Command::new("pg_createcluster").args([
            &version,
            "standby",
            "-p",
            &STANDBY_PORT.to_string(),
        ]))?;
    }
    std::fs::copy(&primary_hba, conf.join("pg_hba.conf")).context("copying pg_hba.conf")?;
    std::fs::write(
        conf.join("conf.d/90-quarry-standby.conf"),
        format!("listen_addresses = '127.0.0.1'\nport = {STANDBY_PORT}\nhot_standby = on\n"),
    )
    .context("writing the standby's settings")?;
    if up(STANDBY_PORT) {
        return check_standby();
    }
    if !data.join("standby.signal").exists() {
        base_backup(&data)?;
    }
    let pg_ctl = |action: &str| {
        run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &version,
            "standby",
            action,
        ]))
    };
    if pg_ctl("start").is_err() || !wait_for(STANDBY_PORT, 60) {
        // A standby too far behind (the primary recycled the WAL it needs) cannot start:
        // take a fresh copy.
        eprintln!("PostgreSQL standby: starting from a fresh base backup");
        let _ = pg_ctl("stop");
        base_backup(&data)?;
        pg_ctl("start")?;
        if !wait_for(STANDBY_PORT, 60) {
            bail!("the standby did not open port {STANDBY_PORT}");
        }
    }
    check_standby()
}

fn check_standby() -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match psql(STANDBY_PORT, "SELECT pg_is_in_recovery()") {
            Ok(t) if t == "t" => return Ok(()),
            Ok(other) => bail!("127.0.0.1:{STANDBY_PORT} is not a standby (in recovery: {other})"),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// Replace the standby's data directory with a base backup of the primary (`-R` writes
/// `standby.signal` and the connection settings).
fn base_backup(data: &Path) -> Result<()> {
    if data.exists() {
        std::fs::remove_dir_all(data).with_context(|| format!("removing {}", data.display()))?;
    }
    run(Command::new("install")
        .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700"])
        .arg(data))?;
    run(Command::new("su").args([
        "postgres",
        "-c",
        &format!(
            "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D {} -R -X stream",
            data.display()
        ),
    ]))
}

/// pgbouncer in transaction mode on 6432, in front of the primary, trusting local users.
fn start_pgbouncer() -> Result<()> {
    if up(PGBOUNCER_PORT) {
        return Ok(());
    }
    if !Path::new("/usr/sbin/pgbouncer").exists() {
        eprintln!("pgbouncer: installing Debian's package");
        let install = || {
            run(Command::new("apt-get")
                .args(["install", "-y", "-q", "pgbouncer"])
                .env("DEBIAN_FRONTEND", "noninteractive"))
        };
        if install().is_err() {
            run(Command::new("apt-get").args(["update", "-q"]))?;
            install()?;
        }
        // The package starts a pgbouncer of its own with its default settings: not ours.
        let _ = run(Command::new("service").args(["pgbouncer", "stop"]));
    }
    let dir = Path::new(BASE).join("pgbouncer");
    std::fs::create_dir_all(&dir).context("creating the pgbouncer directory")?;
    std::fs::write(
        dir.join("pgbouncer.ini"),
        format!(
            "[databases]\n* = host=127.0.0.1 port=5432\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
             listen_port = {PGBOUNCER_PORT}\nunix_socket_dir =\nauth_type = trust\n\
             auth_file = {d}/userlist.txt\npool_mode = transaction\nmax_client_conn = 500\n\
             default_pool_size = 20\nadmin_users = postgres\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n",
            d = dir.display()
        ),
    )
    .context("writing pgbouncer.ini")?;
    std::fs::write(dir.join("userlist.txt"), "\"postgres\" \"\"\n").context("writing userlist")?;
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&dir))?;
    let _ = std::fs::remove_file(dir.join("pgbouncer.pid"));
    run(Command::new("su").args([
        "postgres",
        "-c",
        &format!("pgbouncer -d {}", dir.join("pgbouncer.ini").display()),
    ]))?;
    if !wait_for(PGBOUNCER_PORT, 20) {
        bail!("pgbouncer did not open port {PGBOUNCER_PORT}");
    }
    psql(PGBOUNCER_PORT, "SELECT 1").map(drop)
}

fn galera_dir(node: usize) -> PathBuf {
    Path::new(BASE).join("galera").join(format!("node{node}"))
}

/// The settings of Galera node `node` (1-based): its client port, its group-communication,
/// IST and SST ports, small buffers.
fn galera_cnf(node: usize) -> String {
    let dir = galera_dir(node);
    let d = dir.display();
    let port = GALERA_PORTS[node - 1];
    let gcomm = 4566 + node;
    let ist = 4576 + node;
    let sst = 4586 + node;
    format!(
        "[mariadbd]\ndatadir={d}/data\nsocket={d}/mysqld.sock\npid-file={d}/mysqld.pid\n\
         log-error={d}/error.log\nport={port}\nbind-address=127.0.0.1\nuser=mysql\n\
         skip-name-resolve\ninnodb_buffer_pool_size=32M\ninnodb_log_file_size=16M\n\
         performance_schema=OFF\nbinlog_format=ROW\ndefault_storage_engine=InnoDB\n\
         innodb_autoinc_lock_mode=2\nwsrep_on=ON\n\
         wsrep_provider=/usr/lib/galera/libgalera_smm.so\nwsrep_cluster_name=quarry\n\
         wsrep_cluster_address=gcomm://127.0.0.1:4567,127.0.0.1:4568,127.0.0.1:4569\n\
         wsrep_node_address=127.0.0.1:{gcomm}\nwsrep_node_name=node{node}\n\
         wsrep_provider_options=\"gmcast.listen_addr=tcp://127.0.0.1:{gcomm};\
         ist.recv_addr=127.0.0.1:{ist};gcache.size=32M\"\nwsrep_sst_method=rsync\n\
         wsrep_sst_receive_address=127.0.0.1:{sst}\n"
    )
}

fn start_node(node: usize, bootstrap: bool) -> Result<()> {
    let dir = galera_dir(node);
    let mut cmd = Command::new("start-stop-daemon");
    cmd.args(["--start", "--background", "--pidfile"])
        .arg(dir.join("mysqld.pid"))
        .args(["--exec", "/usr/sbin/mariadbd", "--"])
        .arg(format!("--defaults-file={}", dir.join("my.cnf").display()));
    if bootstrap {
        cmd.arg("--wsrep-new-cluster");
    }
    run(&mut cmd)
}

fn galera_sql(node: usize, sql: &str) -> Result<String> {
    let out = Command::new("mariadb")
        .args(["-uroot", "-N", "-B"])
        .arg(format!(
            "--socket={}",
            galera_dir(node).join("mysqld.sock").display()
        ))
        .args(["-e", sql])
        .stdin(Stdio::null())
        .output()
        .context("running mariadb")?;
    if !out.status.success() {
        bail!("mariadb: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Three Galera nodes: node 1 bootstraps the cluster when none is up, the others join it
/// (a state transfer by rsync the first time).
fn start_galera() -> Result<()> {
    if !Path::new("/usr/lib/galera/libgalera_smm.so").exists() {
        bail!("galera-4 is not installed (apt-get install galera-4)");
    }
    for node in 1..=3 {
        let dir = galera_dir(node);
        std::fs::create_dir_all(dir.join("data")).context("creating a Galera node directory")?;
        std::fs::write(dir.join("my.cnf"), galera_cnf(node)).context("writing my.cnf")?;
    }
    run(Command::new("chown")
        .args(["-R", "mysql:mysql"])
        .arg(Path::new(BASE).join("galera")))?;
    if GALERA_PORTS.iter().all(|p| !up(*p)) {
        let first = galera_dir(1);
        if !first.join("data/mysql").exists() {
            run(Command::new("mariadb-install-db")
                .arg(format!(
                    "--defaults-file={}",
                    first.join("my.cnf").display()
                ))
                .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
                .stdout(Stdio::null()))?;
        }
        // After a clean stop node 1 is marked safe to bootstrap; after a crash none is, and
        // node 1 (the last to stop, see `stop`) is taken as the most advanced.
        let state = first.join("data/grastate.dat");
        if let Ok(text) = std::fs::read_to_string(&state) {
            std::fs::write(
                &state,
                text.replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1"),
            )
            .context("marking node 1 safe to bootstrap")?;
        }
        start_node(1, true)?;
        if !wait_for(GALERA_PORTS[0], 60) {
            bail!("Galera node 1 did not open port {}", GALERA_PORTS[0]);
        }
        galera_sql(
            1,
            "CREATE DATABASE IF NOT EXISTS test; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; \
             GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
        )?;
    }
    for node in 1..=3 {
        if !up(GALERA_PORTS[node - 1]) {
            start_node(node, false)?;
        }
    }
    for node in 1..=3 {
        // A joiner copies the whole data directory first: give it time.
        if !wait_for(GALERA_PORTS[node - 1], 180) {
            bail!(
                "Galera node {node} did not open port {} (see {})",
                GALERA_PORTS[node - 1],
                galera_dir(node).join("error.log").display()
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let size = galera_sql(1, "SHOW STATUS LIKE 'wsrep_cluster_size'")?;
        let synced = (1..=3).all(|n| {
            galera_sql(n, "SHOW STATUS LIKE 'wsrep_local_state_comment'")
                .is_ok_and(|s| s.ends_with("Synced"))
        });
        if size.ends_with('3') && synced {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the Galera cluster did not reach 3 synced nodes ({size})");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
