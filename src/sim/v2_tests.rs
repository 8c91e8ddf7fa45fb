//! The v2 routes and attachment downloads over a real socket: shapes per route, cursor paging
//! (`_links.next` equals the `Link` header, every item exactly once), the 50-label cap of
//! `include-labels`, bodies in storage and ADF, canary file names, downloads, v2 error shapes,
//! authentication and faults.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::corpus::*;
use super::*;
use base64::Engine as _;

mod content;

async fn sim() -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(listener, SimOptions::default()).await.unwrap()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

fn basic() -> String {
    let o = SimOptions::default();
    let cred = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", o.service_email, o.service_token));
    format!("Basic {cred}")
}

async fn get_with(sim: &SimHandle, path: &str, auth: Option<&str>) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = Request::get(format!("{}{path}", sim.base_url()));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(sim: &SimHandle, path: &str) -> Answer {
    get_with(sim, path, Some(&basic())).await
}

async fn ok(sim: &SimHandle, path: &str) -> Value {
    let a = get(sim, path).await;
    assert_eq!(a.status, StatusCode::OK, "{path}");
    a.json()
}

/// Follows `_links.next` from `first` to the end, checking the `Link` header on every page.
async fn walk(sim: &SimHandle, first: &str) -> Vec<Value> {
    let base = format!("{}/wiki", sim.base_url());
    let (mut out, mut path) = (Vec::new(), first.to_owned());
    for _ in 0..200 {
        let a = get(sim, &path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let doc = a.json();
        assert_eq!(doc["_links"]["base"], base.as_str());
        out.extend(doc["results"].as_array().unwrap().iter().cloned());
        match doc["_links"]["next"].as_str() {
            Some(next) => {
                let want = format!("<{next}>; rel=\"next\", <{base}>; rel=\"base\"");
                assert_eq!(a.header("link"), Some(want));
                assert!(next.starts_with("/wiki/api/v2/") && next.contains("cursor="));
                path = next.to_owned();
            }
            None => {
                assert_eq!(a.header("link"), None, "no Link without a next page");
                return out;
            }
        }
    }
    panic!("more than 200 pages from {first}");
}

fn ids(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted_ids<'a>(items: impl Iterator<Item = &'a SimItem>) -> Vec<String> {
    let mut v: Vec<u64> = items.map(|i| i.id.parse().unwrap()).collect();
    v.sort_unstable();
    v.into_iter().map(|i| i.to_string()).collect()
}

/// Asserts that `v` has exactly the keys `want` (serde_json sorts keys; order is checked on the
/// raw text by [`assert_in_order`]).
fn assert_keys(v: &Value, want: &[&str]) {
    let mut got: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = want.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

/// Asserts that `"key":` occurrences appear in this order in the raw `text`.
fn assert_in_order(text: &str, keys: &[&str]) {
    let at: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{keys:?} out of order in {text}"
    );
}

fn not_found() -> Value {
    json!({"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]})
}

#[tokio::test]
async fn walking_pages_visits_every_page_once_in_page_bulk_shape() {
    let sim = sim().await;
    let all = walk(&sim, "/wiki/api/v2/pages?limit=7").await;
    let pages = sim
        .corpus()
        .items()
        .iter()
        .filter(|i| i.kind == ContentKind::Page);
    assert_eq!(
        ids(&all),
        sorted_ids(pages),
        "every page once, by id, no blog post"
    );
    assert!(ids(&all).contains(&"300004".to_owned()), "ENG too");
    for p in &all {
        assert_keys(
            p,
            &[
                "id",
                "status",
                "title",
                "spaceId",
                "parentId",
                "parentType",
                "position",
                "authorId",
                "ownerId",
                "lastOwnerId",
                "createdAt",
                "version",
                "body",
                "_links",
            ],
        );
        assert_eq!(p["status"], "current");
        assert!(p["spaceId"].is_string() && p["position"].is_u64() && p["lastOwnerId"].is_null());
        assert_keys(
            &p["version"],
            &["createdAt", "message", "number", "minorEdit", "authorId"],
        );
        assert_eq!(p["body"], json!({}));
        assert_keys(&p["_links"], &["webui", "editui", "tinyui"]);
    }
    let raw = get(&sim, "/wiki/api/v2/pages?limit=1").await;
    assert_in_order(
        &String::from_utf8_lossy(&raw.body),
        &[
            "results",
            "id",
            "status",
            "title",
            "spaceId",
            "parentId",
            "parentType",
            "position",
            "authorId",
            "ownerId",
            "lastOwnerId",
            "createdAt",
            "version",
            "body",
            "_links",
            "webui",
            "editui",
            "tinyui",
            "next",
            "base",
        ],
    );
    let home = &all[0];
    assert_eq!(home["id"], KB_HOME_ID);
    assert!(home["parentId"].is_null() && home["parentType"].is_null());
    assert_eq!(
        (home["spaceId"].as_str(), all[1]["parentId"].as_str()),
        (Some("196609"), Some("100001"))
    );
}

#[tokio::test]
async fn bodies_come_as_storage_or_adf_and_name_linked_pages_by_title() {
    let sim = sim().await;
    let hidden = sim.corpus().get(ACME_UNDER_SHARED_ID).unwrap().clone();
    let storage = ok(&sim, "/wiki/api/v2/pages?id=100025&body-format=storage").await;
    let body = &storage["results"][0]["body"]["storage"];
    assert_eq!(body["representation"], "storage");
    assert!(body["value"]
        .as_str()
        .unwrap()
        .contains(hidden.canary.as_deref().unwrap()));

    let adf = ok(
        &sim,
        "/wiki/api/v2/pages/100025?body-format=atlas_doc_format",
    )
    .await;
    let body = &adf["body"]["atlas_doc_format"];
    assert_eq!(body["representation"], "atlas_doc_format");
    let doc: Value = serde_json::from_str(body["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        (doc["type"].as_str(), doc["version"].as_u64()),
        (Some("doc"), Some(1))
    );
    let url = format!("{}/wiki/spaces/KB/pages/100005/", sim.base_url());
    let text = body["value"].as_str().unwrap();
    assert!(
        text.contains("\"inlineCard\"") && text.contains(&url),
        "{text}"
    );
    assert!(text.contains(&format!("\"text\":\"{}\"", hidden.title)));

    let home = ok(
        &sim,
        "/wiki/api/v2/pages/100001?body-format=atlas_doc_format",
    )
    .await;
    assert!(home["body"]["atlas_doc_format"]["value"]
        .as_str()
        .unwrap()
        .contains("\"extensionKey\":\"children\""));
    let view = ok(&sim, "/wiki/api/v2/pages/100012?body-format=view").await;
    let child = &sim.corpus().get(SHARED_UNDER_ACME_ID).unwrap().title;
    assert!(view["body"]["view"]["value"]
        .as_str()
        .unwrap()
        .contains(child.as_str()));
    let bad = get(&sim, "/wiki/api/v2/pages?body-format=view").await;
    assert_eq!(
        bad.status,
        StatusCode::BAD_REQUEST,
        "lists take storage or ADF only"
    );
}

#[tokio::test]
async fn page_lists_filter_by_space_title_id_and_status_and_sort() {
    let sim = sim().await;
    let eng = ok(&sim, "/wiki/api/v2/pages?space-id=196610").await;
    assert_eq!(
        ids(eng["results"].as_array().unwrap()),
        ["300001", "300002", "300003", "300004"]
    );
    let both = ok(&sim, "/wiki/api/v2/pages?space-id=196609,196610&limit=250").await;
    let repeated = ok(
        &sim,
        "/wiki/api/v2/pages?space-id=196609&space-id=196610&limit=250",
    )
    .await;
    assert_eq!(both["results"], repeated["results"]);
    let billing = ok(&sim, "/wiki/api/v2/pages?title=Billing").await;
    assert_eq!(ids(billing["results"].as_array().unwrap()), ["100007"]);
    let by_id = ok(&sim, "/wiki/api/v2/pages?id=100005,100040&id=100006").await;
    assert_eq!(
        ids(by_id["results"].as_array().unwrap()),
        ["100005", "100006"]
    );
    let archived = ok(&sim, "/wiki/api/v2/pages?status=archived").await;
    assert_eq!(archived["results"], json!([]));
    let desc = ok(&sim, "/wiki/api/v2/pages?sort=-id&limit=1").await;
    assert_eq!(desc["results"][0]["id"], "300004");
    let titles = ok(&sim, "/wiki/api/v2/pages?sort=title&limit=250").await;
    let t: Vec<&str> = titles["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]) && t.len() > 25,
        "limit up to 250"
    );
    for bad in [
        "status=bogus",
        "sort=nope",
        "limit=0",
        "limit=x",
        "space-id=KB",
        "cursor=%21%21",
    ] {
        let a = get(&sim, &format!("/wiki/api/v2/pages?{bad}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        let e = &a.json()["errors"][0];
        assert_eq!(
            (e["status"].as_u64(), e["code"].as_str()),
            (Some(400), Some("INVALID_REQUEST_PARAMETER"))
        );
        assert!(e["detail"].is_null());
    }
}

#[tokio::test]
async fn cursors_are_stable_bound_to_their_route_and_an_unknown_id_is_a_v2_404() {
    let sim = sim().await;
    let first = ok(&sim, "/wiki/api/v2/pages?limit=3").await;
    let again = ok(&sim, "/wiki/api/v2/pages?limit=3").await;
    let next = first["_links"]["next"].as_str().unwrap();
    assert_eq!(next, again["_links"]["next"].as_str().unwrap(), "stable");
    assert!(next.starts_with("/wiki/api/v2/pages?limit=3&cursor="));
    let cursor = next.split("cursor=").nth(1).unwrap();
    let elsewhere = get(&sim, &format!("/wiki/api/v2/blogposts?cursor={cursor}")).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    for path in [
        "pages/999999",
        "pages/100040",
        "blogposts/100001",
        "spaces/1",
        "labels/1/pages",
        "nothing/here",
        "pages/100001/bogus",
    ] {
        let a = get(&sim, &format!("/wiki/api/v2/{path}")).await;
        assert_eq!(
            (a.status, a.json()),
            (StatusCode::NOT_FOUND, not_found()),
            "{path}"
        );
    }
    let a = get(&sim, "/wiki/api/v2/pages/abc").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn include_labels_stops_at_fifty_and_the_labels_route_pages_through_all_sixty_one() {
    let sim = sim().await;
    let item = sim.corpus().get(MANY_LABELS_ID).unwrap().clone();
    assert_eq!(item.labels.len(), 61, "60 labels and the canary label");
    let page = ok(&sim, "/wiki/api/v2/pages/100036?include-labels=true").await;
    let labels = &page["labels"];
    let shown: Vec<&str> = labels["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), 50);
    assert!(!shown.contains(&"org-acme"), "the org label is the 55th");
    assert_eq!(labels["meta"]["hasMore"], true);
    assert_eq!(labels["_links"]["self"], "/wiki/api/v2/pages/100036/labels");
    assert_eq!(page["_links"]["base"], format!("{}/wiki", sim.base_url()));
    let cursor = labels["meta"]["cursor"].as_str().unwrap();
    let rest = ok(
        &sim,
        &format!("/wiki/api/v2/pages/100036/labels?cursor={cursor}"),
    )
    .await;
    let rest_names: Vec<&str> = rest["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rest_names,
        item.labels[50..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    let all = walk(&sim, "/wiki/api/v2/pages/100036/labels?limit=20").await;
    let names: Vec<&str> = all.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        item.labels.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for l in &all {
        assert_keys(l, &["id", "name", "prefix"]);
        assert_eq!(l["prefix"], "global");
    }
    assert_eq!(
        &all[..50],
        labels["results"].as_array().unwrap().as_slice(),
        "same ids everywhere"
    );
    let few = ok(&sim, "/wiki/api/v2/pages/100005?include-labels=true").await;
    assert_eq!(
        few["labels"]["meta"],
        json!({"hasMore": false, "cursor": ""})
    );
    let my = ok(&sim, "/wiki/api/v2/pages/100036/labels?prefix=my").await;
    assert_eq!(my["results"], json!([]));
    assert_eq!(
        get(&sim, "/wiki/api/v2/pages/100036/labels?prefix=x")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}
