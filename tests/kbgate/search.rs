//! Site search shows every customer exactly the shared articles plus their organizations', on
//! every page of results, with counts that match, and never a foreign canary.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use crate::support::{all_pages_from, Customer, Stack, SCANNED_BYTES, SCANNED_RESPONSES};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every page of a site search, through kbgate's own `next` links; returns the result ids.
pub async fn all_pages(stack: &Stack, c: &Customer, cql: &str, limit: u32) -> Vec<String> {
    let first = format!("/wiki/rest/api/search?cql={}&limit={limit}", enc(cql));
    all_pages_from(stack, c, &first, |r| &r["content"], &|_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_shows_each_customer_exactly_their_articles_on_every_page() {
    let stack = Stack::start().await;
    for c in stack.customers() {
        for limit in [3, 25] {
            let ids = all_pages(&stack, &c, "space = KB", limit).await;
            let unique: BTreeSet<String> = ids.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                ids.len(),
                "{}: no article twice across pages",
                c.name
            );
            assert_eq!(
                unique, c.visible,
                "{} (orgs {:?}) with limit {limit}",
                c.name, c.orgs
            );
        }
        let first = c
            .get(&stack, "/wiki/rest/api/search?cql=space%3DKB&limit=5")
            .await
            .json();
        assert_eq!(
            first["totalSize"].as_u64(),
            Some(c.visible.len() as u64),
            "{}: totalSize counts only visible",
            c.name
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topical_searches_never_show_other_organizations_titles() {
    let stack = Stack::start().await;
    let queries = [
        "text ~ vpn",
        "text ~ invoice",
        "text ~ password",
        "siteSearch ~ \"password reset\"",
        "title ~ vpn OR title ~ invoice",
        "type = page ORDER BY title desc",
        "type = blogpost",
        "label = \"org-acme\"",
        "label = \"org-globex\" OR label = \"kb-internal\"",
        "ancestor = 200000",
        "space = ENG",
        "text ~ CANARY",
    ];
    let mut any_results = 0;
    for c in stack.customers() {
        for q in queries {
            let ids = all_pages(&stack, &c, q, 10).await;
            any_results += ids.len();
            for id in &ids {
                assert!(c.visible.contains(id), "{} saw hidden {id} for {q}", c.name);
            }
        }
    }
    assert!(
        any_results > 50,
        "the queries must actually return articles ({any_results})"
    );
    eprintln!(
        "leak oracle so far: {} responses, {} bytes scanned, 0 foreign canaries",
        SCANNED_RESPONSES.load(Ordering::Relaxed),
        SCANNED_BYTES.load(Ordering::Relaxed)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_page_under_a_restricted_parent_shows_no_trace_of_the_parent() {
    let stack = Stack::start().await;
    let bob = stack.customer("bob");
    let corpus = stack.inner.sim.corpus();
    // Shared items whose parent bob may not see.
    let orphans: Vec<_> = corpus
        .items()
        .iter()
        .filter(|i| bob.visible.contains(&i.id))
        .filter(|i| {
            i.parent_id
                .as_ref()
                .is_some_and(|p| !bob.visible.contains(p))
        })
        .collect();
    assert!(
        !orphans.is_empty(),
        "the corpus has a shared page under a restricted parent"
    );
    for item in orphans {
        let raw = bob
            .get(
                &stack,
                &format!("/wiki/rest/api/search?cql=id%3D{}", item.id),
            )
            .await;
        let v = raw.json();
        assert_eq!(v["size"], 1, "the shared child itself is found");
        let r = &v["results"][0];
        assert!(
            r.get("resultParentContainer").is_none(),
            "hidden parent container removed: {r}"
        );
        assert!(r["breadcrumbs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| !b["url"]
                .as_str()
                .unwrap_or("")
                .contains(item.parent_id.as_deref().unwrap())));
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excerpts_cut_from_bodies_that_link_hidden_pages_are_withheld() {
    let stack = Stack::start().await;
    let excerpt_of = |v: &serde_json::Value| v["results"][0]["excerpt"].as_str().map(str::to_owned);
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let dave = stack.customer("dave");
    // 100025 is shared and links to acme's 100005; Confluence's excerpt includes the link text.
    let target = "/wiki/rest/api/search?cql=id%3D100025";
    let for_alice = alice.get(&stack, target).await.json();
    let for_bob = bob.get(&stack, target).await.json();
    assert_eq!(for_alice["size"], 1);
    assert_eq!(for_bob["size"], 1, "the shared page itself stays findable");
    assert!(
        excerpt_of(&for_alice).is_some_and(|e| !e.is_empty()),
        "acme's reader gets the excerpt"
    );
    assert_eq!(
        excerpt_of(&for_bob).as_deref(),
        Some(""),
        "globex's reader gets it blanked"
    );
    // Pages whose bodies link nothing hidden keep their excerpts for everyone.
    let plain = dave
        .get(&stack, "/wiki/rest/api/search?cql=id%3D100024")
        .await
        .json();
    assert!(excerpt_of(&plain).is_some_and(|e| !e.is_empty()));
    stack.stop().await;
}
