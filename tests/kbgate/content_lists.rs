//! Content lists — CQL content search (`content/search`) and the listing (`content?spaceKey=`)
//! — show every customer exactly their articles on every page, a title lookup of a hidden page
//! looks exactly like one of a missing page, and refused parameters never reach Confluence.

use std::collections::BTreeSet;

use kbgate::sim::ContentKind;

use crate::support::{all_pages_from, Customer, Stack};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every page of a content list from `first`, through kbgate's own `next` links; returns the
/// item ids. Lists carry no `totalSize` and no bodies.
pub(crate) async fn all_pages(stack: &Stack, c: &Customer, first: &str) -> Vec<String> {
    let check = |v: &serde_json::Value| {
        assert!(v.get("totalSize").is_none());
        assert_eq!(v["_links"]["context"], "/wiki");
        for item in v["results"].as_array().into_iter().flatten() {
            assert!(item.get("body").is_none(), "lists carry no bodies");
        }
    };
    all_pages_from(stack, c, first, |item| item, &check).await
}

/// The ids as a set, after checking that none came twice.
pub(crate) fn unique(name: &str, ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "{name}: no item twice across pages");
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_search_shows_each_customer_exactly_their_articles_on_every_page() {
    let stack = Stack::start().await;
    for c in stack.customers() {
        for limit in [3, 25] {
            let first = format!(
                "/wiki/rest/api/content/search?cql={}&limit={limit}&expand=space,version",
                enc("space = KB")
            );
            let ids = all_pages(&stack, &c, &first).await;
            assert_eq!(
                unique(&c.name, &ids),
                c.visible,
                "{} (orgs {:?}) with limit {limit}",
                c.name,
                c.orgs
            );
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topical_content_searches_return_only_visible_subsets() {
    let stack = Stack::start().await;
    let queries = [
        "text ~ vpn",
        "text ~ invoice",
        "title ~ vpn OR title ~ invoice",
        "type = blogpost",
        "label = \"org-acme\"",
        "ancestor = 200000",
        "space = ENG",
        "type = page ORDER BY title desc",
    ];
    let mut any_results = 0;
    for c in stack.customers() {
        for q in queries {
            let first = format!("/wiki/rest/api/content/search?cql={}&limit=4", enc(q));
            let ids = all_pages(&stack, &c, &first).await;
            any_results += ids.len();
            let set = unique(&c.name, &ids);
            assert!(
                set.is_subset(&c.visible),
                "{} saw hidden items for {q}: {:?}",
                c.name,
                set.difference(&c.visible).collect::<Vec<_>>()
            );
        }
    }
    assert!(
        any_results > 30,
        "the queries must return articles ({any_results})"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_shows_each_customer_exactly_their_pages_and_blog_posts() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    for c in stack.customers() {
        let mut seen = BTreeSet::new();
        for (kind, wire) in [
            (ContentKind::Page, "page"),
            (ContentKind::BlogPost, "blogpost"),
        ] {
            let first = format!("/wiki/rest/api/content?spaceKey=KB&type={wire}&limit=4");
            let got = unique(&c.name, &all_pages(&stack, &c, &first).await);
            let expected: BTreeSet<String> = c
                .visible
                .iter()
                .filter(|id| corpus.get(id).is_some_and(|i| i.kind == kind))
                .cloned()
                .collect();
            assert_eq!(got, expected, "{} type={wire}", c.name);
            seen.extend(got);
        }
        assert_eq!(seen, c.visible, "{}: pages and blog posts together", c.name);
        let eng = all_pages(&stack, &c, "/wiki/rest/api/content?spaceKey=ENG").await;
        assert!(eng.is_empty(), "{}: nothing of a non-KB space", c.name);
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_lookup_of_a_hidden_page_answers_exactly_like_a_missing_title() {
    let stack = Stack::start().await;
    let items = stack.inner.sim.corpus().items().to_vec();
    let lookup = |space: &str, kind: ContentKind, title: &str| {
        let kind = match kind {
            ContentKind::Page => "page",
            ContentKind::BlogPost => "blogpost",
        };
        format!(
            "/wiki/rest/api/content?spaceKey={space}&type={kind}&title={}",
            enc(title)
        )
    };
    for c in stack.customers() {
        let (mut found, mut hidden) = (0, 0);
        for item in &items {
            let target = lookup(&item.space_key, item.kind, &item.title);
            let raw = c.get(&stack, &target).await;
            assert_eq!(raw.status, 200, "{} {target}", c.name);
            if c.visible.contains(&item.id) {
                let v = raw.json();
                let ids: Vec<&str> = v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap())
                    .collect();
                assert_eq!(ids, [item.id.as_str()], "{} finds {}", c.name, item.id);
                found += 1;
            } else {
                let missing = c
                    .get(
                        &stack,
                        &lookup(&item.space_key, item.kind, "No such article 7f3a"),
                    )
                    .await;
                assert_eq!(missing.status, 200);
                assert_eq!(
                    raw.body, missing.body,
                    "{}: hidden {} looks exactly like a missing title",
                    c.name, item.id
                );
                hidden += 1;
            }
        }
        assert!(
            found > 0 && hidden > 0,
            "{}: {found} found, {hidden} hidden",
            c.name
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_list_parameters_are_400_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    let refused = [
        "/wiki/rest/api/content/search",
        "/wiki/rest/api/content/search?cql=space%3DKB&expand=body.view",
        "/wiki/rest/api/content/search?cql=space%3DKB&expand=body.export_view",
        "/wiki/rest/api/content/search?cql=space%3DKB&expand=body.storage",
        "/wiki/rest/api/content/search?cql=space%3DKB&expand=children.page",
        "/wiki/rest/api/content/search?cql=space%3DKB&cursor=abc",
        "/wiki/rest/api/content/search?cql=space%3DKB&limit=101",
        "/wiki/rest/api/content/search?cql=space%3DKB&cql=type%3Dpage",
        "/wiki/rest/api/content/search?cql=creator%3DcurrentUser%28%29",
        "/wiki/rest/api/content/search?cql=%28space%3DKB",
        "/wiki/rest/api/content?spaceKey=KB&expand=body.styled_view",
        "/wiki/rest/api/content?spaceKey=KB&expand=body.storage",
        "/wiki/rest/api/content?spaceKey=KB&type=attachment",
        "/wiki/rest/api/content?spaceKey=KB%22+OR+space%3DENG",
        "/wiki/rest/api/content?spaceKey=KB&status=trashed",
        "/wiki/rest/api/content?spaceKey=KB&title=",
    ];
    for target in refused {
        let raw = alice.get(&stack, target).await;
        assert_eq!(
            raw.status,
            400,
            "{target}: {}",
            String::from_utf8_lossy(&raw.body)
        );
    }
    let forwarded = stack.forwarded_paths();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
    stack.stop().await;
}
