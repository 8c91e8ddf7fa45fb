//! The metadata index: labels, ancestors and space of content ids the filter must decide but
//! that the upstream answer did not describe (ancestors of a search result, say).
//!
//! Entries come from two places: items described inline in an upstream answer
//! ([`MetadataIndex::remember`]), and batched lookups (`id in (…)` CQL with the expansions the
//! policy needs). Entries live at most `metadata_ttl`, so no decision uses metadata older than
//! that bound; capacity is bounded. An id upstream does not return is simply absent: callers
//! treat absent as hidden.
//!
//! Concurrent misses coalesce: an id already being looked up by another request is not asked
//! again — the second request waits for the first lookup (bounded by the upstream timeout)
//! and reads the cache. If that lookup fails or is cancelled, the waiter looks the id up
//! itself, so an upstream failure reaches every request as that failure (502/504), never as
//! "this id does not exist" (a 404, or an item silently missing from a list).

mod recent;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use moka::future::Cache;
use tokio::sync::watch;

use super::{Upstream, UpstreamError};
use crate::config::CacheSettings;
use crate::filter;
use crate::ids::{ContentId, SpaceKey};
use crate::policy::cql::quote;
use crate::policy::ItemMeta;

/// Most ids asked for in one upstream lookup.
const BATCH: usize = 50;
/// Most titles asked for in one upstream lookup.
const TITLE_BATCH: usize = 20;

/// Cached, bounded, time-limited item metadata.
pub struct MetadataIndex {
    cache: Cache<ContentId, Arc<ItemMeta>, foldhash::fast::RandomState>,
    /// Ids being looked up right now, each with the signal its lookup sends when done. Bounded
    /// by the requests in flight: every entry is removed when its lookup ends or is dropped.
    in_flight: Mutex<HashMap<ContentId, watch::Receiver<bool>>>,
    lookups: crate::metrics::Lookups,
    /// What `remember` wrote last, so an unchanged item skips the cache read.
    recent: recent::Recent,
}

/// What [`MetadataIndex::claim`] returns: ids to fetch, ids to wait for, ids now cached.
type Claimed<'a> = (
    InFlight<'a>,
    Vec<(ContentId, watch::Receiver<bool>)>,
    Vec<ContentId>,
);

/// Removes a lookup's ids from the in-flight map when the lookup ends, however it ends; the
/// waiters are woken by the sender's drop, and see `true` only if the lookup completed.
struct InFlight<'a> {
    map: &'a Mutex<HashMap<ContentId, watch::Receiver<bool>>>,
    ids: Vec<ContentId>,
    done: watch::Sender<bool>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        for id in &self.ids {
            map.remove(id);
        }
    }
}

impl MetadataIndex {
    /// An empty index with the configured TTL and capacity.
    pub fn new(settings: &CacheSettings) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(settings.metadata_capacity)
                .time_to_live(settings.metadata_ttl)
                // Looked up for every item of every answer: foldhash, not SipHash.
                .build_with_hasher(foldhash::fast::RandomState::default()),
            in_flight: Mutex::new(HashMap::new()),
            lookups: Default::default(),
            recent: recent::Recent::new(),
        }
    }

    /// Entries (after pending maintenance), and lookups of an id that hit or missed.
    pub async fn figures(&self) -> (u64, u64, u64) {
        self.cache.run_pending_tasks().await;
        let (hits, misses) = self.lookups.get();
        (self.cache.entry_count(), hits, misses)
    }

    /// Records metadata seen inline in an upstream answer. An entry that already says the same
    /// is left alone: a cache write costs several times a read, and every search would
    /// otherwise rewrite the metadata of every result; and metadata this index wrote itself
    /// moments ago is not even read again (see `recent.rs`).
    pub async fn remember(&self, meta: &ItemMeta) {
        let recent = self.recent.entry(meta);
        if recent.is_current() {
            return;
        }
        if self.cache.get(&meta.id).await.as_deref() != Some(meta) {
            self.cache
                .insert(meta.id.clone(), Arc::new(meta.clone()))
                .await;
        }
        recent.record();
    }

    /// Metadata for `ids`: cached entries, plus batched upstream lookups for the rest.
    /// Ids upstream does not know are absent from the map.
    pub async fn lookup(
        &self,
        upstream: &Upstream,
        ids: &[ContentId],
        request_id: &str,
    ) -> Result<HashMap<ContentId, Arc<ItemMeta>>, UpstreamError> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            let cached = self.cache.get(id).await;
            self.lookups.record(cached.is_some());
            match cached {
                Some(meta) => {
                    found.insert(id.clone(), meta);
                }
                None if !missing.contains(id) => missing.push(id.clone()),
                None => {}
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let (mine, waits, ready) = self.claim(missing);
        for id in ready {
            if let Some(meta) = self.cache.get(&id).await {
                found.insert(id, meta);
            }
        }
        self.fetch_into(upstream, &mine.ids, &mut found, request_id)
            .await?;
        mine.done.send_replace(true);
        drop(mine);
        let mut retry = Vec::new();
        for (id, mut done) in waits {
            // Ends when the other lookup finishes (its sender is dropped).
            let _ = done.changed().await;
            if !*done.borrow() {
                // It failed or was cancelled: ask ourselves, and fail as upstream fails.
                retry.push(id);
            } else if let Some(meta) = self.cache.get(&id).await {
                found.insert(id, meta);
            }
        }
        self.fetch_into(upstream, &retry, &mut found, request_id)
            .await?;
        Ok(found)
    }

    /// Looks `ids` up upstream in batches, caching every answer and adding `ids`' own to
    /// `found`.
    async fn fetch_into(
        &self,
        upstream: &Upstream,
        ids: &[ContentId],
        found: &mut HashMap<ContentId, Arc<ItemMeta>>,
        request_id: &str,
    ) -> Result<(), UpstreamError> {
        for chunk in ids.chunks(BATCH) {
            for meta in fetch_batch(upstream, chunk, request_id).await? {
                let meta = Arc::new(meta);
                self.cache.insert(meta.id.clone(), meta.clone()).await;
                if chunk.contains(&meta.id) {
                    found.insert(meta.id.clone(), meta);
                }
            }
        }
        Ok(())
    }

    /// Splits `missing` into the ids this lookup fetches (now marked in flight), the ids
    /// another lookup is already fetching (with the signal to wait for), and the ids another
    /// lookup finished since this one checked the cache (lookups insert before they leave the
    /// in-flight map, so checking the cache under the lock closes that window).
    fn claim(&self, missing: Vec<ContentId>) -> Claimed<'_> {
        let (done, signal) = watch::channel(false);
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids = Vec::with_capacity(missing.len());
        let mut waits = Vec::new();
        let mut ready = Vec::new();
        for id in missing {
            match map.get(&id) {
                Some(other) => waits.push((id, other.clone())),
                None if self.cache.contains_key(&id) => ready.push(id),
                None => {
                    map.insert(id.clone(), signal.clone());
                    ids.push(id);
                }
            }
        }
        let mine = InFlight {
            map: &self.in_flight,
            ids,
            done,
        };
        (mine, waits, ready)
    }

    /// Lookups in flight now (for tests and metrics).
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Metadata of the pages and blog posts named by title in a storage body, keyed by
    /// `(space key, title)`. Titles are unique within a space; a title upstream does not know,
    /// or knows more than once, is absent (hidden). Not cached by title: a rename must not
    /// leave a stale mapping behind; the items found are cached by id.
    pub async fn lookup_titles(
        &self,
        upstream: &Upstream,
        titles: &[(SpaceKey, String)],
        request_id: &str,
    ) -> Result<HashMap<(SpaceKey, String), Arc<ItemMeta>>, UpstreamError> {
        let mut found: HashMap<(SpaceKey, String), Vec<Arc<ItemMeta>>> = HashMap::new();
        for chunk in titles.chunks(TITLE_BATCH) {
            let clauses: Vec<String> = chunk
                .iter()
                .map(|(space, title)| {
                    format!(
                        "(space = {} AND title = {})",
                        quote(space.as_str()),
                        quote(title)
                    )
                })
                .collect();
            let cql = format!("type in (page, blogpost) AND ({})", clauses.join(" OR "));
            for (title, meta) in fetch(upstream, &cql, chunk.len() * 2, request_id).await? {
                let meta = Arc::new(meta);
                self.cache.insert(meta.id.clone(), meta.clone()).await;
                if let Some(space) = meta.space.clone() {
                    found.entry((space, title)).or_default().push(meta);
                }
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|(key, mut metas)| {
                (metas.len() == 1)
                    .then(|| metas.pop())
                    .flatten()
                    .map(|m| (key, m))
            })
            .collect())
    }

    /// True when metadata for `id` is cached now.
    pub fn contains(&self, id: &ContentId) -> bool {
        self.cache.contains_key(id)
    }

    /// Forgets one item (a webhook said it changed).
    pub async fn forget(&self, id: &ContentId) {
        self.recent.forget(id);
        self.cache.invalidate(id).await;
    }

    /// Forgets everything (a move changes the ancestors of a whole subtree).
    pub fn forget_all(&self) {
        self.recent.forget_all();
        self.cache.invalidate_all();
    }

    /// Entries currently held (for tests and metrics).
    pub fn len(&self) -> u64 {
        self.cache.entry_count()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn fetch_batch(
    upstream: &Upstream,
    ids: &[ContentId],
    request_id: &str,
) -> Result<Vec<ItemMeta>, UpstreamError> {
    let list: Vec<&str> = ids.iter().map(ContentId::as_str).collect();
    let cql = format!("id in ({})", list.join(","));
    Ok(fetch(upstream, &cql, ids.len(), request_id)
        .await?
        .into_iter()
        .map(|(_, meta)| meta)
        .collect())
}

/// Runs one metadata search; returns each result's title and metadata.
async fn fetch(
    upstream: &Upstream,
    cql: &str,
    limit: usize,
    request_id: &str,
) -> Result<Vec<(String, ItemMeta)>, UpstreamError> {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("cql", cql)
        .append_pair("limit", &limit.clamp(1, 100).to_string())
        .append_pair("excerpt", "none")
        .append_pair(
            "expand",
            "content.metadata.labels,content.ancestors,content.space",
        )
        .finish();
    let body = upstream
        .get_json(&format!("/search?{query}"), request_id)
        .await?;
    // A malformed lookup answer yields no metadata, so every id in it stays hidden.
    match filter::scan_search(&body) {
        Ok(scan) => Ok(scan
            .results()
            .iter()
            .filter_map(|r| Some((r.title(&body)?.into_owned(), r.meta()?.clone())))
            .collect()),
        Err(e) => {
            tracing::warn!(reason = "metadata_lookup_unreadable", error = %e, "metadata lookup answer refused");
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::policy::{Ancestors, Labels};

    fn meta(label: &str) -> ItemMeta {
        ItemMeta {
            id: ContentId::new("42").unwrap(),
            space: SpaceKey::new("KB").ok(),
            labels: Labels::Complete(smallvec::smallvec![label.into()]),
            ancestors: Ancestors::Known(smallvec::smallvec![ContentId::new("1").unwrap()]),
        }
    }

    async fn cached(index: &MetadataIndex, id: &ContentId) -> Option<ItemMeta> {
        index.cache.get(id).await.map(|m| (*m).clone())
    }

    #[tokio::test]
    async fn remember_keeps_the_latest_metadata_and_writes_again_after_forget() {
        let index = MetadataIndex::new(&CacheSettings {
            metadata_ttl: Duration::from_secs(60),
            metadata_capacity: 100,
            webhook_secret: None,
        });
        let (shared, globex) = (meta("how-to"), meta("org-globex"));
        let id = shared.id.clone();
        index.remember(&shared).await;
        index.remember(&shared).await;
        assert_eq!(cached(&index, &id).await, Some(shared.clone()));
        // Relabelled: the next answer that describes it replaces the entry at once.
        index.remember(&globex).await;
        assert_eq!(cached(&index, &id).await, Some(globex.clone()));
        // A webhook forgets it; the same metadata seen again is written again, not skipped.
        index.forget(&id).await;
        assert_eq!(cached(&index, &id).await, None);
        index.remember(&globex).await;
        assert_eq!(cached(&index, &id).await, Some(globex.clone()));
        index.forget_all();
        index.remember(&globex).await;
        assert_eq!(cached(&index, &id).await, Some(globex));
    }
}
