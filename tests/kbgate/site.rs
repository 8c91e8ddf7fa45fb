//! The customer KB site (`/`, `/search`, `/articles/{id}`) through a real listening kbgate:
//! every page of every customer passes the leak oracle, shows exactly their articles, and a
//! hidden article gets the same page as a missing one; every answer carries the site's security
//! headers.

use std::collections::BTreeSet;

use crate::support::{Customer, Raw, Stack};

/// The body with the request id (which differs per request) replaced.
pub(crate) fn normalized(raw: &Raw) -> String {
    let body = String::from_utf8_lossy(&raw.body).into_owned();
    match raw.header("x-request-id") {
        Some(id) if !id.is_empty() => body.replace(&id, "RID"),
        _ => body,
    }
}

/// Every `/articles/{digits}` link target in a page.
pub(crate) fn article_ids(html: &str) -> BTreeSet<String> {
    html.split("href=\"/articles/")
        .skip(1)
        .filter_map(|rest| {
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!id.is_empty() && rest[id.len()..].starts_with('"')).then_some(id)
        })
        .collect()
}

/// The element with `id` (a `ul`/`ol`, nested lists included), or "".
fn list_of<'a>(html: &'a str, id: &str) -> &'a str {
    let Some(at) = html.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let Some(start) = html[..at].rfind('<') else {
        return "";
    };
    let tag: String = html[start + 1..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut depth = 0usize;
    let mut i = start;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with(&close) {
            depth -= 1;
            if depth == 0 {
                return &html[start..i + close.len()];
            }
            i += close.len();
        } else if rest.starts_with(&open) {
            depth += 1;
            i += open.len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    &html[start..]
}

/// A page of HTML with no script and no inline event handler or style.
fn assert_inert(raw: &Raw, what: &str) {
    let body = String::from_utf8_lossy(&raw.body).to_lowercase();
    assert!(!body.contains("<script"), "{what}: a script tag");
    assert!(!body.contains(" style="), "{what}: an inline style");
    assert!(!body.contains("javascript:"), "{what}: a javascript: URL");
    for handler in [
        " onload=",
        " onerror=",
        " onclick=",
        " onmouseover=",
        " onfocus=",
    ] {
        assert!(
            !body.contains(handler),
            "{what}: an event handler {handler}"
        );
    }
}

/// The site's headers on any answer.
fn assert_site_headers(raw: &Raw, what: &str) {
    let csp = raw.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: CSP {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp}");
    assert_eq!(
        raw.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert!(
        raw.header("referrer-policy").is_some(),
        "{what}: Referrer-Policy"
    );
    let cache = raw.header("cache-control").unwrap_or_default();
    if !what.contains("site.css") {
        assert_eq!(cache, "private, no-store", "{what}");
    }
}

pub(crate) async fn page(stack: &Stack, c: &Customer, target: &str) -> Raw {
    let raw = c.get(stack, target).await;
    assert_site_headers(&raw, &format!("{} {target}", c.name));
    assert_inert(&raw, &format!("{} {target}", c.name));
    raw
}

#[tokio::test]
async fn every_article_page_shows_exactly_the_callers_articles_and_hidden_looks_missing() {
    let stack = Stack::start().await;
    let ids: Vec<String> = stack
        .inner
        .sim
        .corpus()
        .items()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    for c in stack.customers() {
        let missing = page(&stack, &c, "/articles/999999").await;
        assert_eq!(missing.status, 404, "{}", c.name);
        let missing = normalized(&missing);
        let mut shown = 0;
        for id in &ids {
            let raw = page(&stack, &c, &format!("/articles/{id}")).await;
            if c.visible.contains(id) {
                assert_eq!(raw.status, 200, "{} /articles/{id}", c.name);
                let html = String::from_utf8_lossy(&raw.body);
                assert!(html.contains("id=\"article-title\""), "{} {id}", c.name);
                for linked in article_ids(&html) {
                    assert!(
                        c.visible.contains(&linked),
                        "{} {id} links to {linked}",
                        c.name
                    );
                }
                shown += 1;
            } else {
                assert_eq!(raw.status, 404, "{} /articles/{id}", c.name);
                assert_eq!(
                    normalized(&raw),
                    missing,
                    "{}: {id} differs from missing",
                    c.name
                );
            }
        }
        assert_eq!(
            shown,
            c.visible.len(),
            "{} sees every visible article",
            c.name
        );
        for bad in [
            "/articles/abc",
            "/articles/",
            "/articles/100001/x",
            "/articles/by-title",
        ] {
            let raw = page(&stack, &c, bad).await;
            assert_eq!(raw.status, 404, "{} {bad}", c.name);
            assert_eq!(normalized(&raw), missing, "{} {bad}", c.name);
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn search_pages_list_only_visible_articles_with_highlights_breadcrumbs_and_paging() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let foreign: Vec<String> = stack.inner.sim.corpus().forbidden_canaries_for(&["acme"]);
    for c in stack.customers() {
        // Another organization's canary as the search words: the page echoes the words
        // (the customer's own input), so the oracle scans the results list itself.
        for q in foreign.iter().take(3) {
            let target = format!("/search?q={}", urlencode(q));
            let raw = stack.get(&target, &[("Authorization", &c.auth())]).await;
            assert_eq!(raw.status, 200, "{} {target}", c.name);
            let html = String::from_utf8_lossy(&raw.body).into_owned();
            if !c
                .orgs
                .iter()
                .any(|o| q.to_lowercase().contains(&format!("-{o}-")))
            {
                assert!(
                    list_of(&html, "results").is_empty(),
                    "{} {target}: results",
                    c.name
                );
                c.oracle
                    .assert_clean(html.replace(q.as_str(), "").as_bytes(), &target);
            }
        }
        for q in [
            "vpn", "invoice", "password", "acme", "globex", "initech", "kiosk",
        ] {
            let mut target = format!("/search?q={}", urlencode(q));
            for _ in 0..10 {
                let raw = page(&stack, &c, &target).await;
                assert_eq!(raw.status, 200, "{} {target}", c.name);
                let html = String::from_utf8_lossy(&raw.body).into_owned();
                for id in article_ids(&html) {
                    assert!(c.visible.contains(&id), "{} {target}: {id}", c.name);
                }
                match next_href(&html) {
                    Some(next) => target = next,
                    None => break,
                }
            }
        }
    }
    let vpn_a =
        String::from_utf8_lossy(&page(&stack, &alice, "/search?q=vpn").await.body).into_owned();
    assert!(vpn_a.contains("<mark>"), "matches are highlighted");
    assert!(
        vpn_a.contains("class=\"breadcrumb\""),
        "results show breadcrumbs"
    );
    let all_a = all_result_ids(&stack, &alice, "vpn").await;
    let all_b = all_result_ids(&stack, &bob, "vpn").await;
    assert!(
        all_a.contains("100005"),
        "alice finds the Acme VPN article: {all_a:?}"
    );
    assert!(!all_b.contains("100005"), "bob does not: {all_b:?}");
    assert!(
        all_b.contains("100022"),
        "bob finds the Globex VPN article: {all_b:?}"
    );
    assert!(!all_a.contains("100022"), "alice does not: {all_a:?}");
    let none = page(&stack, &alice, "/search?q=zzzzqqq").await;
    assert!(String::from_utf8_lossy(&none.body).contains("id=\"no-results\""));
    let empty = page(&stack, &alice, "/search?q=").await;
    assert_eq!(empty.status, 200);
    stack.stop().await;
}

/// The `href` of the page's `rel="next"` link, unescaped.
fn next_href(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let open = html[..at].rfind('<')?;
    let close = at + html[at..].find('>')?;
    let tag = &html[open..close];
    let href = tag.split("href=\"").nth(1)?;
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

/// Every result id over all pages of a search.
async fn all_result_ids(stack: &Stack, c: &Customer, q: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut start = 0;
    loop {
        let raw = page(
            stack,
            c,
            &format!("/search?q={}&start={start}", urlencode(q)),
        )
        .await;
        let html = String::from_utf8_lossy(&raw.body).into_owned();
        ids.extend(article_ids(list_of(&html, "results")));
        if next_href(&html).is_none() || start > 500 {
            return ids;
        }
        start += 10;
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn the_home_page_shows_each_customer_their_own_sections_and_recent_articles() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let home_a = String::from_utf8_lossy(&page(&stack, &alice, "/").await.body).into_owned();
    let home_b = String::from_utf8_lossy(&page(&stack, &bob, "/").await.body).into_owned();
    let sections_a = article_ids(list_of(&home_a, "sections"));
    let sections_b = article_ids(list_of(&home_b, "sections"));
    assert!(
        sections_a.contains("100002") && sections_b.contains("100002"),
        "shared section"
    );
    assert!(
        sections_a.contains("100012"),
        "alice sees Acme onboarding: {sections_a:?}"
    );
    assert!(
        !sections_b.contains("100012"),
        "bob does not: {sections_b:?}"
    );
    let recent_a = article_ids(list_of(&home_a, "recent"));
    assert!(!recent_a.is_empty(), "recently updated articles are listed");
    assert!(recent_a.iter().all(|id| alice.visible.contains(id)));
    assert!(
        home_a.contains("role=\"search\""),
        "the home page has a search box"
    );
    stack.stop().await;
}

#[tokio::test]
async fn every_site_answer_carries_the_security_headers_and_refuses_other_methods() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    for target in [
        "/",
        "/search?q=vpn",
        "/articles/100004",
        "/articles/999999",
        "/_kbgate/site.css",
    ] {
        let raw = alice.get(&stack, target).await;
        assert_site_headers(&raw, target);
    }
    let css = alice.get(&stack, "/_kbgate/site.css").await;
    assert!(css
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/css"));
    let req = format!(
        "POST /search?q=x HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n",
        stack.addr(),
        alice.auth()
    );
    let post = crate::support::send_raw(stack.addr(), req.as_bytes()).await;
    assert_eq!(post.status, 405);
    assert_site_headers(&post, "POST /search");
    stack.stop().await;
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_sign_in_and_an_api_client_gets_a_401_page() {
    let stack = Stack::start().await;
    let browser = stack
        .get(
            "/articles/100004",
            &[("Accept", "text/html,application/xhtml+xml")],
        )
        .await;
    assert_eq!(browser.status, 302);
    let location = browser.header("location").unwrap_or_default();
    assert!(
        location.starts_with("/_kbgate/login?rd=%2Farticles%2F100004"),
        "{location}"
    );
    let api = stack.get("/articles/100004", &[]).await;
    assert_eq!(api.status, 401);
    assert_site_headers(&api, "unauthenticated");
    let bad = stack
        .get("/", &[("Authorization", "Bearer not.a.token")])
        .await;
    assert_eq!(bad.status, 401);
    assert!(String::from_utf8_lossy(&bad.body).contains("Sign in required"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_confluence_misbehaves_every_page_is_kbgates_own_error_page() {
    use kbgate::sim::Fault;
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    // Own-org canaries count too: an error page carries no upstream byte at all.
    let everything = crate::support::LeakOracle::new(stack.inner.sim.corpus().all_canaries());
    let faults = [
        Fault::InvalidJson,
        Fault::Gzip,
        Fault::Truncated,
        Fault::ServerError,
        Fault::WrongContentType,
        Fault::WrongShape,
        Fault::DuplicateKeys,
    ];
    for fault in faults {
        let name = format!("{fault:?}");
        stack.inner.sim.set_fault(Some(fault));
        for target in ["/", "/search?q=vpn", "/articles/100005"] {
            let raw = alice.get(&stack, target).await;
            everything.assert_clean(&raw.bytes, &format!("{name} {target}"));
            assert_site_headers(&raw, &format!("{name} {target}"));
            if name == "WrongShape" && raw.status == 200 {
                continue;
            }
            assert_eq!(raw.status, 502, "{name} {target}");
            let html = String::from_utf8_lossy(&raw.body);
            assert!(
                html.contains("Something went wrong"),
                "{name} {target}: {html}"
            );
            let id = raw.header("x-request-id").unwrap();
            assert!(html.contains(&id), "the page quotes the request id");
        }
    }
    stack.inner.sim.set_fault(None);
    assert_eq!(alice.get(&stack, "/articles/100005").await.status, 200);
    stack.stop().await;
}
