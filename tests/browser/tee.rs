//! The recording tee between Chromium and kbgate: a loopback listener that copies every byte
//! both ways and keeps a copy of each connection, so the leak oracle sees every byte the browser
//! got from kbgate (pages, stylesheets, images, downloads, redirects, error pages).
//!
//! Guarantees: a byte is recorded before it is written to the browser, so once the browser has
//! seen something, [`Tee::take_responses`] can hand it over; recording is bounded
//! ([`MAX_RECORDED`] bytes over the whole run; past it the tee keeps forwarding but marks the
//! recording incomplete, and [`Tee::take_responses`] reports that as an error); the connection
//! tasks end with the tee. Deliberately not: TLS or HTTP/2 (Chromium speaks HTTP/1.1 to a plain
//! `http://` origin), nor any change to the bytes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::wire::{self, Response};

/// Most bytes recorded over a whole story (both directions).
pub const MAX_RECORDED: u64 = 64 * 1024 * 1024;

/// One browser connection as recorded.
#[derive(Default)]
struct Conn {
    /// Bytes kbgate sent to the browser.
    down: Vec<u8>,
    /// Bytes the browser sent to kbgate.
    up: Vec<u8>,
    /// How much of `down` has been handed over as complete responses.
    handed_down: usize,
    /// How many requests of `up` have been paired with a handed-over response.
    handed_requests: usize,
    /// Whether kbgate closed its side.
    closed: bool,
}

/// Every connection, and the budget.
#[derive(Default)]
struct Recorder {
    conns: Mutex<Vec<Conn>>,
    total: AtomicU64,
    overflow: AtomicBool,
}

impl Recorder {
    /// Appends `bytes` to connection `id` (`down`: kbgate → browser), within the budget.
    fn record(&self, id: usize, down: bool, bytes: &[u8]) {
        let before = self.total.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        if before + bytes.len() as u64 > MAX_RECORDED {
            self.overflow.store(true, Ordering::SeqCst);
            return;
        }
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = conns.get_mut(id) {
            if down {
                c.down.extend_from_slice(bytes)
            } else {
                c.up.extend_from_slice(bytes)
            }
        }
    }

    fn close(&self, id: usize) {
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = conns.get_mut(id) {
            c.closed = true;
        }
    }
}

/// Why the recording cannot be trusted.
#[derive(Debug)]
pub enum TeeError {
    /// More than [`MAX_RECORDED`] bytes went through.
    Overflow,
    /// A response could not be framed or decoded (connection, reason).
    Unreadable(usize, String),
}

impl std::fmt::Display for TeeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TeeError::Overflow => write!(f, "more than {MAX_RECORDED} bytes went through the tee"),
            TeeError::Unreadable(c, why) => write!(f, "connection {c}: unreadable answer: {why}"),
        }
    }
}

/// The running tee.
pub struct Tee {
    /// The tee's own URL (what the browser and kbgate's `public_url` use).
    pub url: String,
    rec: Arc<Recorder>,
    task: Option<JoinHandle<()>>,
    listener: Option<TcpListener>,
}

impl Tee {
    /// Binds the tee on loopback (port 0); it forwards nothing until [`Tee::forward_to`].
    pub async fn bind() -> std::io::Result<Tee> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        Ok(Tee {
            url,
            rec: Arc::default(),
            task: None,
            listener: Some(listener),
        })
    }

    /// Starts forwarding every accepted connection to `upstream` (kbgate).
    pub fn forward_to(&mut self, upstream: std::net::SocketAddr) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let rec = self.rec.clone();
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((browser, _)) = listener.accept().await {
                let id = {
                    let mut all = rec.conns.lock().unwrap_or_else(|e| e.into_inner());
                    all.push(Conn::default());
                    all.len() - 1
                };
                conns.spawn(pipe(rec.clone(), id, browser, upstream));
                while conns.try_join_next().is_some() {}
            }
        }));
    }

    /// Every response completed since the last call, framed, de-chunked and decoded, each
    /// paired with its request line; or why the recording cannot be trusted. With `last`, the
    /// bytes of unfinished responses are handed over too (raw, as one unframed answer each).
    pub fn take_responses(&self, last: bool) -> Result<Vec<Response>, TeeError> {
        if self.rec.overflow.load(Ordering::SeqCst) {
            return Err(TeeError::Overflow);
        }
        let mut out = Vec::new();
        let mut conns = self.rec.conns.lock().unwrap_or_else(|e| e.into_inner());
        for (id, c) in conns.iter_mut().enumerate() {
            let requests = wire::request_lines(&c.up);
            let pending = requests.get(c.handed_requests..).unwrap_or(&[]);
            let (responses, used) =
                wire::split_responses(&c.down[c.handed_down..], c.closed || last, pending)
                    .map_err(|why| TeeError::Unreadable(id, why))?;
            c.handed_down += used;
            for mut r in responses {
                if r.request.is_some() {
                    c.handed_requests += 1;
                }
                r.conn = id;
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Bytes recorded so far (both directions).
    pub fn recorded_bytes(&self) -> u64 {
        self.rec.total.load(Ordering::SeqCst)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Copies one connection both ways, recording each direction.
async fn pipe(rec: Arc<Recorder>, id: usize, browser: TcpStream, upstream: std::net::SocketAddr) {
    let Ok(kbgate) = TcpStream::connect(upstream).await else {
        rec.close(id);
        return;
    };
    let (mut b_read, mut b_write) = browser.into_split();
    let (mut k_read, mut k_write) = kbgate.into_split();
    let up_rec = rec.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = b_read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            up_rec.record(id, false, &buf[..n]);
            if k_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = k_write.shutdown().await;
    };
    let down_rec = rec.clone();
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = k_read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            down_rec.record(id, true, &buf[..n]);
            if b_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        down_rec.close(id);
        let _ = b_write.shutdown().await;
    };
    tokio::join!(up, down);
}
