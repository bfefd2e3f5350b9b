//! A real PgBouncer in transaction mode in front of the test PostgreSQL server:
//! Debian's `pgbouncer` (installed by `.ci/run`), started as a child process on a
//! free port with a configuration of the test's own, stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running PgBouncer (`pool_mode = transaction`).
pub struct PgBouncer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// Where the binary is: `PGBOUNCER`, else Debian's path.
fn binary() -> PathBuf {
    std::env::var_os("PGBOUNCER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/pgbouncer"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgBouncer {
    /// Starts PgBouncer in front of `upstream` (`host:port` of PostgreSQL, trust
    /// auth, user `postgres`), sharing `server_connections` server connections
    /// among all its clients per database. `None` (with a printed reason) when
    /// the binary is missing outside CI; in CI a missing binary fails the test.
    pub fn start(upstream: (&str, u16), server_connections: u32) -> Option<PgBouncer> {
        let bin = binary();
        if !bin.exists() {
            let why = format!(
                "PgBouncer test: {} is missing (Debian package `pgbouncer`)",
                bin.display()
            );
            if std::env::var_os("CI").is_some() {
                panic!("CI must run the PgBouncer test: {why}");
            }
            crate::announce_skip(&why);
            return None;
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("jwt-guard-pgbouncer-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        // PgBouncer refuses to run as root; as root it switches to `postgres`,
        // which must read the configuration and write the log.
        let root = running_as_root();
        if root {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777));
        }
        let (host, upstream_port) = upstream;
        let config = format!(
            "[databases]\n\
             * = host={host} port={upstream_port} user=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             default_pool_size = {server_connections}\n\
             max_client_conn = 500\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {log}\n",
            log = dir.join("pgbouncer.log").display(),
        );
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(&ini, config).unwrap_or_else(|e| panic!("{}: {e}", ini.display()));
        let mut command = Command::new(&bin);
        if root {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let bouncer = PgBouncer { port, child, dir };
        bouncer.wait_until_listening();
        Some(bouncer)
    }

    fn wait_until_listening(&self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "PgBouncer did not listen within 10 s; its log: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// PgBouncer's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    /// `url` (a `postgres://…/database` of the upstream server) through this
    /// PgBouncer instead.
    pub fn url_for(&self, url: &str) -> String {
        let database = url.rsplit('/').next().unwrap_or_default();
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
