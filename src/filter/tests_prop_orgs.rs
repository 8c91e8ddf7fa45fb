//! Property tests of the filter driven by the policy (threats.md §3.2 suite B), for the shapes
//! `tests_prop.rs` (site search with a random visible mask) does not cover: v1 content lists,
//! content by id, v2 lists and JSM article pages.
//!
//! A pool of pages gets random ground truth (space KB or ENG, `org-*` / `kb-internal` labels,
//! complete or not, ancestors, one page the root of initech's subtree); a random answer mixes
//! pool pages (and non-page items) in the real upstream shape, with a marker `T<id>E` in each
//! title and `LEAKMARK` in every member the filter must drop. For random organization sets and
//! both `unmarked` settings, the predicate is [`Policy::decide`] on the truth, as the proxy
//! builds it. Then:
//! 1. the scan reads each item's metadata exactly as the truth has it;
//! 2. the output ids are exactly the visible items, in upstream order (so ⊆ visible), each
//!    with exactly its visible ancestors (v2: `parentId` only when the parent is visible);
//! 3. `size` (JSM: `size`; v2: the writer's count) equals the number of items kept;
//! 4. neither a hidden page's id nor its title marker, nor `LEAKMARK`, is anywhere in the
//!    output bytes, and the output is valid JSON.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::test_fixtures::{content_value, Item, Ref, BASE, SELF};
use super::*;
use crate::ids::{ContentId, OrgId, SpaceKey};
use crate::policy::{Ancestors, ItemMeta, Labels, OrgSet, Policy, Unmarked};

const POOL: usize = 10;
const LEAK: &str = "LEAKMARK";
const LABELS: &[&str] = &[
    "org-acme",
    "org-globex",
    "org-initech",
    "kb-internal",
    "howto",
];

/// Pool ids: six digits, none a substring of another or of any count in an answer.
fn pool_id(i: usize) -> String {
    format!("5150{i}9")
}

fn title(i: usize) -> String {
    format!("T{}E", pool_id(i))
}

/// The truth about one pool page.
#[derive(Clone, Debug)]
struct Truth {
    eng: bool,
    labels: Vec<&'static str>,
    complete: bool,
    /// Pool indices, root first.
    ancestors: Vec<usize>,
}

fn truth() -> impl Strategy<Value = Vec<Truth>> {
    let one = (
        prop::bool::weighted(0.15),
        prop::sample::subsequence(LABELS, 0..=2),
        prop::bool::weighted(0.85),
        prop::collection::vec(0..POOL, 0..3),
    )
        .prop_map(|(eng, labels, complete, ancestors)| Truth {
            eng,
            labels,
            complete,
            ancestors,
        });
    prop::collection::vec(one, POOL)
}

/// A caller's organizations and the policy's `unmarked` rule.
fn caller() -> impl Strategy<Value = (Vec<&'static str>, Unmarked)> {
    (
        prop::sample::subsequence(vec!["acme", "globex", "initech", "umbrella"], 0..=3),
        prop_oneof![Just(Unmarked::Shared), Just(Unmarked::Deny)],
    )
}

/// The world of one case: the truth, the policy and the caller.
struct World {
    truth: Vec<Truth>,
    policy: Policy,
    orgs: OrgSet,
}

impl World {
    fn new(truth: Vec<Truth>, orgs: &[&str], unmarked: Unmarked) -> World {
        let org = |o: &str| OrgId::new(o).unwrap();
        World {
            truth,
            policy: Policy {
                spaces: [SpaceKey::new("KB").unwrap()].into(),
                label_prefix: "org-".into(),
                internal_label: "kb-internal".into(),
                unmarked,
                subtrees: [(ContentId::new(&pool_id(0)).unwrap(), vec![org("initech")])].into(),
                space_orgs: Default::default(),
                known_orgs: ["acme", "globex", "initech"]
                    .iter()
                    .map(|o| org(o))
                    .collect(),
            },
            orgs: OrgSet::new(orgs.iter().map(|o| org(o))),
        }
    }

    fn meta(&self, i: usize) -> ItemMeta {
        let t = &self.truth[i];
        ItemMeta {
            id: ContentId::new(&pool_id(i)).unwrap(),
            space: Some(SpaceKey::new(if t.eng { "ENG" } else { "KB" }).unwrap()),
            labels: if t.complete {
                Labels::Complete(t.labels.iter().map(|&l| l.into()).collect())
            } else {
                Labels::Incomplete
            },
            ancestors: Ancestors::Known(
                t.ancestors
                    .iter()
                    .map(|&a| ContentId::new(&pool_id(a)).unwrap())
                    .collect(),
            ),
        }
    }

    fn visible_index(&self, i: usize) -> bool {
        self.policy.decide(&self.orgs, &self.meta(i)).is_visible()
    }

    /// The proxy's predicate: the policy on the truth; ids outside the pool are unknown.
    fn visible(&self, id: &str) -> bool {
        (0..POOL).any(|i| pool_id(i) == id && self.visible_index(i))
    }

    fn item(&self, i: usize) -> Item {
        let t = &self.truth[i];
        let mut item = Item::page(&pool_id(i), &title(i));
        item.labels = t.labels.iter().map(|l| (*l).to_owned()).collect();
        item.labels_complete = t.complete;
        item.ancestors = t
            .ancestors
            .iter()
            .map(|&a| Ref {
                id: pool_id(a),
                title: title(a),
            })
            .collect();
        item
    }

    /// A v1 Content object for pool page `i` in its true space.
    fn content(&self, i: usize) -> Value {
        let mut v = content_value(&self.item(i), LEAK);
        if self.truth[i].eng {
            v["space"]["key"] = json!("ENG");
        }
        v
    }

    /// Asserts that no hidden pool page's id or title marker, and no leak marker, is in `out`.
    fn assert_nothing_hidden_in(&self, out: &[u8]) -> Result<(), TestCaseError> {
        let text = std::str::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!text.contains(LEAK), "leak marker in {}", text);
        for i in (0..POOL).filter(|&i| !self.visible_index(i)) {
            prop_assert!(
                !text.contains(&pool_id(i)),
                "hidden id {} in {}",
                pool_id(i),
                text
            );
            prop_assert!(
                !text.contains(&title(i)),
                "hidden title {} in {}",
                title(i),
                text
            );
        }
        serde_json::from_slice::<Value>(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        Ok(())
    }
}

/// One entry of a generated answer: a pool page, or an item that is never a page.
#[derive(Clone, Debug)]
enum Entry {
    Page(usize),
    Other(&'static str, usize),
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    let entry = prop_oneof![
        8 => (0..POOL).prop_map(Entry::Page),
        1 => (prop::sample::select(vec!["attachment", "comment", "folder"]), 0..POOL)
            .prop_map(|(kind, i)| Entry::Other(kind, i)),
    ];
    prop::collection::vec(entry, 0..8)
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

proptest! {
    #[test]
    fn content_lists_show_exactly_the_callers_pages_with_exact_counts(
        truth in truth(), (orgs, unmarked) in caller(), entries in entries(), next in any::<bool>(),
    ) {
        let w = World::new(truth, &orgs, unmarked);
        let results: Vec<Value> = entries.iter().map(|e| match e {
            Entry::Page(i) => w.content(*i),
            Entry::Other(kind, i) => {
                let mut v = w.content(*i);
                v["type"] = json!(kind);
                v
            }
        }).collect();
        let mut links = json!({"base": "https://site.atlassian.net/wiki", "self": LEAK});
        if next {
            links["next"] = json!(format!("/rest/api/content/search?cql={LEAK}&cursor=x"));
        }
        let body = serde_json::to_vec(&json!({
            "results": results, "start": 0, "limit": 25, "size": entries.len(),
            "totalSize": 99, "cqlQuery": LEAK, "_links": links,
        })).unwrap();

        let scan = scan_list(&body).unwrap();
        let pages: Vec<usize> = entries.iter().filter_map(|e| match e {
            Entry::Page(i) => Some(*i),
            Entry::Other(..) => None,
        }).collect();
        let metas: Vec<&ItemMeta> = scan.items().collect();
        prop_assert_eq!(metas.len(), pages.len());
        for (meta, &i) in metas.iter().zip(&pages) {
            prop_assert_eq!(*meta, &w.meta(i));
        }
        prop_assert_eq!((scan.upstream_count(), scan.has_next()), (entries.len(), next));

        let links = SearchLinks { base: BASE, self_link: SELF, next_link: None };
        let rendered = render_list(&scan, &body, &|id| w.visible(id.as_str()), &links).unwrap();
        w.assert_nothing_hidden_in(&rendered.body)?;
        let out: Value = serde_json::from_slice(&rendered.body).unwrap();
        let kept: Vec<usize> = pages.iter().copied().filter(|&i| w.visible_index(i)).collect();
        let want: Vec<String> = kept.iter().map(|&i| pool_id(i)).collect();
        prop_assert_eq!(ids_of(&out["results"]), want);
        prop_assert_eq!(out["size"].as_u64(), Some(kept.len() as u64));
        prop_assert_eq!((rendered.kept, rendered.removed), (kept.len(), entries.len() - kept.len()));
        for (r, &i) in out["results"].as_array().unwrap().iter().zip(&kept) {
            let want: Vec<String> = w.truth[i].ancestors.iter()
                .filter(|&&a| w.visible_index(a)).map(|&a| pool_id(a)).collect();
            prop_assert_eq!(ids_of(&r["ancestors"]), want);
        }
    }

    #[test]
    fn content_by_id_is_shown_only_when_visible_and_only_with_visible_ancestors(
        truth in truth(), (orgs, unmarked) in caller(), i in 0..POOL,
    ) {
        let w = World::new(truth, &orgs, unmarked);
        // Content by id keeps the item's own `editui` and version summaries: no marker there.
        let mut value = w.content(i);
        value["_links"]["editui"] = json!("/pages/resumedraft.action");
        value["history"]["previousVersion"]["title"] = json!(title(i));
        let body = serde_json::to_vec(&value).unwrap();
        let scan = scan_content(&body).unwrap();
        prop_assert_eq!(scan.meta(), &w.meta(i));
        let links = ContentLinks { base: BASE, self_link: SELF };
        let rendered = render_content(&scan, &body, &|id| w.visible(id.as_str()), &links, Some("<p>kept</p>"));
        match rendered {
            Ok(out) => {
                prop_assert!(w.visible_index(i));
                w.assert_nothing_hidden_in(&out)?;
                let v: Value = serde_json::from_slice(&out).unwrap();
                let want: Vec<String> = w.truth[i].ancestors.iter()
                    .filter(|&&a| w.visible_index(a)).map(|&a| pool_id(a)).collect();
                prop_assert_eq!(ids_of(&v["ancestors"]), want);
            }
            Err(FilterError::Hidden) => prop_assert!(!w.visible_index(i)),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn v2_lists_show_the_pushed_pages_and_only_visible_parents(
        truth in truth(), (orgs, unmarked) in caller(), entries in prop::collection::vec(0..POOL, 0..8),
    ) {
        let w = World::new(truth, &orgs, unmarked);
        let results: Vec<Value> = entries.iter().map(|&i| {
            let parent = w.truth[i].ancestors.last().map(|&p| pool_id(p));
            json!({
                "id": pool_id(i), "status": "current", "title": title(i), "spaceId": "98",
                "parentId": parent, "parentType": "page", "position": 3, "authorId": "u1",
                "ownerId": LEAK, "createdAt": "2024-01-01T00:00:00Z",
                "version": {"number": 2, "message": "edit", "createdAt": "2024-01-02T00:00:00Z"},
                "body": {"storage": {"value": LEAK}},
                "_links": {"webui": format!("/spaces/KB/pages/{}/{}", pool_id(i), title(i)),
                           "tinyui": "/x/AB", "editui": LEAK, "self": LEAK},
            })
        }).collect();
        let body = serde_json::to_vec(&json!({
            "results": results,
            "_links": {"next": format!("/wiki/api/v2/pages?cursor={LEAK}"), "base": LEAK},
        })).unwrap();
        let scan = scan_v2_list(&body, ItemShape::Page).unwrap();
        prop_assert_eq!(scan.next_cursor(), Some(LEAK));
        let visible = |id: &str| w.visible(id);
        let download = |page: &str, file: &str| format!("/download/attachments/{page}/{file}");
        let ctx = RenderContext::list(&visible, &download, BASE);
        let mut writer = V2ListWriter::new();
        let mut kept = Vec::new();
        for (n, item) in scan.items().iter().enumerate() {
            prop_assert_eq!(item.id(), pool_id(entries[n]));
            if w.visible(item.id()) {
                writer.push(&scan, &body, n, &ctx).unwrap();
                kept.push(entries[n]);
            }
        }
        prop_assert_eq!(writer.count(), kept.len());
        let out = writer.finish(Some("/wiki/api/v2/pages?cursor=KBGATE"), BASE);
        w.assert_nothing_hidden_in(&out)?;
        let v: Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(ids_of(&v["results"]), kept.iter().map(|&i| pool_id(i)).collect::<Vec<_>>());
        for (r, &i) in v["results"].as_array().unwrap().iter().zip(&kept) {
            let parent = w.truth[i].ancestors.last().filter(|&&p| w.visible_index(p));
            let want = parent.map(|&p| pool_id(p));
            prop_assert_eq!(r["parentId"].as_str(), want.as_deref());
            prop_assert_eq!(r.get("parentType").is_some(), parent.is_some());
        }
    }

    #[test]
    fn jsm_pages_keep_exactly_the_well_formed_articles_and_show_only_visible_ones(
        truth in truth(), (orgs, unmarked) in caller(),
        values in prop::collection::vec((0..POOL, 0..6u8, prop::sample::select(vec!["KB", "ENG", "K B"])), 0..8),
    ) {
        let w = World::new(truth, &orgs, unmarked);
        // Kind 0–2: a good article; 3: another source type; 4: a bad page id; 5: no title.
        let json_values: Vec<Value> = values.iter().map(|&(i, kind, key)| {
            let mut v = json!({
                "title": format!("{} @@@hl@@@vpn@@@endhl@@@", title(i)), "excerpt": format!("About {}", title(i)),
                "source": {"type": "confluence", "pageId": pool_id(i), "spaceKey": key},
                "content": {"iframeSrc": format!("https://site.atlassian.net/{LEAK}")},
            });
            match kind {
                3 => v["source"]["type"] = json!("jira"),
                4 => v["source"]["pageId"] = json!(format!("{}x", pool_id(i))),
                5 => { v.as_object_mut().unwrap().remove("title"); }
                _ => {}
            }
            v
        }).collect();
        let body = serde_json::to_vec(&json!({
            "_expands": [], "size": values.len(), "start": 0, "limit": 50, "isLastPage": true,
            "_links": {"base": LEAK, "context": "", "next": LEAK}, "values": json_values,
        })).unwrap();
        let scan = scan_jsm_articles(&body).unwrap();
        let candidates: Vec<(usize, &str)> = values.iter()
            .filter(|(_, kind, key)| *kind < 3 && *key != "K B")
            .map(|&(i, _, key)| (i, key)).collect();
        let got: Vec<(String, &str)> = scan.articles().iter().map(|a| (a.page_id.as_str().to_owned(), a.space_key.as_str())).collect();
        let want: Vec<(String, &str)> = candidates.iter().map(|&(i, key)| (pool_id(i), key)).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(scan.dropped(), values.len() - candidates.len());

        // The proxy's rule: the page is visible and upstream named its true space.
        let shown: Vec<&JsmArticle> = scan.articles().iter().filter(|a| {
            let i = candidates.iter().position(|&(i, _)| pool_id(i) == a.page_id.as_str()).map(|n| candidates[n].0);
            i.is_some_and(|i| w.visible_index(i) && (a.space_key.as_str() == "ENG") == w.truth[i].eng)
        }).collect();
        let iframe = "https://kb.example.com/articles/x";
        let out_values: Vec<JsmArticleOut<'_>> = shown.iter().map(|a| JsmArticleOut {
            title: &a.title, excerpt: &a.excerpt, page_id: &a.page_id, space_key: &a.space_key, iframe_src: iframe,
        }).collect();
        let out = render_jsm_articles(&JsmPageOut {
            values: &out_values, start: 0, limit: 50, is_last_page: true,
            base: "https://kb.example.com/rest/servicedeskapi", next: None, prev: None,
        });
        w.assert_nothing_hidden_in(&out)?;
        let v: Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(v["size"].as_u64(), Some(shown.len() as u64));
        let ids: BTreeSet<&str> = v["values"].as_array().unwrap().iter()
            .map(|a| a["source"]["pageId"].as_str().unwrap()).collect();
        prop_assert!(ids.iter().all(|id| w.visible(id)), "{:?}", ids);
    }
}
