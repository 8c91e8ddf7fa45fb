//! A socket wrapper that fails reads and writes after a period of inactivity.
//!
//! It plays the role of tokio-io-timeout's `TimeoutStream`, with one difference that matters for
//! a proxy: the **read** deadline is suspended while a request is being handled. hyper keeps a
//! read pending during a handler (to notice a client hanging up), so a plain read timeout shorter
//! than the handler's run time would kill the connection and lose the answer. While a request is
//! in flight, the server's whole-request deadline bounds it instead, body included (threats.md
//! H8). The **write** deadline always applies, so a client that stops reading its response is
//! dropped.
//!
//! Guarantees: when no request is in flight, no read stays pending longer than the timeout
//! without an `io::ErrorKind::TimedOut` error; no write or flush ever does. It does not limit
//! total connection lifetime or throughput (a client trickling bytes just under the timeout
//! between requests is bounded by hyper's header timeout, not here).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Counts the requests a connection is handling right now; shared by its service and its socket.
#[derive(Debug, Clone, Default)]
pub(super) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Marks one request as in flight until the returned guard is dropped.
    pub(super) fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(Arc::clone(&self.0))
    }

    fn busy(&self) -> bool {
        self.0.load(Ordering::Acquire) > 0
    }
}

/// Keeps one request counted as in flight; dropping it (also on cancellation) ends that.
#[derive(Debug)]
pub(super) struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One inactivity deadline: armed when an operation first returns `Pending`, disarmed on progress.
#[derive(Debug)]
struct Deadline {
    sleep: Pin<Box<Sleep>>,
    armed: bool,
}

impl Deadline {
    fn new() -> Self {
        Deadline {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: false,
        }
    }

    /// Called after the inner operation returned `Pending`: arms the timer if needed and reports
    /// whether it has expired (registering the waker otherwise).
    fn expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        if !self.armed {
            self.sleep.as_mut().reset(Instant::now() + timeout);
            self.armed = true;
        }
        self.sleep.as_mut().poll(cx).is_ready()
    }
}

/// An I/O object whose reads (while idle) and writes fail with `TimedOut` after `timeout`
/// without progress. See the module documentation for why reads are exempt while busy.
#[derive(Debug)]
pub(super) struct IdleTimeoutIo<S> {
    inner: S,
    timeout: Duration,
    in_flight: InFlight,
    read: Deadline,
    write: Deadline,
}

impl<S> IdleTimeoutIo<S> {
    /// Wraps `inner`; `in_flight` is the same counter the connection's service updates.
    pub(super) fn new(inner: S, timeout: Duration, in_flight: InFlight) -> Self {
        IdleTimeoutIo {
            inner,
            timeout,
            in_flight,
            read: Deadline::new(),
            write: Deadline::new(),
        }
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{what} inactivity timeout"),
    )
}

impl<S: AsyncWrite + Unpin> IdleTimeoutIo<S> {
    /// Runs one write-side operation under the write deadline.
    fn guard_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => {
                self.write.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending if self.write.expired(self.timeout, cx) => {
                Poll::Ready(Err(timed_out("write")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeoutIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.read.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending if this.in_flight.busy() => {
                // The request deadline owns this time; restart the idle clock afterwards.
                this.read.armed = false;
                Poll::Pending
            }
            Poll::Pending if this.read.expired(this.timeout, cx) => {
                Poll::Ready(Err(timed_out("read")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeoutIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard_write(cx, |inner, cx| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard_write(cx, |inner, cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .guard_write(cx, |inner, cx| inner.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .guard_write(cx, |inner, cx| inner.poll_shutdown(cx))
    }
}
