//! Step 6 for bodies: a page's storage-format body names other pages by title or id. Every
//! reference is decided for the caller like any other item (looked up in one batch per kind),
//! and references to hidden or unknown content are removed by `filter::storage`.
//!
//! A failed lookup hides every reference it would have decided: the page loses links, never
//! gains another organization's titles.

use std::collections::HashMap;
use std::sync::Arc;

use crate::app::App;
use crate::filter::storage::{self, ContentRef};
use crate::ids::{ContentId, SpaceKey};
use crate::policy::{ItemMeta, OrgSet};

use super::ProxyError;

/// The storage body `xhtml` of the page `page`, rewritten for a caller with `orgs`.
pub async fn rewrite(
    app: &App,
    orgs: &OrgSet,
    xhtml: &str,
    page: &ItemMeta,
    request_id: &str,
) -> Result<String, ProxyError> {
    let refs = storage::scan_storage(xhtml)?.refs;
    if refs.is_empty() {
        return Ok(xhtml.to_owned());
    }
    let own_space = page.space.clone();
    let mut titles: Vec<(SpaceKey, String)> = Vec::new();
    let mut ids: Vec<ContentId> = Vec::new();
    for r in &refs {
        match r {
            ContentRef::Page { title, space_key }
            | ContentRef::BlogPost {
                title, space_key, ..
            } => {
                if let Some(space) = ref_space(space_key.as_deref(), own_space.as_ref()) {
                    titles.push((space, title.clone()));
                }
            }
            ContentRef::Id(id) => {
                if let Ok(id) = ContentId::new(id) {
                    ids.push(id);
                }
            }
        }
    }
    let by_title = if titles.is_empty() {
        HashMap::new()
    } else {
        app.metadata
            .lookup_titles(&app.upstream, &titles, request_id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(
                    reason = "title_lookup_failed",
                    upstream.error = e.kind(),
                    "body links hidden"
                );
                HashMap::new()
            })
    };
    let by_id: HashMap<ContentId, Arc<ItemMeta>> = if ids.is_empty() {
        HashMap::new()
    } else {
        app.metadata
            .lookup(&app.upstream, &ids, request_id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(
                    reason = "id_lookup_failed",
                    upstream.error = e.kind(),
                    "body links hidden"
                );
                HashMap::new()
            })
    };
    let decide = |meta: Option<&Arc<ItemMeta>>| {
        meta.is_some_and(|m| app.policy.decide(orgs, m).is_visible())
    };
    let visible = |r: &ContentRef| match r {
        ContentRef::Page { title, space_key }
        | ContentRef::BlogPost {
            title, space_key, ..
        } => ref_space(space_key.as_deref(), own_space.as_ref())
            .is_some_and(|space| decide(by_title.get(&(space, title.clone())))),
        ContentRef::Id(id) => ContentId::new(id).is_ok_and(|id| decide(by_id.get(&id))),
    };
    let rewritten = storage::rewrite_storage(xhtml, &visible)?;
    if rewritten.removed_links + rewritten.removed_macros > 0 {
        tracing::debug!(
            content.id = %page.id,
            filter.removed_links = rewritten.removed_links,
            filter.removed_macros = rewritten.removed_macros,
            "body rewritten"
        );
    }
    Ok(rewritten.body)
}

/// The space a reference points into: its own `ri:space-key`, else the page's space.
fn ref_space(space_key: Option<&str>, own: Option<&SpaceKey>) -> Option<SpaceKey> {
    match space_key {
        Some(key) => SpaceKey::new(key).ok(),
        None => own.cloned(),
    }
}
