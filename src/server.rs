//! kbgate's listeners: accepting connections, their limits and timeouts, TLS, graceful shutdown.
//!
//! [`run`] takes an already-bound listener, the request handler and a shutdown future (the
//! mini-redis shape), so tests bind `127.0.0.1:0` and run it in-process. It guarantees, for every
//! connection (threats.md §1.3):
//! - at most [`ServerOptions::max_connections`] open at once: a permit is taken *before*
//!   `accept`, so excess clients wait in the kernel backlog and are not read from (H8);
//! - headers bounded in time (`header_read_timeout`), count (431) and bytes (431); request
//!   targets over `max_uri_bytes` answered 414 without calling the handler (H7);
//! - a whole-request deadline (504 with kbgate's own body), socket inactivity timeouts, and a
//!   TLS handshake deadline (H8);
//! - HTTP/1.1 only unless `http2` is set; upgrades are never performed (H9, H10);
//! - on shutdown: no new connections, in-flight requests finish, then [`run`] returns, after at
//!   most `drain_timeout` of waiting.
//!
//! It deliberately does not route, authenticate or touch the handler's response (hyper omits
//! the body for HEAD); accept errors never end the loop.
//!
//! Parts: `conn` serves one connection, `idle` is the inactivity-timeout socket wrapper, `tls`
//! builds the rustls configuration.

mod conn;
mod idle;
mod tls;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_tls;
#[cfg(test)]
mod tests_tls_policy;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tracing::{debug, warn, Instrument};

pub use tls::{tls_config, TlsError};

/// How long to wait before accepting again after `accept` failed (EMFILE and friends), so a
/// persistent error neither spins a core nor floods the log.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Limits and timeouts of a listener. [`Default`] gives kbgate's production values.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Time allowed to receive a request's complete headers (hyper's header read timeout); also
    /// the TLS handshake deadline. Default 10 s.
    pub header_read_timeout: Duration,
    /// Time allowed for the handler to answer a request, reading the body included; after it
    /// the handler is dropped and the client gets 504 with kbgate's own JSON body. Default 30 s.
    pub request_timeout: Duration,
    /// Socket inactivity limit: an idle keep-alive connection, a client that stops sending
    /// between requests, or one that stops reading our response is closed after it. While a
    /// request is being handled, reads are bounded by `request_timeout` instead. Default 60 s.
    pub idle_timeout: Duration,
    /// Connections open at once; further clients wait unaccepted. Default 1024; must be ≥ 1.
    pub max_connections: usize,
    /// Bytes of request line plus headers (HTTP/1.1; HTTP/2's header list size); over it the
    /// answer is 431. Values under 8 KiB act as 8 KiB (hyper's minimum buffer). Default 16 KiB.
    pub max_header_bytes: usize,
    /// Header fields per request; over it the answer is 431. Default 64.
    pub max_headers: usize,
    /// Bytes of request target (path and query; scheme and authority when present); over it
    /// the answer is 414 and the handler is not called. A target that does not even fit in
    /// `max_header_bytes` gets 431 instead. Default 8 KiB.
    pub max_uri_bytes: usize,
    /// On shutdown, how long to wait for in-flight requests before closing the rest. Default 30 s.
    pub drain_timeout: Duration,
    /// Serve TLS with this configuration (see [`tls_config`]); `None` serves plain TCP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Also serve HTTP/2: chosen by ALPN with TLS, by prior knowledge without. Default false.
    pub http2: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_uri_bytes: 8 * 1024,
            drain_timeout: Duration::from_secs(30),
            tls: None,
            http2: false,
        }
    }
}

/// What the handler learns about the connection a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The TCP peer (no `X-Forwarded-For` interpretation here).
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// Serves `listener` with `handler` until `shutdown` resolves, then drains and returns.
///
/// Each connection runs in its own task. When `shutdown` resolves the listener is closed (new
/// connections are refused), every connection is told to finish its in-flight request and
/// close, and `run` waits up to `opts.drain_timeout` for them before aborting the rest.
///
/// # Errors
/// Only for unusable options (`max_connections` of 0 or beyond tokio's semaphore limit); once
/// serving, errors are logged per connection and never end the server.
pub async fn run<H, F>(
    listener: TcpListener,
    handler: H,
    opts: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    H: Fn(http::Request<Incoming>, ConnInfo) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = http::Response<crate::response::Body>> + Send + 'static,
{
    if opts.max_connections == 0 || opts.max_connections > Semaphore::MAX_PERMITS {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "max_connections must be between 1 and {}, not {}",
                Semaphore::MAX_PERMITS,
                opts.max_connections
            ),
        ));
    }
    let permits = Arc::new(Semaphore::new(opts.max_connections));
    let ctx = Arc::new(conn::ConnContext::new(handler, &opts));
    let (stop_connections, stop_signal) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed; stop rather than spin if that ever changes.
                Err(_closed) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connection tasks so the set stays as small as the open connections.
        while let Some(finished) = connections.try_join_next() {
            log_join(finished);
        }
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "accept failed; retrying shortly");
                drop(permit);
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_RETRY_DELAY) => continue,
                }
            }
        };
        let span = tracing::debug_span!("conn", client.addr = %peer, tls = opts.tls.is_some());
        let ctx = Arc::clone(&ctx);
        let stop = stop_signal.clone();
        connections.spawn(
            async move {
                debug!("connection accepted");
                conn::serve(ctx, stream, peer, stop).await;
                drop(permit);
            }
            .instrument(span),
        );
    }

    drop(listener);
    // Fails only when no connection is listening, which needs no signal.
    let _ = stop_connections.send(true);
    debug!(
        connections = connections.len(),
        "shutting down: draining connections"
    );
    let drained = tokio::time::timeout(opts.drain_timeout, async {
        while let Some(finished) = connections.join_next().await {
            log_join(finished);
        }
    })
    .await;
    if drained.is_err() {
        warn!(
            connections = connections.len(),
            "drain timeout elapsed; closing the remaining connections"
        );
        connections.shutdown().await;
    }
    debug!("server stopped");
    Ok(())
}

/// Logs a connection task that did not end normally (a panic in a handler, or an abort).
fn log_join(finished: Result<(), JoinError>) {
    if let Err(error) = finished {
        warn!(%error, "connection task failed");
    }
}

/// Resolves when the process receives SIGTERM or SIGINT.
///
/// If a signal handler cannot be installed the failure is logged and the other signal still
/// works; if neither can, this never resolves (the process is then stopped by SIGKILL).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminate = signal(SignalKind::terminate())
        .map_err(|error| warn!(%error, "cannot listen for SIGTERM"))
        .ok();
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|error| warn!(%error, "cannot listen for SIGINT"))
        .ok();
    let term = async {
        match terminate.as_mut() {
            Some(stream) => stream.recv().await,
            None => std::future::pending().await,
        }
    };
    let int = async {
        match interrupt.as_mut() {
            Some(stream) => stream.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => debug!("SIGTERM received"),
        _ = int => debug!("SIGINT received"),
    }
}
