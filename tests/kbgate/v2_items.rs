//! v2 single items, spaces, label pages and kbgate's cursors: a page or blog post is decided
//! before it is fetched and comes with only its visible relatives and all its labels (the
//! 60-label page included); storage and ADF bodies lose their links to hidden pages; only the
//! KB space exists; a label's pages are its visible pages; a cursor that was changed, cut, or
//! issued for another list is 400; refused parameters are never forwarded.

use base64::Engine as _;
use kbgate::sim::{ContentKind, SimOptions};
use serde_json::Value;

use super::{
    ids, missing, only_members, set, visible_of, walk, ENG_SPACE_ID, KB_SPACE_ID, LIMITS, MISSING,
    V2,
};
use crate::support::{send_raw, Customer, Stack};

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
    let opts = SimOptions::default();
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
