//! A real PgBouncer in transaction mode in front of a PostgreSQL server: Debian's
//! `pgbouncer` (or the binary `PGBOUNCER` names), started as a child process on a
//! free port with a configuration of its own, stopped when dropped.
//!
//! Shared by the tests (`tests/tests/pooler.rs`) and the load programs
//! (`route-load --db pgbouncer`); std only, so neither pulls in the other's
//! dependencies.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long PgBouncer gets to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running PgBouncer (`pool_mode = transaction`, `auth_type = any`).
pub struct PgBouncer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// Where the binary is: `PGBOUNCER`, else Debian's path.
pub fn binary() -> PathBuf {
    std::env::var_os("PGBOUNCER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/pgbouncer"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgBouncer {
    /// Starts PgBouncer in front of `host:port` (PostgreSQL with trust auth, user
    /// `postgres`), sharing `server_connections` server connections among all its
    /// clients per database. `Err` says why it could not (binary missing, not
    /// startable, or not listening within 10 s — with its log).
    pub fn start(host: &str, port: u16, server_connections: u32) -> Result<PgBouncer, String> {
        let bin = binary();
        if !bin.exists() {
            return Err(format!(
                "{} is missing (Debian package `pgbouncer`)",
                bin.display()
            ));
        }
        let listen = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!(
            "jwt-guard-pgbouncer-{}-{listen}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // PgBouncer refuses to run as root; as root it switches to `postgres`,
        // which must read the configuration and write the log.
        let root = running_as_root();
        if root {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let config = format!(
            "[databases]\n\
             * = host={host} port={port} user=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {listen}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             default_pool_size = {server_connections}\n\
             max_client_conn = 1000\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {log}\n",
            log = dir.join("pgbouncer.log").display(),
        );
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(&ini, config).map_err(|e| format!("{}: {e}", ini.display()))?;
        let mut command = Command::new(&bin);
        if root {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let bouncer = PgBouncer {
            port: listen,
            child,
            dir,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", listen)).is_err() {
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "PgBouncer did not listen on {listen} within {} s; its log: {}",
                    START_TIMEOUT.as_secs(),
                    bouncer.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(bouncer)
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
