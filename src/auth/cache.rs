//! A bounded cache of verified tokens, so a client's repeated requests skip the signature check.
//!
//! Keys are the SHA-256 of the whole token (the token itself is never stored). Each entry
//! expires no later than the token's `exp` and never later than [`MAX_TTL`] after it was
//! verified. A hit re-checks `exp` against the clock, so a late eviction cannot resurrect an
//! expired token. Each entry remembers the key that verified it ([`KeyBinding`]); the verifier
//! serves a hit only while that key is still current and fresh, so a cached token never
//! outlives a key rotation or the key set's staleness bound.
//!
//! Deliberately not done: no negative caching (a refused token is checked again each time;
//! the checks before the signature are cheap).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest as _, Sha256};

use super::Identity;

/// Longest time a verified token is served from the cache.
pub(super) const MAX_TTL: Duration = Duration::from_secs(300);

/// The cache key: SHA-256 of the token.
pub(super) type TokenDigest = [u8; 32];

/// Hashes a token into its cache key.
pub(super) fn digest(token: &[u8]) -> TokenDigest {
    Sha256::digest(token).into()
}

/// The key a cached token was verified with: its `kid` and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KeyBinding {
    pub kid: String,
    pub fingerprint: [u8; 32],
}

#[derive(Clone)]
struct Entry {
    identity: Arc<Identity>,
    /// `None` for issuers with a static key (it cannot change while kbgate runs).
    binding: Option<Arc<KeyBinding>>,
    /// The token's `exp`, in seconds since the Unix epoch.
    exp: u64,
}

/// Expires each entry at the token's `exp`, or after [`MAX_TTL`], whichever comes first.
struct UntilExp;

impl Expiry<TokenDigest, Entry> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &TokenDigest,
        entry: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(ttl(entry.exp, unix_now()))
    }
}

fn ttl(exp: u64, now: u64) -> Duration {
    Duration::from_secs(exp.saturating_sub(now)).min(MAX_TTL)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Verified tokens by digest.
pub(super) struct TokenCache {
    inner: Cache<TokenDigest, Entry, foldhash::fast::RandomState>,
    lookups: crate::metrics::Lookups,
}

impl TokenCache {
    /// A cache holding at most `capacity` tokens (0 disables caching).
    pub fn new(capacity: u64) -> Self {
        Self {
            inner: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExp)
                // Keys are SHA-256 digests; foldhash hashes them for a fraction of SipHash's cost.
                .build_with_hasher(foldhash::fast::RandomState::default()),
            lookups: Default::default(),
        }
    }

    /// The identity of a token verified earlier, and the key that verified it, if it is cached
    /// and not yet expired.
    pub async fn get(&self, key: &TokenDigest) -> Option<(Arc<Identity>, Option<Arc<KeyBinding>>)> {
        let entry = self
            .inner
            .get(key)
            .await
            .filter(|entry| unix_now() < entry.exp);
        self.lookups.record(entry.is_some());
        let entry = entry?;
        Some((entry.identity, entry.binding))
    }

    /// Remembers a verified token until its `exp` (no-op when it is already due).
    pub async fn insert(
        &self,
        key: TokenDigest,
        identity: Arc<Identity>,
        binding: Option<KeyBinding>,
        exp: u64,
    ) {
        if exp <= unix_now() {
            return;
        }
        self.inner
            .insert(
                key,
                Entry {
                    identity,
                    binding: binding.map(Arc::new),
                    exp,
                },
            )
            .await;
    }

    /// Entries (after pending maintenance), hits and misses.
    pub async fn figures(&self) -> (u64, u64, u64) {
        self.inner.run_pending_tasks().await;
        let (hits, misses) = self.lookups.get();
        (self.inner.entry_count(), hits, misses)
    }

    /// How many tokens are cached, after pending maintenance.
    #[cfg(test)]
    pub async fn len(&self) -> u64 {
        self.inner.run_pending_tasks().await;
        self.inner.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_until_exp_but_never_beyond_the_cap() {
        assert_eq!(ttl(1_000, 990), Duration::from_secs(10));
        assert_eq!(ttl(1_000, 2_000), Duration::ZERO);
        assert_eq!(ttl(u64::MAX, 0), MAX_TTL);
    }

    #[tokio::test]
    async fn an_expired_token_is_never_served_from_the_cache() {
        let cache = TokenCache::new(10);
        let identity = Arc::new(Identity {
            issuer: "i".into(),
            subject: "s".into(),
            email: None,
            org_claim: vec![],
            groups: vec![],
            groups_overage: false,
            group_orgs: None,
        });
        cache
            .insert(digest(b"expired"), identity.clone(), None, unix_now() - 1)
            .await;
        assert!(cache.get(&digest(b"expired")).await.is_none());
        let binding = KeyBinding {
            kid: "k1".into(),
            fingerprint: [7; 32],
        };
        cache
            .insert(
                digest(b"fresh"),
                identity.clone(),
                Some(binding.clone()),
                unix_now() + 60,
            )
            .await;
        let (found, bound) = cache.get(&digest(b"fresh")).await.unwrap();
        assert_eq!(found, identity);
        assert_eq!(bound.as_deref(), Some(&binding));
        assert!(cache.get(&digest(b"other")).await.is_none());
    }
}
