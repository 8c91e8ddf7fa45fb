//! Tests of the simulated JSM knowledge-base search: the sample's shape, matching, paging,
//! highlighting, excerpts that carry linked titles, errors, and the routes over a real socket.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::sim::corpus::{ACME_UNDER_SHARED_ID, ENG_HOME_ID, INTERNAL_ID, LINKS_TO_HIDDEN_ID};

const BASE: &str = "http://sim.example";

fn answer(corpus: &Corpus, desk: Option<&str>, query: &str) -> (u16, Value) {
    let ctx = Ctx {
        corpus,
        base_url: BASE,
    };
    let (status, body) = articles(&ctx, desk, &Params::parse(Some(query)));
    (status, serde_json::from_str(&body.to_json()).unwrap())
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn ids(v: &Value) -> Vec<String> {
    v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source"]["pageId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_answer_has_the_samples_shape_and_key_order() {
    let corpus = Corpus::generate(7);
    let ctx = Ctx {
        corpus: &corpus,
        base_url: BASE,
    };
    let (status, body) = articles(&ctx, None, &Params::parse(Some("query=vpn&limit=2")));
    assert_eq!(status, 200);
    let text = body.to_json();
    assert!(
        text.starts_with(r#"{"_expands":[],"size":2,"start":0,"limit":2,"isLastPage":false,"_links":{"base":"http://sim.example/rest/servicedeskapi","context":"","#),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    // The members of `jsm-kb-articles.json` (serde_json sorts keys).
    assert_eq!(
        keys(&v),
        [
            "_expands",
            "_links",
            "isLastPage",
            "limit",
            "size",
            "start",
            "values"
        ]
    );
    assert_eq!(keys(&v["_links"]), ["base", "context", "next"]);
    let a = &v["values"][0];
    assert_eq!(keys(a), ["content", "excerpt", "source", "title"]);
    assert_eq!(keys(&a["source"]), ["pageId", "spaceKey", "type"]);
    assert_eq!(keys(&a["content"]), ["iframeSrc"]);
    assert_eq!(a["source"]["type"], "confluence");
    assert_eq!(a["source"]["spaceKey"], "KB");
    let id = a["source"]["pageId"].as_str().unwrap();
    assert_eq!(
        a["content"]["iframeSrc"],
        format!("{BASE}/rest/servicedeskapi/knowledgebase/article/view/{id}")
    );
    assert!(v["_links"].get("prev").is_none());
    assert!(v["_links"]["next"].as_str().unwrap().starts_with(&format!(
        "{BASE}/rest/servicedeskapi/knowledgebase/article?query=vpn&"
    )));
}

#[test]
fn every_kb_article_the_service_account_can_see_is_found_and_nothing_outside_kb() {
    let corpus = Corpus::generate(7);
    let (_, v) = answer(&corpus, None, "query=vpn&limit=100");
    let found: BTreeSet<String> = ids(&v).into_iter().collect();
    assert_eq!(v["isLastPage"], true);
    // The acme page, the internal runbook and the globex pages match "vpn" and are all there.
    for id in [ACME_UNDER_SHARED_ID, INTERNAL_ID, "100022", "100004"] {
        assert!(found.contains(id), "{id} missing from {found:?}");
    }
    // The ENG space is not a knowledge base.
    assert!(!found.contains("300002") && !found.contains(ENG_HOME_ID));
    let expected: BTreeSet<String> = matching_article_ids(&corpus, "vpn").into_iter().collect();
    assert_eq!(found, expected);
    assert!(
        corpus
            .items()
            .iter()
            .filter(|i| found.contains(&i.id))
            .all(
                |i| i.title.to_lowercase().contains("vpn") || i.text.to_lowercase().contains("vpn")
            ),
        "every hit holds the word"
    );
}

#[test]
fn every_query_word_must_match_and_plurals_fold() {
    let corpus = Corpus::generate(7);
    let both = matching_article_ids(&corpus, "invoice acme");
    assert!(both.contains(&"100009".to_owned()), "{both:?}");
    assert!(
        !both.contains(&"100008".to_owned()),
        "shared invoice page lacks 'acme'"
    );
    let plural = matching_article_ids(&corpus, "Invoices");
    assert_eq!(plural, matching_article_ids(&corpus, "invoice"));
    assert!(matching_article_ids(&corpus, "zzzz-nothing").is_empty());
    assert!(matching_article_ids(&corpus, "  ").is_empty());
    assert!(!matching_article_ids(&corpus, "pass*").is_empty());
}

#[test]
fn paging_walks_every_article_once_with_consistent_size_and_last_page() {
    let corpus = Corpus::generate(7);
    let all = matching_article_ids(&corpus, "password");
    assert!(all.len() > 5, "{all:?}");
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let (status, v) = answer(
            &corpus,
            None,
            &format!("query=password&start={start}&limit=3"),
        );
        assert_eq!(status, 200);
        let page = ids(&v);
        assert_eq!(v["size"].as_u64(), Some(page.len() as u64));
        assert_eq!(v["start"].as_u64(), Some(start as u64));
        seen.extend(page);
        let last = v["isLastPage"].as_bool().unwrap();
        assert_eq!(last, v["_links"].get("next").is_none());
        if start > 0 {
            assert!(v["_links"]["prev"].as_str().unwrap().contains("start="));
        }
        if last {
            break;
        }
        start += 3;
    }
    assert_eq!(seen, all);
    let (_, past) = answer(&corpus, None, "query=password&start=1000");
    assert_eq!(
        (past["size"].as_u64(), past["isLastPage"].as_bool()),
        (Some(0), Some(true))
    );
}

#[test]
fn limit_defaults_to_fifty_and_is_clamped_to_one_hundred() {
    let corpus = Corpus::generate(7);
    let (_, v) = answer(&corpus, None, "query=the");
    assert_eq!(v["limit"], 50);
    let (_, v) = answer(&corpus, None, "query=the&limit=500");
    assert_eq!(v["limit"], 100);
    let (_, v) = answer(&corpus, None, "query=the&limit=0");
    assert_eq!(v["limit"], 1);
}

#[test]
fn highlight_wraps_matched_words_in_title_and_excerpt_only_when_asked() {
    let corpus = Corpus::generate(7);
    let (_, plain) = answer(&corpus, None, "query=vpn&limit=100");
    assert!(!plain.to_string().contains("@@@hl@@@"));
    let (_, marked) = answer(&corpus, None, "query=vpn&highlight=true&limit=100");
    let first = &marked["values"][0];
    assert!(first["excerpt"]
        .as_str()
        .unwrap()
        .contains("@@@hl@@@VPN@@@endhl@@@"));
    let titles: Vec<&str> = marked["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("@@@hl@@@VPN@@@endhl@@@")));
    // A marker can split a canary: that is why the oracle normalizes them away.
    let (_, acme) = answer(&corpus, None, "query=acme&highlight=true&limit=100");
    let canary = corpus
        .get(ACME_UNDER_SHARED_ID)
        .unwrap()
        .canary
        .clone()
        .unwrap();
    let text = acme.to_string();
    assert!(!text.contains(&canary), "the canary is split by markers");
    assert!(text
        .replace("@@@hl@@@", "")
        .replace("@@@endhl@@@", "")
        .contains(&canary));
}

#[test]
fn an_excerpt_carries_the_title_of_a_linked_page() {
    let corpus = Corpus::generate(7);
    let hidden = corpus.get(ACME_UNDER_SHARED_ID).unwrap();
    let (_, v) = answer(&corpus, None, "query=related&limit=100");
    let linking = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["pageId"] == LINKS_TO_HIDDEN_ID)
        .expect("the linking page matches");
    let excerpt = linking["excerpt"].as_str().unwrap();
    assert!(
        excerpt.contains(hidden.canary.as_deref().unwrap()),
        "{excerpt}"
    );
    assert!(excerpt.chars().count() <= EXCERPT_CHARS);
    assert!(!excerpt.contains('\n'));
}

#[test]
fn an_excerpt_starts_shortly_before_the_first_match() {
    // "ab " fifty times: the match is at character 150, the excerpt starts 30 before it.
    let text = format!("{}needle tail", "ab ".repeat(50));
    let cut = excerpt(&text, &["needle".to_owned()]);
    assert_eq!(cut, format!("{}needle tail", "ab ".repeat(10)));
    let long = format!("needle {}", "z".repeat(500));
    assert_eq!(excerpt(&long, &["needle".to_owned()]).chars().count(), 120);
    assert!(excerpt("only title matched", &["zz".to_owned()]).starts_with("only"));
}

#[test]
fn the_kb_service_desk_answers_like_the_global_search_and_others_are_404() {
    let corpus = Corpus::generate(7);
    let (_, global) = answer(&corpus, None, "query=invoice&limit=4");
    let (status, desk) = answer(&corpus, Some("1"), "query=invoice&limit=4");
    assert_eq!(status, 200);
    assert_eq!(ids(&global), ids(&desk));
    assert!(desk["_links"]["next"]
        .as_str()
        .unwrap()
        .contains("/rest/servicedeskapi/servicedesk/1/knowledgebase/article?"));
    for other in ["2", "999", "abc"] {
        let (status, v) = answer(&corpus, Some(other), "query=invoice");
        assert_eq!(status, 404, "{other}");
        assert!(v["errorMessage"].as_str().unwrap().contains(other));
        assert!(v["i18nErrorMessage"]["i18nKey"].is_string());
        assert!(v["i18nErrorMessage"]["parameters"].is_array());
    }
}

#[test]
fn bad_requests_are_400_in_jsm_error_shape() {
    let corpus = Corpus::generate(7);
    for query in [
        "",
        "query=",
        "query=%20",
        "query=vpn&highlight=yes",
        "query=vpn&start=-1",
        "query=vpn&limit=x",
    ] {
        let (status, v) = answer(&corpus, None, query);
        assert_eq!(status, 400, "{query}");
        assert!(v["errorMessage"].is_string(), "{query}");
    }
}

#[test]
fn unknown_jsm_paths_are_404_and_route_dispatches_both_article_paths() {
    let corpus = Corpus::generate(7);
    let ctx = Ctx {
        corpus: &corpus,
        base_url: BASE,
    };
    let params = Params::parse(Some("query=vpn"));
    assert_eq!(
        route(&ctx, "/rest/servicedeskapi/knowledgebase/article", &params).0,
        200
    );
    assert_eq!(
        route(
            &ctx,
            "/rest/servicedeskapi/servicedesk/1/knowledgebase/article",
            &params
        )
        .0,
        200
    );
    assert_eq!(
        route(
            &ctx,
            "/rest/servicedeskapi/servicedesk/7/knowledgebase/article",
            &params
        )
        .0,
        404
    );
    assert_eq!(
        route(&ctx, "/rest/servicedeskapi/organization", &params).0,
        404
    );
    let denied: Value = serde_json::from_str(&unauthorized().to_json()).unwrap();
    assert!(denied["errorMessage"].is_string() && denied["i18nErrorMessage"].is_object());
}

#[tokio::test]
async fn the_routes_answer_over_a_socket_only_to_the_service_account() {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = crate::sim::start(listener, crate::sim::SimOptions::default())
        .await
        .unwrap();
    let opts = crate::sim::SimOptions::default();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", opts.service_email, opts.service_token));
    let get = |path: &'static str, auth: Option<String>| {
        let addr = sim.addr();
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut req = format!("GET {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n");
            if let Some(a) = auth {
                req.push_str(&format!("Authorization: Basic {a}\r\n"));
            }
            req.push_str("\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            String::from_utf8(out).unwrap()
        }
    };
    let ok = get(
        "/rest/servicedeskapi/knowledgebase/article?query=vpn&limit=1",
        Some(basic.clone()),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("\"pageId\""), "{ok}");
    let desk = get(
        "/rest/servicedeskapi/servicedesk/2/knowledgebase/article?query=vpn",
        Some(basic),
    )
    .await;
    assert!(desk.starts_with("HTTP/1.1 404"), "{desk}");
    assert!(desk.contains("errorMessage"), "{desk}");
    let anon = get("/rest/servicedeskapi/knowledgebase/article?query=vpn", None).await;
    assert!(anon.starts_with("HTTP/1.1 401"), "{anon}");
    assert!(
        anon.contains("errorMessage") && !anon.contains("pageId"),
        "{anon}"
    );
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.path_and_query.starts_with("/rest/servicedeskapi/")));
    sim.shutdown();
}
