//! One issuer's current key set — fetched from a JWKS URL or through OIDC discovery — and the
//! machinery that keeps it fresh through key rotation and IdP outages (threats.md J11).
//!
//! Reading: readers take a `std::sync::RwLock` just long enough to clone an `Arc` of the
//! current [`Snapshot`]; a successful fetch swaps in a whole new snapshot. No reader ever waits
//! on the network unless it asked for a refetch.
//!
//! Refetching: a miss (unknown `kid`), a bad signature under a known `kid` and keys past their
//! staleness bound all call [`JwksStore::refresh_after`], which serializes fetches behind a
//! `tokio::sync::Mutex` (the single flight: the only lock held across I/O, and only refreshers
//! take it): a task that waited while another fetched does not fetch again, and at most one
//! on-demand fetch starts per `min_interval` (the rate limit). [`run_refresh`] refetches in the
//! background every `refresh_interval`, and retries sooner while the last attempt failed.
//!
//! Staleness: a failed fetch keeps the last good keys, but only until they are older than
//! `max_staleness` (age = since the last successful fetch). Older keys are dropped, and the
//! issuer has no keys (503 for its tokens, never 200) until a fetch succeeds again.
//!
//! Deliberately not done: no `Cache-Control`/`Expires` handling (the interval is configured),
//! no jitter between issuers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};

use super::discovery::{self, ProviderMetadata};
use super::jwks::{chain, parse_jwks, JwksError, KeySet};
use super::keys::VerifyKey;
use crate::http_client::{self, HttpClient};

/// Where a store's keys come from.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A JWKS document at a fixed URL.
    Jwks(Uri),
    /// The discovery document at this URL, then the JWKS at its `jwks_uri`.
    Discovery(Uri),
}

/// How a store fetches and how long its keys stay usable.
pub(super) struct FetchSettings {
    pub client: HttpClient,
    pub timeout: Duration,
    pub max_bytes: usize,
    /// Least time between two on-demand fetches.
    pub min_interval: Duration,
    /// Time between two background fetches.
    pub refresh_interval: Duration,
    /// Longest time the last good keys are used after the last successful fetch.
    pub max_staleness: Duration,
}

/// The outcome of a key lookup.
pub(super) enum Lookup {
    /// The key, and the fetch counter seen before looking (for a later [`JwksStore::refresh_after`]).
    Found { key: Arc<VerifyKey>, seen: u64 },
    /// The set has keys, but none with this `kid`, even after a refetch.
    Unknown,
    /// The issuer has no usable keys at all (never fetched, or dropped as stale).
    NoKeys,
}

/// What one call of [`JwksStore::refresh_after`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refresh {
    /// A fetch ran and its keys are now current.
    Fetched,
    /// A fetch ran and failed; the previous keys stay (within their staleness bound).
    Failed,
    /// Another task fetched meanwhile, or the rate limit held this one back.
    Skipped,
}

/// The keys of one successful fetch, and when it happened.
#[derive(Default)]
struct Snapshot {
    keys: Arc<KeySet>,
    /// When the fetch that produced `keys` finished; `None` when there are none.
    fetched_at: Option<Instant>,
}

/// One issuer's current key set and the machinery to refresh it.
pub(super) struct JwksStore {
    issuer: String,
    source: Source,
    settings: FetchSettings,
    current: RwLock<Arc<Snapshot>>,
    /// The last accepted discovery document (kept when keys go stale: login still needs it).
    metadata: RwLock<Option<Arc<ProviderMetadata>>>,
    /// Completed fetch attempts (successful or not).
    attempts: AtomicU64,
    /// Fetches of the key set document, successful or not (for tests and metrics).
    jwks_fetches: AtomicU64,
    /// Completed fetches that failed (for metrics).
    failures: AtomicU64,
    /// When the last fetch started; held across the fetch so fetches never overlap.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl JwksStore {
    /// A store with no keys yet; call [`JwksStore::refresh_after`] to fetch.
    pub fn new(issuer: String, source: Source, settings: FetchSettings) -> Self {
        Self {
            issuer,
            source,
            settings,
            current: RwLock::new(Arc::new(Snapshot::default())),
            metadata: RwLock::new(None),
            attempts: AtomicU64::new(0),
            jwks_fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// The fetch counter; pass it to [`JwksStore::refresh_after`] after a miss.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Acquire)
    }

    /// Key-set documents fetched so far (attempts, including failed ones).
    pub fn jwks_fetches(&self) -> u64 {
        self.jwks_fetches.load(Ordering::Relaxed)
    }

    /// Completed fetches that succeeded and that failed.
    pub fn outcomes(&self) -> (u64, u64) {
        let failed = self.failures.load(Ordering::Relaxed);
        (self.attempts().saturating_sub(failed), failed)
    }

    /// The last accepted discovery document, if the issuer uses discovery and one was fetched.
    pub fn metadata(&self) -> Option<Arc<ProviderMetadata>> {
        read(&self.metadata).clone()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&read(&self.current))
    }

    /// The current keys when they are within their staleness bound; drops them (once, with a
    /// warning) when they are not. Never waits on a fetch.
    pub fn fresh(&self) -> Option<Arc<KeySet>> {
        let snap = self.snapshot();
        let fetched_at = snap.fetched_at?;
        if fetched_at.elapsed() <= self.settings.max_staleness {
            return Some(Arc::clone(&snap.keys));
        }
        let mut guard = write(&self.current);
        // A fetch may have finished since the read: drop only the snapshot found stale.
        if Arc::ptr_eq(&guard, &snap) {
            *guard = Arc::new(Snapshot::default());
            tracing::warn!(
                auth.issuer = %self.issuer,
                max_staleness_s = self.settings.max_staleness.as_secs(),
                "keys older than max_key_staleness dropped; the issuer's tokens get 503 until a fetch succeeds"
            );
        }
        None
    }

    /// Time since the last successful fetch, or `None` when there are no usable keys.
    pub fn age(&self) -> Option<Duration> {
        let age = self.snapshot().fetched_at?.elapsed();
        (age <= self.settings.max_staleness).then_some(age)
    }

    /// Looks up `kid`, refetching once (single-flight, rate-limited) when it is unknown or the
    /// keys are missing or stale.
    pub async fn lookup(&self, kid: &str) -> Lookup {
        // Read the counter before the keys, so a fetch finishing in between is noticed.
        let seen = self.attempts();
        if let Some(key) = self.fresh().and_then(|set| set.get(kid)) {
            return Lookup::Found { key, seen };
        }
        self.refresh_after(seen, false).await;
        let seen = self.attempts();
        match self.fresh() {
            None => Lookup::NoKeys,
            Some(set) => match set.get(kid) {
                Some(key) => Lookup::Found { key, seen },
                None => Lookup::Unknown,
            },
        }
    }

    /// Fetches the key set unless a fetch completed since the caller read `seen` (single
    /// flight) or, unless `background`, the last fetch started less than `min_interval` ago
    /// (rate limit).
    pub async fn refresh_after(&self, seen: u64, background: bool) -> Refresh {
        let mut last_fetch = self.last_fetch.lock().await;
        if self.attempts() != seen {
            return Refresh::Skipped;
        }
        let limited = last_fetch.is_some_and(|at| at.elapsed() < self.settings.min_interval);
        if limited && !background {
            return Refresh::Skipped;
        }
        *last_fetch = Some(Instant::now());
        let outcome = match self.fetch().await {
            Ok((set, metadata)) => {
                tracing::info!(auth.issuer = %self.issuer, jwks.keys = set.len(), "key set refreshed");
                *write(&self.current) = Arc::new(Snapshot {
                    keys: Arc::new(set),
                    fetched_at: Some(Instant::now()),
                });
                if let Some(metadata) = metadata {
                    *write(&self.metadata) = Some(metadata);
                }
                Refresh::Fetched
            }
            Err(e) => {
                tracing::warn!(auth.issuer = %self.issuer, error = %chain(&e), "key set fetch failed; keeping the previous keys within max_key_staleness");
                self.failures.fetch_add(1, Ordering::Relaxed);
                Refresh::Failed
            }
        };
        self.attempts.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    /// When the background task should fetch next, given `failures` failed attempts in a row.
    fn next_background_fetch(&self, failures: u32) -> Duration {
        let s = &self.settings;
        if failures == 0 {
            if let Some(age) = self.age() {
                return s.refresh_interval.saturating_sub(age);
            }
        }
        retry_delay(s.min_interval, s.refresh_interval, failures)
    }

    async fn fetch(&self) -> Result<(KeySet, Option<Arc<ProviderMetadata>>), JwksError> {
        let (jwks_uri, metadata) = match &self.source {
            Source::Jwks(uri) => (uri.clone(), None),
            Source::Discovery(url) => {
                let body = self.get(url, "application/json").await?;
                let metadata =
                    discovery::parse(&body, &self.issuer).map_err(JwksError::Discovery)?;
                (metadata.jwks_uri.clone(), Some(Arc::new(metadata)))
            }
        };
        self.jwks_fetches.fetch_add(1, Ordering::Relaxed);
        let body = self
            .get(&jwks_uri, "application/jwk-set+json, application/json")
            .await?;
        let (set, dropped) = parse_jwks(&body)?;
        for d in dropped {
            tracing::warn!(auth.issuer = %self.issuer, jwks.kid = ?d.kid, reason = d.why, "key dropped from key set");
        }
        Ok((set, metadata))
    }

    async fn get(&self, uri: &Uri, accept: &'static str) -> Result<bytes::Bytes, JwksError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        let s = &self.settings;
        let fetched = http_client::fetch(&s.client, uri.clone(), headers, s.max_bytes, s.timeout)
            .await
            .map_err(JwksError::Fetch)?;
        if fetched.status != StatusCode::OK {
            return Err(JwksError::Status(fetched.status));
        }
        Ok(fetched.body)
    }
}

/// Delay before the next background attempt after `failures` failures in a row: `min_interval`
/// (at least 1 s), doubling, never more than `refresh_interval`.
fn retry_delay(min_interval: Duration, refresh_interval: Duration, failures: u32) -> Duration {
    let base = min_interval.max(Duration::from_secs(1));
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(refresh_interval)
}

/// Refreshes `store` in the background until the task is aborted: every `refresh_interval`
/// after the last successful fetch, and with a growing delay while fetches fail.
pub(super) async fn run_refresh(store: Arc<JwksStore>) {
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(store.next_background_fetch(failures)).await;
        match store.refresh_after(store.attempts(), true).await {
            Refresh::Fetched => failures = 0,
            Refresh::Failed => failures = failures.saturating_add(1),
            Refresh::Skipped => {}
        }
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_at_the_rate_limit_and_double_up_to_the_refresh_interval() {
        let (s, m) = (Duration::from_secs(10), Duration::from_secs(600));
        assert_eq!(retry_delay(s, m, 1), Duration::from_secs(10));
        assert_eq!(retry_delay(s, m, 2), Duration::from_secs(20));
        assert_eq!(retry_delay(s, m, 4), Duration::from_secs(80));
        assert_eq!(retry_delay(s, m, 9), m);
        assert_eq!(retry_delay(s, m, u32::MAX), m);
        assert_eq!(retry_delay(Duration::ZERO, m, 1), Duration::from_secs(1));
    }
}
