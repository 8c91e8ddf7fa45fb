//! Confluence Cloud REST v2 through kbgate: every list shows exactly the caller's visible items
//! (computed from the simulator's own model), walked page by page with small limits through
//! kbgate's own cursors; a page's sub-routes answer a hidden page byte for byte like a missing
//! one; kbgate's cursors cannot be tampered with or moved to another list; bodies and labels are
//! checked whole. Every byte of every answer goes through the leak oracle.

use std::collections::BTreeSet;

use base64::Engine as _;
use kbgate::sim::{ContentKind, SimItem};
use serde_json::Value;

use crate::support::{send_raw, Customer, Stack};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_items_are_decided_first_and_come_with_only_visible_relatives() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let query = "body-format=storage&include-labels=true&include-direct-children=true";
    for c in stack.customers() {
        let missing_page = c
            .get(&stack, &format!("{V2}/pages/{MISSING}?{query}"))
            .await;
        let missing_blog = c.get(&stack, &format!("{V2}/blogposts/{MISSING}")).await;
        assert_eq!((missing_page.status, missing_blog.status), (404, 404));
        assert_eq!(missing_page.body, missing_blog.body, "one uniform 404");
        for item in corpus.items() {
            let target = match item.kind {
                ContentKind::Page => format!("{V2}/pages/{}?{query}", item.id),
                ContentKind::BlogPost => format!("{V2}/blogposts/{}?body-format=storage", item.id),
            };
            let raw = c.get(&stack, &target).await;
            if !c.visible.contains(&item.id) {
                assert_eq!(raw.status, 404, "{} {target}", c.name);
                assert_eq!(
                    raw.body, missing_page.body,
                    "{} {target}: hidden looks missing",
                    c.name
                );
                continue;
            }
            assert_eq!(raw.status, 200, "{} {target}", c.name);
            let v = raw.json();
            assert_eq!(v["id"].as_str(), Some(item.id.as_str()));
            assert!(v["body"]["storage"]["value"]
                .as_str()
                .is_some_and(|b| !b.is_empty()));
            assert_eq!(
                v["_links"]["base"].as_str(),
                Some(format!("http://{}/wiki", stack.addr()).as_str())
            );
            match item.parent_id.as_deref() {
                Some(p) if c.visible.contains(p) => assert_eq!(v["parentId"].as_str(), Some(p)),
                _ => assert!(v.get("parentId").is_none() && v.get("parentType").is_none()),
            }
            if item.kind == ContentKind::Page {
                let names: Vec<&str> = v["labels"]["results"]
                    .as_array()
                    .expect("labels")
                    .iter()
                    .filter_map(|l| l["name"].as_str())
                    .collect();
                assert_eq!(names, item.labels, "{} {}: every label", c.name, item.id);
                assert_eq!(v["labels"]["meta"]["hasMore"], false);
                let children = v["directChildren"]["results"].as_array().expect("children");
                let got = ids(&c.name, &target, children);
                assert_eq!(set(got), visible_of(&c, corpus.children(&item.id)));
            }
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixty_label_page_is_missing_for_bob_and_whole_for_alice_and_bodies_are_rewritten() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let many = corpus.get("100036").expect("the 60-label page");
    assert!(many.labels.len() > 50);
    let (alice, bob) = (stack.customer("alice"), stack.customer("bob"));
    let target = format!("{V2}/pages/100036?include-labels=true");
    let raw = bob.get(&stack, &target).await;
    assert_eq!(raw.status, 404);
    assert_eq!(raw.body, missing(&stack, &bob, "").await);
    let raw = alice.get(&stack, &target).await;
    assert_eq!(raw.status, 200);
    let v = raw.json();
    let names: Vec<&str> = v["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names.len(), 61);
    assert_eq!(names, many.labels);
    assert_eq!(v["labels"]["meta"], serde_json::json!({"hasMore": false}));

    let acme_title = &corpus.get("100005").unwrap().title;
    let for_bob = storage_body(&stack, &bob, "100025").await;
    assert!(!for_bob.contains(acme_title.as_str()) && !for_bob.contains("100005"));
    assert!(
        for_bob.contains(&corpus.get("100004").unwrap().title),
        "shared link kept"
    );
    let for_alice = storage_body(&stack, &alice, "100025").await;
    assert!(
        for_alice.contains(acme_title.as_str()),
        "alice keeps her link"
    );

    let adf_for_bob = adf_body(&stack, &bob, "100025").await;
    let text = adf_for_bob.to_string();
    assert!(
        !text.contains(acme_title.as_str()) && !text.contains("100005"),
        "{text}"
    );
    assert!(
        text.contains("/pages/100004/"),
        "the shared card is kept: {text}"
    );
    let adf_for_alice = adf_body(&stack, &alice, "100025").await.to_string();
    assert!(adf_for_alice.contains(acme_title.as_str()) && adf_for_alice.contains("100005"));
    let home = adf_body(&stack, &bob, "100001").await.to_string();
    assert!(
        !home.contains("\"extension\""),
        "the children macro is dropped: {home}"
    );
    for c in stack.customers() {
        for item in corpus.items().iter().filter(|i| c.visible.contains(&i.id)) {
            if item.kind == ContentKind::Page {
                assert_eq!(adf_body(&stack, &c, &item.id).await["type"], "doc");
            }
        }
    }
    stack.stop().await;
}

/// The storage body of page `id` as `c` gets it.
async fn storage_body(stack: &Stack, c: &Customer, id: &str) -> String {
    let raw = c
        .get(stack, &format!("{V2}/pages/{id}?body-format=storage"))
        .await;
    assert_eq!(raw.status, 200);
    raw.json()["body"]["storage"]["value"]
        .as_str()
        .expect("storage body")
        .to_owned()
}

/// The ADF body of page `id` as `c` gets it, parsed.
async fn adf_body(stack: &Stack, c: &Customer, id: &str) -> Value {
    let raw = c
        .get(
            stack,
            &format!("{V2}/pages/{id}?body-format=atlas_doc_format"),
        )
        .await;
    assert_eq!(raw.status, 200, "{} ADF of {id}", c.name);
    let v = raw.json();
    assert_eq!(
        v["body"]["atlas_doc_format"]["representation"],
        "atlas_doc_format"
    );
    let doc = v["body"]["atlas_doc_format"]["value"]
        .as_str()
        .expect("ADF value");
    serde_json::from_str(doc).expect("ADF is JSON")
}

/// The label ids the simulator gives each label name (asked as the service account).
async fn label_ids(stack: &Stack) -> Vec<(String, String)> {
    let sim = &stack.inner.sim;
    let opts = kbgate::sim::SimOptions::default();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", opts.service_email, opts.service_token));
    let request = format!(
        "GET {V2}/labels?limit=250 HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n",
        sim.addr()
    );
    let raw = send_raw(sim.addr(), request.as_bytes()).await;
    assert_eq!(raw.status, 200);
    let v = raw.json();
    assert!(v["_links"].get("next").is_none(), "one page of labels");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_owned(),
                l["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_are_the_kb_space_only_and_label_pages_only_visible_pages() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let labels = label_ids(&stack).await;
    assert!(labels.len() > 60);
    for c in stack.customers() {
        for first in [
            format!("{V2}/spaces"),
            format!("{V2}/spaces?keys=KB,ENG&limit=1"),
        ] {
            let spaces = walk(&stack, &c, &first, 1).await;
            assert_eq!(ids(&c.name, &first, &spaces), [KB_SPACE_ID]);
            assert_eq!(spaces[0]["key"], "KB");
            only_members(
                &spaces[0],
                &[
                    "id",
                    "key",
                    "name",
                    "type",
                    "status",
                    "authorId",
                    "createdAt",
                    "homepageId",
                    "_links",
                ],
            );
        }
        assert!(walk(&stack, &c, &format!("{V2}/spaces?keys=ENG"), 25)
            .await
            .is_empty());
        let eng = c
            .get(&stack, &format!("{V2}/spaces/{ENG_SPACE_ID}/pages"))
            .await;
        let unknown = c.get(&stack, &format!("{V2}/spaces/{MISSING}/pages")).await;
        assert_eq!((eng.status, unknown.status), (404, 404));
        assert_eq!(eng.body, unknown.body, "a non-KB space looks like no space");

        let empty = walk(&stack, &c, &format!("{V2}/labels/{MISSING}/pages"), 25).await;
        assert!(empty.is_empty());
        for (n, (id, name)) in labels.iter().enumerate() {
            let limit = LIMITS[n % LIMITS.len()];
            let first = format!("{V2}/labels/{id}/pages?limit={limit}");
            let items = walk(&stack, &c, &first, limit).await;
            let expected = visible_of(
                &c,
                corpus
                    .items()
                    .iter()
                    .filter(|i| i.kind == ContentKind::Page && i.labels.contains(name)),
            );
            assert_eq!(
                set(ids(&c.name, &first, &items)),
                expected,
                "{} {first}",
                c.name
            );
        }
    }
    stack.stop().await;
}

/// The cursor in a next link.
fn cursor_of(next: &str) -> String {
    next.split("cursor=").nth(1).expect("cursor").to_owned()
}

/// kbgate's next link from `target` (which must have one).
async fn next_of(stack: &Stack, c: &Customer, target: &str) -> String {
    let raw = c.get(stack, target).await;
    assert_eq!(raw.status, 200, "{target}");
    raw.json()["_links"]["next"]
        .as_str()
        .expect("a next page")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_foreign_cursors_are_refused() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let next = next_of(&stack, &alice, &format!("{V2}/pages?limit=1")).await;
    let good = cursor_of(&next);
    assert_eq!(alice.get(&stack, &next).await.status, 200);
    let mut flipped = good.clone().into_bytes();
    for i in [0, flipped.len() / 2, flipped.len() - 1] {
        let mut bad = flipped.clone();
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        let raw = alice
            .get(&stack, &format!("{V2}/pages?limit=1&cursor={bad}"))
            .await;
        assert_eq!(raw.status, 400, "flipped byte {i}");
    }
    flipped.truncate(flipped.len() - 3);
    let truncated = String::from_utf8(flipped).unwrap();
    let children = next_of(
        &stack,
        &alice,
        &format!("{V2}/pages/100001/children?limit=1"),
    )
    .await;
    let foreign = cursor_of(&children);
    for target in [
        format!("{V2}/pages?limit=1&cursor={truncated}"),
        format!("{V2}/pages?limit=2&cursor={good}"),
        format!("{V2}/pages?limit=1&sort=title&cursor={good}"),
        format!("{V2}/blogposts?limit=1&cursor={good}"),
        format!("{V2}/spaces/{KB_SPACE_ID}/pages?limit=1&cursor={good}"),
        format!("{V2}/pages/100001/direct-children?limit=1&cursor={foreign}"),
        format!("{V2}/pages/100017/children?limit=1&cursor={foreign}"),
        format!("{V2}/pages?limit=1&cursor={foreign}"),
    ] {
        let raw = alice.get(&stack, &target).await;
        assert_eq!(raw.status, 400, "{target}");
    }
    let bob = stack.customer("bob");
    let raw = bob.get(&stack, &children).await;
    assert_eq!(
        raw.status, 200,
        "a cursor is bound to its list, not its customer"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_v2_parameters_are_400_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    for target in [
        "pages?body-format=storage",
        "pages?body-format=view",
        "pages?limit=251",
        "pages?status=trashed",
        "pages?space-id=KB",
        "pages?id=100001",
        "pages/100001?body-format=view",
        "pages/100001?body-format=export_view",
        "pages/100001?body-format=adf",
        "pages/100001?include-properties=true",
        "pages/100001/footer-comments?body-format=storage",
        "pages/100001/descendants?depth=9",
        "pages/100001/labels?prefix=global",
        "pages?cursor=not-a-cursor",
        "spaces?keys=K%22B",
    ] {
        let raw = alice.get(&stack, &format!("{V2}/{target}")).await;
        assert_eq!(raw.status, 400, "{target}");
    }
    for target in [
        "pages/abc",
        "labels",
        "pages/100001/versions",
        "footer-comments",
    ] {
        let raw = alice.get(&stack, &format!("{V2}/{target}")).await;
        assert_eq!(raw.status, 404, "{target}");
    }
    let forwarded = stack.forwarded_paths();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
    stack.stop().await;
}
