//! A relay that counts round trips to PostgreSQL on the wire: every `Sync` (`S`)
//! or simple `Query` (`Q`) message a client sends ends one exchange the client
//! waits for. What `examples/load` counts under load, here in-process for the
//! per-route budget test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::task::JoinHandle;

/// A counting relay on `127.0.0.1:<port>` to a PostgreSQL server.
pub struct WireCounter {
    /// Where clients connect.
    pub addr: std::net::SocketAddr,
    round_trips: Arc<AtomicU64>,
    accept: JoinHandle<()>,
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
        let round_trips = Arc::new(AtomicU64::new(0));
        let (trips, upstream) = (round_trips.clone(), upstream.to_owned());
        let accept = rocket::tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if let Ok(server) = TcpStream::connect(&upstream).await {
                    rocket::tokio::spawn(relay(client, server, trips.clone()));
                }
            }
        });
        WireCounter {
            addr,
            round_trips,
            accept,
        }
    }

    /// Round trips so far, over every connection.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
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

async fn relay(client: TcpStream, server: TcpStream, trips: Arc<AtomicU64>) {
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
        if head[0] == b'S' || head[0] == b'Q' {
            trips.fetch_add(1, Ordering::SeqCst);
        }
    }
}
