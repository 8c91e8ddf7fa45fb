//! The JSM customer-organizations source: an in-memory index (email and accountId →
//! organizations) rebuilt from the JSM REST API in the background and swapped atomically.
//!
//! Guarantees:
//! - lookups never wait on the network while a usable index exists: they clone an `Arc` under a
//!   read lock held for no I/O;
//! - one rebuild at a time (single-flight), whoever asks — the background task, a request finding
//!   no usable index, or [`JsmOrgs::refresh_now`]; on-demand rebuilds are rate-limited
//!   ([`ON_DEMAND_MIN_INTERVAL`]) and a request waits for one at most [`REQUEST_WAIT`];
//! - a failed rebuild keeps the last good index; once that is older than `max_staleness` (or
//!   there never was one) lookups fail with [`Unavailable`] — the caller denies, it never
//!   guesses;
//! - the background task holds only a weak reference and ends when the source is dropped.
//!
//! Deliberately not: per-customer JSM calls on the request path (the index is global), and
//! partial rebuilds (see `jsm_fetch`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use http::HeaderValue;
use tokio::sync::watch;

use super::jsm_fetch::{self, Index, IndexStats, Limits, Target};
use crate::config::JsmOrgSettings;
use crate::http_client::HttpClient;
use crate::ids::OrgId;

pub use super::jsm_fetch::JsmFetchError;

/// Least time between two rebuilds asked for by requests (the background task is not limited).
pub const ON_DEMAND_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Longest a request waits for a rebuild when no usable index exists.
pub const REQUEST_WAIT: Duration = Duration::from_secs(5);
/// Longest wait between two background attempts after a failure.
const RETRY_MAX: Duration = Duration::from_secs(30);
/// `limit` of JSM page requests (JSM's own maximum is 50).
const PAGE_SIZE: usize = 50;

/// Why the JSM source cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// No rebuild has succeeded yet.
    #[error("the JSM organization index was never loaded")]
    NeverLoaded,
    /// The last good index is older than `orgs.jsm.max_staleness`.
    #[error("the JSM organization index is {}s old, past orgs.jsm.max_staleness", .age.as_secs())]
    Stale {
        /// Age of the last good index.
        age: Duration,
    },
}

/// The outcome of the latest rebuild attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempt {
    /// Attempts finished so far.
    pub count: u64,
    /// Whether the latest one succeeded.
    pub ok: bool,
}

struct Loaded {
    index: Index,
    /// When the rebuild that produced it started: the index is at least this old.
    at: Instant,
}

/// JSM customer organizations, indexed. Share it behind an `Arc`.
pub struct JsmOrgs {
    base_url: String,
    credentials: HeaderValue,
    timeout: Duration,
    refresh_interval: Duration,
    max_staleness: Duration,
    org_map: std::collections::BTreeMap<String, OrgId>,
    limits: Limits,
    client: HttpClient,
    current: RwLock<Option<Arc<Loaded>>>,
    refreshing: AtomicBool,
    last_on_demand: Mutex<Option<Instant>>,
    done: watch::Sender<Attempt>,
    lookups: crate::metrics::Lookups,
}

impl std::fmt::Debug for JsmOrgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsmOrgs")
            .field("base_url", &self.base_url)
            .field("credentials", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl JsmOrgs {
    /// A source with no index yet; nothing is fetched until [`JsmOrgs::start`] or a lookup.
    pub fn new(
        settings: &JsmOrgSettings,
        client: HttpClient,
    ) -> Result<Arc<JsmOrgs>, http::header::InvalidHeaderValue> {
        Self::with_page_size(settings, client, PAGE_SIZE)
    }

    /// Like [`JsmOrgs::new`] with another page size (tests exercise paging with small pages).
    pub fn with_page_size(
        settings: &JsmOrgSettings,
        client: HttpClient,
        page_size: usize,
    ) -> Result<Arc<JsmOrgs>, http::header::InvalidHeaderValue> {
        let mut credentials = HeaderValue::from_str(settings.credentials.expose())?;
        credentials.set_sensitive(true);
        Ok(Arc::new(JsmOrgs {
            base_url: settings.base_url.clone(),
            credentials,
            timeout: settings.timeout,
            refresh_interval: settings.refresh_interval,
            max_staleness: settings.max_staleness,
            org_map: settings.org_map.clone(),
            limits: Limits {
                max_organizations: settings.max_organizations,
                max_users: settings.max_users,
                page_size: page_size.max(1),
            },
            client,
            current: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            last_on_demand: Mutex::new(None),
            done: watch::channel(Attempt::default()).0,
            lookups: Default::default(),
        }))
    }

    /// Loads the index (waiting at most `first_wait`; a slower load goes on in the background)
    /// and starts the background refresh, which ends when the last `Arc` is dropped.
    pub async fn start(self: &Arc<Self>, first_wait: Duration) {
        let mut rx = self.done.subscribe();
        self.trigger();
        if tokio::time::timeout(first_wait, rx.changed())
            .await
            .is_err()
        {
            tracing::warn!(
                reason = "jsm_first_load_slow",
                "the JSM organization index is still loading; JSM-sourced requests wait or get 503"
            );
        }
        tokio::spawn(refresh_loop(Arc::downgrade(self), self.refresh_interval));
    }

    /// The organizations JSM lists for a customer, by email (case-insensitive) and by
    /// accountId. Fails when no usable index exists even after a (bounded) rebuild attempt.
    pub async fn lookup(
        self: &Arc<Self>,
        email: Option<&str>,
        account_id: &str,
    ) -> Result<Vec<OrgId>, Unavailable> {
        if let Ok(loaded) = self.usable() {
            let orgs = find(&loaded.index, email, account_id);
            self.lookups.record(!orgs.is_empty());
            return Ok(orgs);
        }
        let mut rx = self.done.subscribe();
        if self.on_demand_allowed() {
            self.trigger();
        }
        if self.refreshing.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(REQUEST_WAIT, rx.changed()).await;
        }
        self.usable()
            .map(|loaded| find(&loaded.index, email, account_id))
    }

    /// Rebuilds the index now (or waits for the rebuild in progress) and returns the outcome.
    pub async fn refresh_now(self: &Arc<Self>) -> Attempt {
        let mut rx = self.done.subscribe();
        self.trigger();
        if self.refreshing.load(Ordering::Acquire) {
            let _ = rx.changed().await;
        }
        *self.done.borrow()
    }

    /// Figures of the current index and its age, if one was ever loaded.
    pub fn stats(&self) -> Option<(IndexStats, Duration)> {
        self.loaded().map(|l| (l.index.stats, l.at.elapsed()))
    }

    /// Customers and organizations indexed (0 before the first load), and lookups that found
    /// the customer in the index (hits) or not (misses).
    pub fn figures(&self) -> (u64, u64, u64) {
        let entries = self.stats().map_or(0, |(s, _)| s.users as u64);
        let (hits, misses) = self.lookups.get();
        (entries, hits, misses)
    }

    /// True when an index is loaded and within its staleness bound (lookups can be answered).
    pub fn is_usable(&self) -> bool {
        self.usable().is_ok()
    }

    /// The outcome of the latest rebuild attempt.
    pub fn last_attempt(&self) -> Attempt {
        *self.done.borrow()
    }

    fn loaded(&self) -> Option<Arc<Loaded>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn usable(&self) -> Result<Arc<Loaded>, Unavailable> {
        let loaded = self.loaded().ok_or(Unavailable::NeverLoaded)?;
        let age = loaded.at.elapsed();
        if age > self.max_staleness {
            return Err(Unavailable::Stale { age });
        }
        Ok(loaded)
    }

    /// True (and the clock reset) when a request may start a rebuild now.
    fn on_demand_allowed(&self) -> bool {
        let mut last = self
            .last_on_demand
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let min = ON_DEMAND_MIN_INTERVAL.min(self.refresh_interval);
        if last.is_some_and(|t| t.elapsed() < min) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Starts a rebuild unless one is running.
    fn trigger(self: &Arc<Self>) {
        if self
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tokio::spawn(Arc::clone(self).rebuild());
        }
    }

    async fn rebuild(self: Arc<Self>) {
        let target = Target {
            client: &self.client,
            base_url: &self.base_url,
            credentials: &self.credentials,
            timeout: self.timeout,
            org_map: &self.org_map,
            limits: &self.limits,
        };
        let ok = match jsm_fetch::fetch_index(&target).await {
            Ok((index, at)) => {
                let s = index.stats;
                if s.truncated {
                    tracing::warn!(
                        reason = "jsm_index_truncated",
                        jsm.organizations = s.organizations,
                        jsm.users = s.users,
                        "the JSM organization index hit orgs.jsm.max_organizations or max_users; the rest is left out"
                    );
                }
                tracing::info!(
                    jsm.organizations = s.organizations,
                    jsm.mapped = s.mapped,
                    jsm.users = s.users,
                    jsm.requests = s.requests,
                    "JSM organization index loaded"
                );
                *self.current.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(Arc::new(Loaded { index, at }));
                true
            }
            Err(e) => {
                let age = self.loaded().map(|l| l.at.elapsed().as_secs());
                tracing::warn!(
                    reason = "jsm_refresh_failed",
                    error = %e,
                    index.age_s = ?age,
                    max_staleness_s = self.max_staleness.as_secs(),
                    "the JSM organization index was not refreshed; the last good one is kept until max_staleness"
                );
                false
            }
        };
        self.refreshing.store(false, Ordering::Release);
        self.done.send_modify(|a| {
            a.count += 1;
            a.ok = ok;
        });
    }
}

fn find(index: &Index, email: Option<&str>, account_id: &str) -> Vec<OrgId> {
    let mut out: Vec<OrgId> = Vec::new();
    let by_email = email.and_then(|e| index.by_email.get(&e.trim().to_lowercase()));
    let by_account = index.by_account.get(account_id);
    for org in by_email.into_iter().chain(by_account).flatten() {
        if !out.contains(org) {
            out.push(org.clone());
        }
    }
    out
}

/// Rebuilds every `interval` (sooner after a failure) until the source is dropped.
async fn refresh_loop(source: Weak<JsmOrgs>, interval: Duration) {
    let retry = interval.min(RETRY_MAX);
    let mut delay = match source.upgrade() {
        Some(s) if s.last_attempt().ok => interval,
        _ => retry,
    };
    loop {
        tokio::time::sleep(delay).await;
        let Some(this) = source.upgrade() else { return };
        delay = if this.refresh_now().await.ok {
            interval
        } else {
            retry
        };
    }
}
