//! A relay that counts round trips to PostgreSQL on the wire: every `Sync` (`S`)
//! or simple `Query` (`Q`) message a client sends ends one exchange. What
//! `examples/load` counts under load, here in-process for the per-route budget
//! test.
//!
//! A `Sync` alone — no extended-protocol message since the last one — is sqlx's
//! liveness ping, which its pool sends when a connection is handed back: a round
//! trip, but one no request waits for. Those are counted apart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::task::JoinHandle;

/// A counting relay on `127.0.0.1:<port>` to a PostgreSQL server.
pub struct WireCounter {
    /// Where clients connect.
    pub addr: std::net::SocketAddr,
    counts: Arc<Counts>,
    accept: JoinHandle<()>,
}

/// What the relay counted.
#[derive(Default)]
struct Counts {
    /// Exchanges that carried a statement (a request waits for each).
    round_trips: AtomicU64,
    /// Lone `Sync`s: pings when a connection goes back to the pool.
    pings: AtomicU64,
}

impl WireCounter {
    /// Starts relaying to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> WireCounter {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("wire counter bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("wire counter address: {e}"));
        let counts = Arc::new(Counts::default());
        let (trips, upstream) = (counts.clone(), upstream.to_owned());
        let accept = rocket::tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if let Ok(server) = TcpStream::connect(&upstream).await {
                    rocket::tokio::spawn(relay(client, server, trips.clone()));
                }
            }
        });
        WireCounter {
            addr,
            counts,
            accept,
        }
    }

    /// Round trips that carried a statement so far, over every connection.
    pub fn round_trips(&self) -> u64 {
        self.counts.round_trips.load(Ordering::SeqCst)
    }

    /// Pings on release so far (round trips no request waits for).
    pub fn pings(&self) -> u64 {
        self.counts.pings.load(Ordering::SeqCst)
    }

    /// `url` through the relay (TLS off: the relay reads the messages).
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}{}/{path}?sslmode=disable",
            user.unwrap_or_default(),
            self.addr
        )
    }
}

impl Drop for WireCounter {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn relay(client: TcpStream, server: TcpStream, counts: Arc<Counts>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    rocket::tokio::spawn(async move {
        let _ = rocket::tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    // The startup message has no type byte: a length, then the rest.
    let mut len = [0u8; 4];
    if client_read.read_exact(&mut len).await.is_err() {
        return;
    }
    let mut startup = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
    if client_read.read_exact(&mut startup).await.is_err()
        || server_write.write_all(&len).await.is_err()
        || server_write.write_all(&startup).await.is_err()
    {
        return;
    }
    // Whether an extended-protocol message came since the last `Sync`.
    let mut pending = false;
    loop {
        let mut head = [0u8; 5];
        if client_read.read_exact(&mut head).await.is_err() {
            return;
        }
        let body_len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut message = vec![0u8; 5 + body_len.saturating_sub(4)];
        message[..5].copy_from_slice(&head);
        if client_read.read_exact(&mut message[5..]).await.is_err()
            || server_write.write_all(&message).await.is_err()
        {
            return;
        }
        // Counted once forwarded: the server now has what ends an exchange.
        match head[0] {
            b'Q' => {
                counts.round_trips.fetch_add(1, Ordering::SeqCst);
            }
            b'S' if pending => {
                counts.round_trips.fetch_add(1, Ordering::SeqCst);
            }
            b'S' => {
                counts.pings.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        pending = !matches!(head[0], b'S' | b'Q');
    }
}
