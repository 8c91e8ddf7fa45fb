//! A page's attachments and comments, the composed child and descendant maps, content
//! expansions composed by kbgate, space content, and attachment downloads: every answer shows
//! exactly what belongs to pages the caller may see, and a hidden page's files and comments
//! answer byte for byte like a missing page's.

use std::collections::BTreeSet;

use crate::content_lists::{all_pages, unique};
use crate::support::{Customer, Stack};

const MISSING: &str = "987654321";

fn ids_of(list: &serde_json::Value) -> Vec<String> {
    list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every page of a child list (`_links.next` followed), with per-page checks.
async fn all_files(stack: &Stack, c: &Customer, first: &str) -> Vec<serde_json::Value> {
    let base = format!("http://{}", stack.addr());
    let mut target = first.to_owned();
    let mut items = Vec::new();
    for _ in 0..100 {
        let raw = c.get(stack, &target).await;
        assert_eq!(raw.status, 200, "{} {target}", c.name);
        let v = raw.json();
        let page = v["results"].as_array().expect("results").clone();
        assert_eq!(v["size"].as_u64(), Some(page.len() as u64));
        items.extend(page);
        match v["_links"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&base), "next points at kbgate: {next}");
                target = next[base.len()..].to_owned();
            }
            None => return items,
        }
    }
    panic!("more than 100 pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_and_comments_are_listed_for_visible_pages_only() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let (mut files_seen, mut hidden_refused) = (0, 0);
    for c in stack.customers() {
        for kind in ["attachment", "comment"] {
            let missing = c
                .get(
                    &stack,
                    &format!("/wiki/rest/api/content/{MISSING}/child/{kind}"),
                )
                .await;
            assert_eq!(missing.status, 404);
            for item in corpus.items() {
                let limit = if item.id.ends_with('1') { 1 } else { 25 };
                let first = format!(
                    "/wiki/rest/api/content/{}/child/{kind}?limit={limit}",
                    item.id
                );
                if !c.visible.contains(&item.id) {
                    let raw = c.get(&stack, &first).await;
                    assert_eq!(raw.status, 404, "{}: {kind}s of hidden {}", c.name, item.id);
                    assert_eq!(raw.body, missing.body, "hidden looks missing");
                    hidden_refused += 1;
                    continue;
                }
                let got = all_files(&stack, &c, &first).await;
                let (expected, titles): (Vec<String>, Vec<String>) = match kind {
                    "attachment" => corpus
                        .attachments(&item.id)
                        .iter()
                        .map(|a| (a.id.clone(), a.file_name.clone()))
                        .unzip(),
                    _ => corpus
                        .comments(&item.id)
                        .iter()
                        .map(|m| (m.id.clone(), m.title.clone()))
                        .unzip(),
                };
                let got_ids: Vec<String> = got
                    .iter()
                    .map(|i| i["id"].as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(got_ids, expected, "{}: {kind}s of {}", c.name, item.id);
                for (i, file) in got.iter().enumerate() {
                    assert_eq!(file["title"].as_str(), Some(titles[i].as_str()));
                    assert_eq!(file["type"], kind);
                    if kind == "attachment" {
                        let link = file["_links"]["download"].as_str().expect("download link");
                        assert!(
                            link.starts_with(&format!("/download/attachments/{}/", item.id)),
                            "relative to _links.base, as Confluence writes it: {link}"
                        );
                    } else {
                        assert!(file.get("_links").is_none() && file.get("body").is_none());
                    }
                }
                files_seen += got.len();
            }
        }
    }
    assert!(
        files_seen > 100 && hidden_refused > 50,
        "{files_seen} {hidden_refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_stream_files_of_visible_pages_and_hidden_ones_look_missing() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let mut downloaded = 0;
    for c in stack.customers() {
        let missing = c
            .get(
                &stack,
                &format!("/wiki/download/attachments/{MISSING}/notes.txt"),
            )
            .await;
        assert_eq!(missing.status, 404);
        for item in corpus.items() {
            for att in corpus.attachments(&item.id) {
                let path = format!(
                    "/wiki/download/attachments/{}/{}?version=1&api=v2",
                    item.id,
                    att.file_name.replace(' ', "%20")
                );
                let raw = c.get(&stack, &path).await;
                if !c.visible.contains(&item.id) {
                    assert_eq!(raw.status, 404, "{}: file of hidden {}", c.name, item.id);
                    assert_eq!(raw.body, missing.body, "hidden looks missing");
                    continue;
                }
                assert_eq!(raw.status, 200, "{}: {path}", c.name);
                assert_eq!(raw.body, att.data, "the file's bytes");
                // The REST download by id (Cloud redirects it to the file; kbgate follows).
                let by_id = c
                    .get(
                        &stack,
                        &format!(
                            "/wiki/rest/api/content/{}/child/attachment/{}/download",
                            item.id, att.id
                        ),
                    )
                    .await;
                assert_eq!(by_id.status, 200, "{}: {} by id", c.name, att.id);
                assert_eq!(by_id.body, att.data);
                assert_eq!(raw.header("content-type").as_deref(), Some(att.media_type));
                let disposition = raw.header("content-disposition").unwrap_or_default();
                assert!(
                    disposition.starts_with("attachment; filename*=UTF-8''"),
                    "{disposition}"
                );
                assert_eq!(
                    raw.header("x-content-type-options").as_deref(),
                    Some("nosniff")
                );
                assert!(raw
                    .header("content-security-policy")
                    .unwrap_or_default()
                    .contains("sandbox"));
                downloaded += 1;
            }
        }
        let other = c
            .get(&stack, "/wiki/download/attachments/100001/no-such-file.txt")
            .await;
        assert_eq!(other.status, 404, "an unknown file of a visible page");
        // Another page's attachment id under a visible page is not found, even when that other
        // page is visible too.
        let foreign = &corpus.attachments("100002")[0].id;
        let wrong = c
            .get(
                &stack,
                &format!("/wiki/rest/api/content/100001/child/attachment/{foreign}/download"),
            )
            .await;
        assert_eq!(wrong.status, 404, "{}: attachment of another page", c.name);
    }
    assert!(downloaded > 50, "{downloaded}");
    // No file of a page nobody may see was ever asked for upstream.
    for r in stack.forwarded() {
        if let Some(rest) = r.path_and_query.strip_prefix("/wiki/download/attachments/") {
            let page = rest.split('/').next().unwrap_or_default();
            let audience = corpus.get(page).map(|i| i.audience.clone());
            assert_ne!(audience, Some(kbgate::sim::Audience::Nobody), "{rest}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_maps_and_content_expansions_are_composed_from_decided_lists() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    for c in stack.customers() {
        for item in corpus.items().iter().filter(|i| c.visible.contains(&i.id)) {
            let visible_children: Vec<String> = corpus
                .children(&item.id)
                .iter()
                .filter(|i| c.visible.contains(&i.id))
                .map(|i| i.id.clone())
                .collect();
            let attachments: Vec<String> = corpus
                .attachments(&item.id)
                .iter()
                .map(|a| a.id.clone())
                .collect();
            let map = c
                .get(
                    &stack,
                    &format!(
                        "/wiki/rest/api/content/{}/child?expand=page,attachment,comment",
                        item.id
                    ),
                )
                .await;
            assert_eq!(map.status, 200);
            let v = map.json();
            assert_eq!(
                ids_of(&v["page"]),
                visible_children,
                "{} child pages of {}",
                c.name,
                item.id
            );
            assert_eq!(ids_of(&v["attachment"]), attachments);
            assert_eq!(ids_of(&v["comment"]).len(), corpus.comments(&item.id).len());
            let below = c
                .get(
                    &stack,
                    &format!("/wiki/rest/api/content/{}/descendant?expand=page", item.id),
                )
                .await;
            assert_eq!(below.status, 200);
            let expected_below: Vec<String> = corpus
                .descendants(&item.id)
                .iter()
                .filter(|i| c.visible.contains(&i.id))
                .map(|i| i.id.clone())
                .take(25)
                .collect();
            assert_eq!(ids_of(&below.json()["page"]), expected_below);

            let expanded = c
                .get(
                    &stack,
                    &format!(
                        "/wiki/rest/api/content/{}?expand=children.page,children.attachment,descendants.page,container,space.homepage,history",
                        item.id
                    ),
                )
                .await;
            assert_eq!(expanded.status, 200);
            let e = expanded.json();
            assert_eq!(ids_of(&e["children"]["page"]), visible_children);
            assert_eq!(ids_of(&e["children"]["attachment"]), attachments);
            assert_eq!(e["children"]["_expandable"]["comment"], "");
            let below: BTreeSet<String> = ids_of(&e["descendants"]["page"]).into_iter().collect();
            assert!(below.iter().all(|id| c.visible.contains(id)));
            assert_eq!(e["container"]["key"], "KB");
            assert_eq!(
                e["space"]["homepage"]["id"], "100001",
                "the shared home page"
            );
            assert!(e["history"].get("latest").is_some(), "{}", e["history"]);
        }
        let refused = c
            .get(
                &stack,
                "/wiki/rest/api/content/100001/descendant?expand=attachment",
            )
            .await;
        assert_eq!(refused.status, 400);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_content_lists_exactly_the_visible_pages_and_blog_posts() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    for c in stack.customers() {
        for (kind, blog) in [("page", false), ("blogpost", true)] {
            let expected: BTreeSet<String> = corpus
                .items()
                .iter()
                .filter(|i| {
                    c.visible.contains(&i.id)
                        && (i.kind == kbgate::sim::ContentKind::BlogPost) == blog
                })
                .map(|i| i.id.clone())
                .collect();
            let first = format!("/wiki/rest/api/space/KB/content/{kind}?limit=7");
            let got = unique(&c.name, &all_pages(&stack, &c, &first).await);
            assert_eq!(got, expected, "{}: {kind}s of KB", c.name);
        }
        let both = c
            .get(&stack, "/wiki/rest/api/space/KB/content?limit=100")
            .await;
        assert_eq!(both.status, 200);
        let v = both.json();
        assert!(
            v["page"]["size"].as_u64().unwrap() > 0 && v["blogpost"]["size"].as_u64().unwrap() > 0
        );
        let eng = c.get(&stack, "/wiki/rest/api/space/ENG/content/page").await;
        let nope = c
            .get(&stack, "/wiki/rest/api/space/NOPE/content/page")
            .await;
        assert_eq!((eng.status, nope.status), (404, 404));
        assert_eq!(eng.body, nope.body, "a non-KB space looks like none");
    }
}
