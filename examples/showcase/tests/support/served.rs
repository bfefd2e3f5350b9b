//! A showcase listening for real on a free loopback port, for the clients that
//! need a socket (curl, a browser, other people's SDKs). Shared by several test
//! binaries; each uses what it needs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use rocket::figment::Figment;

/// A running showcase with its own SQLite database in a directory of its own.
pub(crate) struct Served {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    pub(crate) port: u16,
    /// Where its database (and anything a test writes) lives.
    pub(crate) dir: PathBuf,
    shutdown: rocket::Shutdown,
    server: rocket::tokio::task::JoinHandle<()>,
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until something accepts connections on `port` (10 s at most).
pub(crate) async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if rocket::tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

impl Served {
    /// The showcase with its defaults, plus what `configure` adds to the
    /// configuration (before the defaults fill the rest in).
    pub(crate) async fn start(name: &str, configure: impl FnOnce(Figment) -> Figment) -> Served {
        let dir = std::env::temp_dir().join(format!("showcase-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let figment = rocket::Config::figment()
            .merge(("log_level", "off"))
            .merge(("address", "127.0.0.1"))
            .merge(("port", port))
            .merge((
                "databases.jwt_guard.url",
                format!("sqlite://{}", dir.join("showcase.sqlite").display()),
            ));
        let figment = showcase::with_defaults(configure(figment)).unwrap_or_else(|e| panic!("{e}"));
        let rocket = showcase::app(figment, jwt_guard::Clock::system())
            .ignite()
            .await
            .unwrap_or_else(|e| panic!("the showcase did not launch: {:?}", e.kind()));
        let shutdown = rocket.shutdown();
        let server = rocket::tokio::spawn(async move {
            let _ = rocket.launch().await;
        });
        wait_for_port(port).await;
        Served {
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            shutdown,
            server,
        }
    }

    /// `base` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server and removes its directory.
    pub(crate) async fn stop(self) {
        self.shutdown.notify();
        let _ = self.server.await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
