//! What a load test records: HDR latency histograms (1 µs … 60 s, 3 significant digits),
//! counters of statuses and errors, and the leak oracle's figures.
//!
//! Connections record into a few shards (a `Mutex` each, held for a few counter updates and
//! never across an `.await`), merged for the progress line and the report. Guarantees: memory
//! does not grow with the number of requests (histograms and counters only; leak details are
//! capped). Deliberately not: per-request records or time series.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Lowest and highest latency tracked, in microseconds.
pub const LOWEST_US: u64 = 1;
/// 60 s.
pub const HIGHEST_US: u64 = 60_000_000;
/// Significant digits of every histogram.
pub const SIGFIG: u8 = 3;
/// Most distinct canaries named per (route, customer) leak entry.
const MAX_NAMED_CANARIES: usize = 8;
/// Most shards (connections share them round robin).
const MAX_SHARDS: usize = 4;

/// Why a request counts as failed (or, for `Leak`, as leaking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection could not be opened.
    Connect,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection broke (reset, closed mid-answer, bad HTTP).
    Io,
    /// A status other than the expected one (a 5xx always).
    Status,
    /// A sampled answer held a foreign canary.
    Leak,
}

impl ErrorKind {
    fn index(self) -> usize {
        match self {
            ErrorKind::Connect => 0,
            ErrorKind::Timeout => 1,
            ErrorKind::Io => 2,
            ErrorKind::Status => 3,
            ErrorKind::Leak => 4,
        }
    }
}

fn bump(errors: &mut [u64; 5], kind: ErrorKind) {
    if let Some(e) = errors.get_mut(kind.index()) {
        *e += 1;
    }
}

/// A new latency histogram with the load test's bounds.
pub fn histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG)
}

/// Figures of one route.
#[derive(Debug, Clone)]
pub struct RouteFigures {
    /// Latency of its responses.
    pub latency: Histogram<u64>,
    /// Recorded requests (responses + transport errors).
    pub requests: u64,
    /// Requests that failed (transport or unexpected status).
    pub failed: u64,
}

/// Leaks seen for one (route, customer).
#[derive(Debug, Clone, Default)]
pub struct LeakFigures {
    /// Responses with at least one foreign canary.
    pub responses: u64,
    /// Distinct canaries found (the first 8 kept).
    pub canaries: BTreeSet<String>,
    /// Distinct canaries found, counted even past the cap (per response, largest seen).
    pub most_in_one_response: usize,
}

/// Everything recorded (one shard, or the merge of all).
#[derive(Debug, Clone)]
pub struct Figures {
    /// Latency of every response, in µs.
    pub latency: Histogram<u64>,
    /// Per route, indexed like the plan's routes.
    pub routes: Vec<RouteFigures>,
    /// Responses by status class: index 0 = 1xx … 4 = 5xx, 5 = other.
    pub statuses: [u64; 6],
    /// Errors by [`ErrorKind`] index.
    pub errors: [u64; 5],
    /// Recorded requests (responses + transport errors).
    pub requests: u64,
    /// Recorded requests that failed (transport error or unexpected status).
    pub failed: u64,
    /// Body bytes received in recorded responses.
    pub bytes: u64,
    /// Connections opened after a connection's first one.
    pub reconnects: u64,
    /// Responses the oracle scanned.
    pub sampled: u64,
    /// Bytes the oracle scanned.
    pub sampled_bytes: u64,
    /// Leaks by (route, customer).
    pub leaks: BTreeMap<(usize, usize), LeakFigures>,
}

impl Figures {
    /// Empty figures for `routes` routes.
    pub fn new(routes: usize) -> Result<Figures, hdrhistogram::CreationError> {
        let mut per_route = Vec::with_capacity(routes);
        for _ in 0..routes {
            per_route.push(RouteFigures {
                latency: histogram()?,
                requests: 0,
                failed: 0,
            });
        }
        Ok(Figures {
            latency: histogram()?,
            routes: per_route,
            statuses: [0; 6],
            errors: [0; 5],
            requests: 0,
            failed: 0,
            bytes: 0,
            reconnects: 0,
            sampled: 0,
            sampled_bytes: 0,
            leaks: BTreeMap::new(),
        })
    }

    /// Adds `other` into these figures.
    pub fn merge(&mut self, other: &Figures) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        for (mine, theirs) in self.routes.iter_mut().zip(&other.routes) {
            let _ = mine.latency.add(&theirs.latency);
            mine.requests += theirs.requests;
            mine.failed += theirs.failed;
        }
        for (a, b) in self.statuses.iter_mut().zip(other.statuses) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.requests += other.requests;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.reconnects += other.reconnects;
        self.sampled += other.sampled;
        self.sampled_bytes += other.sampled_bytes;
        for (key, leak) in &other.leaks {
            let mine = self.leaks.entry(*key).or_default();
            mine.responses += leak.responses;
            mine.most_in_one_response = mine.most_in_one_response.max(leak.most_in_one_response);
            for c in &leak.canaries {
                if mine.canaries.len() < MAX_NAMED_CANARIES {
                    mine.canaries.insert(c.clone());
                }
            }
        }
    }

    /// Errors of `kind`.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors.get(kind.index()).copied().unwrap_or(0)
    }
}

/// One finished exchange, as the driver saw it.
#[derive(Debug)]
pub enum Outcome {
    /// A complete response.
    Response {
        /// Status code.
        status: u16,
        /// Whether the status was the expected one.
        expected: bool,
        /// From the send (or intended send) time to the last body byte.
        latency: Duration,
        /// Body bytes.
        bytes: u64,
    },
    /// A transport failure.
    Failed(ErrorKind),
}

/// The shared recorder.
#[derive(Debug)]
pub struct Stats {
    shards: Vec<Mutex<Figures>>,
    routes: usize,
    /// Recorded requests so far (for the progress line).
    pub live_requests: AtomicU64,
    /// Failed or leaking requests so far (for the progress line).
    pub live_errors: AtomicU64,
}

impl Stats {
    /// A recorder for `routes` routes and `connections` connections.
    pub fn new(routes: usize, connections: usize) -> Result<Stats, hdrhistogram::CreationError> {
        let mut shards = Vec::new();
        for _ in 0..connections.clamp(1, MAX_SHARDS) {
            shards.push(Mutex::new(Figures::new(routes)?));
        }
        Ok(Stats {
            shards,
            routes,
            live_requests: AtomicU64::new(0),
            live_errors: AtomicU64::new(0),
        })
    }

    fn shard(&self, connection: usize) -> Option<MutexGuard<'_, Figures>> {
        let n = self.shards.len().max(1);
        self.shards
            .get(connection % n)
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records one request of `route` made by `connection`.
    pub fn record(&self, connection: usize, route: usize, outcome: &Outcome) {
        let failed = !matches!(outcome, Outcome::Response { expected: true, .. });
        self.live_requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.live_errors.fetch_add(1, Ordering::Relaxed);
        }
        let Some(mut f) = self.shard(connection) else {
            return;
        };
        f.requests += 1;
        if let Some(r) = f.routes.get_mut(route) {
            r.requests += 1;
            r.failed += u64::from(failed);
        }
        f.failed += u64::from(failed);
        match outcome {
            Outcome::Response {
                status,
                expected,
                latency,
                bytes,
            } => {
                let us = u64::try_from(latency.as_micros()).unwrap_or(HIGHEST_US);
                f.latency.saturating_record(us);
                if let Some(r) = f.routes.get_mut(route) {
                    r.latency.saturating_record(us);
                }
                let class = match status {
                    100..=599 => usize::from(status / 100 - 1),
                    _ => 5,
                };
                if let Some(s) = f.statuses.get_mut(class) {
                    *s += 1;
                }
                if !expected {
                    bump(&mut f.errors, ErrorKind::Status);
                }
                f.bytes += bytes;
            }
            Outcome::Failed(kind) => bump(&mut f.errors, *kind),
        }
    }

    /// Records a new connection opened by `connection` after its first.
    pub fn reconnected(&self, connection: usize) {
        if let Some(mut f) = self.shard(connection) {
            f.reconnects += 1;
        }
    }

    /// Records that the oracle scanned `bytes` of a response and found `canaries` (forbidden to
    /// `customer`) in it.
    pub fn scanned(
        &self,
        connection: usize,
        route: usize,
        customer: usize,
        bytes: u64,
        canaries: &[&str],
    ) {
        if !canaries.is_empty() {
            self.live_errors.fetch_add(1, Ordering::Relaxed);
        }
        let Some(mut f) = self.shard(connection) else {
            return;
        };
        f.sampled += 1;
        f.sampled_bytes += bytes;
        if canaries.is_empty() {
            return;
        }
        bump(&mut f.errors, ErrorKind::Leak);
        let leak = f.leaks.entry((route, customer)).or_default();
        leak.responses += 1;
        leak.most_in_one_response = leak.most_in_one_response.max(canaries.len());
        for c in canaries {
            if leak.canaries.len() < MAX_NAMED_CANARIES {
                leak.canaries.insert((*c).to_owned());
            }
        }
    }

    /// The merge of every shard.
    pub fn snapshot(&self) -> Result<Figures, hdrhistogram::CreationError> {
        let mut all = Figures::new(self.routes)?;
        for shard in &self.shards {
            let f = shard.lock().unwrap_or_else(|e| e.into_inner());
            all.merge(&f);
        }
        Ok(all)
    }

    /// p99 of every response so far, in µs (merging only the overall histograms).
    pub fn p99_us(&self) -> u64 {
        let Ok(mut all) = histogram() else { return 0 };
        for shard in &self.shards {
            let f = shard.lock().unwrap_or_else(|e| e.into_inner());
            let _ = all.add(&f.latency);
        }
        all.value_at_quantile(0.99)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ok(ms: u64) -> Outcome {
        Outcome::Response {
            status: 200,
            expected: true,
            latency: Duration::from_millis(ms),
            bytes: 10,
        }
    }

    #[test]
    fn shards_merge_into_one_set_of_figures() {
        let s = Stats::new(2, 8).unwrap();
        for i in 0..100u64 {
            s.record(i as usize, (i % 2) as usize, &ok(i + 1));
        }
        s.record(
            1,
            0,
            &Outcome::Response {
                status: 503,
                expected: false,
                latency: Duration::from_millis(1),
                bytes: 0,
            },
        );
        s.record(2, 1, &Outcome::Failed(ErrorKind::Timeout));
        s.reconnected(3);
        s.scanned(0, 1, 4, 500, &["CANARY-x", "CANARY-y"]);
        s.scanned(1, 1, 4, 100, &["CANARY-x"]);
        s.scanned(2, 0, 0, 100, &[]);
        let f = s.snapshot().unwrap();
        assert_eq!(f.requests, 102);
        assert_eq!(f.failed, 2);
        assert_eq!(f.latency.len(), 101, "transport errors have no latency");
        assert_eq!(f.routes[0].latency.len(), 51);
        assert_eq!(f.routes[1].failed, 1);
        assert_eq!(f.routes[1].requests, 51);
        assert_eq!(f.statuses, [0, 100, 0, 0, 1, 0]);
        assert_eq!(f.errors_of(ErrorKind::Status), 1);
        assert_eq!(f.errors_of(ErrorKind::Timeout), 1);
        assert_eq!(f.errors_of(ErrorKind::Leak), 2);
        assert_eq!(f.reconnects, 1);
        assert_eq!((f.sampled, f.sampled_bytes), (3, 700));
        let leak = &f.leaks[&(1, 4)];
        assert_eq!(leak.responses, 2);
        assert_eq!(leak.canaries.len(), 2);
        assert_eq!(leak.most_in_one_response, 2);
        let p50 = f.latency.value_at_quantile(0.5);
        assert!((49_000..=51_100).contains(&p50), "{p50}");
        assert!(s.p99_us() >= 98_000);
        assert_eq!(s.live_requests.load(Ordering::Relaxed), 102);
        assert_eq!(s.live_errors.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn latencies_beyond_the_range_saturate() {
        let s = Stats::new(1, 1).unwrap();
        s.record(0, 0, &ok(3_600_000));
        let f = s.snapshot().unwrap();
        assert!(f.latency.max() >= HIGHEST_US - HIGHEST_US / 1000);
    }
}
