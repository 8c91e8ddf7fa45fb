//! The v2 space routes: `spaces` (the KB spaces that exist for the caller) and
//! `spaces/{id}/pages` (the visible pages of one of them), and the small cache that maps a
//! numeric space id to its key.
//!
//! Guarantees: upstream is asked for spaces only with `keys=` naming the caller's existing KB
//! spaces (intersected with the client's `keys`), and every space it returns is checked again
//! by key; `spaces/{id}/pages` of a space that is not a KB space for the caller, or that
//! upstream does not know, is the uniform 404 before any page is fetched. The id → key map is
//! asked of upstream (`spaces/{id}`), cached at most the metadata TTL, bounded in size.
//!
//! Deliberately not done: `spaces/{id}` itself, space labels, blog posts of a space.

use std::time::Duration;

use moka::future::Cache;

use crate::app::App;
use crate::filter::{scan_v2_single, ItemShape, V2ListWriter};
use crate::ids::SpaceKey;
use crate::policy::OrgSet;
use crate::route::v2::{SpacePagesQuery, V2SpacesQuery};

use super::super::spaces::space_exists_for;
use super::super::{Answer, ProxyError};
use super::contents_params;
use super::walk::{walk, ListSpec, Missing, Rule};

/// Most space ids remembered.
const CAPACITY: u64 = 1024;

/// Numeric space id → space key (`None`: upstream does not know the id), time-limited.
pub struct SpaceKeyCache {
    cache: Cache<String, Option<SpaceKey>>,
}

impl SpaceKeyCache {
    /// An empty cache whose entries live at most `ttl` (the metadata TTL).
    pub fn new(ttl: Duration) -> Self {
        SpaceKeyCache {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The key of the space with numeric id `id`, asking upstream when not cached.
    async fn key_of(
        &self,
        app: &App,
        id: &str,
        request_id: &str,
    ) -> Result<Option<SpaceKey>, ProxyError> {
        if let Some(known) = self.cache.get(id).await {
            return Ok(known);
        }
        let path = format!("/wiki/api/v2/spaces/{id}");
        let key = match app.upstream.get_site_json(&path, request_id).await {
            Ok(body) => {
                let scan = scan_v2_single(&body, ItemShape::Space)?;
                if scan.item().id() != id {
                    return Err(ProxyError::UpstreamMismatch);
                }
                scan.item().key().and_then(|k| SpaceKey::new(k).ok())
            }
            Err(e) if e.is_missing() => None,
            Err(e) => return Err(ProxyError::Upstream(e)),
        };
        self.cache.insert(id.to_owned(), key.clone()).await;
        Ok(key)
    }
}

/// `GET spaces`: the caller's KB spaces, each checked again by key.
pub(super) async fn spaces(
    app: &App,
    orgs: &OrgSet,
    q: &V2SpacesQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let allowed: Vec<&str> = app
        .policy
        .spaces
        .iter()
        .filter(|key| space_exists_for(&app.policy, orgs, key))
        .filter(|key| q.keys.is_empty() || q.keys.contains(key))
        .map(SpaceKey::as_str)
        .collect();
    if allowed.is_empty() {
        return Ok(Answer {
            body: V2ListWriter::new().finish(None, &app.links.v2_base()),
            route: "v2_spaces",
            ..Default::default()
        });
    }
    let mut params = Vec::new();
    if !q.ids.is_empty() {
        params.push(("ids", q.ids.join(",")));
    }
    if !q.keys.is_empty() {
        let keys: Vec<&str> = q.keys.iter().map(SpaceKey::as_str).collect();
        params.push(("keys", keys.join(",")));
    }
    let mut upstream_params: Vec<(&'static str, String)> = params
        .iter()
        .filter(|(k, _)| *k == "ids")
        .cloned()
        .collect();
    upstream_params.push(("keys", allowed.join(",")));
    let list = ListSpec {
        name: "v2_spaces",
        path: "spaces".to_owned(),
        params,
        forward_params: false,
        upstream_params,
        shape: ItemShape::Space,
        rule: Rule::Spaces,
        missing: Missing::Empty,
    };
    walk(app, orgs, &list, &q.paging, request_id).await
}

/// `GET spaces/{id}/pages`: the space decided by its key first, then its pages one by one.
pub(super) async fn space_pages(
    app: &App,
    orgs: &OrgSet,
    q: &SpacePagesQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let key = app
        .v2_space_keys
        .key_of(app, &q.space_id, request_id)
        .await?;
    if !key.is_some_and(|key| space_exists_for(&app.policy, orgs, &key)) {
        return Err(ProxyError::NotFound);
    }
    let (params, upstream_params) = contents_params(&q.query);
    let list = ListSpec {
        name: "v2_space_pages",
        path: format!("spaces/{}/pages", q.space_id),
        params,
        forward_params: true,
        upstream_params,
        shape: ItemShape::Page,
        rule: Rule::Content,
        missing: Missing::NotFound,
    };
    walk(app, orgs, &list, &q.query.paging, request_id).await
}
