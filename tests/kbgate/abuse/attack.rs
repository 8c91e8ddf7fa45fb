//! The abusive clients of the abuse suite: slow headers (slowloris), slow body (R-U-D-Y), slow
//! read, and idle keep-alive connections, each a task on its own raw socket to kbgate.
//!
//! Every attacker keeps misbehaving until kbgate closes its connection, then (while the attack
//! is still on and under its per-attacker budget) reconnects, like slowhttptest does. Nothing
//! here ever closes a connection first, except after [`HOLD_LIMIT`]: a connection kbgate left
//! open that long is counted in [`Stats::outlived`], which the suite treats as a failure.
//! Bounded: at most `count × reconnects` connections per attack, each at most [`HOLD_LIMIT`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// The longest an attacker waits for kbgate to close its connection.
pub const HOLD_LIMIT: Duration = Duration::from_secs(8);

/// One kind of abusive client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sends the request line and headers one byte every 200 ms, never finishing them.
    SlowHeaders,
    /// Sends complete headers of a GET with `Content-Length: 100000`, then one body byte every
    /// 100 ms.
    SlowBody,
    /// Asks for a large answer (a 100-result search) with a 4 KiB receive buffer and reads one
    /// byte every 100 ms.
    SlowRead,
    /// Sends one cheap request (401), reads the answer, then sends nothing more.
    Idle,
}

impl Kind {
    /// The name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SlowHeaders => "slow headers",
            Kind::SlowBody => "slow body",
            Kind::SlowRead => "slow read",
            Kind::Idle => "idle keep-alive",
        }
    }

    /// Connections kept open at once.
    pub fn count(self) -> usize {
        match self {
            Kind::SlowHeaders | Kind::SlowBody => 200,
            Kind::SlowRead => 100,
            Kind::Idle => 500,
        }
    }

    /// Connections one attacker may open in total. Slow readers do not reconnect: each one
    /// costs kbgate a full 100-result search, which would measure CPU load, not slowness.
    fn budget(self) -> u64 {
        match self {
            Kind::SlowHeaders => 10,
            Kind::SlowBody => 20,
            Kind::SlowRead => 1,
            Kind::Idle => 5,
        }
    }
}

/// What the attackers saw, shared by all of them.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections opened.
    pub opened: AtomicU64,
    /// Connections open right now.
    pub open: AtomicU64,
    /// Most connections open at once.
    pub max_open: AtomicU64,
    /// Connections kbgate closed (EOF, reset or a failed write).
    pub closed_by_server: AtomicU64,
    /// Connections kbgate left open for [`HOLD_LIMIT`].
    pub outlived: AtomicU64,
    /// Slow readers that received the first byte of their answer (kbgate has built it).
    pub answering: AtomicU64,
    /// Connect attempts that failed.
    pub connect_errors: AtomicU64,
    /// Answers by status class: 2xx, 4xx, other (5xx or unparsable).
    pub status_2xx: AtomicU64,
    pub status_4xx: AtomicU64,
    pub status_other: AtomicU64,
    /// The longest wait for kbgate's close, in ms, measured from the connect (slow headers)
    /// or from the answer (slow body, idle). Slow readers cannot see the close in time: their
    /// unread bytes are still queued, so the suite counts kbgate's sockets instead.
    pub max_close_wait_ms: AtomicU64,
}

impl Stats {
    fn close_wait(&self, waited: Duration) {
        let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        self.max_close_wait_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn status(&self, status: Option<u16>) {
        let counter = match status {
            Some(200..=299) => &self.status_2xx,
            Some(400..=499) => &self.status_4xx,
            _ => &self.status_other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A running attack: the attackers and their shared state.
pub struct Attack {
    pub stats: Arc<Stats>,
    reconnect: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Attack {
    /// Starts `kind.count()` attackers against kbgate at `addr`; `token` is a valid customer
    /// token (slow bodies and slow reads look like customers).
    pub fn launch(kind: Kind, addr: SocketAddr, token: &str) -> Attack {
        let stats = Arc::new(Stats::default());
        let reconnect = Arc::new(AtomicBool::new(true));
        let mut tasks = JoinSet::new();
        for n in 0..kind.count() {
            let stats = Arc::clone(&stats);
            let reconnect = Arc::clone(&reconnect);
            let token = token.to_owned();
            tasks.spawn(async move {
                let mut used = 0;
                loop {
                    used += 1;
                    one_connection(kind, addr, &token, n, &stats).await;
                    if used >= kind.budget() || !reconnect.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if !reconnect.load(Ordering::Relaxed) {
                        break;
                    }
                }
            });
        }
        Attack {
            stats,
            reconnect,
            tasks,
        }
    }

    /// Waits (at most `limit`) until `want` connections have been opened (slow bodies are
    /// refused and closed at once, so they are never all open at the same time).
    pub async fn ramp_up(&self, want: u64, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if Stats::get(&self.stats.opened) >= want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Stops reconnecting; the open connections keep misbehaving until kbgate closes them.
    pub fn stop_reconnecting(&self) {
        self.reconnect.store(false, Ordering::Relaxed);
    }

    /// Waits (at most `limit`) for every attacker to finish; aborts the rest.
    pub async fn finish(mut self, limit: Duration) {
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            self.tasks.abort_all();
        }
    }
}

/// Tracks one open connection in the stats.
struct Open<'a>(&'a Stats);

impl<'a> Open<'a> {
    fn new(stats: &'a Stats) -> Self {
        stats.opened.fetch_add(1, Ordering::Relaxed);
        let now = stats.open.fetch_add(1, Ordering::Relaxed) + 1;
        stats.max_open.fetch_max(now, Ordering::Relaxed);
        Open(stats)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The status code of a response that starts with `head`, if it does.
fn status_of(head: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(head.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

async fn connect(kind: Kind, addr: SocketAddr) -> std::io::Result<TcpStream> {
    if kind != Kind::SlowRead {
        return TcpStream::connect(addr).await;
    }
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect(addr).await
}

/// One connection of one attacker, until kbgate closes it (or [`HOLD_LIMIT`]).
async fn one_connection(kind: Kind, addr: SocketAddr, token: &str, n: usize, stats: &Stats) {
    let Ok(stream) = connect(kind, addr).await else {
        stats.connect_errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let _open = Open::new(stats);
    let host = addr.to_string();
    let closed = tokio::time::timeout(HOLD_LIMIT, async {
        match kind {
            Kind::SlowHeaders => slow_headers(stream, &host, n, stats).await,
            Kind::SlowBody => slow_body(stream, &host, token, stats).await,
            Kind::SlowRead => slow_read(stream, &host, token, stats).await,
            Kind::Idle => idle(stream, &host, stats).await,
        }
    })
    .await;
    match closed {
        Ok(()) => stats.closed_by_server.fetch_add(1, Ordering::Relaxed),
        Err(_) => stats.outlived.fetch_add(1, Ordering::Relaxed),
    };
}

/// Writes `bytes` one at a time, `gap` apart, while watching for kbgate's close; returns when
/// the connection is closed. Whatever kbgate answers before closing is passed to `answered`.
async fn trickle(
    mut stream: TcpStream,
    bytes: &[u8],
    gap: Duration,
    mut answered: impl FnMut(&[u8]),
) {
    let (mut reader, mut writer) = stream.split();
    let mut buf = [0u8; 1024];
    let mut next = 0usize;
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => answered(&buf[..n]),
            },
            () = tokio::time::sleep(gap) => {
                let byte = bytes.get(next % bytes.len().max(1)).copied().unwrap_or(b'x');
                next += 1;
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn slow_headers(stream: TcpStream, host: &str, n: usize, stats: &Stats) {
    let start = Instant::now();
    // Never completes: the padding header goes on as long as the trickle does.
    let head = format!(
        "GET /wiki/rest/api/search?cql=type%3Dpage HTTP/1.1\r\nHost: {host}\r\n\
         User-Agent: slowloris-{n}\r\nX-Padding: {}",
        "a".repeat(4096)
    );
    trickle(stream, head.as_bytes(), Duration::from_millis(200), |_| {}).await;
    stats.close_wait(start.elapsed());
}

async fn slow_body(mut stream: TcpStream, host: &str, token: &str, stats: &Stats) {
    let head = format!(
        "GET /wiki/rest/api/content/100001 HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut first: Vec<u8> = Vec::new();
    let mut answered_at = None;
    trickle(stream, b"x", Duration::from_millis(100), |bytes| {
        if first.len() < 12 {
            first.extend_from_slice(bytes);
        }
        answered_at.get_or_insert_with(Instant::now);
    })
    .await;
    stats.status(status_of(&first));
    if let Some(at) = answered_at {
        stats.close_wait(at.elapsed());
    }
}

async fn slow_read(mut stream: TcpStream, host: &str, token: &str, stats: &Stats) {
    let request = format!(
        "GET /wiki/rest/api/search?cql=space%3DKB&limit=100 HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if head.is_empty() {
                    stats.answering.fetch_add(1, Ordering::Relaxed);
                }
                if head.len() < 12 {
                    head.push(byte[0]);
                    if head.len() == 12 {
                        stats.status(status_of(&head));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn idle(mut stream: TcpStream, host: &str, stats: &Stats) {
    // No token: kbgate answers 401 at once, and the connection stays open for more.
    let request =
        format!("GET /wiki/rest/api/search?cql=type%3Dpage HTTP/1.1\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered_at = None;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if first.is_empty() {
                    first.extend_from_slice(&buf[..n.min(12)]);
                    answered_at = Some(Instant::now());
                }
            }
        }
    }
    stats.status(status_of(&first));
    if let Some(at) = answered_at {
        stats.close_wait(at.elapsed());
    }
}

#[test]
fn status_of_reads_the_status_line_and_nothing_else() {
    assert_eq!(status_of(b"HTTP/1.1 401 Unauthorized"), Some(401));
    assert_eq!(status_of(b"HTTP/1.1 200"), Some(200));
    assert_eq!(status_of(b"HTTP/1.1 2"), None);
    assert_eq!(status_of(b"garbage garbage"), None);
}
