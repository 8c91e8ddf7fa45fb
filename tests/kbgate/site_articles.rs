//! The KB site's articles: links in bodies lead to visible articles (by id or by title, hidden
//! titles never shown), images and attachments go through kbgate with their page's decision,
//! and listing macros are evaluated for the reader.

use crate::site::{article_ids, normalized, page, urlencode};
use crate::support::{Raw, Stack};

#[tokio::test]
async fn links_in_articles_lead_to_visible_articles_and_hidden_ones_are_plain_text() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let corpus = stack.inner.sim.corpus();
    let title = |id: &str| {
        corpus
            .items()
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.title.clone())
            .unwrap()
    };
    let related_b =
        String::from_utf8_lossy(&page(&stack, &bob, "/articles/100025").await.body).into_owned();
    let related_a =
        String::from_utf8_lossy(&page(&stack, &alice, "/articles/100025").await.body).into_owned();
    assert!(related_b.contains("/articles/by-title?space=KB&amp;title=Connecting+to+the+VPN"));
    assert!(
        !related_b.contains("Acme VPN gateway"),
        "bob's page names no hidden title"
    );
    assert!(
        related_a.contains("Acme VPN gateway addresses"),
        "alice's link stays"
    );
    // The by-title links resolve through the filter: visible → the article, hidden ≡ missing.
    let go = bob
        .get(
            &stack,
            "/articles/by-title?space=KB&title=Connecting+to+the+VPN",
        )
        .await;
    assert_eq!(go.status, 302);
    assert_eq!(go.header("location").as_deref(), Some("/articles/100004"));
    let hidden = format!(
        "/articles/by-title?space=KB&title={}",
        urlencode(&title("100005"))
    );
    let hidden_b = page(&stack, &bob, &hidden).await;
    let missing_b = page(
        &stack,
        &bob,
        "/articles/by-title?space=KB&title=No+such+page",
    )
    .await;
    assert_eq!(hidden_b.status, 404);
    assert_eq!(normalized(&hidden_b), normalized(&missing_b));
    let go_a = alice.get(&stack, &hidden).await;
    assert_eq!(go_a.header("location").as_deref(), Some("/articles/100005"));
    // The image of the Acme page's attachment: shown to Alice through kbgate, absent for Bob.
    assert!(
        !related_b.contains("<img"),
        "bob's page shows no image of Acme's"
    );
    let src = related_a
        .split("<img")
        .nth(1)
        .and_then(|t| t.split("src=\"").nth(1));
    let src = src.expect("alice's page shows the image");
    let src = src[..src.find('"').unwrap()].replace("&amp;", "&");
    let hop = alice.get(&stack, &src).await;
    assert_eq!(hop.status, 302, "{src}");
    let file = hop.header("location").unwrap();
    assert!(
        file.starts_with("/wiki/download/attachments/100005/"),
        "{file}"
    );
    assert_eq!(alice.get(&stack, &file).await.status, 200);
    assert_eq!(
        bob.get(&stack, &src).await.status,
        404,
        "bob: the image link is missing"
    );
    stack.stop().await;
}

#[tokio::test]
async fn attachments_of_an_article_download_through_kbgate_with_the_decision_on_their_page() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let html =
        String::from_utf8_lossy(&page(&stack, &alice, "/articles/100005").await.body).into_owned();
    let section = &html[html.find("id=\"attachments\"").expect("attachments listed")..];
    let href = section.split("href=\"").nth(1).expect("a download link");
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    assert!(
        href.starts_with("/wiki/download/attachments/100005/"),
        "{href}"
    );
    let file = alice.get(&stack, &href).await;
    assert_eq!(file.status, 200, "{href}");
    assert!(file
        .header("content-disposition")
        .unwrap_or_default()
        .starts_with("attachment"));
    assert_eq!(
        bob.get(&stack, &href).await.status,
        404,
        "bob cannot download it"
    );
    stack.stop().await;
}

/// The rendered body of an article page.
fn article_body(html: &str) -> &str {
    let start = html
        .find("class=\"article-body\"")
        .expect("an article body");
    let rest = &html[start..];
    &rest[..rest.find("</article>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn listing_macros_are_evaluated_for_the_reader_and_list_only_their_articles() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let bob = stack.customer("bob");
    let html = |raw: Raw| String::from_utf8_lossy(&raw.body).into_owned();
    // The KB home page's `children` macro.
    let home_a = html(page(&stack, &alice, "/articles/100001").await);
    let home_b = html(page(&stack, &bob, "/articles/100001").await);
    let listed_a = article_ids(article_body(&home_a));
    let listed_b = article_ids(article_body(&home_b));
    assert!(
        listed_a.contains("100002") && listed_b.contains("100002"),
        "{listed_b:?}"
    );
    assert!(
        listed_a.contains("100012"),
        "alice's children list has Acme onboarding"
    );
    assert!(!listed_b.contains("100012"), "bob's does not: {listed_b:?}");
    // "Related articles" lists the `org-acme` pages: Acme's for Alice; for Bob only the one
    // he shares with Acme.
    let related_a = html(page(&stack, &alice, "/articles/100025").await);
    let related_b = html(page(&stack, &bob, "/articles/100025").await);
    let by_label_a = article_ids(article_body(&related_a));
    let by_label_b = article_ids(article_body(&related_b));
    let acme_only = ["100009", "100012", "100015", "100016", "100026"];
    assert!(
        acme_only.iter().any(|id| by_label_a.contains(*id)),
        "alice's label listing shows Acme pages: {by_label_a:?}"
    );
    assert!(
        by_label_b.contains("100011"),
        "bob's shows the joint page: {by_label_b:?}"
    );
    assert!(by_label_b.iter().all(|id| bob.visible.contains(id)));
    stack.stop().await;
}
