//! The final report of a load test: built from the recorded [`Figures`], judged (ok, leak,
//! errors), printed as text for people or as one JSON object (`--json`) for CI and plots.
//!
//! Guarantees: the JSON and the text carry the same figures; every number is finite (no NaN
//! for an empty run). Deliberately not: histograms in full (percentiles only).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::stats::{ErrorKind, Figures};

/// The verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No leak, errors within `--max-error-rate`: exit code 0.
    Ok,
    /// A sampled response held a foreign canary, however fast the run was: exit code 3.
    Leak,
    /// More failed requests than `--max-error-rate` allows, or nothing measured: exit code 4.
    Errors,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Leak => 3,
            Outcome::Errors => 4,
        }
    }
}

/// How load was offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Each connection sends its next request when the previous answer is complete.
    ClosedLoop,
    /// Requests are due at start + k / rate; latency counts from that time.
    FixedRate,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// One route's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteReport {
    /// Route name (`search`, …) or the `--path`.
    pub route: String,
    pub requests: u64,
    pub failed: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Errors by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Errors {
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    /// Unexpected statuses (5xx; a 404 for a visible item; 2xx for a hidden one).
    pub status: u64,
    /// Responses with a foreign canary.
    pub leak: u64,
    /// Requests that failed (connect + timeout + io + status).
    pub failed: u64,
    /// `failed / requests`.
    pub rate: f64,
}

/// The rate a fixed-rate run asked for and the rate it offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateReport {
    /// `--rate`.
    pub target_rps: f64,
    /// Recorded requests sent per second, first send to last: below the target when every
    /// connection was busy (requests then waited, and their wait counts in the latency).
    pub achieved_rps: f64,
    /// Requests sent more than 2 ms after due: every connection was busy, or the load
    /// generator was (their wait is in the latency).
    pub late_sends: u64,
    /// The latest send after due, in µs.
    pub max_late_us: u64,
}

/// Leaks seen for one route and customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeakReport {
    pub route: String,
    pub customer: String,
    /// Responses holding at least one foreign canary.
    pub responses: u64,
    /// Distinct foreign canaries seen (the most in one response, or all named, if more).
    pub canaries: usize,
    /// Some of them (the canaries are the test's own texts).
    pub examples: Vec<String>,
}

/// What the leak oracle did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OracleReport {
    /// `--oracle-sample`.
    pub sample: f64,
    /// Distinct canaries known.
    pub canaries: usize,
    /// Responses scanned.
    pub responses: u64,
    /// Bytes scanned (head + body).
    pub bytes: u64,
    /// Responses with a foreign canary.
    pub hits: u64,
    pub leaks: Vec<LeakReport>,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub outcome: Outcome,
    pub mode: Mode,
    pub target: String,
    pub embedded: bool,
    pub connections: u32,
    pub customers: usize,
    pub warmup_s: f64,
    /// From the end of the warm-up to the last recorded answer.
    pub duration_s: f64,
    /// Recorded requests (answered or failed).
    pub requests: u64,
    pub throughput_rps: f64,
    /// Fixed-rate runs only.
    pub rate: Option<RateReport>,
    pub latency_us: Latency,
    pub routes: Vec<RouteReport>,
    /// Responses by status class (`2xx`, `4xx`, …; `other` for codes outside 100–599).
    pub statuses: BTreeMap<String, u64>,
    pub errors: Errors,
    pub max_error_rate: f64,
    pub reconnects: u64,
    pub bytes_received: u64,
    pub oracle: OracleReport,
}

/// How the run was set up (the parts of the report not measured).
#[derive(Debug, Clone)]
pub struct Setup {
    pub mode: Mode,
    pub target: String,
    pub embedded: bool,
    pub connections: u32,
    pub customers: Vec<String>,
    pub routes: Vec<String>,
    pub warmup_s: f64,
    pub max_error_rate: f64,
    pub oracle_sample: f64,
    pub canaries: usize,
}

impl Report {
    /// The report of figures `f` measured over `duration_s` seconds; `rate`: how a fixed-rate
    /// run kept its schedule.
    pub fn build(setup: &Setup, f: &Figures, duration_s: f64, rate: Option<RateReport>) -> Report {
        let per_second = |n: u64| {
            if duration_s > 0.0 {
                n as f64 / duration_s
            } else {
                0.0
            }
        };
        let failed = f.failed;
        let error_rate = if f.requests > 0 {
            failed as f64 / f.requests as f64
        } else {
            0.0
        };
        let leak_hits = f.errors_of(ErrorKind::Leak);
        let outcome = if leak_hits > 0 {
            Outcome::Leak
        } else if f.requests == 0 || error_rate > setup.max_error_rate {
            Outcome::Errors
        } else {
            Outcome::Ok
        };
        let h = &f.latency;
        let mean = if h.is_empty() { 0.0 } else { h.mean() };
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
        let statuses = classes
            .iter()
            .zip(f.statuses)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| ((*c).to_owned(), n))
            .collect();
        let name = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        Report {
            outcome,
            mode: setup.mode,
            target: setup.target.clone(),
            embedded: setup.embedded,
            connections: setup.connections,
            customers: setup.customers.len(),
            warmup_s: setup.warmup_s,
            duration_s,
            requests: f.requests,
            throughput_rps: per_second(f.requests),
            rate,
            latency_us: Latency {
                min: if h.is_empty() { 0 } else { h.min() },
                mean: if mean.is_finite() { mean } else { 0.0 },
                p50: h.value_at_quantile(0.5),
                p90: h.value_at_quantile(0.9),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
            },
            routes: f
                .routes
                .iter()
                .enumerate()
                .map(|(i, r)| RouteReport {
                    route: name(&setup.routes, i),
                    requests: r.requests,
                    failed: r.failed,
                    p50_us: r.latency.value_at_quantile(0.5),
                    p99_us: r.latency.value_at_quantile(0.99),
                })
                .collect(),
            statuses,
            errors: Errors {
                connect: f.errors_of(ErrorKind::Connect),
                timeout: f.errors_of(ErrorKind::Timeout),
                io: f.errors_of(ErrorKind::Io),
                status: f.errors_of(ErrorKind::Status),
                leak: leak_hits,
                failed,
                rate: error_rate,
            },
            max_error_rate: setup.max_error_rate,
            reconnects: f.reconnects,
            bytes_received: f.bytes,
            oracle: OracleReport {
                sample: setup.oracle_sample,
                canaries: setup.canaries,
                responses: f.sampled,
                bytes: f.sampled_bytes,
                hits: leak_hits,
                leaks: f
                    .leaks
                    .iter()
                    .map(|((route, customer), l)| LeakReport {
                        route: name(&setup.routes, *route),
                        customer: name(&setup.customers, *customer),
                        responses: l.responses,
                        canaries: l.most_in_one_response.max(l.canaries.len()),
                        examples: l.canaries.iter().take(3).cloned().collect(),
                    })
                    .collect(),
            },
        }
    }

    /// The process exit code (0 ok, 3 leak, 4 errors).
    pub fn exit_code(&self) -> u8 {
        self.outcome.exit_code()
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The report as text for people.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let mode = match self.mode {
            Mode::ClosedLoop => "closed loop".to_owned(),
            Mode::FixedRate => format!(
                "fixed rate {} rps",
                fmt_rate(self.rate.map_or(0.0, |r| r.target_rps))
            ),
        };
        let _ = writeln!(
            o,
            "kbgate loadtest: {mode}, {}, {}, {}{}",
            plural(u64::from(self.connections), "connection"),
            plural(self.customers as u64, "customer"),
            self.target,
            if self.embedded {
                " (embedded demo)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            o,
            "  measured    {:.2} s after a {:.1} s warm-up",
            self.duration_s, self.warmup_s
        );
        let _ = writeln!(
            o,
            "  requests    {} ({} rps), {} failed ({:.2}%), {} reconnects, {} received",
            self.requests,
            fmt_rate(self.throughput_rps),
            self.errors.failed,
            self.errors.rate * 100.0,
            self.reconnects,
            fmt_bytes(self.bytes_received)
        );
        if let Some(r) = self.rate {
            let _ = writeln!(
                o,
                "  rate        achieved {} of {} rps ({:+.1}%), {} sent > 2 ms late (max {})",
                fmt_rate(r.achieved_rps),
                fmt_rate(r.target_rps),
                (r.achieved_rps / r.target_rps - 1.0) * 100.0,
                r.late_sends,
                fmt_us(r.max_late_us)
            );
        }
        let l = &self.latency_us;
        let _ = writeln!(
            o,
            "  latency     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            fmt_us(l.p50),
            fmt_us(l.p90),
            fmt_us(l.p99),
            fmt_us(l.p999),
            fmt_us(l.max)
        );
        let width = self
            .routes
            .iter()
            .map(|r| r.route.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            o,
            "  {:<width$}  {:>9}  {:>10}  {:>10}  {:>7}",
            "route", "requests", "p50", "p99", "failed"
        );
        for r in &self.routes {
            let _ = writeln!(
                o,
                "  {:<width$}  {:>9}  {:>10}  {:>10}  {:>7}",
                r.route,
                r.requests,
                fmt_us(r.p50_us),
                fmt_us(r.p99_us),
                r.failed
            );
        }
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(class, n)| format!("{class} {n}"))
            .collect();
        let _ = writeln!(o, "  statuses    {}", statuses.join("  "));
        let e = &self.errors;
        let _ = writeln!(
            o,
            "  errors      connect {}  timeout {}  io {}  status {}  leak {}",
            e.connect, e.timeout, e.io, e.status, e.leak
        );
        let or = &self.oracle;
        let _ = writeln!(
            o,
            "  oracle      {} responses scanned (sample {}), {}, {} canaries, {} with a leak",
            or.responses,
            or.sample,
            fmt_bytes(or.bytes),
            or.canaries,
            or.hits
        );
        for leak in &or.leaks {
            let _ = writeln!(
                o,
                "  LEAK        route {}, customer {}: {} responses, {} foreign canaries (e.g. {})",
                leak.route,
                leak.customer,
                leak.responses,
                leak.canaries,
                leak.examples.join(", ")
            );
        }
        let verdict = match self.outcome {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Leak => "LEAK: a response carried another organization's canary".to_owned(),
            Outcome::Errors if self.requests == 0 => "errors: nothing was measured".to_owned(),
            Outcome::Errors => format!(
                "errors: {:.2}% failed, more than --max-error-rate {}",
                e.rate * 100.0,
                self.max_error_rate
            ),
        };
        let _ = writeln!(o, "  outcome     {verdict}");
        o
    }
}

/// `1 customer`, `5 customers`.
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `850 µs`, `5.12 ms`, `1.20 s`.
pub fn fmt_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us} µs"),
        1_000..=999_999 => format!("{:.2} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

fn fmt_rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

/// `950 B`, `96.8 kB`, `94.7 MB`.
pub fn fmt_bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}
