//! JSM knowledge-base search through kbgate: every customer finds exactly the shared articles
//! plus their organizations' that match, page after page in kbgate's own paging, each reduced to
//! title, excerpt, source and kbgate's article view — and never a foreign canary, even one split
//! by JSM's highlight markers. Excerpts that carry a hidden linked page's title are withheld;
//! other desks, bad parameters, missing tokens and broken upstream answers get kbgate's own
//! answers.

use std::collections::{BTreeSet, HashSet};

use kbgate::sim::corpus::{ACME_UNDER_SHARED_ID, LINKS_TO_HIDDEN_ID};
use kbgate::sim::{jsm, Fault};

use crate::support::{Customer, LeakOracle, Raw, Stack};

const ARTICLES: &str = "/rest/servicedeskapi/knowledgebase/article";
const DESK_1: &str = "/rest/servicedeskapi/servicedesk/1/knowledgebase/article";
const HL_OPEN: &str = "@@@hl@@@";
const HL_CLOSE: &str = "@@@endhl@@@";

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `bytes` with JSM's highlight markers removed: a marker inside a canary
/// (`CANARY-@@@hl@@@acme@@@endhl@@@-…`) would otherwise hide it from a plain substring scan.
fn without_markers(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replace(HL_OPEN, "")
        .replace(HL_CLOSE, "")
        .into_bytes()
}

/// The foreign canaries in a JSM answer: scanned raw and with highlight markers removed.
fn jsm_hits(oracle: &LeakOracle, bytes: &[u8]) -> Vec<String> {
    let mut hits = oracle.hits(bytes);
    hits.extend(oracle.hits(&without_markers(bytes)));
    hits.sort();
    hits.dedup();
    hits
}

/// GET a JSM target as `c`; every byte goes through the oracle, markers normalized.
async fn jsm_get(stack: &Stack, c: &Customer, target: &str) -> Raw {
    let raw = stack.get(target, &[("Authorization", &c.auth())]).await;
    let hits = jsm_hits(&c.oracle, &raw.bytes);
    assert!(
        hits.is_empty(),
        "LEAK to {} in GET {target}: {hits:?}\n{}",
        c.name,
        String::from_utf8_lossy(&raw.bytes)
    );
    c.oracle
        .assert_clean(&raw.bytes, &format!("{} GET {target}", c.name));
    raw
}

/// The ids `c` must find for `query`, in the simulator's order: its matching articles (its own
/// model) that the customer may see (the corpus's audience model).
fn expected(stack: &Stack, c: &Customer, query: &str) -> Vec<String> {
    jsm::matching_article_ids(stack.inner.sim.corpus(), query)
        .into_iter()
        .filter(|id| c.visible.contains(id))
        .collect()
}

/// Checks one kbgate JSM page: shape, allowlist, kbgate's links; returns its page ids.
fn check_page(
    stack: &Stack,
    c: &Customer,
    v: &serde_json::Value,
    start: u64,
    limit: u64,
) -> Vec<String> {
    let kbgate = format!("http://{}", stack.addr());
    let values = v["values"].as_array().expect("values array");
    assert_eq!(
        v["size"].as_u64(),
        Some(values.len() as u64),
        "size is the kept count"
    );
    assert_eq!(v["start"].as_u64(), Some(start));
    assert_eq!(v["limit"].as_u64(), Some(limit));
    assert_eq!(v["_expands"], serde_json::json!([]));
    let links = &v["_links"];
    assert_eq!(links["base"], format!("{kbgate}/rest/servicedeskapi"));
    assert_eq!(links["context"], "");
    for link in ["next", "prev"] {
        if let Some(url) = links[link].as_str() {
            assert!(url.starts_with(&kbgate), "{link} points at kbgate: {url}");
        }
    }
    assert_eq!(
        links.get("prev").is_some(),
        start > 0,
        "prev only after the first page"
    );
    let last = v["isLastPage"].as_bool().expect("isLastPage");
    assert_eq!(
        links.get("next").is_none(),
        last,
        "{}: next exactly when not the last page",
        c.name
    );
    let mut ids = Vec::new();
    for a in values {
        let keys: BTreeSet<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["title", "excerpt", "source", "content"])
        );
        let id = a["source"]["pageId"].as_str().expect("pageId").to_owned();
        assert_eq!(
            a["source"],
            serde_json::json!({"type": "confluence", "pageId": id, "spaceKey": "KB"})
        );
        assert_eq!(
            a["content"],
            serde_json::json!({"iframeSrc": format!("{kbgate}/articles/{id}")}),
            "the article view is kbgate's own"
        );
        assert!(a["title"].is_string() && a["excerpt"].is_string());
        ids.push(id);
    }
    ids
}

/// Every page of a JSM search through kbgate's own `next` links; returns the page ids in order.
async fn all_pages(
    stack: &Stack,
    c: &Customer,
    route: &str,
    query: &str,
    limit: u64,
) -> Vec<String> {
    let base = format!("http://{}", stack.addr());
    let mut target = format!("{route}?query={}&limit={limit}", enc(query));
    let mut start = 0;
    let mut ids = Vec::new();
    for _page in 0..200 {
        let raw = jsm_get(stack, c, &target).await;
        assert_eq!(
            raw.status,
            200,
            "{} {target}: {}",
            c.name,
            String::from_utf8_lossy(&raw.body)
        );
        let v = raw.json();
        let page = check_page(stack, c, &v, start, limit);
        if !v["isLastPage"].as_bool().unwrap() {
            assert_eq!(
                page.len() as u64,
                limit,
                "{}: a page before the last is full",
                c.name
            );
        }
        ids.extend(page);
        match v["_links"]["next"].as_str() {
            Some(next) => {
                target = next[base.len()..].to_owned();
                start += limit;
            }
            None => return ids,
        }
    }
    panic!("more than 200 pages");
}

#[test]
fn the_jsm_oracle_catches_a_canary_split_by_highlight_markers() {
    let oracle = LeakOracle::new(vec!["CANARY-acme-abc123".into()]);
    let split = b"{\"title\":\"Acme VPN CANARY-@@@hl@@@acme@@@endhl@@@-abc123\"}";
    assert!(
        !String::from_utf8_lossy(split)
            .to_lowercase()
            .contains("canary-acme-abc123"),
        "the marker hides the canary from a plain scan"
    );
    assert_eq!(jsm_hits(&oracle, split), ["canary-acme-abc123"]);
    assert_eq!(
        without_markers(split),
        b"{\"title\":\"Acme VPN CANARY-acme-abc123\"}".to_vec()
    );
    assert!(jsm_hits(&oracle, b"@@@hl@@@CANARY@@@endhl@@@-globex-abc123").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsm_search_shows_each_customer_exactly_their_matching_articles_on_every_page() {
    let stack = Stack::start().await;
    let mut restricted_seen = 0;
    for c in stack.customers() {
        for query in ["vpn", "invoice", "password"] {
            let want = expected(&stack, &c, query);
            assert!(!want.is_empty(), "{query} finds shared articles");
            for limit in [1, 2, 5, 50] {
                let got = all_pages(&stack, &c, ARTICLES, query, limit).await;
                let unique: HashSet<&String> = got.iter().collect();
                assert_eq!(unique.len(), got.len(), "{}: no article twice", c.name);
                assert_eq!(
                    got, want,
                    "{} (orgs {:?}) query {query} limit {limit}",
                    c.name, c.orgs
                );
            }
            let corpus = stack.inner.sim.corpus();
            restricted_seen += want
                .iter()
                .filter(|id| corpus.get(id).is_some_and(|i| i.canary.is_some()))
                .count();
        }
    }
    assert!(
        restricted_seen > 10,
        "customers see their own organizations' articles too ({restricted_seen})"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_past_the_end_is_an_empty_last_page() {
    let stack = Stack::start().await;
    let dave = stack.customer("dave");
    let total = expected(&stack, &dave, "vpn").len();
    let raw = jsm_get(
        &stack,
        &dave,
        &format!("{ARTICLES}?query=vpn&start={total}&limit=5"),
    )
    .await;
    let v = raw.json();
    assert_eq!(check_page(&stack, &dave, &v, total as u64, 5).len(), 0);
    assert_eq!(v["isLastPage"], true);
    let raw = jsm_get(
        &stack,
        &dave,
        &format!("{ARTICLES}?query=vpn&start={}&limit=5", total - 1),
    )
    .await;
    let v = raw.json();
    assert_eq!(check_page(&stack, &dave, &v, total as u64 - 1, 5).len(), 1);
    assert_eq!(v["isLastPage"], true);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn highlighting_marks_words_only_when_asked_and_hides_no_foreign_canary() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let target = |hl: &str| format!("{ARTICLES}?query=acme&limit=50&highlight={hl}");
    let marked = jsm_get(&stack, &alice, &target("true")).await.json();
    let titles: Vec<&str> = marked["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(!titles.is_empty());
    for t in &titles {
        let plain = t.replace(HL_OPEN, "").replace(HL_CLOSE, "");
        // Some articles match through their text only ("See also: Acme …").
        if plain.contains("Acme") {
            assert!(t.contains("@@@hl@@@Acme@@@endhl@@@"), "{t}");
        }
    }
    assert!(
        titles.iter().filter(|t| t.contains(HL_OPEN)).count() >= 3,
        "{titles:?}"
    );
    let plain = jsm_get(&stack, &alice, &target("false")).await;
    assert!(!String::from_utf8_lossy(&plain.body).contains(HL_OPEN));
    let default = jsm_get(&stack, &alice, &format!("{ARTICLES}?query=acme&limit=50")).await;
    assert_eq!(default.body, plain.body, "highlight defaults to false");
    // Markers split acme's canaries ("CANARY-@@@hl@@@acme@@@endhl@@@-…"): for every other
    // customer the normalizing oracle in `jsm_get` proves none comes through.
    for c in stack.customers() {
        let ids = all_pages(&stack, &c, ARTICLES, "acme", 3).await;
        assert_eq!(ids, expected(&stack, &c, "acme"), "{}", c.name);
        let raw = jsm_get(&stack, &c, &target("true")).await;
        assert_eq!(raw.status, 200);
        assert_eq!(
            check_page(&stack, &c, &raw.json(), 0, 50),
            expected(&stack, &c, "acme"),
            "{}: highlighting changes no decision",
            c.name
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excerpt_naming_a_hidden_linked_page_is_withheld() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let acme_canary = corpus
        .get(ACME_UNDER_SHARED_ID)
        .and_then(|i| i.canary.clone())
        .unwrap();
    let excerpt_of = |v: &serde_json::Value, id: &str| -> String {
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["source"]["pageId"] == id)
            .unwrap_or_else(|| panic!("{id} in {v}"))["excerpt"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The shared page that links to acme's page by title matches "related" for everyone.
    for c in stack.customers() {
        let v = jsm_get(&stack, &c, &format!("{ARTICLES}?query=related"))
            .await
            .json();
        let excerpt = excerpt_of(&v, LINKS_TO_HIDDEN_ID);
        if c.visible.contains(ACME_UNDER_SHARED_ID) {
            assert!(
                excerpt.contains(&acme_canary),
                "{}: an excerpt naming only visible pages is kept: {excerpt}",
                c.name
            );
        } else {
            assert_eq!(excerpt, "", "{}: the excerpt names a hidden page", c.name);
        }
        // A page that links nowhere keeps its excerpt.
        let v = jsm_get(&stack, &c, &format!("{ARTICLES}?query=connecting+vpn"))
            .await
            .json();
        assert!(excerpt_of(&v, "100004").contains("VPN"), "{}", c.name);
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kb_service_desk_is_served_and_any_other_desk_is_the_uniform_404() {
    let stack = Stack::start().await;
    for c in stack.customers() {
        let via_desk = all_pages(&stack, &c, DESK_1, "invoice", 2).await;
        assert_eq!(via_desk, expected(&stack, &c, "invoice"), "{}", c.name);
        let first = jsm_get(&stack, &c, &format!("{DESK_1}?query=invoice&limit=2")).await;
        let next = first.json()["_links"]["next"].as_str().unwrap().to_owned();
        assert!(next.contains("/rest/servicedeskapi/servicedesk/1/knowledgebase/article?"));
    }
    let alice = stack.customer("alice");
    let missing = jsm_get(&stack, &alice, "/wiki/rest/api/content/999999999").await;
    assert_eq!(missing.status, 404);
    for target in [
        "/rest/servicedeskapi/servicedesk/2/knowledgebase/article?query=vpn",
        "/rest/servicedeskapi/servicedesk/42/knowledgebase/article?query=invoice&highlight=true",
        "/rest/servicedeskapi/servicedesk/abc/knowledgebase/article?query=vpn",
        "/rest/servicedeskapi/servicedesk/123456789012345678901/knowledgebase/article?query=vpn",
        "/rest/servicedeskapi/servicedesk/1/knowledgebase",
        "/rest/servicedeskapi/knowledgebase/article/view/100004",
        "/rest/servicedeskapi/organization",
    ] {
        let raw = jsm_get(&stack, &alice, target).await;
        assert_eq!(raw.status, 404, "{target}");
        assert_eq!(
            raw.body, missing.body,
            "{target}: byte for byte the uniform 404"
        );
        assert!(raw
            .header("cache-control")
            .is_some_and(|v| v.contains("no-store")));
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    let bob = stack.customer("bob");
    stack.inner.sim.clear_requests();
    let too_long = "a".repeat(1025);
    for query in [
        String::new(),
        "start=0".into(),
        "query=".into(),
        "query=%20".into(),
        format!("query={too_long}"),
        "query=vpn&start=10001".into(),
        "query=vpn&start=-1".into(),
        "query=vpn&limit=0".into(),
        "query=vpn&limit=101".into(),
        "query=vpn&highlight=yes".into(),
        "query=vpn&expand=content".into(),
        "query=vpn&cql=space%3DENG".into(),
        "query=vpn&query=invoice".into(),
        "query=vpn&limit=5&limit=6".into(),
        "query=%ZZ".into(),
    ] {
        for route in [ARTICLES, DESK_1] {
            let target = format!("{route}?{query}");
            let raw = jsm_get(&stack, &bob, &target).await;
            assert_eq!(
                raw.status,
                400,
                "{target}: {}",
                String::from_utf8_lossy(&raw.body)
            );
            assert_eq!(raw.json()["statusCode"], 400);
        }
    }
    assert!(
        stack.forwarded_jsm().is_empty(),
        "{:?}",
        stack.forwarded_jsm()
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_answer_is_401_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    stack.inner.sim.clear_requests();
    for target in [
        format!("{ARTICLES}?query=vpn"),
        format!("{DESK_1}?query=vpn"),
    ] {
        let raw = stack.get(&target, &[]).await;
        assert_eq!(raw.status, 401, "{target}");
        assert!(raw.header("www-authenticate").is_some());
        let raw = stack
            .get(&target, &[("Authorization", "Bearer not-a-token")])
            .await;
        assert_eq!(raw.status, 401, "{target}");
    }
    assert!(stack.forwarded_jsm().is_empty());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kbgate_asks_jsm_with_its_own_query_as_the_service_account() {
    let stack = Stack::start().await;
    let erin = stack.customer("erin");
    stack.inner.sim.clear_requests();
    let raw = jsm_get(
        &stack,
        &erin,
        &format!("{DESK_1}?highlight=true&limit=3&start=2&query=reset+%22password%22"),
    )
    .await;
    assert_eq!(raw.status, 200);
    let sent = stack.forwarded_jsm();
    assert_eq!(sent.len(), 1, "every match fits one upstream page");
    assert_eq!(
        sent[0].path_and_query,
        "/rest/servicedeskapi/servicedesk/1/knowledgebase/article?query=reset+%22password%22&highlight=true&start=0&limit=100"
    );
    let auth = sent[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    assert!(
        auth.starts_with("Basic "),
        "the service account, not the customer: {auth}"
    );
    assert!(!auth.contains(&erin.token));
    let next = raw.json()["_links"]["next"].as_str().map(str::to_owned);
    if let Some(next) = next {
        assert!(
            next.ends_with("?query=reset+%22password%22&highlight=true&start=5&limit=3"),
            "{next}"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_jsm_answer_is_kbgates_own_502_with_no_upstream_byte() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let everything = LeakOracle::new(stack.inner.sim.corpus().all_canaries());
    for fault in [
        Fault::InvalidJson,
        Fault::ServerError,
        Fault::WrongContentType,
        Fault::WrongShape,
        Fault::DuplicateKeys,
        Fault::Gzip,
        Fault::Truncated,
    ] {
        let name = format!("{fault:?}");
        stack.inner.sim.set_fault(Some(fault));
        for route in [ARTICLES, DESK_1] {
            let target = format!("{route}?query=vpn&highlight=true");
            let raw = jsm_get(&stack, &alice, &target).await;
            let hits = jsm_hits(&everything, &raw.bytes);
            assert!(hits.is_empty(), "{name} {target}: {hits:?}");
            assert_eq!(
                raw.status,
                502,
                "{name} {target}: {}",
                String::from_utf8_lossy(&raw.bytes)
            );
            let v = raw.json();
            assert_eq!(v["statusCode"], 502, "kbgate's own body");
            assert!(v.get("errorMessage").is_none(), "no upstream error body");
        }
    }
    stack.inner.sim.set_fault(None);
    let raw = jsm_get(&stack, &alice, &format!("{ARTICLES}?query=vpn")).await;
    assert_eq!(raw.status, 200, "kbgate recovers when upstream does");
    stack.stop().await;
}
