//! The load itself: one task per virtual connection, each with one hyper HTTP/1.1 keep-alive
//! connection and one request in flight.
//!
//! - Closed loop: a connection sends its next request as soon as the previous answer is
//!   complete; latency runs from the send.
//! - Fixed rate: request `k` is due at `start + k / rate` ([`send_offset`]). A free connection
//!   takes the next due request, waits until it is due, sends it; when every connection is
//!   busy the request waits, and latency still runs from the time it was due, so a stalled
//!   server cannot hide its stall (no coordinated omission). The timer ticks in milliseconds:
//!   a request may leave up to half a tick early, and its latency then runs from its actual
//!   send. A request that could not even be sent within `--timeout` of its due time counts as
//!   a timeout without being sent.
//!
//! Guarantees: every loop ends at the deadline or the request limit; in-flight requests end
//! within `--timeout`; a connection closed by the server is reopened (and counted); only
//! sampled bodies are kept, and only until scanned. Deliberately not: HTTP/2, TLS, retries of
//! requests that reached the server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST};
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio::time::Instant;

use super::args::HeaderArg;
use super::customers::Customer;
use super::oracle::Oracle;
use super::plan::{Plan, Planned};
use super::report::RateReport;
use super::stats::{ErrorKind, Outcome, Stats};
use super::target::Target;

/// Largest part of a response body the oracle keeps for one scan.
const MAX_SCAN_BYTES: usize = 32 << 20;
/// How much earlier than due a fixed-rate request may be sent (half a timer tick).
const TIMER_SLACK: Duration = Duration::from_micros(500);
/// A fixed-rate request sent later than this after due counts as late (the timer's tick is
/// 1 ms; later than that, it waited for a connection or for the load generator).
pub const LATE: Duration = Duration::from_millis(2);
/// Pause after a failed connect, so that a dead target is not hammered.
const CONNECT_BACKOFF: Duration = Duration::from_millis(20);

/// When requests are due.
#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// Closed loop.
    Closed,
    /// Fixed rate: `warm` requests are warm-up, requests `0..total` are sent.
    Rate { rate: f64, warm: u64, total: u64 },
}

impl Schedule {
    /// The fixed-rate schedule for `rate` requests per second over `warmup` then `duration`.
    pub fn fixed_rate(rate: f64, warmup: Duration, duration: Duration) -> Schedule {
        Schedule::Rate {
            rate,
            warm: due_before(warmup, rate),
            total: due_before(warmup + duration, rate),
        }
    }
}

/// When request `k` is due, after the start, at `rate` requests per second.
pub fn send_offset(k: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(k as f64 / rate)
}

/// How many requests are due before `t` at `rate` (those with `k / rate < t`).
pub fn due_before(t: Duration, rate: f64) -> u64 {
    (t.as_secs_f64() * rate).ceil() as u64
}

/// Start of the run, end of the warm-up, end of the measurement.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start: Instant,
    pub measure: Instant,
    pub deadline: Instant,
}

/// What a run is made of (plain data; [`Driver::new`] adds the shared counters).
pub struct Load {
    pub plan: Plan,
    pub stats: Arc<Stats>,
    pub oracle: Oracle,
    pub customers: Vec<Customer>,
    /// `--header`s.
    pub headers: Vec<HeaderArg>,
    pub target: Target,
    pub clock: Clock,
    pub schedule: Schedule,
    /// `--requests`.
    pub limit: Option<u64>,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--oracle-sample`.
    pub sample: f64,
}

/// Everything the connection tasks share.
pub struct Driver {
    load: Load,
    tickets: AtomicU64,
    /// Microseconds from `clock.measure` to the end of the last recorded request.
    last_end_us: AtomicU64,
    /// Recorded requests actually sent, and the first and last send (µs after `clock.start`).
    sent: AtomicU64,
    first_send_us: AtomicU64,
    last_send_us: AtomicU64,
    /// Fixed rate: recorded requests sent more than [`LATE`] after due, and the most late.
    late: AtomicU64,
    max_late_us: AtomicU64,
}

/// One virtual connection's own state.
struct Conn {
    /// Its number (also picks its customer and stats shard).
    n: usize,
    customer: usize,
    sender: Option<SendRequest<Empty<Bytes>>>,
    /// Connections opened so far.
    opened: u64,
}

/// One request to make.
struct Job {
    /// When it was due (fixed rate).
    due: Option<Instant>,
    /// Whether it counts (not warm-up).
    recorded: bool,
}

/// What one exchange produced besides its [`Outcome`]: the bytes to scan, if sampled.
type Exchange = (Outcome, Option<Vec<u8>>);

impl Driver {
    /// A driver for `load`.
    pub fn new(load: Load) -> Driver {
        Driver {
            load,
            tickets: AtomicU64::new(0),
            last_end_us: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            first_send_us: AtomicU64::new(u64::MAX),
            last_send_us: AtomicU64::new(0),
            late: AtomicU64::new(0),
            max_late_us: AtomicU64::new(0),
        }
    }

    /// How a fixed-rate run at `rate` kept its schedule: recorded requests sent per second,
    /// first send to last (below `rate` when every connection was busy), and the sends more
    /// than [`LATE`] after due (all connections busy, or a busy load generator; their wait is
    /// in the latency).
    pub fn rate_report(&self, rate: f64) -> RateReport {
        let n = self.sent.load(Ordering::Relaxed);
        let first = self.first_send_us.load(Ordering::Relaxed);
        let last = self.last_send_us.load(Ordering::Relaxed);
        let achieved_rps = if n == 0 || last < first {
            0.0
        } else {
            // n sends on schedule span (n - 1) / rate: add one interval so that they give `rate`.
            n as f64 / ((last - first) as f64 / 1e6 + 1.0 / rate)
        };
        RateReport {
            target_rps: rate,
            achieved_rps,
            late_sends: self.late.load(Ordering::Relaxed),
            max_late_us: self.max_late_us.load(Ordering::Relaxed),
        }
    }

    /// Time from the end of the warm-up to the end of the last recorded request.
    pub fn measured(&self) -> Duration {
        Duration::from_micros(self.last_end_us.load(Ordering::Relaxed))
    }

    /// Runs virtual connection number `n` until the run ends or `stop` turns true.
    pub async fn connection(self: Arc<Self>, n: usize, mut stop: watch::Receiver<bool>) {
        let load = &self.load;
        let mut conn = Conn {
            n,
            customer: n % load.customers.len().max(1),
            sender: None,
            opened: 0,
        };
        let mut cursor = load.plan.cursor(n);
        while let Some(job) = self.next_job(&mut stop).await {
            let Some((route, planned)) = load.plan.next(conn.customer, &mut cursor) else {
                break;
            };
            let (outcome, captured) = match job.due {
                Some(due) if due.elapsed() > load.timeout => {
                    (Outcome::Failed(ErrorKind::Timeout), None)
                }
                _ => {
                    if job.recorded {
                        self.note_send(job.due);
                    }
                    let sample = load.sample > 0.0 && rand::random::<f64>() < load.sample;
                    self.exchange(&mut conn, planned, job.due, sample).await
                }
            };
            if job.recorded {
                load.stats.record(n, route, &outcome);
                let end = Instant::now().saturating_duration_since(load.clock.measure);
                let end_us = u64::try_from(end.as_micros()).unwrap_or(u64::MAX);
                self.last_end_us.fetch_max(end_us, Ordering::Relaxed);
            }
            // Warm-up answers are scanned too: a leak is a leak whenever it happens.
            if let Some(bytes) = captured {
                let hits = load.oracle.hits(conn.customer, &bytes);
                let names: Vec<&str> = hits.iter().map(|&id| load.oracle.canary(id)).collect();
                load.stats
                    .scanned(n, route, conn.customer, bytes.len() as u64, &names);
            }
        }
    }

    fn note_send(&self, due: Option<Instant>) {
        let now = Instant::now();
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let at = us(now.saturating_duration_since(self.load.clock.start));
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.first_send_us.fetch_min(at, Ordering::Relaxed);
        self.last_send_us.fetch_max(at, Ordering::Relaxed);
        if let Some(due) = due {
            let late = now.saturating_duration_since(due);
            if late > LATE {
                self.late.fetch_add(1, Ordering::Relaxed);
            }
            self.max_late_us.fetch_max(us(late), Ordering::Relaxed);
        }
    }

    /// The next request of a connection, or `None` when the run is over for it.
    async fn next_job(&self, stop: &mut watch::Receiver<bool>) -> Option<Job> {
        if *stop.borrow() {
            return None;
        }
        match self.load.schedule {
            Schedule::Closed => {
                let now = Instant::now();
                if now >= self.load.clock.deadline {
                    return None;
                }
                let recorded = now >= self.load.clock.measure;
                if recorded {
                    let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
                    if self.load.limit.is_some_and(|l| ticket >= l) {
                        return None;
                    }
                }
                Some(Job {
                    due: None,
                    recorded,
                })
            }
            Schedule::Rate { rate, warm, total } => {
                let k = self.tickets.fetch_add(1, Ordering::Relaxed);
                if k >= total {
                    return None;
                }
                let recorded = k >= warm;
                if recorded && self.load.limit.is_some_and(|l| k - warm >= l) {
                    return None;
                }
                let due = self.load.clock.start + send_offset(k, rate);
                // The timer has millisecond ticks: waking up to half a tick early (the latency
                // then runs from the actual send) halves the lateness it would add.
                let wake = due.checked_sub(TIMER_SLACK).unwrap_or(due);
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => {}
                    _ = stop.wait_for(|s| *s) => return None,
                }
                Some(Job {
                    due: Some(due),
                    recorded,
                })
            }
        }
    }

    /// Sends one request and reads the whole answer, within the timeout.
    async fn exchange(
        &self,
        conn: &mut Conn,
        planned: &Planned,
        due: Option<Instant>,
        sample: bool,
    ) -> Exchange {
        let sent = Instant::now();
        let from = due.map_or(sent, |d| d.min(sent));
        let attempt = self.attempt(conn, planned, sample);
        match tokio::time::timeout(self.load.timeout, attempt).await {
            Err(_) => {
                // Dropping the exchange closed the connection; open a new one next time.
                conn.sender = None;
                (Outcome::Failed(ErrorKind::Timeout), None)
            }
            Ok(Err(kind)) => {
                conn.sender = None;
                if kind == ErrorKind::Connect {
                    tokio::time::sleep(CONNECT_BACKOFF).await;
                }
                (Outcome::Failed(kind), None)
            }
            Ok(Ok((status, bytes, captured))) => (
                Outcome::Response {
                    status,
                    expected: planned.expect.admits(status),
                    latency: from.elapsed(),
                    bytes,
                },
                captured,
            ),
        }
    }

    /// Opens a connection if needed, sends, reads the body. A request the connection refused
    /// before sending it (closed by the server meanwhile) goes once more on a new connection.
    async fn attempt(
        &self,
        conn: &mut Conn,
        planned: &Planned,
        sample: bool,
    ) -> Result<(u16, u64, Option<Vec<u8>>), ErrorKind> {
        let mut request = Some(self.request(conn.customer, planned));
        for _ in 0..2 {
            let mut sender = match conn.sender.take() {
                Some(s) if !s.is_closed() => s,
                _ => {
                    if conn.opened > 0 {
                        self.load.stats.reconnected(conn.n);
                    }
                    conn.opened += 1;
                    connect(self.load.target.addr).await?
                }
            };
            if sender.ready().await.is_err() {
                continue;
            }
            let Some(req) = request.take() else {
                return Err(ErrorKind::Io);
            };
            match sender.try_send_request(req).await {
                Ok(response) => {
                    conn.sender = Some(sender);
                    return read(response, sample).await;
                }
                Err(mut e) => match e.take_message() {
                    Some(req) => request = Some(req),
                    None => return Err(ErrorKind::Io),
                },
            }
        }
        Err(ErrorKind::Io)
    }

    /// The request for `planned` as `customer`: Host, the customer's token, `--header`s (which
    /// replace headers of the same name).
    fn request(&self, customer: usize, planned: &Planned) -> Request<Empty<Bytes>> {
        let mut req = Request::new(Empty::new());
        *req.uri_mut() = planned.uri.clone();
        let headers = req.headers_mut();
        headers.insert(HOST, self.load.target.host.clone());
        if let Some(auth) = self
            .load
            .customers
            .get(customer)
            .and_then(|c| c.authorization.clone())
        {
            headers.insert(AUTHORIZATION, auth);
        }
        for h in &self.load.headers {
            headers.insert(h.name.clone(), h.value.clone());
        }
        req
    }
}

/// Opens one HTTP/1.1 connection to `addr`.
async fn connect(addr: std::net::SocketAddr) -> Result<SendRequest<Empty<Bytes>>, ErrorKind> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|_| ErrorKind::Connect)?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ErrorKind::Connect)?;
    // Ends when the sender is dropped or the server closes the connection.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Reads a whole answer: status, body size, and (when sampled) head + body for the oracle.
async fn read(
    response: http::Response<hyper::body::Incoming>,
    sample: bool,
) -> Result<(u16, u64, Option<Vec<u8>>), ErrorKind> {
    let status = response.status().as_u16();
    let mut captured = sample.then(|| {
        let mut head = format!("HTTP/1.1 {status}\r\n").into_bytes();
        for (name, value) in response.headers() {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    });
    let mut body = response.into_body();
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ErrorKind::Io)?;
        if let Ok(data) = frame.into_data() {
            bytes += data.len() as u64;
            if let Some(buf) = captured.as_mut() {
                if buf.len() + data.len() <= MAX_SCAN_BYTES {
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
    Ok((status, bytes, captured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_rate_requests_are_due_at_k_over_rate() {
        assert_eq!(send_offset(0, 200.0), Duration::ZERO);
        assert_eq!(send_offset(1, 200.0), Duration::from_millis(5));
        assert_eq!(send_offset(400, 200.0), Duration::from_secs(2));
        assert_eq!(send_offset(3, 3.0), Duration::from_secs(1));
        let gaps: Vec<Duration> = (0..10)
            .map(|k| send_offset(k + 1, 1000.0) - send_offset(k, 1000.0))
            .collect();
        assert!(gaps
            .iter()
            .all(|g| g.abs_diff(Duration::from_millis(1)) < Duration::from_micros(1)));
    }

    #[test]
    fn the_schedule_counts_warm_up_and_measured_requests() {
        let s = Schedule::fixed_rate(200.0, Duration::from_secs(1), Duration::from_secs(2));
        let Schedule::Rate { warm, total, .. } = s else {
            panic!("fixed rate");
        };
        assert_eq!((warm, total), (200, 600), "400 measured");
        let s = Schedule::fixed_rate(3.0, Duration::from_millis(500), Duration::from_secs(1));
        let Schedule::Rate { warm, total, .. } = s else {
            panic!("fixed rate");
        };
        // Due at 0, 1/3, 2/3, 1, 4/3 s: two before 0.5 s, five before 1.5 s.
        assert_eq!((warm, total), (2, 5));
        assert_eq!(due_before(Duration::ZERO, 1000.0), 0);
    }
}
