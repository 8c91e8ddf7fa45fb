//! Confluence Cloud REST v2 through kbgate: every list shows exactly the caller's visible items
//! (computed from the simulator's own model), walked page by page with small limits through
//! kbgate's own cursors; a page's sub-routes answer a hidden page byte for byte like a missing
//! one; a page's labels, attachments and comments are its own. `items` covers single items,
//! bodies, spaces, label pages and cursors. Every byte of every answer goes through the leak
//! oracle.

use std::collections::BTreeSet;

use kbgate::sim::{ContentKind, SimItem};
use serde_json::Value;

use crate::support::{Customer, Stack};

#[path = "v2_items.rs"]
mod items;

const V2: &str = "/wiki/api/v2";
const MISSING: &str = "987654321";
const KB_SPACE_ID: &str = "196609";
const ENG_SPACE_ID: &str = "196610";
const LIMITS: [usize; 3] = [1, 2, 7];

/// Walks a v2 list from `first` through kbgate's `_links.next`; returns every item. On every
/// page: 200, kbgate's base, the `Link` header equal to `_links.next`, full pages whenever a
/// next page is announced, and no empty page but a lone first one.
async fn walk(stack: &Stack, c: &Customer, first: &str, limit: usize) -> Vec<Value> {
    let base = format!("http://{}/wiki", stack.addr());
    let mut target = first.to_owned();
    let mut items = Vec::new();
    for page in 0..300 {
        let raw = c.get(stack, &target).await;
        let text = String::from_utf8_lossy(&raw.body).into_owned();
        assert_eq!(raw.status, 200, "{} {target}: {text}", c.name);
        let v = raw.json();
        assert_eq!(v["_links"]["base"].as_str(), Some(base.as_str()), "{text}");
        let results = v["results"].as_array().expect("results").clone();
        assert!(
            page == 0 || !results.is_empty(),
            "{} {target}: an empty page before the end",
            c.name
        );
        items.extend(results.iter().cloned());
        match v["_links"]["next"].as_str() {
            Some(next) => {
                assert_eq!(
                    raw.header("link"),
                    Some(format!("<{next}>; rel=\"next\"")),
                    "Link header equals _links.next"
                );
                assert_eq!(
                    results.len(),
                    limit,
                    "{} {target}: pages are kept full",
                    c.name
                );
                assert!(next.starts_with(&format!("{V2}/")), "{next}");
                target = next.to_owned();
            }
            None => {
                assert!(raw.header("link").is_none(), "no Link without a next page");
                return items;
            }
        }
    }
    panic!("more than 300 pages from {first}");
}

/// The ids of `items`, asserting there are no duplicates.
fn ids(who: &str, target: &str, items: &[Value]) -> Vec<String> {
    let ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{who} {target}: duplicates in {ids:?}"
    );
    ids
}

fn set(ids: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    ids.into_iter().map(Into::into).collect()
}

/// The ids of `items` the customer may see.
fn visible_of<'a>(c: &Customer, items: impl IntoIterator<Item = &'a SimItem>) -> BTreeSet<String> {
    set(items
        .into_iter()
        .filter(|i| c.visible.contains(&i.id))
        .map(|i| i.id.clone()))
}

/// Asserts every member name of `item` is in `allowed`.
fn only_members(item: &Value, allowed: &[&str]) {
    for key in item.as_object().expect("object").keys() {
        assert!(allowed.contains(&key.as_str()), "member {key} in {item}");
    }
}

const PAGE_MEMBERS: &[&str] = &[
    "id",
    "status",
    "title",
    "spaceId",
    "parentId",
    "parentType",
    "position",
    "authorId",
    "createdAt",
    "version",
    "_links",
];

/// The 404 body for `tail` on a page that does not exist.
async fn missing(stack: &Stack, c: &Customer, tail: &str) -> Vec<u8> {
    let raw = c.get(stack, &format!("{V2}/pages/{MISSING}{tail}")).await;
    assert_eq!(raw.status, 404, "{} {tail} of a missing page", c.name);
    raw.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_and_blog_post_lists_are_exactly_the_visible_items_page_after_page() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let of_kind = |kind| corpus.items().iter().filter(move |i| i.kind == kind);
    for c in stack.customers() {
        let pages = visible_of(&c, of_kind(ContentKind::Page));
        let blogs = visible_of(&c, of_kind(ContentKind::BlogPost));
        assert!(!pages.is_empty() && !blogs.is_empty());
        for limit in LIMITS {
            for (first, expected) in [
                (format!("{V2}/pages?limit={limit}"), &pages),
                (
                    format!("{V2}/pages?limit={limit}&sort=-title&status=current"),
                    &pages,
                ),
                (
                    format!("{V2}/spaces/{KB_SPACE_ID}/pages?limit={limit}"),
                    &pages,
                ),
                (format!("{V2}/blogposts?limit={limit}"), &blogs),
            ] {
                let items = walk(&stack, &c, &first, limit).await;
                let got = ids(&c.name, &first, &items);
                assert_eq!(set(got), *expected, "{} {first}", c.name);
                for item in &items {
                    only_members(item, PAGE_MEMBERS);
                    if let Some(parent) = item["parentId"].as_str() {
                        assert!(c.visible.contains(parent), "hidden parent {parent} named");
                    }
                }
            }
        }
        let eng = walk(
            &stack,
            &c,
            &format!("{V2}/pages?space-id={ENG_SPACE_ID}"),
            25,
        )
        .await;
        assert!(eng.is_empty(), "{}: ENG pages listed", c.name);
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pages_relatives_are_exactly_the_visible_ones_and_hidden_pages_look_missing() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let pages: Vec<&SimItem> = corpus
        .items()
        .iter()
        .filter(|i| i.kind == ContentKind::Page)
        .collect();
    let (mut listed, mut removed, mut refused) = (0, 0, 0);
    for c in stack.customers() {
        for relation in ["children", "direct-children", "descendants", "ancestors"] {
            let missing = missing(&stack, &c, &format!("/{relation}")).await;
            for (n, page) in pages.iter().enumerate() {
                let limit = LIMITS[n % LIMITS.len()];
                let depth = if relation == "descendants" {
                    "&depth=5"
                } else {
                    ""
                };
                let first = format!("{V2}/pages/{}/{relation}?limit={limit}{depth}", page.id);
                if !c.visible.contains(&page.id) {
                    let raw = c.get(&stack, &first).await;
                    assert_eq!(raw.status, 404, "{} {first}", c.name);
                    assert_eq!(
                        raw.body, missing,
                        "{} {first}: hidden looks missing",
                        c.name
                    );
                    refused += 1;
                    continue;
                }
                let all: Vec<&SimItem> = match relation {
                    "ancestors" => corpus.ancestors(&page.id),
                    "descendants" => corpus.descendants(&page.id),
                    _ => corpus.children(&page.id),
                };
                let items = walk(&stack, &c, &first, limit).await;
                let got = ids(&c.name, &first, &items);
                let expected = visible_of(&c, all.iter().copied());
                if relation == "ancestors" {
                    let in_order: Vec<&String> = all
                        .iter()
                        .map(|a| &a.id)
                        .filter(|id| expected.contains(*id))
                        .collect();
                    assert_eq!(got.iter().collect::<Vec<_>>(), in_order, "root first");
                }
                assert_eq!(set(got), expected, "{} {first}", c.name);
                removed += usize::from(expected.len() < all.len());
                listed += expected.len();
                for item in &items {
                    if let Some(parent) = item["parentId"].as_str() {
                        assert!(c.visible.contains(parent), "hidden parent {parent} named");
                    }
                }
            }
        }
    }
    assert!(
        listed > 0 && removed > 0 && refused > 0,
        "{listed} {removed} {refused}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_attachments_and_comments_belong_to_their_page() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let pages: Vec<&SimItem> = corpus
        .items()
        .iter()
        .filter(|i| i.kind == ContentKind::Page)
        .collect();
    for c in stack.customers() {
        for tail in ["labels", "attachments", "footer-comments"] {
            let missing = missing(&stack, &c, &format!("/{tail}")).await;
            for (n, page) in pages.iter().enumerate() {
                let limit = LIMITS[(n + 1) % LIMITS.len()];
                let first = format!("{V2}/pages/{}/{tail}?limit={limit}", page.id);
                if !c.visible.contains(&page.id) {
                    let raw = c.get(&stack, &first).await;
                    assert_eq!(raw.status, 404, "{} {first}", c.name);
                    assert_eq!(
                        raw.body, missing,
                        "{} {first}: hidden looks missing",
                        c.name
                    );
                    continue;
                }
                let items = walk(&stack, &c, &first, limit).await;
                match tail {
                    "labels" => {
                        let names: Vec<&str> =
                            items.iter().filter_map(|l| l["name"].as_str()).collect();
                        assert_eq!(names, page.labels, "{} {first}", c.name);
                        items
                            .iter()
                            .for_each(|l| only_members(l, &["id", "name", "prefix"]));
                    }
                    "attachments" => {
                        let got = ids(&c.name, &first, &items);
                        let expected =
                            set(corpus.attachments(&page.id).iter().map(|a| a.id.clone()));
                        assert_eq!(set(got), expected, "{} {first}", c.name);
                        for a in &items {
                            let link = a["downloadLink"].as_str().expect("downloadLink");
                            assert!(
                                link.starts_with(&format!("/download/attachments/{}/", page.id))
                                    && !link.contains('?'),
                                "kbgate's download link: {link}"
                            );
                            assert_eq!(a["_links"]["download"].as_str(), Some(link));
                            assert_eq!(a["pageId"].as_str(), Some(page.id.as_str()));
                        }
                    }
                    _ => {
                        let got = ids(&c.name, &first, &items);
                        let expected = set(corpus.comments(&page.id).iter().map(|m| m.id.clone()));
                        assert_eq!(set(got), expected, "{} {first}", c.name);
                        for m in &items {
                            assert!(m.get("body").is_none(), "no comment bodies");
                        }
                    }
                }
            }
        }
    }
    stack.stop().await;
}
