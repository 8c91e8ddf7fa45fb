//! Step 6 for bodies: a page's storage-format body names other pages by title or id. Every
//! reference is decided for the caller like any other item (looked up in one batch per kind),
//! and references to hidden or unknown content are removed by `filter::storage`. The same
//! decisions tell whether a search excerpt — cut by Confluence from text that includes link
//! text — may be shown.
//!
//! A failed lookup hides every reference it would have decided: the page loses links, never
//! gains another organization's titles.

use std::collections::HashMap;
use std::sync::Arc;

use crate::app::App;
use crate::filter::storage::{self, ContentRef};
use crate::filter::SearchScan;
use crate::ids::{ContentId, SpaceKey};
use crate::policy::{ItemMeta, OrgSet};

use super::ProxyError;

/// Who a rewritten body is for: an API client (listing macros removed) or kbgate's own KB
/// site (the `children` and `contentbylabel` macros left as stubs the site evaluates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// The API answer.
    Api,
    /// The KB site's article view.
    Site,
}

/// The storage body `xhtml` of the page `page`, rewritten for a caller with `orgs`, and (in
/// [`BodyMode::Site`]) what each listing stub lists.
pub async fn rewrite(
    app: &App,
    orgs: &OrgSet,
    xhtml: &str,
    page: &ItemMeta,
    mode: BodyMode,
    request_id: &str,
) -> Result<(String, Vec<storage::SiteListing>), ProxyError> {
    let refs = storage::scan_storage(xhtml)?.refs;
    if refs.is_empty() && mode == BodyMode::Api {
        return Ok((xhtml.to_owned(), Vec::new()));
    }
    let space = page.space.as_ref();
    let pairs: Vec<(&ContentRef, Option<&SpaceKey>)> = refs.iter().map(|r| (r, space)).collect();
    let targets = Targets::resolve(app, pairs, request_id).await;
    let visible = |r: &ContentRef| targets.visible(app, orgs, r, space);
    let (body, listings, removed_links, removed_macros) = match mode {
        BodyMode::Api => {
            let r = storage::rewrite_storage(xhtml, &visible)?;
            (r.body, Vec::new(), r.removed_links, r.removed_macros)
        }
        BodyMode::Site => {
            let r = storage::rewrite_storage_for_site(xhtml, &visible)?;
            (r.body, r.listings, r.removed_links, r.removed_macros)
        }
    };
    if removed_links + removed_macros > 0 {
        tracing::debug!(
            content.id = %page.id,
            filter.removed_links = removed_links,
            filter.removed_macros = removed_macros,
            "body rewritten"
        );
    }
    Ok((body, listings))
}

/// For each result of a search answer (by index), whether its excerpt may be shown: the result
/// is visible, and its storage body is present, readable, and names only content the caller
/// may see. Confluence cuts excerpts from text that includes link text.
pub async fn excerpts_allowed(
    app: &App,
    orgs: &OrgSet,
    scan: &SearchScan,
    body: &[u8],
    is_visible: &(dyn Fn(&ContentId) -> bool + Sync),
    request_id: &str,
) -> Vec<bool> {
    // Per result: its space and the references of its body, or None when the excerpt is
    // withheld whatever the lookups say.
    let scanned: Vec<Option<(Option<SpaceKey>, Vec<ContentRef>)>> = scan
        .results()
        .iter()
        .map(|r| {
            let meta = r.meta().filter(|m| is_visible(&m.id))?;
            let xhtml = r.storage_body(body)?;
            let refs = storage::scan_storage(&xhtml).ok()?.refs;
            Some((meta.space.clone(), refs))
        })
        .collect();
    let mut all: Vec<(&ContentRef, Option<&SpaceKey>)> = Vec::new();
    for (space, refs) in scanned.iter().flatten() {
        all.extend(refs.iter().map(|r| (r, space.as_ref())));
    }
    let targets = Targets::resolve(app, all, request_id).await;
    scanned
        .iter()
        .map(|entry| {
            entry.as_ref().is_some_and(|(space, refs)| {
                refs.iter()
                    .all(|r| targets.visible(app, orgs, r, space.as_ref()))
            })
        })
        .collect()
}

/// Metadata of the items a set of body references points at.
struct Targets {
    by_title: HashMap<(SpaceKey, String), Arc<ItemMeta>>,
    by_id: HashMap<ContentId, Arc<ItemMeta>>,
}

impl Targets {
    /// Looks up every reference (with the space of the page it appears in) in two batches.
    async fn resolve(
        app: &App,
        refs: Vec<(&ContentRef, Option<&SpaceKey>)>,
        request_id: &str,
    ) -> Targets {
        let mut titles: Vec<(SpaceKey, String)> = Vec::new();
        let mut ids: Vec<ContentId> = Vec::new();
        for (r, own_space) in refs {
            match target(r, own_space) {
                Some(Target::Title(key)) if !titles.contains(&key) => titles.push(key),
                Some(Target::Id(id)) if !ids.contains(&id) => ids.push(id),
                _ => {}
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
                        "body references hidden"
                    );
                    HashMap::new()
                })
        };
        let by_id = if ids.is_empty() {
            HashMap::new()
        } else {
            app.metadata
                .lookup(&app.upstream, &ids, request_id)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(
                        reason = "id_lookup_failed",
                        upstream.error = e.kind(),
                        "body references hidden"
                    );
                    HashMap::new()
                })
        };
        Targets { by_title, by_id }
    }

    /// True when the reference names an item the caller may see; unknown items are hidden.
    fn visible(
        &self,
        app: &App,
        orgs: &OrgSet,
        r: &ContentRef,
        own_space: Option<&SpaceKey>,
    ) -> bool {
        let meta = match target(r, own_space) {
            Some(Target::Title(key)) => self.by_title.get(&key),
            Some(Target::Id(id)) => self.by_id.get(&id),
            None => None,
        };
        meta.is_some_and(|m| app.decide(orgs, m).is_visible())
    }
}

/// What a reference is looked up by.
enum Target {
    Title((SpaceKey, String)),
    Id(ContentId),
}

/// The lookup key of a reference: its own `ri:space-key`, else the page's space, with the title;
/// or its content id.
fn target(r: &ContentRef, own_space: Option<&SpaceKey>) -> Option<Target> {
    match r {
        ContentRef::Page { title, space_key }
        | ContentRef::BlogPost {
            title, space_key, ..
        } => {
            let space = match space_key {
                Some(key) => SpaceKey::new(key).ok()?,
                None => own_space?.clone(),
            };
            Some(Target::Title((space, title.clone())))
        }
        ContentRef::Id(id) => ContentId::new(id).ok().map(Target::Id),
    }
}
