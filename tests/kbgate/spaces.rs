//! Spaces: every customer sees exactly the KB space — the engineering space does not exist for
//! them, in the list or by key (byte for byte like an unknown key) — and the KB space carries
//! only its plain fields and kbgate's links, never its home page or upstream's links.

use std::collections::BTreeSet;

use crate::support::{Customer, Stack};

/// The members a space may carry through kbgate.
const SPACE_FIELDS: [&str; 7] = ["id", "key", "alias", "name", "type", "status", "_links"];

fn fields(v: &serde_json::Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("space object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn assert_plain_space(c: &Customer, base: &str, space: &serde_json::Value) {
    assert!(
        fields(space).is_subset(&BTreeSet::from(SPACE_FIELDS)),
        "{}: {space}",
        c.name
    );
    assert_eq!(space["key"], "KB", "{}", c.name);
    assert_eq!(
        space["_links"],
        serde_json::json!({ "self": format!("{base}/rest/api/space/KB") }),
        "{}: only kbgate's own link",
        c.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_customer_sees_exactly_the_kb_space() {
    let stack = Stack::start().await;
    let base = format!("http://{}/wiki", stack.addr());
    let home = stack
        .inner
        .sim
        .corpus()
        .space("KB")
        .expect("KB space")
        .homepage_id
        .clone();
    for c in stack.customers() {
        for target in [
            "/wiki/rest/api/space",
            "/wiki/rest/api/space?start=0&limit=1",
        ] {
            let raw = c.get(&stack, target).await;
            assert_eq!(raw.status, 200, "{}: {target}", c.name);
            let text = String::from_utf8_lossy(&raw.body).into_owned();
            for foreign in ["ENG", "Engineering", "_expandable", home.as_str()] {
                assert!(!text.contains(foreign), "{}: {foreign} in {text}", c.name);
            }
            let v = raw.json();
            let results = v["results"].as_array().expect("results");
            assert_eq!(results.len(), 1, "{}: {target}", c.name);
            assert_eq!(v["size"], 1);
            assert_plain_space(&c, &base, &results[0]);
            assert!(
                v["_links"].get("next").is_none(),
                "{}: no next page",
                c.name
            );
            assert_eq!(v["_links"]["base"].as_str(), Some(base.as_str()));
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kb_space_by_key_has_only_its_plain_fields_and_other_spaces_do_not_exist() {
    let stack = Stack::start().await;
    let base = format!("http://{}/wiki", stack.addr());
    for c in stack.customers() {
        let raw = c.get(&stack, "/wiki/rest/api/space/KB").await;
        assert_eq!(raw.status, 200, "{}", c.name);
        let v = raw.json();
        assert_plain_space(&c, &base, &v);
        assert_eq!(v["name"], "Customer Knowledge Base");
        assert!(!String::from_utf8_lossy(&raw.body).contains("/content/"));

        let unknown = c.get(&stack, "/wiki/rest/api/space/NOPE").await;
        assert_eq!(unknown.status, 404, "{}", c.name);
        for target in [
            "/wiki/rest/api/space/ENG",
            "/wiki/rest/api/space/eng",
            "/wiki/rest/api/space/kb",
        ] {
            let raw = c.get(&stack, target).await;
            assert_eq!(raw.status, 404, "{}: {target}", c.name);
            assert_eq!(
                raw.body, unknown.body,
                "{}: {target} looks exactly like an unknown space",
                c.name
            );
        }
    }
    let asked: Vec<String> = stack
        .inner
        .sim
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.starts_with("/wiki/rest/api/space/"))
        .collect();
    assert!(
        asked.iter().all(|p| p == "/wiki/rest/api/space/KB"),
        "only the KB space is ever asked for: {asked:?}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_space_parameters_are_400_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    for target in [
        "/wiki/rest/api/space?expand=homepage",
        "/wiki/rest/api/space?spaceKey=ENG",
        "/wiki/rest/api/space?type=personal",
        "/wiki/rest/api/space?limit=0",
        "/wiki/rest/api/space?limit=101",
        "/wiki/rest/api/space?start=1&start=2",
        "/wiki/rest/api/space/KB?expand=homepage",
        "/wiki/rest/api/space/KB?expand=description.plain",
        "/wiki/rest/api/space/KB?limit=1",
        "/wiki/rest/api/space/ENG?expand=homepage",
    ] {
        let raw = alice.get(&stack, target).await;
        assert_eq!(raw.status, 400, "{target}");
    }
    let forwarded = stack.forwarded_paths();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
    stack.stop().await;
}
