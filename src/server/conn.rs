//! One accepted connection, from the TCP socket to the last response.
//!
//! Order of steps: `TCP_NODELAY` → inactivity timeouts ([`super::idle`]) → TLS handshake under
//! its own deadline (if TLS) → HTTP/1.1 (or HTTP/2 when enabled and negotiated) served by hyper
//! with kbgate's limits → on server shutdown, hyper's graceful shutdown (finish the in-flight
//! request, then close).
//!
//! Every request passes through [`RequestService`] first: a request target longer than the
//! limit is answered 414 without calling the handler, and a handler that does not answer within
//! the request deadline is dropped and answered 504 with kbgate's own JSON body. Upgrades
//! (`Upgrade: h2c`, websockets) are never performed (threats.md H10): the handler sees an
//! ordinary request. Nothing here inspects or changes the handler's response.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::debug;

use super::idle::{IdleTimeoutIo, InFlight};
use super::tls::ALPN_H2;
use super::{ConnInfo, ServerOptions};

/// hyper refuses a read buffer smaller than this (it panics), so header limits below it round up.
const HYPER_MIN_BUF_SIZE: usize = 8192;
/// HTTP/2 streams one connection may run at once (threats.md H9).
const H2_MAX_CONCURRENT_STREAMS: u32 = 100;
/// HTTP/2 streams reset by the client before we accepted them (rapid-reset guard, H9).
const H2_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
/// HTTP/2 streams we may reset for protocol errors before closing the connection (H9).
const H2_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 256;

/// kbgate's own body for a request target over the limit (RFC 9110 §15.5.15).
const URI_TOO_LONG_BODY: &[u8] =
    br#"{"error":"uri_too_long","message":"The request target is too long."}"#;
/// kbgate's own body for a request the handler did not answer in time.
const GATEWAY_TIMEOUT_BODY: &[u8] =
    br#"{"error":"gateway_timeout","message":"The request did not complete in time."}"#;

/// The response type every handler returns.
type Answer = Response<crate::response::Body>;

/// Everything a connection task needs, shared by all connections of one [`super::run`].
pub(super) struct ConnContext<H> {
    handler: H,
    request_timeout: Duration,
    idle_timeout: Duration,
    handshake_timeout: Duration,
    max_uri_bytes: usize,
    http2: bool,
    tls: Option<TlsAcceptor>,
    /// HTTP/1.1 only: plain listeners without `http2`, and TLS without ALPN `h2`.
    h1: auto::Builder<TokioExecutor>,
    /// HTTP/2 only: TLS connections that negotiated ALPN `h2`.
    h2: auto::Builder<TokioExecutor>,
    /// Either, told apart by the HTTP/2 preface: plain listeners with `http2` (prior knowledge).
    either: auto::Builder<TokioExecutor>,
}

impl<H> ConnContext<H> {
    /// Translates the options into hyper builders once per server.
    pub(super) fn new(handler: H, opts: &ServerOptions) -> Self {
        let mut either = auto::Builder::new(TokioExecutor::new());
        either
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(opts.header_read_timeout)
            .keep_alive(true)
            .max_buf_size(opts.max_header_bytes.max(HYPER_MIN_BUF_SIZE))
            .max_headers(opts.max_headers);
        either
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
            .max_header_list_size(u32::try_from(opts.max_header_bytes).unwrap_or(u32::MAX))
            .max_pending_accept_reset_streams(H2_MAX_PENDING_ACCEPT_RESET_STREAMS)
            .max_local_error_reset_streams(H2_MAX_LOCAL_ERROR_RESET_STREAMS);
        ConnContext {
            handler,
            request_timeout: opts.request_timeout,
            idle_timeout: opts.idle_timeout,
            handshake_timeout: opts.header_read_timeout,
            max_uri_bytes: opts.max_uri_bytes,
            http2: opts.http2,
            tls: opts.tls.clone().map(TlsAcceptor::from),
            h1: either.clone().http1_only(),
            h2: either.clone().http2_only(),
            either,
        }
    }
}

/// Serves one accepted connection until it closes, fails, or finishes after a shutdown request.
///
/// Connection-level outcomes are logged at debug level; the caller's span carries `client.addr`.
pub(super) async fn serve<H, F>(
    ctx: Arc<ConnContext<H>>,
    stream: TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) where
    H: Fn(Request<Incoming>, ConnInfo) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    if let Err(error) = stream.set_nodelay(true) {
        debug!(%error, "could not set TCP_NODELAY");
    }
    let in_flight = InFlight::default();
    let io = IdleTimeoutIo::new(stream, ctx.idle_timeout, in_flight.clone());
    let info = ConnInfo {
        peer,
        tls: ctx.tls.is_some(),
    };
    let service = RequestService {
        ctx: Arc::clone(&ctx),
        info,
        in_flight,
    };

    let Some(acceptor) = &ctx.tls else {
        let builder = if ctx.http2 { &ctx.either } else { &ctx.h1 };
        drive(builder, io, service, &mut shutdown).await;
        return;
    };
    let handshake = tokio::select! {
        biased;
        () = shutdown_requested(&mut shutdown) => {
            debug!("server shutting down during the TLS handshake");
            return;
        }
        handshake = tokio::time::timeout(ctx.handshake_timeout, acceptor.accept(io)) => handshake,
    };
    let stream = match handshake {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            debug!(%error, "TLS handshake failed");
            return;
        }
        Err(_elapsed) => {
            debug!("TLS handshake timed out");
            return;
        }
    };
    let negotiated_h2 = stream.get_ref().1.alpn_protocol() == Some(ALPN_H2);
    let builder = if ctx.http2 && negotiated_h2 {
        &ctx.h2
    } else {
        &ctx.h1
    };
    drive(builder, stream, service, &mut shutdown).await;
}

/// Runs hyper on `io` until the connection ends; on shutdown, asks it to finish and close.
async fn drive<I, H, F>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    service: RequestService<H>,
    shutdown: &mut watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>, ConnInfo) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    // `serve_connection` (not `..._with_upgrades`): an Upgrade request gets a plain answer.
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown_requested(shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    match result {
        Ok(()) => debug!("connection closed"),
        Err(error) => debug!(%error, "connection ended with an error"),
    }
}

/// Resolves once the server asks connections to finish (or the server is gone).
async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped: the server is gone, which is a shutdown too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The hyper service of one connection: kbgate's pre-handler limits around the handler.
struct RequestService<H> {
    ctx: Arc<ConnContext<H>>,
    info: ConnInfo,
    in_flight: InFlight,
}

impl<H, F> hyper::service::Service<Request<Incoming>> for RequestService<H>
where
    H: Fn(Request<Incoming>, ConnInfo) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let target_len = request_target_len(request.uri());
        if target_len > self.ctx.max_uri_bytes {
            debug!(
                uri.len = target_len,
                limit = self.ctx.max_uri_bytes,
                "request target too long; answered 414 before the handler"
            );
            return Box::pin(std::future::ready(Ok(own_error(
                StatusCode::URI_TOO_LONG,
                URI_TOO_LONG_BODY,
            ))));
        }
        let guard = self.in_flight.enter();
        let answer = (self.ctx.handler)(request, self.info);
        let deadline = self.ctx.request_timeout;
        Box::pin(async move {
            let _in_flight = guard;
            match tokio::time::timeout(deadline, answer).await {
                Ok(response) => Ok(response),
                Err(_elapsed) => {
                    debug!(
                        timeout_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
                        "handler did not answer in time; answered 504"
                    );
                    Ok(own_error(StatusCode::GATEWAY_TIMEOUT, GATEWAY_TIMEOUT_BODY))
                }
            }
        })
    }
}

/// Length of the request target as the client sent it: path and query, plus scheme and
/// authority for the absolute form (and HTTP/2's `:scheme`/`:authority`).
fn request_target_len(uri: &Uri) -> usize {
    let path_and_query = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + "://".len());
    path_and_query + authority + scheme
}

/// A small JSON answer written by the server itself, never by upstream.
fn own_error(status: StatusCode, body: &'static [u8]) -> Answer {
    let mut response = Response::new(crate::response::full(Bytes::from_static(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
