//! The simulator's content lists: paging covers every match once, expansions carry the metadata
//! a proxy needs, the listing filters by space, type and exact title, and CQL errors echo.

use serde_json::Value;

use super::super::corpus::{ContentKind, Corpus};
use super::*;

const BASE: &str = "http://127.0.0.1:9";

fn answer(f: fn(&Ctx<'_>, &Params) -> (u16, J), corpus: &Corpus, query: &str) -> (u16, Value) {
    let ctx = Ctx {
        corpus,
        base_url: BASE,
    };
    let (status, body) = f(&ctx, &Params::parse(Some(query)));
    (status, serde_json::from_str(&body.to_json()).unwrap())
}

fn ids(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `_links.next` (a path below `/wiki`) through every page of `first`.
fn all_pages(f: fn(&Ctx<'_>, &Params) -> (u16, J), corpus: &Corpus, first: &str) -> Vec<String> {
    let mut query = first.to_owned();
    let mut out = Vec::new();
    for _ in 0..100 {
        let (status, v) = answer(f, corpus, &query);
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["size"].as_u64(), Some(ids(&v).len() as u64));
        assert!(v.get("totalSize").is_none());
        assert_eq!(v["_links"]["base"], format!("{BASE}/wiki"));
        out.extend(ids(&v));
        match v["_links"]["next"].as_str() {
            Some(next) => query = next.split_once('?').unwrap().1.to_owned(),
            None => return out,
        }
    }
    panic!("more than 100 pages");
}

#[test]
fn content_search_pages_cover_every_match_exactly_once() {
    let corpus = Corpus::generate(7);
    let got = all_pages(content_search, &corpus, "cql=space%3DKB&limit=7");
    let mut expected: Vec<String> = corpus
        .items()
        .iter()
        .filter(|i| i.space_key == "KB")
        .map(|i| i.id.clone())
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(expected.len() > 7, "the test pages at all");
}

#[test]
fn content_search_items_are_content_objects_with_the_requested_expansions() {
    let corpus = Corpus::generate(7);
    let (status, v) = answer(
        content_search,
        &corpus,
        "cql=id%3D100005&expand=metadata.labels,ancestors,space",
    );
    assert_eq!(status, 200);
    let item = &v["results"][0];
    assert_eq!(item["id"], "100005");
    assert_eq!(item["type"], "page");
    assert_eq!(item["space"]["key"], "KB");
    assert!(item["metadata"]["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["name"] == "org-acme"));
    let ancestors: Vec<&str> = item["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["100001", "100002"]);
    assert!(item["_links"]["webui"].as_str().unwrap().contains("100005"));
    assert_eq!(
        v["_links"]["self"],
        format!("{BASE}/wiki/rest/api/content/search?cql=id%3D100005")
    );
}

#[test]
fn content_search_refuses_bad_cql_and_echoes_it_like_confluence() {
    let corpus = Corpus::generate(7);
    let (status, v) = answer(content_search, &corpus, "cql=title+%3D+%28");
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("title = ("));
    let (status, _) = answer(content_search, &corpus, "limit=5");
    assert_eq!(status, 400, "cql is required");
}

#[test]
fn the_listing_filters_by_space_type_and_exact_title() {
    let corpus = Corpus::generate(7);
    let blog: Vec<String> = corpus
        .items()
        .iter()
        .filter(|i| i.space_key == "KB" && i.kind == ContentKind::BlogPost)
        .map(|i| i.id.clone())
        .collect();
    assert!(!blog.is_empty());
    let got = all_pages(
        content_listing,
        &corpus,
        "spaceKey=KB&type=blogpost&limit=2",
    );
    assert_eq!(got, blog, "corpus order, every page");

    let pages = all_pages(content_listing, &corpus, "spaceKey=KB&limit=10");
    assert!(
        pages.contains(&"100001".to_owned()),
        "type defaults to page"
    );
    assert!(pages.iter().all(|id| !blog.contains(id)));

    let title = corpus.get("100005").unwrap().title.clone();
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("spaceKey", "KB")
        .append_pair("title", &title)
        .finish();
    let (_, v) = answer(content_listing, &corpus, &q);
    assert_eq!(ids(&v), ["100005"]);
    let (status, v) = answer(content_listing, &corpus, "spaceKey=KB&title=No+such+page");
    assert_eq!(status, 200);
    assert_eq!((ids(&v).len(), &v["size"]), (0, &Value::from(0)));
}
