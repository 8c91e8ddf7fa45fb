//! The browser stories: what a customer does on the KB site, checked against the simulator's
//! own audience model, with the leak oracle on every byte (see `harness`).
//!
//! Each story runs in its own stack and browser, bounded by [`STORY_TIMEOUT`], and ends with
//! `browser: <story> ok, <n> pages, <m> bytes scanned, 0 foreign canaries`.

use std::time::Duration;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;

use crate::harness::Story;
use crate::oracle::LeakOracle;
use crate::rules::plain_title;

/// The longest one story may take (the script's whole run stays under three minutes).
const STORY_TIMEOUT: Duration = Duration::from_secs(35);
/// Most result pages followed in one search.
const MAX_PAGES: usize = 10;

/// Runs `story` for `customer` within [`STORY_TIMEOUT`], then closes everything and prints the
/// closing line.
macro_rules! story {
    ($name:literal, $customer:literal, $body:ident) => {{
        let mut s = Story::start($name, $customer).await;
        match tokio::time::timeout(STORY_TIMEOUT, $body(&mut s)).await {
            Ok(()) => s.finish().await,
            Err(_) => panic!("{}: did not finish within {STORY_TIMEOUT:?}", $name),
        }
    }};
}

/// The plain titles of the KB items `s`'s customer may not see.
fn hidden_titles(s: &Story) -> Vec<String> {
    let orgs = s.orgs();
    s.corpus()
        .items()
        .iter()
        .filter(|i| i.space_key == "KB" && !i.audience.admits(&orgs))
        .map(plain_title)
        .collect()
}

/// The plain titles of the items only the customer's organizations see (not shared).
fn own_org_titles(s: &Story) -> Vec<String> {
    let orgs = s.orgs();
    s.corpus()
        .items()
        .iter()
        .filter(|i| i.space_key == "KB" && i.audience.admits(&orgs) && !i.audience.admits(&[]))
        .map(plain_title)
        .collect()
}

/// Checks that none of `texts` names an item hidden from the customer.
fn check_no_hidden(s: &mut Story, texts: &[String], where_: &str) {
    for hidden in hidden_titles(s) {
        let named = texts.iter().find(|t| t.contains(&hidden)).cloned();
        s.check(
            named.is_none(),
            format!("{where_} names hidden article {hidden:?}: {named:?}"),
        );
    }
}

/// Opens `/` signed out: kbgate sends the browser to sign in, the IdP shows the demo chooser;
/// clicks the customer's link and lands back on `/`, signed in.
async fn sign_in(s: &mut Story, screenshot: bool) {
    s.goto("/", "chooser").await;
    let first = s.answer_to("/").map(|a| (a.status, a.location.clone()));
    s.check(
        matches!(&first, Some((302, Some(l))) if l.ends_with("/_kbgate/login?rd=%2F")),
        format!("GET / signed out is a 302 to /_kbgate/login?rd=%2F, got {first:?}"),
    );
    check_chooser(s).await;
    if screenshot {
        s.screenshot("chooser").await;
    }
    let link = s.find(&format!("#login-{}", s.customer.name)).await;
    let text = link.text().await.expect("link text");
    let email = s.customer.email.clone();
    s.check(
        text.contains(&email),
        format!("the chooser link reads {text:?}, want {email:?}"),
    );
    s.click_to(link, "home after sign-in").await;
    let url = s.current_url().await;
    let home = s.url("/");
    s.check(url == home, format!("sign-in lands on {home}, got {url}"));
}

/// The IdP's demo sign-in page: heading, demo note, one list per organization, plain HTML.
async fn check_chooser(s: &mut Story) {
    let url = s.current_url().await;
    let issuer = s.issuer();
    s.check(
        url.starts_with(&format!("{issuer}/authorize?")),
        format!("signed out, the browser is at the IdP's authorize endpoint, got {url}"),
    );
    let h1 = s.find("h1").await.text().await.expect("h1 text");
    s.check(h1 == "Demo sign-in", format!("chooser heading {h1:?}"));
    let body = s.find("main").await.text().await.expect("main text");
    s.check(
        body.contains("only in the kbgate demo"),
        "the chooser says it exists only in the demo",
    );
    let groups = s.texts("main h2").await;
    s.check(
        groups
            == [
                "Acme",
                "Globex",
                "Initech",
                "No organization",
                "Acme and Globex",
            ],
        format!("chooser groups {groups:?}"),
    );
    for c in kbgate::demo::customers() {
        let link = s.find(&format!("a#login-{}", c.name)).await;
        let href = link.attr("href").await.expect("href").unwrap_or_default();
        s.check(
            href.contains(&format!("login_hint={}", c.name)) && href.contains("code_challenge="),
            format!("#login-{} keeps the authorize parameters: {href}", c.name),
        );
    }
}

/// Home: sections and recent articles, the customer's own organization's among them, no
/// hidden one.
async fn check_home(s: &mut Story) {
    let sections = s.texts("ul#sections li").await;
    let recent = s.texts("ul#recent li").await;
    s.check(!sections.is_empty(), "home lists sections");
    s.check(!recent.is_empty(), "home lists recent articles");
    let all: Vec<String> = sections.iter().chain(&recent).cloned().collect();
    let own = own_org_titles(s);
    s.check(
        all.iter().any(|t| own.iter().any(|o| t.contains(o))),
        format!("home shows an article of {:?}: {all:?}", s.customer.orgs),
    );
    check_no_hidden(s, &all, "home");
    s.find("form[role=search] input#q[name=q]").await;
}

/// Types `query` into the header search box and submits it; returns the results page source.
async fn search(s: &mut Story, query: &str) -> String {
    let input = s.find("form[role=search] input#q").await;
    input.clear().await.expect("clear the search box");
    input.send_keys(query).await.expect("type the query");
    let button = s
        .find("form[role=search] button, form[role=search] [type=submit]")
        .await;
    let source = s.click_to(button, &format!("results for {query}")).await;
    let url = s.current_url().await;
    s.check(
        url.contains("/search?") && url.contains("q="),
        format!("the search form goes to /search?q=…, got {url}"),
    );
    source
}

/// Every result title from the current results page on, following `a[rel=next]`.
async fn all_result_titles(s: &mut Story) -> Vec<String> {
    let mut titles = Vec::new();
    for page in 1..=MAX_PAGES {
        titles.extend(s.texts("ol#results > li.result a.result-title").await);
        let next = s.find_all("a[rel=next]").await;
        let Some(next) = next.into_iter().next() else {
            return titles;
        };
        s.click_to(next, &format!("results page {}", page + 1))
            .await;
    }
    panic!("more than {MAX_PAGES} result pages");
}

/// `/articles/<id>` through the tee.
fn article(id: &str) -> String {
    format!("/articles/{id}")
}

/// The article page shows `want` as its title.
async fn check_article_title(s: &mut Story, want: &str) {
    let title = s
        .find("h1#article-title")
        .await
        .text()
        .await
        .expect("title");
    s.check(
        title.contains(want),
        format!("article title {title:?}, want {want:?}"),
    );
    s.find("div.article-body").await;
}

/// Downloads the first attachment of the current article and checks it is that article's.
async fn download_first_attachment(s: &mut Story, item_title: &str) {
    let link = s.find("section#attachments a[download]").await;
    let (name, bytes) = s.download(link).await;
    let text = String::from_utf8_lossy(&bytes);
    s.check(
        text.starts_with(&format!("Notes for {item_title}")),
        format!("downloaded {name} is the article's notes: {text:?}"),
    );
}

/// Clicks `a#logout`: kbgate ends the session and sends the browser to the IdP's end-session
/// endpoint, which comes back to kbgate's signed-out page; afterwards `/` sends the browser to
/// the chooser again.
async fn sign_out(s: &mut Story) {
    let logout = s.find("a#logout").await;
    let href = logout.attr("href").await.expect("href").unwrap_or_default();
    s.check(
        href.ends_with("/_kbgate/logout"),
        format!("the sign-out link is /_kbgate/logout: {href:?}"),
    );
    s.click_to(logout, "after logout").await;
    let issuer = s.issuer();
    let ended = s
        .log
        .iter()
        .find(|a| a.request == "GET /_kbgate/logout")
        .map(|a| (a.status, a.location.clone()));
    s.check(
        matches!(&ended, Some((302 | 303, Some(l))) if l.starts_with(&format!("{issuer}/logout"))),
        format!("GET /_kbgate/logout sends the browser to the IdP's end-session page: {ended:?}"),
    );
    s.goto("/", "signed out again").await;
    check_chooser(s).await;
}

async fn alice(s: &mut Story) {
    sign_in(s, true).await;
    check_home(s).await;
    // The oracle is not blind on real pages: bob's oracle cries leak on alice's home page.
    let home = s.client().source().await.expect("page source");
    let bobs = LeakOracle::for_orgs(s.corpus(), &["globex"]).hits(home.as_bytes());
    s.check(
        !bobs.is_empty(),
        "bob's oracle finds Acme canaries in alice's home page",
    );
    s.screenshot("home").await;
    search(s, "VPN").await;
    let results = s.find_all("ol#results > li.result").await;
    s.check(!results.is_empty(), "VPN has results");
    let marks = s.texts("ol#results p.excerpt mark").await;
    s.check(
        marks.iter().any(|m| m.eq_ignore_ascii_case("vpn")),
        format!("excerpts highlight the match: {marks:?}"),
    );
    s.screenshot("results").await;
    let first = s.find("ol#results > li.result a.result-title").await;
    let first_title = first.text().await.expect("result title");
    s.click_to(first, "first VPN result").await;
    check_article_title(s, &first_title).await;
    s.screenshot("article").await;
    s.goto("/search?q=VPN", "results for VPN again").await;
    let titles = all_result_titles(s).await;
    s.check(
        titles
            .iter()
            .any(|t| t.contains("Acme VPN gateway addresses")),
        format!("alice finds the Acme VPN gateways: {titles:?}"),
    );
    s.check(
        !titles
            .iter()
            .any(|t| t.contains("Globex VPN split tunnelling")),
        format!("alice never finds Globex's split tunnelling: {titles:?}"),
    );
    check_no_hidden(s, &titles, "VPN results");
    related_articles(s, true).await;
    s.goto(&article("100005"), "Acme VPN gateway addresses")
        .await;
    check_article_title(s, "Acme VPN gateway addresses").await;
    let title = s.corpus().get("100005").expect("item").title.clone();
    download_first_attachment(s, &title).await;
    sign_out(s).await;
}

/// "Related articles" (shared): the link to "Connecting to the VPN" (100004) works; the Acme
/// page (100005) is a link exactly for a customer who sees it, and otherwise neither a link nor
/// its title. (Storage links name their target by title, so kbgate may link by title.)
async fn related_articles(s: &mut Story, sees_acme: bool) {
    s.goto(&article("100025"), "Related articles").await;
    check_article_title(s, "Related articles").await;
    let links = body_links(s).await;
    let acme = links
        .iter()
        .position(|(text, _)| text.contains("Acme VPN gateway addresses"));
    s.check(
        acme.is_some() == sees_acme,
        format!(
            "a link to the Acme page is there exactly when seen (sees: {sees_acme}): {links:?}"
        ),
    );
    let body = s.find("div.article-body").await.text().await.expect("body");
    if !sees_acme {
        s.check(
            !body.contains("Acme VPN gateway addresses"),
            format!("the hidden Acme title is not in the body: {body:?}"),
        );
    }
    let vpn = links
        .iter()
        .position(|(text, _)| text.contains("Connecting to the VPN"));
    s.check(
        vpn.is_some(),
        format!("the link to 100004 is there: {links:?}"),
    );
    let link = s
        .find_all("div.article-body a")
        .await
        .into_iter()
        .nth(vpn.unwrap_or_default())
        .expect("the link element");
    s.click_to(link, "Connecting to the VPN (linked)").await;
    check_article_title(s, "Connecting to the VPN").await;
    let url = s.current_url().await;
    s.check(
        url.ends_with(&article("100004")) || url.contains("/articles/"),
        format!("the link leads to an article URL: {url}"),
    );
    if sees_acme {
        s.goto(&article("100025"), "Related articles again").await;
        let link = s
            .find_all("div.article-body a")
            .await
            .into_iter()
            .nth(acme.unwrap_or_default())
            .expect("the link element");
        s.click_to(link, "Acme VPN gateway addresses (linked)")
            .await;
        check_article_title(s, "Acme VPN gateway addresses").await;
    }
}

/// The text of `<main>` without its per-request reference line (`Reference: <hex>`).
async fn main_text(s: &mut Story) -> String {
    let text = s.find("main").await.text().await.expect("main text");
    text.lines()
        .filter(|l| !l.starts_with("Reference: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text and `href` of every link in the article body.
async fn body_links(s: &Story) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in s.find_all("div.article-body a").await {
        let text = a.text().await.expect("link text");
        let href = a.attr("href").await.expect("href").unwrap_or_default();
        out.push((text, href));
    }
    out
}

async fn bob(s: &mut Story) {
    sign_in(s, false).await;
    check_home(s).await;
    s.screenshot("home").await;
    search(s, "VPN").await;
    s.screenshot("results").await;
    let first = s.find("ol#results > li.result a.result-title").await;
    let first_title = first.text().await.expect("result title");
    s.click_to(first, "first VPN result").await;
    check_article_title(s, &first_title).await;
    s.screenshot("article").await;
    s.goto("/search?q=VPN", "results for VPN again").await;
    let titles = all_result_titles(s).await;
    s.check(
        titles
            .iter()
            .any(|t| t.contains("Globex VPN split tunnelling")),
        format!("bob finds Globex's split tunnelling: {titles:?}"),
    );
    s.check(
        !titles
            .iter()
            .any(|t| t.contains("Acme VPN gateway addresses")),
        format!("bob never finds Acme's VPN gateways: {titles:?}"),
    );
    check_no_hidden(s, &titles, "VPN results");
    related_articles(s, false).await;
    let hidden = s.goto(&article("100005"), "hidden article").await;
    let hidden_main = main_text(s).await;
    let missing = s.goto(&article("999999"), "missing article").await;
    let missing_main = main_text(s).await;
    s.check(
        hidden_main == missing_main,
        format!("hidden and missing look alike: {hidden_main:?} vs {missing_main:?}"),
    );
    let statuses = (
        s.answer_to(&article("100005")).map(|a| a.status),
        s.answer_to(&article("999999")).map(|a| a.status),
    );
    s.check(
        statuses.0 == statuses.1 && statuses.0 == Some(404),
        format!("hidden and missing are both 404: {statuses:?}"),
    );
    s.check(
        hidden.len() == missing.len(),
        format!(
            "hidden and missing pages are the same size: {} vs {}",
            hidden.len(),
            missing.len()
        ),
    );
    s.goto(&article("100022"), "Globex VPN split tunnelling")
        .await;
    let title = s.corpus().get("100022").expect("item").title.clone();
    download_first_attachment(s, &title).await;
    sign_out(s).await;
}

async fn paging(s: &mut Story) {
    sign_in(s, false).await;
    search(s, "VPN").await;
    let page1 = s.texts("ol#results > li.result a.result-title").await;
    let next = s.find("a[rel=next]").await;
    s.click_to(next, "results page 2").await;
    let page2 = s.texts("ol#results > li.result a.result-title").await;
    s.check(!page2.is_empty(), "page 2 has results");
    s.check(
        page2.iter().all(|t| !page1.contains(t)),
        format!("page 2 repeats nothing of page 1: {page1:?} / {page2:?}"),
    );
    let url = s.current_url().await;
    s.check(
        url.contains("start="),
        format!("page 2's URL carries start=: {url}"),
    );
    s.find("a[rel=prev]").await;
    check_no_hidden(s, &page2, "results page 2");
}

async fn keyboard(s: &mut Story) {
    sign_in(s, false).await;
    let tab = KeyActions::new("keyboard".into())
        .then(KeyAction::Down {
            value: Key::Tab.into(),
        })
        .then(KeyAction::Up {
            value: Key::Tab.into(),
        });
    s.client().perform_actions(tab).await.expect("press Tab");
    let focused = s.client().active_element().await.expect("focused element");
    let href = focused
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_default();
    let text = focused.text().await.expect("text");
    s.check(
        href.starts_with('#') || href.contains("/#"),
        format!("the first Tab focuses an in-page link, got href {href:?} ({text:?})"),
    );
    s.check(
        text.to_lowercase().contains("skip"),
        format!("the first Tab focuses the skip link, got {text:?}"),
    );
}

async fn smoke(s: &mut Story) {
    sign_in(s, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run scripts/browser-tests.sh"]
async fn a_signed_out_browser_picks_a_demo_customer_and_lands_on_home() {
    story!("sign-in", "carol", smoke);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run scripts/browser-tests.sh"]
async fn alice_of_acme_searches_reads_follows_links_downloads_and_signs_out() {
    story!("alice", "alice", alice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run scripts/browser-tests.sh"]
async fn bob_of_globex_sees_globex_and_never_acme_and_hidden_looks_missing() {
    story!("bob", "bob", bob);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run scripts/browser-tests.sh"]
async fn a_long_result_list_pages_with_next_and_prev_links() {
    story!("paging", "erin", paging);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium; run scripts/browser-tests.sh"]
async fn the_first_tab_focuses_the_skip_link() {
    story!("keyboard", "dave", keyboard);
}
