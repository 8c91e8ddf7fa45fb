//! Pages by id: visible pages are served whole, hidden and missing pages get the same 404.

use crate::support::Stack;

const EXPAND: &str = "body.storage,ancestors,space,version,metadata.labels";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_served_to_exactly_its_audience() {
    let stack = Stack::start().await;
    let items = stack.inner.sim.corpus().items().to_vec();
    for c in stack.customers() {
        let missing = c
            .get(
                &stack,
                &format!("/wiki/rest/api/content/987654321?expand={EXPAND}"),
            )
            .await;
        assert_eq!(missing.status, 404);
        let (mut served, mut refused) = (0, 0);
        for item in &items {
            let raw = c
                .get(
                    &stack,
                    &format!("/wiki/rest/api/content/{}?expand={EXPAND}", item.id),
                )
                .await;
            if c.visible.contains(&item.id) {
                assert_eq!(raw.status, 200, "{} must see {}", c.name, item.id);
                let v = raw.json();
                assert_eq!(v["id"].as_str(), Some(item.id.as_str()));
                assert_eq!(v["title"].as_str(), Some(item.title.as_str()));
                assert!(v["body"]["storage"]["value"]
                    .as_str()
                    .is_some_and(|b| !b.is_empty()));
                for a in v["ancestors"].as_array().into_iter().flatten() {
                    assert!(
                        c.visible.contains(a["id"].as_str().unwrap()),
                        "hidden ancestor kept for {}",
                        item.id
                    );
                }
                served += 1;
            } else {
                assert_eq!(raw.status, 404, "{} must not see {}", c.name, item.id);
                assert_eq!(raw.body, missing.body, "hidden looks exactly like missing");
                assert_eq!(header_names(&raw.head), header_names(&missing.head));
                refused += 1;
            }
        }
        assert!(
            served > 0 && refused > 0,
            "{}: {served} served, {refused} refused",
            c.name
        );
    }
    stack.stop().await;
}

fn header_names(head: &str) -> Vec<String> {
    let mut names: Vec<String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, _)| k.to_lowercase())
        .collect();
    names.retain(|n| n != "date");
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_formats_are_refused_before_anything_is_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    for expand in [
        "body.view",
        "body.export_view",
        "body.styled_view",
        "body.anonymous_export_view",
        "children.page.body.view",
        "children.page.body.storage",
        "descendants.comment",
        "children.attachment.container",
    ] {
        let raw = alice
            .get(
                &stack,
                &format!("/wiki/rest/api/content/100001?expand={expand}"),
            )
            .await;
        assert_eq!(raw.status, 400, "{expand}");
    }
    assert!(stack.forwarded().is_empty(), "nothing forwarded");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_body_keeps_links_only_to_pages_the_reader_may_see() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let target = corpus
        .get("100005")
        .expect("the acme page the shared body links to");
    let title = target.title.clone();
    let linked = |raw: &crate::support::Raw| {
        let v = raw.json();
        let body = v["body"]["storage"]["value"].as_str().unwrap().to_owned();
        body.contains(&format!("ri:content-title=\"{title}\""))
    };
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let for_alice = alice
        .get(&stack, "/wiki/rest/api/content/100025?expand=body.storage")
        .await;
    let for_bob = bob
        .get(&stack, "/wiki/rest/api/content/100025?expand=body.storage")
        .await;
    assert_eq!((for_alice.status, for_bob.status), (200, 200));
    assert!(
        linked(&for_alice),
        "acme's reader keeps the link to the acme page"
    );
    assert!(
        !linked(&for_bob),
        "globex's reader loses it (and the oracle saw no canary)"
    );
    // The same body includes the acme page, lists `org-acme` pages and shows an image attached
    // to the acme page: Confluence would run the macros as the service account, so kbgate
    // removes them for every reader; the image stays only for a reader of the acme page.
    let body = |raw: &crate::support::Raw| {
        raw.json()["body"]["storage"]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let file = &corpus.attachments("100005")[0].file_name;
    for (raw, image_kept) in [(&for_alice, true), (&for_bob, false)] {
        let text = body(raw);
        assert!(!text.contains("ac:name=\"include\""), "{text}");
        assert!(!text.contains("contentbylabel"), "{text}");
        assert_eq!(text.contains(file.as_str()), image_kept, "{text}");
        assert!(
            text.contains("Articles related to VPN access"),
            "the rest stays"
        );
    }
    stack.stop().await;
}
