//! A TCP relay between the app under test and a real database server, which a test
//! can cut and restore: a real outage (connections dropped, new ones refused) with
//! no mock in the way.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rocket::tokio::io::copy_bidirectional;
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::task::JoinHandle;

/// A relay on `127.0.0.1:<port>` forwarding to `upstream`.
pub struct TcpRelay {
    /// Where clients connect.
    pub addr: SocketAddr,
    state: Arc<RelayState>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct RelayState {
    cut: AtomicBool,
    links: Mutex<Vec<JoinHandle<()>>>,
}

impl TcpRelay {
    /// Starts relaying to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TcpRelay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("relay bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("relay address: {e}"));
        let state = Arc::new(RelayState::default());
        let upstream = upstream.to_owned();
        let accept_state = state.clone();
        let accept = rocket::tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if accept_state.cut.load(Ordering::SeqCst) {
                    // The server is "down": the connection is closed at once.
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let link = rocket::tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut links) = accept_state.links.lock() {
                    links.retain(|l| !l.is_finished());
                    links.push(link);
                }
            }
        });
        TcpRelay {
            addr,
            state,
            accept,
        }
    }

    /// `url` with its host and port replaced by the relay's.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}{}/{path}",
            user.unwrap_or_default(),
            self.addr
        )
    }

    /// The database goes away: every open connection is dropped and new ones are
    /// closed as soon as they are accepted.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        if let Ok(mut links) = self.state.links.lock() {
            for link in links.drain(..) {
                link.abort();
            }
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpRelay {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
