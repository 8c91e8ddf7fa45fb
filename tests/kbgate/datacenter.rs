//! Confluence Data Center (`flavor = "datacenter"`): the same v1 routes without `/wiki`, the
//! service account's personal access token as a bearer credential, and the same promise — each
//! customer sees exactly their articles, and nothing reaches them or upstream under `/wiki`.

use std::collections::BTreeSet;

use crate::support::Stack;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_serves_the_v1_routes_without_wiki_to_each_customer() {
    let stack = Stack::start_datacenter().await;
    let corpus = stack.inner.sim.corpus();
    let base = format!("http://{}", stack.addr());
    for c in stack.customers() {
        // Search, page after page: exactly the customer's articles.
        let mut target = format!("/rest/api/search?cql={}&limit=10", enc("space = KB"));
        let mut found = BTreeSet::new();
        for _ in 0..50 {
            let raw = c.get(&stack, &target).await;
            assert_eq!(raw.status, 200, "{} {target}", c.name);
            let v = raw.json();
            assert_eq!(v["_links"]["base"], base.as_str(), "no /wiki context on DC");
            assert_eq!(v["_links"]["context"], "");
            for r in v["results"].as_array().unwrap() {
                found.insert(r["content"]["id"].as_str().unwrap().to_owned());
            }
            match v["_links"]["next"].as_str() {
                Some(next) => {
                    assert!(
                        next.starts_with(&format!("{base}/rest/api/search?")),
                        "{next}"
                    );
                    target = next[base.len()..].to_owned();
                }
                None => break,
            }
        }
        assert_eq!(found, c.visible, "{}: DC search", c.name);

        for item in corpus.items() {
            let raw = c
                .get(
                    &stack,
                    &format!("/rest/api/content/{}?expand=body.storage", item.id),
                )
                .await;
            let expected = if c.visible.contains(&item.id) {
                200
            } else {
                404
            };
            assert_eq!(raw.status, expected, "{}: DC content {}", c.name, item.id);
        }
        let home = c
            .get(&stack, "/rest/api/content/100001/child/page?limit=50")
            .await;
        assert_eq!(home.status, 200);
        let files = c
            .get(&stack, "/rest/api/content/100001/child/attachment")
            .await;
        assert_eq!(files.status, 200);
        let link = files.json()["results"][0]["_links"]["download"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(link.starts_with("/download/attachments/100001/"), "{link}");
        let file = c.get(&stack, &link).await;
        assert_eq!(file.status, 200, "{}: DC download", c.name);

        // Cloud paths and v2 do not exist on Data Center.
        for cloud in [
            "/wiki/rest/api/content/100001",
            "/wiki/api/v2/pages",
            "/wiki/download/attachments/100001/notes-100001.txt",
        ] {
            assert_eq!(c.get(&stack, cloud).await.status, 404, "{cloud}");
        }
    }
    let forwarded = stack.inner.sim.requests();
    assert!(!forwarded.is_empty());
    for r in forwarded
        .iter()
        .filter(|r| !r.path_and_query.starts_with("/idp/"))
    {
        assert!(
            !r.path_and_query.starts_with("/wiki"),
            "{}",
            r.path_and_query
        );
        let auth = r
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        assert!(
            auth.starts_with("Bearer "),
            "a personal access token: {auth}"
        );
    }
}
