//! The application's figures read at each scrape ([`Snapshot`]), the per-cache hit counters the
//! caches keep ([`Lookups`]), and the collector that encodes them next to the registry's metrics.

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

/// One cache's figures at a scrape.
#[derive(Clone, Debug, Default)]
pub struct CacheFigures {
    /// `tokens`, `metadata`, `orgs`, `space_keys`.
    pub name: &'static str,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
}

/// One issuer's key-set refreshes at a scrape.
#[derive(Clone, Debug, Default)]
pub struct KeyFigures {
    pub issuer: String,
    pub refreshed: u64,
    pub failed: u64,
}

/// The running application's figures, read at each scrape.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub caches: Vec<CacheFigures>,
    pub keys: Vec<KeyFigures>,
    /// Each readiness check by name, and whether it passes.
    pub checks: Vec<(&'static str, bool)>,
}

/// Hit and miss counts of one cache, kept by the cache itself (relaxed atomics: figures, not
/// synchronization).
#[derive(Debug, Default)]
pub struct Lookups {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Lookups {
    /// Counts one lookup.
    pub fn record(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hits and misses so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.hits.load(std::sync::atomic::Ordering::Relaxed),
            self.misses.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}

/// Encodes the last [`Snapshot`] given to [`Metrics::render`].
#[derive(Debug)]
pub(super) struct SnapshotCollector(pub(super) Arc<Mutex<Snapshot>>);

type Labels = Vec<(&'static str, Cow<'static, str>)>;

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = match self.0.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let caches =
            |f: fn(&CacheFigures) -> (Labels, u64)| snap.caches.iter().map(f).collect::<Vec<_>>();
        let entries = caches(|c| (vec![("cache", c.name.into())], c.entries));
        family(
            &mut encoder,
            "cache_entries",
            "Entries in each cache",
            MetricType::Gauge,
            &entries,
        )?;
        let mut lookups = caches(|c| {
            (
                vec![("cache", c.name.into()), ("result", "hit".into())],
                c.hits,
            )
        });
        lookups.extend(caches(|c| {
            (
                vec![("cache", c.name.into()), ("result", "miss".into())],
                c.misses,
            )
        }));
        family(
            &mut encoder,
            "cache_lookups",
            "Cache lookups by result (since the last reload)",
            MetricType::Counter,
            &lookups,
        )?;
        let mut refreshes = Vec::new();
        for k in &snap.keys {
            let issuer: Cow<'static, str> = k.issuer.clone().into();
            refreshes.push((
                vec![("issuer", issuer.clone()), ("outcome", "ok".into())],
                k.refreshed,
            ));
            refreshes.push((
                vec![("issuer", issuer), ("outcome", "error".into())],
                k.failed,
            ));
        }
        family(
            &mut encoder,
            "jwks_refreshes",
            "Key-set fetches by issuer and outcome (since the last reload)",
            MetricType::Counter,
            &refreshes,
        )?;
        let ready = snap.checks.iter().all(|(_, ok)| *ok);
        family(
            &mut encoder,
            "ready",
            "1 when every readiness check passes",
            MetricType::Gauge,
            &[(Vec::new(), u64::from(ready))],
        )?;
        let checks: Vec<(Labels, u64)> = snap
            .checks
            .iter()
            .map(|(name, ok)| (vec![("check", Cow::Borrowed(*name))], u64::from(*ok)))
            .collect();
        family(
            &mut encoder,
            "ready_check",
            "Each readiness check: 1 passes, 0 fails",
            MetricType::Gauge,
            &checks,
        )
    }
}

/// One metric family of constant values, a counter or a gauge.
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    values: &[(Labels, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in values {
        let series = family.encode_family(labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(*value).encode(series)?,
            _ => ConstGauge::new(i64::try_from(*value).unwrap_or(i64::MAX)).encode(series)?,
        }
    }
    Ok(())
}
