//! What the abuse suite measures: a legitimate customer's latency, the test process's memory
//! (kbgate runs in it), the sockets kbgate still holds, and the `target/tmp/abuse.log` report.
//!
//! Guarantees: every loop is bounded by a count and a time; the legitimate customer's every
//! answer must be a 200 that passes the leak oracle. Linux only (`/proc`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use kbgate::demo::DemoStack;
use tokio::net::TcpSocket;

use crate::support::LeakOracle;

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Latencies of one run of the legitimate customer.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (nearest rank), `p` in 0..=100.
    pub fn percentile(&self, p: usize) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99)
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A legitimate customer (alice) alternating a site search and a page read, one request at a
/// time on a keep-alive connection (latency is request to last body byte; the connect is not
/// counted), every answer checked by the leak oracle.
pub struct Legit {
    addr: SocketAddr,
    auth: String,
    oracle: LeakOracle,
    pages: Vec<String>,
    /// Times kbgate closed the customer's keep-alive connection during a run.
    pub reconnects: AtomicU64,
}

impl Legit {
    pub fn new(stack: &DemoStack) -> Legit {
        let alice = kbgate::demo::customers()
            .into_iter()
            .find(|c| c.name == "alice")
            .expect("alice");
        let orgs: Vec<&str> = alice.orgs.iter().map(String::as_str).collect();
        let corpus = stack.sim.corpus();
        Legit {
            addr: stack.addr,
            auth: format!("Bearer {}", stack.token(&alice, Duration::from_secs(600))),
            oracle: LeakOracle::new(corpus.forbidden_canaries_for(&orgs)),
            pages: corpus.visible_ids_for(&orgs).into_iter().take(10).collect(),
            reconnects: AtomicU64::new(0),
        }
    }

    fn target(&self, n: usize) -> String {
        if n % 2 == 0 {
            "/wiki/rest/api/search?cql=text~vpn&limit=10".to_owned()
        } else {
            let page = &self.pages[(n / 2) % self.pages.len()];
            format!("/wiki/rest/api/content/{page}?expand=body.storage")
        }
    }

    /// A keep-alive connection to kbgate from 127.0.0.2. A separate source address, and
    /// connections the customer closes itself, keep its connects clear of the attackers'
    /// TIME_WAIT sockets: on loopback both ends share one kernel, and a SYN that hits a
    /// TIME_WAIT socket of kbgate's side can stall for the 1 s SYN retransmission.
    async fn connect(&self) -> Sender {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.2:0".parse().expect("address"))
            .expect("bind 127.0.0.2");
        let stream = socket.connect(self.addr).await.expect("legitimate connect");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        // Ends when the sender is dropped: the customer closes first.
        tokio::spawn(connection);
        sender
    }

    /// One request on `sender`; returns its latency, or `None` when the connection was gone
    /// (kbgate closed it). Panics unless the answer is a clean 200.
    async fn one(&self, sender: &mut Sender, n: usize) -> Option<Duration> {
        let target = self.target(n);
        let request = http::Request::get(target.as_str())
            .header(http::header::HOST, self.addr.to_string())
            .header(http::header::AUTHORIZATION, self.auth.as_str())
            .body(Empty::<Bytes>::new())
            .expect("request");
        let start = Instant::now();
        sender.ready().await.ok()?;
        let response = sender.send_request(request).await.ok()?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        let took = start.elapsed();
        // Every byte the customer got, as on the wire (status line, headers, body).
        let mut bytes = format!("HTTP/1.1 {}\r\n", parts.status).into_bytes();
        for (name, value) in &parts.headers {
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&body);
        assert_eq!(
            parts.status,
            200,
            "legitimate GET {target}: {}",
            String::from_utf8_lossy(&bytes)
        );
        self.oracle
            .assert_clean(&bytes, &format!("alice GET {target}"));
        Some(took)
    }

    /// Requests back to back for `window` (at most `max` of them).
    pub async fn run_for(&self, window: Duration, max: usize) -> Latencies {
        self.run_while(window, max, || true).await
    }

    /// Requests back to back while `going()` holds, for at most `window` and `max` requests.
    pub async fn run_while(
        &self,
        window: Duration,
        max: usize,
        going: impl Fn() -> bool,
    ) -> Latencies {
        let start = Instant::now();
        let mut out = Vec::new();
        let mut sender = self.connect().await;
        for n in 0..max {
            if start.elapsed() >= window || !going() {
                break;
            }
            match self.one(&mut sender, n).await {
                Some(took) => out.push(took),
                None => {
                    // kbgate closed the keep-alive connection: a fresh one, and a retry.
                    self.reconnects.fetch_add(1, Ordering::Relaxed);
                    sender = self.connect().await;
                    let took = self.one(&mut sender, n).await;
                    out.push(took.expect("a request on a fresh connection is answered"));
                }
            }
        }
        Latencies(out)
    }
}

/// Resident memory of this process (kbgate and the simulator included), in MB.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb / 1024.0
}

/// Samples [`rss_mb`] every 25 ms in the background and keeps the highest value.
pub struct RssPeak {
    peak_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RssPeak {
    pub fn start() -> RssPeak {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak, halt) = (Arc::clone(&peak_kb), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            // Bounded: 60 s of samples at most.
            for _ in 0..2400 {
                peak.fetch_max((rss_mb() * 1024.0) as u64, Ordering::Relaxed);
                if halt.load(Ordering::Relaxed) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        });
        RssPeak {
            peak_kb,
            stop,
            task,
        }
    }

    /// Stops sampling; returns the peak in MB.
    pub async fn stop(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        (self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0).max(rss_mb())
    }
}

/// TCP states in which kbgate still holds an accepted connection: ESTABLISHED, CLOSE_WAIT.
const HELD_STATES: [&str; 2] = ["01", "08"];

/// Sockets listed in `table` (the text of `/proc/net/tcp`) whose local port is `port` and
/// that kbgate still holds open.
fn held_in(table: &str, port: u16) -> usize {
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1).unwrap_or_default();
            let state = fields.nth(1).unwrap_or_default();
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            local_port == Some(port) && HELD_STATES.contains(&state)
        })
        .count()
}

/// Accepted connections kbgate (listening on `port`) still holds.
pub fn kbgate_held(port: u16) -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|table| held_in(&table, port))
        .sum()
}

/// Waits (at most `limit`) until kbgate holds no accepted connection; returns how long it took.
pub async fn kbgate_drained(port: u16, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if kbgate_held(port) == 0 {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Replaces the lines of `target/tmp/abuse.log` that start with the same `key:` as one of
/// `lines` (so each test keeps its own lines up to date), and prints `lines`.
pub fn report(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
    let key = |l: &str| l.split(':').next().unwrap_or_default().to_owned();
    let keys: Vec<String> = lines.iter().map(|l| key(l)).collect();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("abuse.log");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut kept: Vec<String> = old
        .lines()
        .filter(|l| !keys.contains(&key(l)))
        .map(str::to_owned)
        .collect();
    kept.extend(lines.iter().cloned());
    let _ = std::fs::write(&path, kept.join("\n") + "\n");
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let l = Latencies((1..=100).map(Duration::from_millis).collect());
    assert_eq!(l.p50(), Duration::from_millis(50));
    assert_eq!(l.p99(), Duration::from_millis(99));
    let one = Latencies(vec![Duration::from_millis(7)]);
    assert_eq!(one.p99(), Duration::from_millis(7));
    assert_eq!(Latencies::default().p99(), Duration::ZERO);
}

#[test]
fn held_sockets_are_counted_by_local_port_and_state() {
    let table = "  sl  local_address rem_address   st tx_queue rx_queue\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n\
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000\n\
   2: 0100007F:1F90 0100007F:D432 08 00000000:00000000\n\
   3: 0100007F:1F90 0100007F:D433 04 00000000:00000000\n\
   4: 0100007F:D431 0100007F:1F90 01 00000000:00000000\n";
    assert_eq!(
        held_in(table, 0x1F90),
        2,
        "listener, FIN_WAIT1 and the client side excluded"
    );
    assert_eq!(held_in(table, 0xD431), 1);
}
