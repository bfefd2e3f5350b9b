//! What the load programs share: a minimal HTTP/1.1 client on fresh loopback
//! connections, starting and stopping release showcase processes, a scratch
//! PostgreSQL database, and a PostgreSQL wire relay that counts round trips.
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// One HTTP/1.1 request on a fresh connection; the status code and body.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Some((status, body))
}

/// A JSON body's string field.
pub fn field(body: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v[name].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The environment of a showcase on `db_url` with `jwt` as its `ROCKET_JWT`
/// table (without the braces), its log off.
pub fn showcase_env(db_url: &str, jwt: &str) -> [(&'static str, String); 3] {
    [
        ("ROCKET_LOG_LEVEL", "off".to_owned()),
        (
            "ROCKET_DATABASES",
            format!("{{jwt_guard={{url=\"{db_url}\"}}}}"),
        ),
        ("ROCKET_JWT", format!("{{{jwt}}}")),
    ]
}

/// The signing secret every load program's showcases share.
pub const LOAD_SECRET: &str = "secret=\"load-test-secret-load-test-secret-0123\"";

/// Logs `user` in (password `<user>-password`) on the showcase on `port`; the
/// access token.
pub fn login(port: u16, user: &str) -> Option<String> {
    let body = format!(r#"{{"username":"{user}","password":"{user}-password"}}"#);
    let (_, answer) = request(
        port,
        "POST",
        "/auth/token",
        &[("Content-Type", "application/json")],
        &body,
    )?;
    let answer: serde_json::Value = serde_json::from_str(&answer).ok()?;
    answer["access"].as_str().map(str::to_owned)
}

/// The showcase's `/metrics` text (its demo scrape token).
pub fn metrics(port: u16) -> Option<String> {
    let auth = [("Authorization", "Bearer showcase-metrics")];
    request(port, "GET", "/metrics", &auth, "").map(|(_, body)| body)
}

/// The value of the first line of a Prometheus text that starts with `series`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

/// Waits (at most a minute) until the showcase on `port` answers.
pub fn wait_until_up(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if request(port, "GET", "/hello", &[], "").is_some() {
            return true;
        }
        thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Runs one SQL command with `psql` against `admin`.
pub fn psql(admin: &str, sql: &str) -> bool {
    Command::new("psql")
        .args([admin, "-qAtc", sql])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A fresh SQLite database URL in the temporary directory, named for `tag` and
/// this process (any file an earlier run left under that name removed).
pub fn scratch_sqlite(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!("{tag}-{}.sqlite", std::process::id()));
    for suffix in ["", "-wal", "-shm", ".jwt-secret"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}", path.display())
}

/// A scratch PostgreSQL database, dropped at the end.
pub struct ScratchDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates one on `JWT_GUARD_TEST_POSTGRES` (default: the local server).
    pub fn create(tag: &str) -> Option<ScratchDatabase> {
        let admin = std::env::var("JWT_GUARD_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("jwt_guard_{tag}_{}", std::process::id());
        if !psql(&admin, &format!("CREATE DATABASE {name}")) {
            eprintln!("cannot create database {name} on {admin} (is PostgreSQL running?)");
            return None;
        }
        let base = admin.rsplit_once('/').map(|(p, _)| p).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        Some(ScratchDatabase { admin, name, url })
    }

    /// Host and port of the server.
    pub fn server(&self) -> String {
        self.url
            .rsplit_once('@')
            .map(|(_, rest)| rest)
            .unwrap_or("127.0.0.1:5432")
            .split('/')
            .next()
            .unwrap_or("127.0.0.1:5432")
            .to_owned()
    }

    /// One Debian PgBouncer in transaction mode (8 server connections) before
    /// this database; `None`, with the reason printed, when it cannot start.
    pub fn pgbouncer(&self) -> Option<PgBouncer> {
        let server = self.server();
        let (host, port) = server.split_once(':')?;
        PgBouncer::start(host, port.parse().ok()?, 8)
            .map_err(|why| eprintln!("PgBouncer: {why}"))
            .ok()
    }

    /// The `ROCKET_DATABASES` table of an instance that reaches this database
    /// through `bouncer`: `pooler = "transaction"`, and the database's own URL
    /// for `LISTEN`.
    pub fn through(&self, bouncer: &PgBouncer) -> String {
        format!(
            "{{jwt_guard={{url=\"{}\",pooler=\"transaction\",listen_url=\"{}\"}}}}",
            bouncer.url_for(&self.url),
            self.url
        )
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The release showcase binary beside this program (`cargo build --release -p showcase`).
pub fn showcase_binary() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("showcase")))
        .filter(|p| p.exists())
}

/// The release showcase binary, or — when it is not built — the command that
/// builds it, and the program ends (status 2).
pub fn showcase_binary_or_exit() -> PathBuf {
    showcase_binary().unwrap_or_else(|| {
        eprintln!("build the showcase first: cargo build --release -p showcase -p load");
        std::process::exit(2);
    })
}

/// Showcase processes on `ports` sharing one database: the first is up (it
/// created the schema and the demo users) before the others start, and all are
/// up when this returns. `None`, with every one started stopped, if any is not.
pub fn start_instances(
    showcase: &Path,
    ports: &[u16],
    env: &[(&str, String)],
) -> Option<Instances> {
    let mut instances = Instances(Vec::new());
    for (i, &port) in ports.iter().enumerate() {
        let (child, _) = spawn_showcase(showcase, port, env, None)?;
        instances.0.push(child);
        if i == 0 && !wait_until_up(port) {
            return None;
        }
    }
    ports.iter().all(|&p| wait_until_up(p)).then_some(instances)
}

/// Showcase processes, killed when dropped.
pub struct Instances(pub Vec<Child>);

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a showcase's statement log (sqlx's, `log_statements = true`) has said.
#[derive(Clone, Default)]
pub struct StatementLog {
    /// Statements logged so far.
    pub statements: Arc<AtomicU64>,
    /// Marker lines seen so far (see [`StatementLog::drain`]).
    markers: Arc<AtomicU64>,
    /// `statements` when the last marker line was read.
    at_marker: Arc<AtomicU64>,
}

/// The statement only `GET /auth/devices` runs: the marker [`StatementLog::drain`]
/// waits for.
pub const MARKER_STATEMENT: &str = "COUNT(*) OVER ()";

impl StatementLog {
    /// Statements logged up to now, every earlier request's included: sends a
    /// marker request (`GET /auth/devices` with `bearer`) and waits until its
    /// statement comes through the log. A statement is logged before its request
    /// answers, so everything answered before the marker is in by then — no fixed
    /// wait that a slow pipe could outlast. `None` if the marker never came (10 s).
    pub fn drain(&self, port: u16, bearer: &str) -> Option<u64> {
        let seen = self.markers.load(Ordering::SeqCst);
        request(
            port,
            "GET",
            "/auth/devices",
            &[("Authorization", bearer)],
            "",
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.markers.load(Ordering::SeqCst) == seen {
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(1));
        }
        Some(self.at_marker.load(Ordering::SeqCst))
    }
}

/// The working directory showcases are started in: a scratch directory of this
/// run's. The showcase writes `JwtGuard.toml` into its working directory, and
/// one left in the project would be read by the `jwt-guard` command there (and
/// by its tests).
pub fn showcase_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("load-showcase-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Starts the showcase on `port` with `env`; with `log` its log lines that contain
/// `count` are counted into it (marker lines apart).
pub fn spawn_showcase(
    binary: &Path,
    port: u16,
    env: &[(&str, String)],
    count: Option<&'static str>,
) -> Option<(Child, StatementLog)> {
    let mut command = Command::new(binary);
    command.current_dir(showcase_dir());
    command.env("ROCKET_PORT", port.to_string());
    for (name, value) in env {
        command.env(name, value);
    }
    command.stderr(Stdio::null());
    command.stdout(if count.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().ok()?;
    let log = StatementLog::default();
    if let (Some(needle), Some(stdout)) = (count, child.stdout.take()) {
        let log = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(MARKER_STATEMENT) {
                    log.at_marker
                        .store(log.statements.load(Ordering::SeqCst), Ordering::SeqCst);
                    log.markers.fetch_add(1, Ordering::SeqCst);
                } else if line.contains(needle) {
                    log.statements.fetch_add(1, Ordering::SeqCst);
                } else if line.contains("temporarily unavailable")
                    || line.contains("locked")
                    || line.contains("timed out")
                {
                    // The logged cause of a 503: worth seeing in a load run.
                    eprintln!("showcase: {line}");
                }
            }
        });
    }
    Some((child, log))
}

/// A relay between the showcase and PostgreSQL that reads the frontend protocol
/// and counts round trips: every `Sync` (end of an extended-query exchange) and
/// every simple `Query` is one wait for the server. A `Sync` alone (nothing sent
/// since the last one) is sqlx's ping when a connection goes back to its pool: no
/// request waits for it, so it is counted apart. SSL must be off
/// (`sslmode=disable`) so the messages can be read.
pub struct WireCounter {
    /// The relay's port.
    pub port: u16,
    /// Round trips that carried a statement, so far.
    pub round_trips: Arc<AtomicU64>,
    /// Pings on release so far.
    pub pings: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl WireCounter {
    /// Starts relaying to `server` (`host:port`).
    pub fn start(server: &str) -> Option<WireCounter> {
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = listener.local_addr().ok()?.port();
        listener.set_nonblocking(true).ok()?;
        let round_trips = Arc::new(AtomicU64::new(0));
        let pings = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (trips, halt, server) = (
            [round_trips.clone(), pings.clone()],
            stop.clone(),
            server.to_owned(),
        );
        thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(upstream) = TcpStream::connect(&server) {
                            relay(client, upstream, trips.clone());
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Some(WireCounter {
            port,
            round_trips,
            pings,
            stop,
        })
    }
}

impl Drop for WireCounter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn relay(client: TcpStream, server: TcpStream, trips: [Arc<AtomicU64>; 2]) {
    // Messages are forwarded one by one: without NODELAY, Nagle's algorithm would
    // hold each small write back for the previous one's acknowledgement.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(mut client_read), Ok(mut server_write)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let (mut server_read, mut client_write) = (server, client);
    thread::spawn(move || {
        let _ = std::io::copy(&mut server_read, &mut client_write);
    });
    thread::spawn(move || {
        // The startup message has no type byte: a length, then the rest.
        let mut len = [0u8; 4];
        if client_read.read_exact(&mut len).is_err() {
            return;
        }
        let mut startup = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
        if client_read.read_exact(&mut startup).is_err()
            || server_write.write_all(&len).is_err()
            || server_write.write_all(&startup).is_err()
        {
            return;
        }
        // Whether an extended-protocol message came since the last `Sync`.
        let mut pending = false;
        loop {
            let mut head = [0u8; 5];
            if client_read.read_exact(&mut head).is_err() {
                return;
            }
            match head[0] {
                b'Q' => {
                    trips[0].fetch_add(1, Ordering::SeqCst);
                }
                b'S' if pending => {
                    trips[0].fetch_add(1, Ordering::SeqCst);
                }
                b'S' => {
                    trips[1].fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
            pending = !matches!(head[0], b'S' | b'Q');
            let body_len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let mut message = vec![0u8; 5 + body_len.saturating_sub(4)];
            message[..5].copy_from_slice(&head);
            if client_read.read_exact(&mut message[5..]).is_err()
                || server_write.write_all(&message).is_err()
            {
                return;
            }
        }
    });
}

/// PgBouncer in transaction mode, as the tests start it.
pub use pgbouncer_harness::PgBouncer;

/// An HTTP/1.1 connection kept alive across requests (the steady state of a
/// browser or an API client), for measuring what a route itself costs.
pub struct KeepAlive {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl KeepAlive {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> Option<KeepAlive> {
        let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.set_nodelay(true).ok()?;
        Some(KeepAlive {
            reader: BufReader::new(stream.try_clone().ok()?),
            writer: stream,
        })
    }

    /// `GET path` with `headers`; the status code (the body is read and dropped).
    /// `None` when the connection failed or the answer had no `Content-Length`.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Option<u16> {
        let mut text = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        self.writer.write_all(text.as_bytes()).ok()?;
        let mut line = String::new();
        self.reader.read_line(&mut line).ok()?;
        let status = line.split(' ').nth(1)?.parse().ok()?;
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).ok()?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let mut body = vec![0; length?];
        self.reader.read_exact(&mut body).ok()?;
        Some(status)
    }
}

/// The demo users the route steps act as, in turn.
pub const USERS: &[&str] = &["alice", "bob", "admin"];

/// The routes [`route_step`] drives: a guarded read (`GET /me`) and the stateful
/// routes.
pub const ROUTES: &[&str] = &[
    "verify",
    "login",
    "refresh",
    "device refresh",
    "link use",
    "logout",
];

/// The status a route's step answers when it succeeded.
pub fn expected_status(route: &str) -> u16 {
    if route == "logout" {
        204
    } else {
        200
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// One client's next request of a route, given its own state: the answer's status
/// and body, or `None` when it has run out of prepared work (links, sessions) or
/// got no answer.
pub type Step = Box<dyn FnMut() -> Option<(u16, String)> + Send>;

/// A login's whole answer (status 200), or `None`.
fn login_body(port: u16, user: &str) -> Option<String> {
    let body = format!(r#"{{"username":"{user}","password":"{user}-password"}}"#);
    let (status, text) = request(port, "POST", "/auth/token", &[JSON], &body)?;
    (status == 200).then_some(text)
}

/// Prepares one client's steps of `route` against the showcase on `port`
/// (untimed: sessions, links), then the step function. `route` is one of
/// [`ROUTES`]; client `client` acts as one of the demo users. Setup that needs
/// a supply (links to use, sessions to log out) prepares for `prepare_for`.
pub fn route_step(port: u16, route: &str, client: usize, prepare_for: Duration) -> Step {
    let user = USERS[client % USERS.len()];
    match route {
        "verify" => {
            let bearer = login(port, user)
                .map(|access| format!("Bearer {access}"))
                .unwrap_or_default();
            Box::new(move || request(port, "GET", "/me", &[("Authorization", &bearer)], ""))
        }
        "login" => Box::new(move || {
            let body = format!(r#"{{"username":"{user}","password":"{user}-password"}}"#);
            request(port, "POST", "/auth/token", &[JSON], &body)
        }),
        "refresh" => {
            let mut refresh = login_body(port, user)
                .map(|b| field(&b, "refresh"))
                .unwrap_or_default();
            Box::new(move || {
                let body = format!(r#"{{"refresh":"{refresh}"}}"#);
                let answer = request(port, "POST", "/auth/token/refresh", &[JSON], &body)?;
                if answer.0 == 200 {
                    refresh = field(&answer.1, "refresh");
                }
                Some(answer)
            })
        }
        "device refresh" => {
            let mut permanent = login_body(port, user)
                .map(|b| field(&b, "permanent_token"))
                .unwrap_or_default();
            Box::new(move || {
                let answer = request(
                    port,
                    "POST",
                    "/auth/device/refresh",
                    &[("Permanent-Token", &permanent)],
                    "",
                )?;
                if answer.0 == 200 {
                    permanent = field(&answer.1, "permanent_token");
                }
                Some(answer)
            })
        }
        "link use" => {
            let access = login_body(port, user)
                .map(|b| field(&b, "access"))
                .unwrap_or_default();
            let bearer = format!("Bearer {access}");
            let mut links = Vec::new();
            let until = Instant::now() + prepare_for;
            while Instant::now() < until {
                if let Some((200, body)) = request(
                    port,
                    "POST",
                    "/links/verify-email",
                    &[("Authorization", &bearer)],
                    "",
                ) {
                    let url = field(&body, "url");
                    if let Some(at) = url.find("/links/") {
                        links.push(url[at..].to_owned());
                    }
                }
            }
            Box::new(move || {
                let path = links.pop()?;
                request(port, "GET", &path, &[], "")
            })
        }
        "logout" => {
            let mut sessions = Vec::new();
            let until = Instant::now() + prepare_for;
            while Instant::now() < until {
                if let Some(body) = login_body(port, user) {
                    sessions.push(format!("Bearer {}", field(&body, "access")));
                }
            }
            Box::new(move || {
                let bearer = sessions.pop()?;
                request(
                    port,
                    "POST",
                    "/auth/logout",
                    &[("Authorization", &bearer)],
                    "",
                )
            })
        }
        _ => Box::new(|| None),
    }
}

/// CPU seconds (user + system) used so far by the processes named `name` (the
/// kernel's `comm`, at most 15 characters: `showcase`, `postgres`,
/// `pgbouncer`), or by this process with `"self"`. A process that exits between
/// two readings takes its share with it: read around windows in which the
/// processes measured stay up (pooled connections do).
pub fn cpu_seconds(name: &str) -> f64 {
    let ticks = clock_ticks();
    let stat_of = |path: PathBuf| std::fs::read_to_string(path).ok();
    let used = |stat: &str| -> Option<(String, f64)> {
        // `pid (comm) state ...`: comm may hold spaces, so split at the last ')'.
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After comm: state is field 0, utime 11, stime 12.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((comm, (utime + stime) / ticks))
    };
    if name == "self" {
        return stat_of(PathBuf::from("/proc/self/stat"))
            .and_then(|s| used(&s))
            .map_or(0.0, |(_, s)| s);
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| stat_of(e.path().join("stat")))
        .filter_map(|s| used(&s))
        .filter(|(comm, _)| comm == name)
        .map(|(_, seconds)| seconds)
        .sum()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when
/// it cannot be asked).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
