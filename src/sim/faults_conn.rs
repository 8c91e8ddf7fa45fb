//! Connection-level faults ([`Fault::takes_over_connection`]): accept then silence, headers at
//! 1 byte per 100 ms, body at 1 byte per 100 ms, a `Content-Length` larger than the body then a
//! clean close, a TCP reset mid-body, and an HTTP/1.0 close-delimited body. hyper's server cannot
//! misbehave like this, so while such a fault is set the simulator takes every new connection
//! over **before** hyper parses or routes anything on it ([`serve`]).
//!
//! How a taken-over connection is answered: the request head is read from the socket, sent
//! through the ordinary service (the simulator's own routing, authentication and request log)
//! over an in-memory pipe, and the normal answer comes back marked when the fault applies to that
//! request (authenticated `/wiki` and JSM answers; see `faults::apply`). A marked answer is then
//! written to the real socket the faulty way, its JSON body carrying [`MARKER`] and every canary
//! title (`faults_http::with_canaries`); an unmarked one (identity provider, 401s) is written
//! normally. Either way the connection then closes, so each request meets the fault on its own
//! connection.
//!
//! Guarantees: setting or clearing a connection fault gracefully closes the keep-alive
//! connections hyper already serves (the request in flight finishes), so a pooled client cannot
//! slip past the fault on an old connection; trickles give up after [`TRICKLE_CAP`] and silence
//! after [`SILENCE_CAP`]; a request head is read within 30 s and 64 KiB; memory per connection
//! is bounded by the normal answer (at most 32 MiB, far more than any simulator answer).
//! Deliberately not: request bodies (every simulator route is a GET or HEAD), pipelining, or
//! HTTP/2.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::faults::{Fault, MARKER};
use super::faults_http::{fault_header, with_canaries};
use super::http::{Body, Reply};
use super::State;

/// Internal header by which the ordinary service marks an answer the fault applies to (never
/// written to the socket).
pub(crate) const TAKEOVER_HEADER: &str = "x-sim-connection-fault";
/// Pause between two bytes of a trickle.
pub(crate) const TRICKLE_EVERY: Duration = Duration::from_millis(100);
/// Longest a trickle goes on before the simulator closes the connection.
pub(crate) const TRICKLE_CAP: Duration = Duration::from_secs(60);
/// Longest [`Fault::Silence`] holds a connection whose client does not hang up.
pub(crate) const SILENCE_CAP: Duration = Duration::from_secs(120);
/// Largest request head read.
const MAX_HEAD: usize = 64 * 1024;
/// How long a client may take to send its request head.
const HEAD_WAIT: Duration = Duration::from_secs(30);
/// Largest normal answer taken from the ordinary service.
const MAX_ANSWER: usize = 32 * 1024 * 1024;

/// The normal answer to a request whose connection a fault takes over: marked so the connection
/// code knows the fault applies (see the module doc).
pub(crate) fn mark(reply: Reply) -> Response<Body> {
    let mut reply = reply;
    reply.headers.push((TAKEOVER_HEADER, "1".to_owned()));
    reply.into_response()
}

/// True when going from fault `old` to `new` must close the connections hyper already serves
/// (a connection fault is set or cleared).
pub(crate) fn needs_reconnect(old: Option<&Fault>, new: Option<&Fault>) -> bool {
    let takes_over = |f: Option<&Fault>| f.is_some_and(Fault::takes_over_connection);
    takes_over(old) || takes_over(new)
}

fn current(state: &State) -> Option<Fault> {
    state
        .fault
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Serves one accepted connection: taken over when a connection fault is set, else by hyper
/// (HTTP/1.1, keep-alive) until it ends or a connection fault is set or cleared.
pub(crate) async fn serve<S>(stream: TcpStream, state: Arc<State>, service: S)
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    // Subscribe before looking at the fault, so a change in between still closes this connection.
    let mut epoch = state.fault_epoch.subscribe();
    if current(&state).is_some_and(|f| f.takes_over_connection()) {
        take_over(stream, &state, service).await;
        return;
    }
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            // A client hanging up mid-answer is normal (and the Truncated fault's point).
            _ = conn.as_mut() => return,
            _ = epoch.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// One request on a taken-over connection (see the module doc).
async fn take_over<S>(mut stream: TcpStream, state: &State, service: S)
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let Some(request) = parse_head(&head) else {
        return;
    };
    let head_only = request.method() == Method::HEAD;
    let Some(answer) = normal_answer(request, service).await else {
        return;
    };
    match current(state) {
        Some(fault) if answer.marked && fault.takes_over_connection() => {
            let titles = state.corpus.canary_titles();
            misbehave(stream, &fault, &answer, head_only, &titles).await;
        }
        _ => {
            let body = if head_only {
                Bytes::new()
            } else {
                answer.body.clone()
            };
            let head = head_bytes("HTTP/1.1", &answer, Some(body.len()), &[]);
            let _ = write_then_close(&mut stream, &head, &body).await;
        }
    }
}

/// Reads until the end of the request head (`\r\n\r\n`), within [`HEAD_WAIT`] and [`MAX_HEAD`].
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    async fn read(stream: &mut TcpStream, head: &mut Vec<u8>) -> Option<()> {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            head.extend_from_slice(buf.get(..n).filter(|b| !b.is_empty())?);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                head.truncate(end + 4);
                return Some(());
            }
            if head.len() > MAX_HEAD {
                return None;
            }
        }
    }
    let mut head = Vec::with_capacity(1024);
    tokio::time::timeout(HEAD_WAIT, read(stream, &mut head))
        .await
        .ok()??;
    Some(head)
}

/// The request a head describes (method, origin-form target, headers), or `None` if malformed.
pub(crate) fn parse_head(head: &[u8]) -> Option<Request<Empty<Bytes>>> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = Method::from_bytes(request_line.next()?.as_bytes()).ok()?;
    let target = request_line.next()?;
    let mut builder = Request::builder().method(method).uri(target);
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(Empty::new()).ok()
}

/// What the ordinary service answered.
struct Normal {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    marked: bool,
}

/// Sends `request` through the ordinary service over an in-memory pipe and collects the answer.
async fn normal_answer<S>(request: Request<Empty<Bytes>>, service: S) -> Option<Normal>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server_io), service),
    );
    let work = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client_io))
            .await
            .ok()?;
        let client = tokio::spawn(conn);
        let answer = async {
            let (parts, body) = sender.send_request(request).await.ok()?.into_parts();
            let body = Limited::new(body, MAX_ANSWER).collect().await.ok()?;
            Some(Normal {
                marked: parts.headers.contains_key(TAKEOVER_HEADER),
                status: parts.status,
                headers: parts.headers,
                body: body.to_bytes(),
            })
        }
        .await;
        client.abort();
        answer
    };
    let answer = work.await;
    server.abort();
    answer
}

/// A response head: the status line in `version`, the normal answer's headers (framing and the
/// internal mark left out), `Content-Length` when given, `extra`, and `Connection: close`.
fn head_bytes(
    version: &str,
    answer: &Normal,
    content_length: Option<usize>,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let reason = answer.status.canonical_reason().unwrap_or("Unknown");
    let mut s = format!("{version} {} {reason}\r\n", answer.status.as_u16());
    for (name, value) in &answer.headers {
        let framing = matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        );
        if framing || name.as_str() == TAKEOVER_HEADER {
            continue;
        }
        s.push_str(&format!(
            "{name}: {}\r\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    if let Some(n) = content_length {
        s.push_str(&format!("Content-Length: {n}\r\n"));
    }
    for (name, value) in extra {
        s.push_str(&format!("{name}: {value}\r\n"));
    }
    s.push_str("Connection: close\r\n\r\n");
    s.into_bytes()
}

async fn write_then_close(stream: &mut TcpStream, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    stream.write_all(head).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// Writes `bytes` one at a time, [`TRICKLE_EVERY`] apart. False when the client went away or
/// [`TRICKLE_CAP`] passed first.
async fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    let _ = stream.set_nodelay(true);
    let started = tokio::time::Instant::now();
    for byte in bytes {
        if started.elapsed() > TRICKLE_CAP || stream.write_all(&[*byte]).await.is_err() {
            return false;
        }
        let _ = stream.flush().await;
        tokio::time::sleep(TRICKLE_EVERY).await;
    }
    true
}

/// Reads and discards until the client hangs up (or [`SILENCE_CAP`]).
async fn hold_silent(stream: &mut TcpStream) {
    let drain = async {
        let mut buf = [0u8; 1024];
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(SILENCE_CAP, drain).await;
}

/// Writes `answer` to the real socket the way `fault` misbehaves.
async fn misbehave(
    mut stream: TcpStream,
    fault: &Fault,
    answer: &Normal,
    head_only: bool,
    titles: &[&str],
) {
    let name = format!("{fault:?}");
    let body = if head_only {
        Bytes::new()
    } else {
        with_canaries(&answer.body, titles, &name)
    };
    let len = body.len();
    let extra = [fault_header(&name)];
    match fault {
        Fault::Silence => hold_silent(&mut stream).await,
        Fault::SlowHeaders => {
            let head = head_bytes("HTTP/1.1", answer, Some(len), &extra);
            if trickle(&mut stream, &head).await {
                let _ = write_then_close(&mut stream, &[], &body).await;
            }
        }
        Fault::SlowBody => {
            let head = head_bytes("HTTP/1.1", answer, Some(len), &extra);
            if stream.write_all(&head).await.is_ok() && trickle(&mut stream, &body).await {
                let _ = stream.shutdown().await;
            }
        }
        Fault::ShortBody => {
            // Twice the length plus the marker's: never satisfiable by the bytes sent.
            let claimed = len.saturating_mul(2).saturating_add(MARKER.len());
            let head = head_bytes("HTTP/1.1", answer, Some(claimed), &extra);
            let _ = write_then_close(&mut stream, &head, &body).await;
        }
        Fault::ResetMidBody => {
            let head = head_bytes("HTTP/1.1", answer, Some(len), &extra);
            let half = body.slice(..len / 2);
            if stream.write_all(&head).await.is_ok() && stream.write_all(&half).await.is_ok() {
                let _ = stream.flush().await;
                // Let the client take the head and half the body before the reset arrives.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Fault::Http10CloseDelimited => {
            let head = head_bytes("HTTP/1.0", answer, None, &extra);
            let _ = write_then_close(&mut stream, &head, &body).await;
        }
        _ => {
            let head = head_bytes("HTTP/1.1", answer, Some(len), &extra);
            let _ = write_then_close(&mut stream, &head, &body).await;
        }
    }
}
