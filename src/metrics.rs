//! Prometheus metrics, served as text on the admin listener's `/metrics`.
//!
//! Two kinds of figures. Counters and histograms that requests move (requests by route and
//! status, latencies, upstream errors, hidden items, reloads, canary probe runs) live in
//! [`Metrics`], which outlives configuration reloads. Figures owned by the running
//! application (cache sizes and hit counts, key-set refreshes, readiness checks) are read from it
//! at each scrape into a [`Snapshot`]; they start again from zero when a reload builds new caches.
//!
//! Label values are static names (routes, reasons, kinds), status codes, configured issuers and
//! organizations: the number of series is bounded by the configuration, never by requests.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

mod snapshot;

use snapshot::SnapshotCollector;
pub use snapshot::{CacheFigures, KeyFigures, Lookups, Snapshot};

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The outcomes of a canary probe round.
pub const PROBE_OUTCOMES: [&str; 4] = ["clean", "leak", "error", "blind"];

/// Latency buckets in seconds: 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Org {
    org: String,
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The process's counters, gauges and histograms. Cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    snapshot: Arc<Mutex<Snapshot>>,
    requests: Family<RouteStatus, Counter>,
    request_seconds: Latencies<Route>,
    upstream_seconds: Latencies<Call>,
    upstream_errors: Family<Kind, Counter>,
    hidden_items: Family<Reason, Counter>,
    filter_responses: Family<Outcome, Counter>,
    removed_items: Counter,
    in_flight: Gauge,
    reloads: Family<Outcome, Counter>,
    last_reload: Gauge<f64, AtomicU64>,
    probe_runs: Family<Outcome, Counter>,
    probe_leaks: Family<Org, Counter>,
    probe_last_clean: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with every kbgate metric (all at zero) and the build information.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kbgate");
        let build = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
        build
            .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION"))])
            .set(1);
        registry.register("build_info", "kbgate's version (value 1)", build);
        let m = Self {
            registry: Registry::default(),
            snapshot: Arc::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            upstream_seconds: Family::new_with_constructor(latency_histogram),
            upstream_errors: Family::default(),
            hidden_items: Family::default(),
            filter_responses: Family::default(),
            removed_items: Counter::default(),
            in_flight: Gauge::default(),
            reloads: Family::default(),
            last_reload: Gauge::default(),
            probe_runs: Family::default(),
            probe_leaks: Family::default(),
            probe_last_clean: Gauge::default(),
        };
        let r = &mut registry;
        r.register(
            "requests",
            "Requests answered, by route and status",
            m.requests.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time from request head to response head, by route",
            m.request_seconds.clone(),
        );
        r.register(
            "upstream_request_duration_seconds",
            "Time of each Confluence request (json: whole answer; download: until headers)",
            m.upstream_seconds.clone(),
        );
        r.register(
            "upstream_errors",
            "Confluence requests that gave no usable answer, by kind",
            m.upstream_errors.clone(),
        );
        r.register(
            "filter_hidden_items",
            "Item decisions that hid an item from the customer, by reason",
            m.hidden_items.clone(),
        );
        r.register(
            "filter_responses",
            "Filtered answers: `filtered` when items were removed, else `unchanged`",
            m.filter_responses.clone(),
        );
        r.register(
            "filter_removed_items",
            "Items removed from answers",
            m.removed_items.clone(),
        );
        r.register(
            "in_flight_requests",
            "Requests being answered",
            m.in_flight.clone(),
        );
        r.register(
            "config_reloads",
            "Configuration reloads: ok, or rejected (old configuration kept)",
            m.reloads.clone(),
        );
        r.register(
            "config_last_reload_success_timestamp_seconds",
            "Unix time of the last configuration load that took effect",
            m.last_reload.clone(),
        );
        r.register(
            "canary_probe_runs",
            "Canary probe rounds: clean, leak or error",
            m.probe_runs.clone(),
        );
        r.register(
            "canary_probe_leaks",
            "Foreign canaries the probe saw, by the organization it acted as",
            m.probe_leaks.clone(),
        );
        r.register(
            "canary_probe_last_clean_timestamp_seconds",
            "Unix time of the last probe round with no leak and no error",
            m.probe_last_clean.clone(),
        );
        r.register_collector(Box::new(SnapshotCollector(m.snapshot.clone())));
        // Series that alerts watch exist from the start, at 0: a first increment is then an
        // increase Prometheus can see.
        for outcome in ["ok", "rejected"] {
            drop(m.reloads.get_or_create(&Outcome { outcome }));
        }
        for outcome in PROBE_OUTCOMES {
            drop(m.probe_runs.get_or_create(&Outcome { outcome }));
        }
        m.last_reload.set(unix_now());
        Self { registry, ..m }
    }

    /// Counts one answered request.
    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RouteStatus { route, status })
            .inc();
        self.request_seconds
            .get_or_create(&Route { route })
            .observe(took.as_secs_f64());
    }

    /// Counts one Confluence request that gave a usable answer (`call`: `json` or `download`).
    pub fn upstream(&self, call: &'static str, took: Duration) {
        self.upstream_seconds
            .get_or_create(&Call { call })
            .observe(took.as_secs_f64());
    }

    /// Counts one Confluence request that failed, by the error's kind.
    pub fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors.get_or_create(&Kind { kind }).inc();
    }

    /// Counts one item hidden from a customer.
    pub fn hidden(&self, reason: &'static str) {
        self.hidden_items.get_or_create(&Reason { reason }).inc();
    }

    /// Counts one filtered answer and the items it lost.
    pub fn filtered(&self, removed: usize) {
        let outcome = if removed > 0 { "filtered" } else { "unchanged" };
        self.filter_responses
            .get_or_create(&Outcome { outcome })
            .inc();
        self.removed_items.inc_by(removed as u64);
    }

    /// Marks a request in flight until the guard drops.
    pub fn in_flight(self: &Arc<Self>) -> InFlight {
        self.in_flight.inc();
        InFlight(self.clone())
    }

    /// Counts a configuration reload; a successful one also sets the last-reload time.
    pub fn reload(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "rejected" };
        self.reloads.get_or_create(&Outcome { outcome }).inc();
        if ok {
            self.last_reload.set(unix_now());
        }
    }

    /// Creates the per-organization leak series of a configured probe, at 0.
    pub fn probe_orgs<'a>(&self, orgs: impl IntoIterator<Item = &'a str>) {
        for org in orgs {
            drop(self.probe_leaks.get_or_create(&Org {
                org: org.to_owned(),
            }));
        }
    }

    /// Counts one canary probe round and the leaks it saw, by the organization probed as.
    pub fn probe_round(&self, outcome: &'static str, leaks: &[(String, u64)]) {
        self.probe_runs.get_or_create(&Outcome { outcome }).inc();
        for (org, n) in leaks {
            self.probe_leaks
                .get_or_create(&Org { org: org.clone() })
                .inc_by(*n);
        }
        if outcome == "clean" {
            self.probe_last_clean.set(unix_now());
        }
    }

    /// The Prometheus text exposition of every metric, with `snapshot` as the application's
    /// current figures.
    pub fn render(&self, snapshot: Snapshot) -> String {
        match self.snapshot.lock() {
            Ok(mut s) => *s = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail; a metric that could not be encoded is left out.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// Holds one in-flight slot of [`Metrics::in_flight`].
pub struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_value(text: &str, prefix: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counters_and_snapshot_figures_are_rendered_with_the_prefix() {
        let m = Arc::new(Metrics::new());
        m.request("search", 200, Duration::from_millis(3));
        m.request("search", 200, Duration::from_millis(4));
        m.upstream_error("timeout");
        m.hidden("other_org_label");
        m.filtered(3);
        m.filtered(0);
        let guard = m.in_flight();
        let text = m.render(Snapshot {
            caches: vec![CacheFigures {
                name: "tokens",
                entries: 5,
                hits: 7,
                misses: 2,
            }],
            keys: vec![KeyFigures {
                issuer: "https://idp".into(),
                refreshed: 1,
                failed: 4,
            }],
            checks: vec![("upstream", true), ("keys", false)],
        });
        drop(guard);
        let v = |p: &str| line_value(&text, p);
        assert_eq!(
            v("kbgate_requests_total{route=\"search\",status=\"200\"}"),
            Some(2.0)
        );
        assert_eq!(
            v("kbgate_request_duration_seconds_count{route=\"search\"}"),
            Some(2.0)
        );
        assert_eq!(
            v("kbgate_upstream_errors_total{kind=\"timeout\"}"),
            Some(1.0)
        );
        assert_eq!(
            v("kbgate_filter_hidden_items_total{reason=\"other_org_label\"}"),
            Some(1.0)
        );
        assert_eq!(v("kbgate_filter_removed_items_total"), Some(3.0));
        assert_eq!(
            v("kbgate_filter_responses_total{outcome=\"unchanged\"}"),
            Some(1.0)
        );
        assert_eq!(v("kbgate_in_flight_requests"), Some(1.0));
        assert_eq!(v("kbgate_cache_entries{cache=\"tokens\"}"), Some(5.0));
        assert_eq!(
            v("kbgate_cache_lookups_total{cache=\"tokens\",result=\"miss\"}"),
            Some(2.0)
        );
        assert_eq!(
            v("kbgate_jwks_refreshes_total{issuer=\"https://idp\",outcome=\"error\"}"),
            Some(4.0)
        );
        assert_eq!(v("kbgate_ready "), Some(0.0));
        assert_eq!(v("kbgate_ready_check{check=\"upstream\"}"), Some(1.0));
        assert_eq!(v("kbgate_build_info{version="), Some(1.0));
        assert!(
            text.contains("# TYPE kbgate_requests_total counter"),
            "{text}"
        );
        let after = m.render(Snapshot::default());
        assert_eq!(line_value(&after, "kbgate_in_flight_requests"), Some(0.0));
    }

    #[test]
    fn reloads_and_probe_rounds_are_counted() {
        let m = Metrics::new();
        m.reload(true);
        m.reload(false);
        m.probe_round("leak", &[("acme".into(), 2)]);
        m.probe_round("clean", &[]);
        let text = m.render(Snapshot::default());
        let v = |p: &str| line_value(&text, p);
        assert_eq!(
            v("kbgate_config_reloads_total{outcome=\"rejected\"}"),
            Some(1.0)
        );
        assert_eq!(
            v("kbgate_canary_probe_runs_total{outcome=\"leak\"}"),
            Some(1.0)
        );
        assert_eq!(
            v("kbgate_canary_probe_leaks_total{org=\"acme\"}"),
            Some(2.0)
        );
        assert!(v("kbgate_canary_probe_last_clean_timestamp_seconds").is_some_and(|t| t > 1e9));
        assert_eq!(v("kbgate_ready "), Some(1.0));
    }
}
