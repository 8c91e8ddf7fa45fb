//! Test kit for the server's tests: a server on 127.0.0.1:0, trivial handlers, and a tiny
//! hand-written HTTP/1.1 client (raw bytes in, one parsed response out).
//!
//! Every test is bounded by [`within`]; [`TestServer`] aborts its server when dropped, so a
//! failing test leaves nothing running.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{run, ConnInfo, ServerOptions};

pub(super) type Reply = Response<crate::response::Body>;
pub(super) type BoxReply = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// Upper bound on any single test.
const BOUND: Duration = Duration::from_secs(10);

/// Runs `test` and fails it if it takes longer than [`BOUND`].
pub(super) async fn within<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the test took longer than its time bound")
}

/// A running server on 127.0.0.1:0; aborted when dropped.
pub(super) struct TestServer {
    pub(super) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    pub(super) async fn start<H, F>(opts: ServerOptions, handler: H) -> TestServer
    where
        H: Fn(Request<Incoming>, ConnInfo) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Reply> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(run(listener, handler, opts, shutdown));
        TestServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Triggers shutdown without waiting for `run` to return.
    pub(super) fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits for `run` to return.
    pub(super) async fn finished(&mut self) -> io::Result<()> {
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A handler that counts its calls and answers 200 with "<path> <peer>".
pub(super) fn counting() -> (
    Arc<AtomicUsize>,
    impl Fn(Request<Incoming>, ConnInfo) -> BoxReply + Clone + Send + Sync,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let handler = move |req: Request<Incoming>, info: ConnInfo| -> BoxReply {
        seen.fetch_add(1, Ordering::SeqCst);
        let body = format!("{} {} tls={}", req.uri().path(), info.peer, info.tls);
        Box::pin(async move { Response::new(crate::response::full(Bytes::from(body))) })
    };
    (calls, handler)
}

/// A handler that sleeps for `delay` before answering 200; `started` counts calls.
pub(super) fn sleepy(
    delay: Duration,
) -> (
    Arc<AtomicUsize>,
    impl Fn(Request<Incoming>, ConnInfo) -> BoxReply + Clone + Send + Sync,
) {
    let started = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&started);
    let handler = move |_req: Request<Incoming>, _info: ConnInfo| -> BoxReply {
        seen.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Response::new(crate::response::full(Bytes::from_static(b"slept")))
        })
    };
    (started, handler)
}

/// A handler that reads the whole request body, then answers 200 with its length.
pub(super) fn body_reader(req: Request<Incoming>, _info: ConnInfo) -> BoxReply {
    Box::pin(async move {
        let len = match req.into_body().collect().await {
            Ok(collected) => collected.to_bytes().len(),
            Err(_) => usize::MAX,
        };
        Response::new(crate::response::full(Bytes::from(len.to_string())))
    })
}

/// One HTTP/1.1 response as read off the wire.
#[derive(Debug)]
pub(super) struct RawResponse {
    pub(super) status: u16,
    headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl RawResponse {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (status line, headers, `Content-Length` body).
pub(super) async fn read_response<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<RawResponse> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).await?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut response = RawResponse {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = response
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    response.body = vec![0; len];
    r.read_exact(&mut response.body).await?;
    Ok(response)
}

/// Sends `raw` on a fresh connection and reads one response.
pub(super) async fn exchange(addr: SocketAddr, raw: &[u8]) -> io::Result<RawResponse> {
    let mut stream = BufReader::new(TcpStream::connect(addr).await?);
    stream.get_mut().write_all(raw).await?;
    read_response(&mut stream).await
}

pub(super) fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: kb.example\r\n\r\n").into_bytes()
}

/// Reads and discards until the peer closes (EOF or reset); returns how long that took, or
/// `None` if the connection was still open after `limit`.
pub(super) async fn closed_within(
    stream: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let until_closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, until_closed)
        .await
        .ok()
        .map(|()| start.elapsed())
}

/// Writes `bytes` one at a time, `gap` apart, until done or the server hangs up.
pub(super) fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>, gap: Duration) {
    tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(gap).await;
        }
    });
}
